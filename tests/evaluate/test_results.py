"""results.json as types: a file written before the types existed reads back, re-scores and re-renders unchanged.

The fixture is what `ragtune compare --quick` on the bundled sample wrote at commit 054ad55 (before results
became types): its results.json and report.md, byte for byte. Its `answers` hold every answer record, so the
metrics can be computed again from them by today's scoring and compared with the numbers the old code wrote.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ragtune.evaluate.questions import Question
from ragtune.evaluate.records import AnswerRecord
from ragtune.evaluate.report import render_markdown, write_report
from ragtune.evaluate.results import Results
from ragtune.evaluate.scoring import paired_tests, score_answers

DATA = Path(__file__).parent / "data"
OLD_JSON = DATA / "results-054ad55-quick.json"
OLD_MD = DATA / "report-054ad55-quick.md"


def _old() -> dict[str, Any]:
    old: dict[str, Any] = json.loads(OLD_JSON.read_text(encoding="utf-8"))
    return old


def test_an_old_results_json_is_written_back_byte_for_byte(tmp_path: Path) -> None:
    results = Results.from_json(_old())
    paths = write_report(results, tmp_path)
    assert paths["json"].read_text(encoding="utf-8") == OLD_JSON.read_text(encoding="utf-8")
    # The report read from the types says what the report read from the dict said.
    assert paths["markdown"].read_text(encoding="utf-8") == OLD_MD.read_text(encoding="utf-8")
    assert render_markdown(results) == OLD_MD.read_text(encoding="utf-8")


def _same(new: float | None, old: Any) -> bool:
    if old is None:
        return new is None or math.isnan(new)
    return new is not None and new == pytest.approx(old, abs=1e-12)


@pytest.mark.parametrize("name", ["base", "rag", "finetune", "hybrid"])
def test_scoring_the_old_answers_again_gives_the_old_numbers(name: str) -> None:
    old = _old()
    listed = old["answers"][name]
    records = [AnswerRecord.from_json(a) for a in listed]
    questions = [Question(a["id"], a["question"], tuple(a["gold"]), answerable=bool(a["gold"])) for a in listed]
    strategy = old["strategies"][name]
    scores = score_answers(
        records,
        questions,
        reads_sources=strategy["reads_sources"],
        embedder=None,  # semantic similarity needs the embedder: the slow end-to-end test covers it
        resamples=old["config"]["compare"]["bootstrap"],
        seed=old["seed"],
    ).to_json()
    checked = 0
    for key, value in scores.items():
        if key == "semantic_similarity":
            continue
        if isinstance(value, dict) and key != "refusal_reasons":
            for field, x in value.items():
                assert _same(x, strategy[key][field]), (name, key, field, x, strategy[key][field])
        elif key == "refusal_reasons" or isinstance(value, int):
            assert value == strategy[key], (name, key)
        else:
            assert _same(value, strategy[key]), (name, key, value, strategy[key])
        checked += 1
    assert checked == 14


def test_the_paired_tests_follow_from_the_old_answers() -> None:
    old = _old()
    rescored = {}
    for name, listed in old["answers"].items():
        questions = [Question(a["id"], a["question"], tuple(a["gold"]), answerable=bool(a["gold"])) for a in listed]
        s = score_answers(
            [AnswerRecord.from_json(a) for a in listed],
            questions,
            reads_sources=old["strategies"][name]["reads_sources"],
            embedder=None,
            resamples=old["config"]["compare"]["bootstrap"],
            seed=old["seed"],
        )
        rescored[name] = [s.correct[q.id] for q in questions if q.answerable]
    tests = paired_tests(rescored, old["config"]["compare"]["bootstrap"], old["seed"])
    assert len(tests) == len(old["paired"]) == 6
    for new, was in zip(tests, old["paired"], strict=True):
        for key, value in new.as_dict().items():
            assert value == (pytest.approx(was[key]) if isinstance(value, float) else was[key]), (key, value, was)


def test_without_an_update_run_a_retrain_is_estimated_as_the_training_measured() -> None:
    """A run without --updated-docs measured no retrain; the advisor used to read 0 and say "staying current needs a
    retrain per update: 0.0 s each ... about 0.0 s a month" of a model that had just trained for minutes."""
    import dataclasses

    from ragtune.evaluate.scoring import advisor_measures

    measured = Results.from_json(_old()).strategies  # that run had an update: what it measured is used
    assert {m.name: m.retrain_seconds for m in advisor_measures(measured)} == {
        n: s.retrain_seconds for n, s in measured.items()
    }
    strategies = {n: dataclasses.replace(s, retrain_seconds=None) for n, s in measured.items()}  # as without one
    measures = {m.name: m for m in advisor_measures(strategies)}
    assert measures["finetune"].retrain_seconds == strategies["finetune"].train_seconds > 0
    assert measures["rag"].retrain_seconds == 0.0  # reads its sources: a re-sync, not measured here
