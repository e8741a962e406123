from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ragtune.evaluate.planner import JobSpec, padded_tokens, plan_training
from ragtune.evaluate.stages import StageCache


def test_stage_cache_resumes_after_a_crash(tmp_path: Path) -> None:
    calls: list[str] = []

    def ok(folder: Path) -> dict[str, Any]:
        calls.append("ok")
        (folder / "artifact.txt").write_text("x")
        return {"value": 42}

    def crash(folder: Path) -> dict[str, Any]:
        calls.append("crash")
        (folder / "partial.ckpt").write_text("half")
        raise RuntimeError("killed")

    cache = StageCache(tmp_path / "runs")
    assert cache.run("a", {"x": 1}, ok)["value"] == 42
    with pytest.raises(RuntimeError):
        cache.run("b", {"y": 1}, crash)
    # The re-run: stage a is reused, stage b finds its partial files and finishes.
    again = StageCache(tmp_path / "runs")
    assert again.run("a", {"x": 1}, ok)["value"] == 42
    seen: list[bool] = []

    def resume(folder: Path) -> dict[str, Any]:
        seen.append((folder / "partial.ckpt").is_file())
        return {"value": 7}

    assert again.run("b", {"y": 1}, resume)["value"] == 7
    assert calls == ["ok", "crash"] and seen == [True]
    assert [(r.name, r.cached) for r in again.records] == [("a", True), ("b", False)]
    # Changed inputs: computed again, in a new folder.
    assert again.run("a", {"x": 2}, ok)["value"] == 42 and calls[-1] == "ok" and len(calls) == 3
    assert again.records[-1].cached is False


def test_stage_records_say_how_long_the_stage_took_when_it_ran(tmp_path: Path) -> None:
    def slow(folder: Path) -> dict[str, Any]:
        time.sleep(0.05)
        return {"value": 1}

    cache = StageCache(tmp_path / "runs")
    cache.run("slow", {}, slow)
    # Timed by the cache when the stage does not say: at least the time it slept.
    assert cache.records[-1].seconds >= 0.05 and not cache.records[-1].cached
    # A stage that times only part of its work (the update times the sync, not the copy) keeps its own figure,
    # and a re-run reports that figure for the reused result, not the milliseconds the reload took.
    cache.run("timed", {}, lambda folder: {"value": 2, "seconds": 12.5})
    assert cache.records[-1].seconds == 12.5
    again = StageCache(tmp_path / "runs")
    assert again.run("timed", {}, slow) == {"value": 2, "seconds": 12.5}
    assert again.run("slow", {}, slow)["seconds"] >= 0.05
    assert [(r.seconds == 12.5, r.cached) for r in again.records] == [(True, True), (False, True)]


def test_planner_fits_the_budget_and_is_deterministic() -> None:
    ft = [
        JobSpec("finetune-100", "finetune", tuple([60] * 400), 20.0, 256),
        JobSpec("finetune-50", "finetune", tuple([60] * 200), 20.0, 256),
    ]
    raft = JobSpec("hybrid", "hybrid", tuple([900] * 300), 20.0, 1024)
    plan = plan_training(ft, raft, budget_seconds=600, tokens_per_s=256, step_seconds=1.0, hybrid_share=0.3)
    total = sum(j.planned_seconds for j in plan.jobs)
    assert total <= 600 * 1.01
    h = plan.job("hybrid")
    assert h.epochs == 1.0 and h.examples < 300  # RAFT examples are too long for a full pass: fewer of them
    f = plan.job("finetune-100")
    assert f.max_seq_len == 64 and f.epochs == plan.job("finetune-50").epochs  # one epoch count for the curve
    assert 1.0 < f.epochs < 20
    assert plan == plan_training(ft, raft, budget_seconds=600, tokens_per_s=256, step_seconds=1.0, hybrid_share=0.3)
    generous = plan_training(ft, raft, budget_seconds=10**7, tokens_per_s=170)
    assert generous.job("finetune-100").epochs == 20.0 and generous.job("hybrid").examples == 300


def test_planner_counts_the_padding_of_shuffled_batches() -> None:
    # Batches of 2 from [10, 10, 10, 100]: half of the 6 pairs hold the 100, so a pair pads to 55 on average.
    assert padded_tokens([10, 10, 10, 100], seq_len=1000, batch=2) == pytest.approx(4 * 55)
    assert padded_tokens([10, 10, 10, 100], seq_len=40, batch=2) == pytest.approx(4 * 25)  # cut at seq_len first
    assert padded_tokens([5, 9], seq_len=100, batch=4) == 18  # one batch: padded to its longest
    assert padded_tokens([7] * 9, seq_len=100, batch=4) == 63  # equal lengths: no padding
    assert padded_tokens([10, 10, 10, 100], seq_len=1000, batch=2, n=3) == 30  # the first n examples only


def test_planner_gives_what_the_capped_fine_tunes_leave_to_the_hybrid() -> None:
    ft = [JobSpec("finetune-100", "finetune", tuple([40] * 100), 1.0, 256)]  # at most one epoch: cheap
    raft = JobSpec("hybrid", "hybrid", tuple([600] * 300), 1.0, 1024)
    plan = plan_training(ft, raft, budget_seconds=600, tokens_per_s=256, step_seconds=1.0, hybrid_share=0.1)
    h, f = plan.job("hybrid"), plan.job("finetune-100")
    assert f.epochs == 1.0 and h.planned_seconds > 0.1 * 600  # more than its share: the fine-tune could not use it
    assert h.planned_seconds + f.planned_seconds <= 600 and 100 < h.examples < 300
