"""The table every benchmark fills: rows of (measure, value, baseline, ratio) plus free-form notes and targets."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Row:
    name: str  # what was measured, e.g. "batched 32 prompts"
    value: float
    unit: str  # e.g. "tokens/s", "s", "nDCG@10"
    baseline: float | None = None  # the same measure for the baseline, run in the same process
    baseline_name: str = ""
    higher_is_better: bool = True
    target: str = ""  # e.g. ">= 1.0x llama.cpp", ">= 0.72"
    passed: bool | None = None  # whether the target is met (None: no target)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        return self.value / float(self.baseline)


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # anything else worth keeping in the JSON
    tables: list[str] = field(default_factory=list)  # markdown tables printed after the rows (a matrix of results)
    seconds: float = 0.0


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def environment() -> dict[str, Any]:
    import os

    info: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        pass
    return info


def render(sections: list[Section]) -> str:
    """Markdown tables (readable in a terminal and pasteable into the README)."""
    out: list[str] = []
    for s in sections:
        out.append(f"\n### {s.title}  ({s.seconds:.0f} s)\n")
        out.append("| measure | value | baseline | ratio | target | met |")
        out.append("| --- | ---: | --- | ---: | --- | --- |")
        for r in s.rows:
            base = f"{r.baseline:.4g} {r.unit} ({r.baseline_name})" if r.baseline is not None else ""
            ratio = f"{r.ratio:.2f}x" if r.ratio is not None else ""
            met = "" if r.passed is None else ("yes" if r.passed else "**no**")
            note = f" ({r.note})" if r.note else ""
            out.append(f"| {r.name}{note} | {r.value:.4g} {r.unit} | {base} | {ratio} | {r.target} | {met} |")
        for t in s.tables:
            out.append(f"\n{t}")
        for n in s.notes:
            out.append(f"\n- {n}")
    return "\n".join(out)


def save(sections: list[Section], name: str = "latest") -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "environment": environment(),
        "sections": [{**asdict(s), "rows": [{**asdict(r), "ratio": r.ratio} for r in s.rows]} for s in sections],
    }
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path
