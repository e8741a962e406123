"""One tiny comparison end to end with the real default models and a tiny training budget, then its re-run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

DOCS_V1 = {
    "zorvat.md": "# The Zorvat pump\n\nThe Zorvat pump was designed by Ilsa Marrow. It moves 40 litres per minute.\n"
    "Each Zorvat pump is painted teal.",
    "kettering.txt": "Kettering Yard is the depot of the Pellam Tram Company. Kettering Yard opened in 1931 and "
    "holds 12 trams.",
    "pellam.md": "# Pellam Tram Company\n\nThe Pellam Tram Company runs the Blue Line. "
    "Its chief engineer is Otto Vance.",
}
QUESTIONS = [
    {"id": "t1", "question": "Who designed the Zorvat pump?", "answers": ["Ilsa Marrow"], "split": "train"},
    {"id": "t2", "question": "What colour is a Zorvat pump painted?", "answers": ["teal"], "split": "train"},
    {"id": "t3", "question": "When did Kettering Yard open?", "answers": ["1931"], "split": "train"},
    {
        "id": "t4",
        "question": "Which line does the Pellam Tram Company run?",
        "answers": ["Blue Line"],
        "split": "train",
    },
    {"id": "t5", "question": "How many trams does Kettering Yard hold?", "answers": ["12"], "split": "train"},
    *[
        {"id": f"tu{i}", "question": q, "answerable": False, "split": "train"}
        for i, q in enumerate(
            [
                "Who owns the Zorvat pump patent?",
                "How much does a Kettering Yard ticket cost?",
                "What is the Blue Line's top speed?",
                "When was Otto Vance born?",
                "Which city is Kettering Yard in?",
            ]
        )
    ],
    {"id": "s1", "question": "The Zorvat pump's designer is who?", "answers": ["Ilsa Marrow"], "split": "test"},
    {
        "id": "s2",
        "question": "Name the chief engineer of the Pellam Tram Company.",
        "answers": ["Otto Vance"],
        "split": "test",
    },
    {"id": "u1", "question": "What is the Zorvat pump's price?", "answerable": False, "split": "test"},
    {
        "id": "c1",
        "question": "How many litres per minute does a Zorvat pump move?",
        "answers": ["55"],
        "old_answers": ["40"],
        "changed": True,
        "split": "test",
    },
]
PROBE = [
    {"id": "g1", "question": "What is the capital of France?", "answers": ["Paris"]},
    {"id": "g2", "question": "How many days are in a week?", "answers": ["7", "seven"]},
]


def _write(root: Path) -> dict[str, Path]:
    v1, v2 = root / "docs_v1", root / "docs_v2"
    for folder, docs in ((v1, DOCS_V1), (v2, DOCS_V1 | {"zorvat.md": DOCS_V1["zorvat.md"].replace("40", "55")})):
        folder.mkdir()
        for name, text in docs.items():
            (folder / name).write_text(text, encoding="utf-8")
    qa = root / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    probe = root / "probe.jsonl"
    probe.write_text("\n".join(json.dumps(q) for q in PROBE) + "\n", encoding="utf-8")
    return {"v1": v1, "v2": v2, "qa": qa, "probe": probe}


SETTINGS = [
    "compare.time_budget_min=0.1",
    "compare.learning_curve=0.5,1.0",
    "compare.latency_sample=1",
    "compare.bootstrap=200",
    "tune.paraphrases=0",
    "generation.max_new_tokens=24",
    "compare.calibrate=true",
    "compare.tune_retriever=true",
    "tune.reranker_epochs=1",
]


def _numbers(results: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {k: v for k, v in s.items() if not k.startswith("latency") and k != "batched_seconds_per_question"}
        for name, s in results["strategies"].items()
    }


@pytest.fixture(scope="module")
def scripted() -> Iterator[str]:
    """A scripted reader behind a real OpenAI-compatible server, as a server strategy: it answers right whenever
    its prompt holds the answer (it measures what the pipeline passes on to a capable model)."""
    from benchmarks.scripted_reader import ScriptedServer

    golds = {q["question"]: q["answers"] for q in QUESTIONS if q.get("answers")}
    with ScriptedServer(golds) as server:
        yield server.base_url


def test_tiny_comparison_end_to_end_and_resume(tmp_path: Path, embedder: Any, scripted: str) -> None:
    from ragtune.config import load_config
    from ragtune.evaluate.experiment import CompareRequest, run_comparison
    from ragtune.evaluate.strategies import builtin_strategies, parse_server_strategy
    from ragtune.text import answer_correct

    files = _write(tmp_path)
    overrides = dict(s.split("=", 1) for s in SETTINGS) | {"workspace": str(tmp_path / "ws")}
    config = load_config(environ={}, overrides=overrides)
    request = CompareRequest(
        docs=(files["v1"],), questions=files["qa"], updated_docs=(files["v2"],), general_probe=files["probe"]
    )
    lines: list[str] = []
    server_strategy = f"scripted={scripted}#terse+rag"
    first = run_comparison(
        request,
        config,
        out_dir=tmp_path / "r1",
        strategies=[*builtin_strategies(), parse_server_strategy(server_strategy)],
        progress=False,
        echo=lines.append,
        embedder=embedder,
    )
    r = first.results.to_json()
    assert set(r["strategies"]) == {"base", "rag", "finetune", "hybrid", "scripted", "rag-tuned-retriever"}
    # A server strategy answers with the capable reader: its whole answer, whole chunks; the 135M model the small.
    readers = {name: s["reader"] for name, s in r["strategies"].items()}
    assert readers == {
        "base": "small",
        "rag": "small",
        "finetune": "small",
        "hybrid": "small",
        "scripted": "capable",
    } | {"rag-tuned-retriever": "small"}
    # compare.tune_retriever: rag over the same index with a reranker trained on the training questions, its
    # training and what both retrievers find and cost, and the advisor's word on whether it is worth it.
    tuned, rag = r["strategies"]["rag-tuned-retriever"], r["strategies"]["rag"]
    assert tuned["train_seconds"] > 0 and (Path(tuned["adapter"]) / "model" / "config.json").is_file()
    for s in (tuned, rag):
        assert s["retrieval"]["k"] == config.retrieval.top_k and s["retrieval"]["questions"] == 2
        assert 0 <= s["retrieval"]["answer_in_sources"] <= 1 and s["retrieval"]["query_ms_p50"] > 0
    assert any(x.startswith("tuning the retriever is") for x in r["recommendation"]["reasons"])
    assert "| rag-tuned-retriever | " in first.paths["markdown"].read_text()
    assert "scripted capable" in first.paths["markdown"].read_text()
    assert r["strategies"]["scripted"]["accuracy"]["value"] == 1.0  # both answers reached its prompt, and the user
    for s in r["strategies"].values():
        acc = s["accuracy"]
        assert acc["n"] == 2 and acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    # What refusal costs, from the same answers: accuracy had each refused answer been given as it was generated.
    for name, s in r["strategies"].items():
        answerable = [a for a in r["answers"][name] if a["gold"]]
        on = [answer_correct(a["text"], a["gold"]) for a in answerable]
        off = [answer_correct(a.get("unrefused", a["text"]), a["gold"]) for a in answerable]
        assert s["accuracy"]["value"] == pytest.approx(sum(on) / len(on))
        assert s["accuracy_refusal_off"]["value"] == pytest.approx(sum(off) / len(off)), (name, answerable)
        assert s["accuracy_refusal_off"]["n"] == s["accuracy"]["n"] == len(answerable)
    for name in ("rag", "hybrid"):
        assert all(("unrefused" in a) == a["refused"] for a in r["answers"][name]), r["answers"][name]
    assert "acc. refusal off" in first.paths["markdown"].read_text()
    assert r["freshness"]["changed_questions"] == 1 and r["freshness"]["sync"]["updated"] == 1
    assert r["freshness"]["sync"]["unchanged"] == 2
    assert "after" in r["strategies"]["rag"]["freshness"]
    fresh = r["strategies"]["rag"]["freshness"]
    assert fresh["after_refusal_off"]["n"] == fresh["after"]["n"] == 1
    assert [p["share"] for p in r["learning_curve"]["points"]] == [0.5, 1.0]
    assert r["strategies"]["finetune"]["train_seconds"] > 0 and r["strategies"]["finetune"]["adapter_mb"] > 0
    assert "drop" in r["strategies"]["finetune"]["forgetting"]
    # Forgetting with and without replay: a second finetune adapter trained with it (the strategy trains without,
    # tune.replay_share = 0 by default), reported beside.
    contrast = r["strategies"]["finetune"]["forgetting"]["replay_contrast"]
    assert contrast["strategy_share"] == config.tune.replay_share == 0 and contrast["accuracy"]["n"] == 2
    assert contrast["contrast_share"] == config.compare.replay_contrast_share > 0
    assert "finetune-replay" in r["plan"]["measured_seconds"]
    row = f"finetune with replay (share {config.compare.replay_contrast_share:g})"
    assert row in first.paths["markdown"].read_text()
    # ... and with and without routing: each adapter (finetune and hybrid) asked every probe question.
    for name in ("finetune", "hybrid"):
        routed = r["strategies"][name]["forgetting"]
        unrouted = routed["without_routing"]
        assert unrouted["probe_accuracy"]["n"] == routed["probe_accuracy"]["n"] > 0 and "drop" in unrouted
        assert f"{name} without routing" in first.paths["markdown"].read_text()
    # Replay is in the contrast's training data, and no probe question is, even reworded.
    from ragtune.text import content_terms

    data = next(tmp_path.glob("ws/runs/data-*"))
    trained = [json.loads(x) for f in data.glob("*.jsonl") for x in f.read_text().splitlines() if x.strip()]
    asked = {frozenset(content_terms(m["messages"][-2]["content"])) for m in trained}
    assert any(m["origin"] == "replay" for m in trained)
    assert not asked & {frozenset(content_terms(p["question"])) for p in PROBE}
    # Two test questions cannot show any strategy beating base: the verdict says so instead of naming one.
    assert r["recommendation"]["strategy"] == "inconclusive" and r["recommendation"]["reasons"]
    assert "no strategy answers significantly more than base" in r["recommendation"]["reasons"][0]
    assert {p.name for p in first.paths.values()} == {"report.html", "report.md", "results.json"}
    assert any(x.startswith("[plan]") for x in lines)
    # Refusal is fitted on the training questions (5 answerable, 5 unanswerable here) and the report says so.
    assert r["calibration"]["note"].startswith("fitted on 5 answerable and 5 unanswerable"), r["calibration"]
    assert "Refusal calibration: fitted on" in first.paths["markdown"].read_text()

    # The CLI on the same workspace: every stage comes from the cache, and the numbers are the same.
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ragtune",
            "--workspace",
            str(tmp_path / "ws"),
            *[a for s in SETTINGS for a in ("--set", s)],
            "compare",
            "--docs",
            str(files["v1"]),
            "--questions",
            str(files["qa"]),
            "--updated-docs",
            str(files["v2"]),
            "--general-probe",
            str(files["probe"]),
            "--server-strategy",
            server_strategy,
            "--out",
            str(tmp_path / "r2"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "report.html" in out.stdout and "No strategy is recommended (inconclusive)" in " ".join(out.stdout.split())
    second = json.loads((tmp_path / "r2" / "results.json").read_text())
    assert all(s["cached"] for s in second["stages"])
    assert _numbers(second) == _numbers(json.loads(first.paths["json"].read_text()))


def test_cli_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "a"}\n{"question": "r"}\n', encoding="utf-8")
    (tmp_path / "d").mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "ragtune", "compare", "--docs", str(tmp_path / "d"), "--questions", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1 and "line 2" in run.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "ragtune", "compare", "--questions", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert usage.returncode == 2
    missing = subprocess.run(
        [sys.executable, "-m", "ragtune", "compare", "--docs", "d", "--questions", "qa.jsonl"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    # The option that named it, and where a relative path was looked for.
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert f"--questions qa.jsonl: no such file or folder (looked for in {tmp_path})" in missing.stderr
