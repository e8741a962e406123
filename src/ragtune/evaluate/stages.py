"""The per-stage cache of a comparison: each stage's result is stored under a hash of its inputs.

A comparison runs for many minutes on a CPU. Each stage (index, train, answer...) is a function whose inputs
(settings, data hashes, upstream results) are hashed; its JSON result and any files it writes live in
`runs/<stage>-<hash>/`. A re-run with the same inputs loads the result instead of recomputing, so a run killed by a
crash continues where it stopped; change an input and only the stages downstream of it run again. A stage's
folder gets `result.json` only when the stage has finished (written atomically), so a half-finished stage is never
mistaken for a finished one; its partial files stay for stages that can resume (training checkpoints).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULT_NAME = "result.json"


def hash_inputs(inputs: Any) -> str:
    """A stable sha256 of JSON-able inputs (dict key order does not matter)."""
    blob = json.dumps(inputs, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StageRecord:
    """What the report shows per stage: how long it took, and whether this run computed or reused it."""

    name: str
    key: str
    seconds: float
    cached: bool


@dataclass
class StageCache:
    root: Path
    records: list[StageRecord] = field(default_factory=list)

    def folder(self, name: str, inputs: Mapping[str, Any]) -> Path:
        return self.root / f"{name}-{hash_inputs({'stage': name, **inputs})[:16]}"

    def run(
        self,
        name: str,
        inputs: Mapping[str, Any],
        compute: Callable[[Path], dict[str, Any]],
    ) -> dict[str, Any]:
        """The stage's result: loaded when a finished one with these inputs exists, else `compute(folder)`.

        `compute` gets the stage's own folder (created, possibly holding a crashed attempt's partial files) and
        returns a JSON-able dict; `seconds` is added when it is missing.
        """
        folder = self.folder(name, inputs)
        result_file = folder / RESULT_NAME
        if result_file.is_file():
            result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
            self.records.append(StageRecord(name, folder.name, float(result.get("seconds", 0.0)), True))
            return result
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "inputs.json").write_text(json.dumps(inputs, indent=2, sort_keys=True, default=str), "utf-8")
        start = time.perf_counter()
        result = compute(folder)
        result.setdefault("seconds", time.perf_counter() - start)
        tmp = folder / (RESULT_NAME + ".tmp")
        tmp.write_text(json.dumps(result, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(result_file)
        self.records.append(StageRecord(name, folder.name, float(result["seconds"]), False))
        return result
