"""The manifest that travels with every adapter folder, and the check that an adapter fits its base model.

A LoRA adapter only means something on the exact weights it was trained on, so the manifest records the base
model's fingerprint (a hash of its source weights) and every loader refuses a mismatch instead of answering nonsense.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ragtune import __version__
from ragtune.errors import RagtuneError

MANIFEST_NAME = "ragtune_manifest.json"


class AdapterMismatchError(RagtuneError):
    """An adapter was trained on another base model than the one it is being loaded onto."""


@dataclass(frozen=True)
class AdapterManifest:
    kind: str  # "finetune" (closed-book) or "hybrid" (RAFT: reads retrieved sources)
    base_model_name: str
    base_model_fingerprint: str  # sha256 of the base model's source weights
    data_hash: str  # sha256 of the training file(s)
    config: dict[str, Any] = field(default_factory=dict)  # the tune settings used
    metrics: dict[str, Any] = field(default_factory=dict)  # train/eval loss, tokens/s, seconds, examples
    ragtune_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))


def write_manifest(folder: Path, manifest: AdapterManifest) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)  # never a half-written manifest
    return path


def read_manifest(folder: Path) -> AdapterManifest:
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise RagtuneError(
            f"{folder}: not a ragtune adapter (no {MANIFEST_NAME}). Train one with `ragtune tune` or pass the folder "
            "that `ragtune tune` printed."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return AdapterManifest(**data)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise RagtuneError(f"{path}: unreadable adapter manifest ({exc}); retrain the adapter") from exc


def check_base(folder: Path, base_model_name: str, base_model_fingerprint: str) -> AdapterManifest:
    """The adapter's manifest, or AdapterMismatchError when it was trained on other base weights."""
    manifest = read_manifest(folder)
    if manifest.base_model_fingerprint != base_model_fingerprint:
        raise AdapterMismatchError(
            f"{folder}: this adapter was trained on base model '{manifest.base_model_name}' "
            f"(fingerprint {manifest.base_model_fingerprint[:12]}), not on '{base_model_name}' "
            f"(fingerprint {base_model_fingerprint[:12]}). Load it with the model it was trained on, or retrain it."
        )
    return manifest
