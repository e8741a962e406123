"""The comparison on the bundled sample: the issue's accuracy, freshness and run-time targets.

Full: what `make demo` runs (every stage, the learning curve, the default training budget). Quick: `ragtune compare
--quick`. Each run gets a fresh workspace, so nothing comes from an earlier run's stage cache. The baseline of
every accuracy row is the base model, measured in the same run.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Row, Section


def run(quick: bool) -> Section:
    from ragtune.config import load_config
    from ragtune.evaluate.experiment import run_comparison, sample_request
    from ragtune.evaluate.report import summary_table

    section = Section(title=f"compare on the bundled sample ({'quick' if quick else 'full, as make demo'})")
    with tempfile.TemporaryDirectory(prefix="ragtune-bench-compare-") as tmp:
        config = load_config(environ={}, overrides={"workspace": str(Path(tmp) / "ws")})
        start = time.perf_counter()
        outcome = run_comparison(sample_request(quick=quick), config, out_dir=Path(tmp) / "report", progress=False)
        seconds = time.perf_counter() - start
    r = outcome.results
    s = r.strategies
    base = s["base"].accuracy
    limit_min = 5 if quick else 30
    section.rows.append(
        Row(
            "comparison wall time",
            seconds / 60,
            "min",
            higher_is_better=False,
            target=f"< {limit_min} min (demo adds set-up)",
            passed=seconds / 60 < limit_min,
        )
    )
    for name in ("rag", "hybrid"):
        acc = s[name].accuracy.value
        ok = acc >= 0.6 and acc >= 3 * base.value
        section.rows.append(
            Row(
                f"{name} answer accuracy",
                acc,
                "acc",
                baseline=base.value,
                baseline_name="base",
                target=">= 0.6 and >= 3x base",
                passed=ok,
            )
        )
    ft = s["finetune"].accuracy
    section.rows.append(
        Row(
            "finetune answer accuracy (CI low)",
            ft.ci_low,
            "acc",
            baseline=base.ci_high,
            baseline_name="base CI high",
            target="> base CI high",
            passed=ft.ci_low > base.ci_high,
            note=f"value {ft.value:.2f}",
        )
    )
    rag_fresh = s["rag"].freshness
    fresh = rag_fresh.after.value if rag_fresh is not None else math.nan
    if not math.isnan(fresh):
        section.rows.append(
            Row(
                "rag: changed facts with the new value after update",
                fresh,
                "share",
                target=">= 0.8",
                passed=fresh >= 0.8,
            )
        )
    for name, e in s.items():
        section.rows.append(Row(f"{name} latency p95", e.latency_p95_s, "s", higher_is_better=False))
    section.rows.append(
        Row("training (all adapters)", r.costs.training_seconds_total / 60, "min", higher_is_better=False)
    )
    section.notes.append(f"recommendation: {r.recommendation.strategy}")
    section.notes.append(r.plan.note)
    section.extra["summary_table"] = summary_table(r)
    section.extra["stages"] = [dataclasses.asdict(st) for st in r.stages]
    return section
