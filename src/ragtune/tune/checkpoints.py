"""Trainer checkpoints of an unfinished run: which are complete, which a kill cut off, which run to resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ragtune.models.adapters import MANIFEST_NAME

CHECKPOINTS = "checkpoints"
RUN_STATE = "ragtune_run.json"  # in checkpoints/: what a resume must match (data hash, settings)


def complete_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints that finished writing (trainer_state.json is written last), oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for p in folder.glob("checkpoint-*"):
        suffix = p.name.split("-")[-1]
        if suffix.isdigit() and (p / "trainer_state.json").is_file() and (p / "adapter_model.safetensors").is_file():
            try:
                json.loads((p / "trainer_state.json").read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # cut off while being written
            found.append((int(suffix), p))
    return [p for _, p in sorted(found)]


def drop_partial_checkpoints(folder: Path) -> None:
    """A process killed while saving leaves a checkpoint without trainer_state.json; resuming from it would fail."""
    complete = set(complete_checkpoints(folder))
    for p in folder.glob("checkpoint-*"):
        if p not in complete:
            shutil.rmtree(p, ignore_errors=True)


def latest_unfinished(adapters_dir: Path) -> Path | None:
    """The newest run folder under `adapters_dir` (any kind) that has checkpoints but no final manifest."""
    if not adapters_dir.is_dir():
        return None
    runs = [
        p
        for p in adapters_dir.glob("*/*")
        if (p / CHECKPOINTS / RUN_STATE).is_file() and not (p / MANIFEST_NAME).is_file()
    ]
    return max(runs, key=lambda p: (p / CHECKPOINTS / RUN_STATE).stat().st_mtime) if runs else None


__all__ = ["CHECKPOINTS", "RUN_STATE", "complete_checkpoints", "drop_partial_checkpoints", "latest_unfinished"]
