from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

from ragtune.evaluate.report import summary_paragraph, summary_table, write_report
from ragtune.evaluate.results import Results
from ragtune.evaluate.strategy_measures import ReplayContrast


def est(v: float, lo: float, hi: float, n: int = 60) -> dict[str, Any]:
    return {"value": v, "ci_low": lo, "ci_high": hi, "n": n}


def results() -> Results:
    """A hand-written results.json (an older file's subset of the fields), read as the report reads one."""
    return Results.from_json(results_json())


def results_json() -> dict[str, Any]:
    def strat(acc: float, reads: bool, train: float) -> dict[str, Any]:
        return {
            "description": "d",
            "reads_sources": reads,
            "accuracy": est(acc, acc - 0.1, acc + 0.1),
            "exact_match": est(acc / 2, 0, 1),
            "token_f1": est(acc * 0.8, 0, 1),
            "semantic_similarity": est(0.5, 0.4, 0.6),
            "hallucination": est(1 - acc, 0, 1),
            "refusal_recall": 0.5 if reads else math.nan,
            "refusal_precision": 0.75 if reads else math.nan,
            "answerable_refused": 0.125 if reads else 0.0,
            "citation_rate": est(0.9 if reads else 0.0, 0, 1),
            "citation_precision": est(0.8, 0.7, 0.9) if reads else None,
            "freshness": {
                "before": est(0.0, 0, 0),
                "after": est(0.91 if reads else 0.04, 0, 1),
                "old_after": est(0.1, 0, 1),
            },
            "forgetting": {"probe_accuracy": est(0.7, 0.6, 0.8), "drop": 0.03},
            "latency_p50_s": 0.8,
            "latency_p95_s": 1.7,
            "tokens_per_answer": 6.5,
            "tokens_in_per_answer": 700,
            "train_seconds": train,
            "adapter_mb": 8.5 if train else 0.0,
        }

    return {
        "seed": 0,
        "quick": False,
        "data": {
            "documents": 42,
            "source_docs": "docs",
            "questions": {"train": 150, "test": 100, "test_answerable": 60, "unanswerable": 40, "changed": 25},
            "split_note": "own",
        },
        "models": {"generator": "SmolLM2-135M-Instruct", "embedder": "all-MiniLM-L6-v2"},
        "strategies": {
            "base": strat(0.123, False, 0),
            "rag": strat(0.734, True, 0),
            "finetune": strat(0.345, False, 610),
            "hybrid": strat(0.756, True, 300),
        },
        "paired": [
            {
                "a": "base",
                "b": "rag",
                "metric": "accuracy",
                "difference": 0.61,
                "ci_low": 0.5,
                "ci_high": 0.7,
                "p_value": 0.0001,
                "method": "mcnemar-exact",
                "n": 60,
                "significant": True,
            }
        ],
        "learning_curve": {
            "strategy": "finetune",
            "points": [
                {"share": s, "examples": int(s * 450), "accuracy": est(a, a - 0.1, a + 0.1), "train_seconds": 100 * s}
                for s, a in [(0.25, 0.1), (0.5, 0.2), (1.0, 0.345)]
            ],
        },
        "freshness": {
            "changed_questions": 25,
            "resync_seconds": 3.2,
            "sync": {"added": 0, "updated": 12, "unchanged": 30, "removed": 0},
            "retrain_seconds": 610,
            "retrain_measured": False,
        },
        "general_probe": {"questions": 50},
        "costs": {"index_build_seconds": 12.5, "index_mb": 3.1, "chunks": 120, "peak_memory_mb": 2100},
        "plan": {
            "jobs": [
                {
                    "name": "finetune-100",
                    "examples": 450,
                    "epochs": 3.0,
                    "max_seq_len": 96,
                    "tokens": 30000,
                    "planned_seconds": 600,
                }
            ],
            "note": "fits",
        },
        "stages": [{"name": "index", "seconds": 12.5, "cached": False}],
        "recommendation": {
            "strategy": "rag",
            "reasons": [
                "rag ranks first with score 0.60 (accuracy less measured costs)",
                "answer accuracy 0.73",
                "cites",
            ],
            "ranking": [{"strategy": "rag", "score": 0.6, "meets_constraints": True, "reasons": []}],
            "constraints": {},
        },
    }


def test_report_files_are_self_contained_and_traceable(tmp_path: Path) -> None:
    paths = write_report(results(), tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert data["strategies"]["rag"]["accuracy"] == {"value": 0.734, "ci_low": 0.634, "ci_high": 0.834, "n": 60}
    assert data["strategies"]["base"]["refusal_recall"] is None  # NaN written as null: strict JSON
    html = paths["html"].read_text()
    assert html.count("<svg") == 4  # accuracy, freshness, learning curve, latency/cost
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing loaded from elsewhere
    for figure_source in ("strategies.*.accuracy", "learning_curve.points", "strategies.*.freshness"):
        assert figure_source in html
    # The numbers printed in the plots and tables are the JSON's.
    for text in ("0.73 [0.63, 0.83]", "0.76", "0.91"):
        assert text in html
    md = paths["markdown"].read_text()
    assert "Recommendation: **rag**" in md and "0.12 [0.02, 0.22]" in md
    assert "| 25% | 112 | 0.10 [0.00, 0.20]" in md
    # Same results, same files (no timestamps or random ids in the SVG).
    again = write_report(results(), tmp_path / "again")
    assert again["html"].read_text() == html


def test_summary_table_and_paragraph() -> None:
    r = results()
    table = summary_table(r)
    assert table.splitlines()[0].startswith("| strategy | accuracy [95% CI]")
    assert "**hybrid** | 0.76 [0.66, 0.86]" in table
    assert "ans. refused" in table.splitlines()[0] and "| 0.50 | 0.75 | 0.12 |" in table  # what refusing costs
    para = summary_paragraph(r)
    assert "Recommended: rag" in para and "rag 0.73 [0.63, 0.83]" in para
    assert "because answer accuracy 0.73; cites." in para  # the bare score left out
    # Chosen over a leader it cannot be told apart from: that reason comes first.
    tie = "rag is recommended: its accuracy cannot be told apart from hybrid's, and it needs no training"
    r = dataclasses.replace(r, recommendation=dataclasses.replace(r.recommendation, reasons=[tie, "runner-up hybrid"]))
    # ... said once: not "Recommended: rag, because rag is recommended: ...".
    assert (
        "Recommended: rag, because its accuracy cannot be told apart from hybrid's, and it needs no training; "
        "runner-up hybrid." in summary_paragraph(r)
    )


def _with_forgetting(contrast: dict[str, Any], key: str = "replay_contrast") -> dict[str, Any]:
    """results_json() whose finetune strategy (accuracy 0.5 [0.4, 0.6], probe drop 0.10) has a replay contrast."""
    data = results_json()
    data["strategies"]["finetune"]["accuracy"] = est(0.5, 0.4, 0.6)
    data["strategies"]["finetune"]["forgetting"] = {
        "probe_accuracy": est(0.9, 0.8, 1.0),
        "drop": 0.1,
        key: contrast,
        "without_routing": {"probe_accuracy": est(0.5, 0.4, 0.6), "drop": 0.5},
    }
    return data


def _contrast_round_trip(contrast: dict[str, Any], out: Path) -> tuple[ReplayContrast | None, str]:
    """The results with `contrast` as finetune's replay contrast, parsed and written: the parsed contrast and the
    markdown report, after checking that the JSON report writes the forgetting back as it was read."""
    data = _with_forgetting(contrast)
    parsed = Results.from_json(data)
    paths = write_report(parsed, out)
    written = json.loads(paths["json"].read_text())["strategies"]["finetune"]["forgetting"]
    assert written == data["strategies"]["finetune"]["forgetting"]
    forgetting = parsed.strategies["finetune"].forgetting
    assert forgetting is not None
    return forgetting.replay_contrast, paths["markdown"].read_text()


def test_a_replay_contrast_without_replay_is_reported_and_round_trips(tmp_path: Path) -> None:
    contrast = {
        "strategy_share": 0.25,
        "contrast_share": 0.0,
        "probe_accuracy": est(0.35, 0.2, 0.5),
        "accuracy": est(0.36, 0.26, 0.46),
        "drop": 0.65,
    }
    c, md = _contrast_round_trip(contrast, tmp_path / "out")
    assert c is not None and (c.strategy_share, c.contrast_share, c.drop) == (0.25, 0.0, 0.65)
    assert c.accuracy.value == 0.36 and not c.with_replay
    assert "| finetune without replay | 0.35 [0.20, 0.50] | 0.65 |" in md
    assert (
        "Replay (the base model's own answers to general prompts mixed into training) at share 0.25, as trained, "
        "changes finetune's probe drop from 0.65 (share 0) to 0.10, and its test accuracy from 0.36 [0.26, 0.46] to "
        "0.50 [0.40, 0.60]." in md
    ), md
    assert "| finetune without routing | 0.50 [0.40, 0.60] | 0.50 |" in md
    assert "Routing (tune.route_min_similarity" in md and "changes finetune's probe drop from 0.50 to 0.10" in md


def test_a_replay_contrast_with_replay_is_reported_and_round_trips(tmp_path: Path) -> None:
    contrast = {
        "strategy_share": 0.0,
        "contrast_share": 0.25,
        "probe_accuracy": est(0.95, 0.85, 1.0),
        "accuracy": est(0.44, 0.34, 0.54),
        "drop": 0.05,
    }
    c, md = _contrast_round_trip(contrast, tmp_path / "out")
    assert c is not None and c.with_replay and (c.strategy_share, c.contrast_share) == (0.0, 0.25)
    assert "| finetune with replay (share 0.25) | 0.95 [0.85, 1.00] | 0.05 |" in md
    assert "without replay" not in md
    assert (
        "Replay (the base model's own answers to general prompts mixed into training) at share 0.25 would change "
        "finetune's probe drop from 0.10 (share 0, as trained) to 0.05, and its test accuracy from 0.50 [0.40, 0.60] "
        "to 0.44 [0.34, 0.54]." in md
    ), md


def test_an_older_results_files_forgetting_without_replay_reads_as_the_contrast(tmp_path: Path) -> None:
    legacy = {
        "replay_share": 0.25,
        "probe_accuracy": est(0.35, 0.2, 0.5),
        "drop": 0.65,
        "accuracy": est(0.36, 0.26, 0.46),
    }
    parsed = Results.from_json(_with_forgetting(legacy, key="without_replay"))
    c = parsed.strategies["finetune"].forgetting.replay_contrast  # type: ignore[union-attr]
    assert c is not None and (c.strategy_share, c.contrast_share, c.drop) == (0.25, 0.0, 0.65)
    assert c.probe_accuracy.value == 0.35 and c.accuracy.value == 0.36
    # Written back under today's key, the same numbers.
    written = parsed.strategies["finetune"].forgetting.to_json()  # type: ignore[union-attr]
    assert "without_replay" not in written
    assert written["replay_contrast"] == {"strategy_share": 0.25, "contrast_share": 0.0} | {
        k: v for k, v in legacy.items() if k != "replay_share"
    }
    md = write_report(parsed, tmp_path / "out")["markdown"].read_text()
    assert "| finetune without replay | 0.35 [0.20, 0.50] | 0.65 |" in md
