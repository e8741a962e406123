"""Calibration: fitting on labelled records, the false-refusal constraint, storage, and labelled-file errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ragtune.calibration import (
    Calibration,
    CalibrationError,
    CalibrationRecord,
    default_calibration,
    fit_calibration,
    load_calibration,
    load_labelled,
    save_calibration,
)
from ragtune.errors import InputFileError


def _records(n: int = 200, seed: int = 0) -> list[CalibrationRecord]:
    """Answerable questions tend to have relevant, well-covered sources and copied answers; unanswerable ones less
    so, with overlap (as in SQuAD 2.0), so that no threshold separates them perfectly."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        answerable = i % 2 == 0
        correct = answerable and rng.random() < 0.6
        shift = 0.25 if answerable else 0.0
        relevance = min(1.0, max(0.0, rng.gauss(0.45 + shift, 0.15)))
        coverage = min(1.0, max(0.0, rng.gauss(0.55 + shift, 0.2)))
        gold = tuple(k == 0 and answerable for k in range(3))
        lexical = tuple((0.9 if (correct and g) else rng.random() * 0.6) for g in gold)
        embedding = tuple((0.7 if (correct and g) else rng.random() * 0.5) for g in gold)
        signals = {"relevance": relevance, "coverage": coverage, "in_source": float(rng.random() < 0.5 + shift)}
        out.append(CalibrationRecord(answerable, correct, signals, lexical, embedding, gold, True))
    return out


def test_fit_respects_the_false_refusal_budget_and_refuses_some_unanswerable() -> None:
    records = _records()
    cal = fit_calibration(records, max_false_refusal=0.1)
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]

    def refused(r: CalibrationRecord) -> bool:
        best = max(cal.support.score(lx, em) for lx, em in zip(r.lexical, r.embedding, strict=True))
        p = cal.answerable.probability({**r.signals, "support": best})
        return r.signals["relevance"] < cal.min_relevance or p < cal.min_answerable

    false_refusal = sum(map(refused, answerable)) / len(answerable)
    recall = sum(map(refused, unanswerable)) / len(unanswerable)
    assert false_refusal <= 0.1
    assert recall > 0.3  # the signals carry information, so the fit must use it
    assert cal.fitted_on["fit_false_refusal"] == pytest.approx(false_refusal)
    # Support: a source that backs a correct answer scores above the threshold, an unrelated one below.
    assert cal.support.score(0.9, 0.7) >= cal.support.threshold > cal.support.score(0.1, 0.1)
    assert 0.0 < cal.min_relevance < 0.7
    # A stricter budget refuses fewer answerable questions.
    strict = fit_calibration(records, max_false_refusal=0.02)
    assert strict.min_answerable <= cal.min_answerable


def test_fit_needs_both_kinds_of_question() -> None:
    only_answerable = [r for r in _records() if r.answerable]
    with pytest.raises(CalibrationError, match="unanswerable"):
        fit_calibration(only_answerable)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    cal = fit_calibration(_records(), fitted_on={"file": "q.jsonl"})
    path = save_calibration(cal, tmp_path / "ws" / "calibration.json")
    again = load_calibration(path)
    assert again == Calibration.from_json(json.loads(path.read_text()))
    assert again.min_answerable == pytest.approx(cal.min_answerable)
    assert again.support == cal.support
    assert again.fitted_on["file"] == "q.jsonl"
    (tmp_path / "bad.json").write_text('{"version": 1, "support": {}}')
    with pytest.raises(CalibrationError, match="bad.json"):
        load_calibration(tmp_path / "bad.json")
    assert isinstance(default_calibration(), Calibration)


def test_labelled_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    good = tmp_path / "q.jsonl"
    good.write_text(
        '{"id": "a", "question": "Who?", "answers": ["Ann"]}\n'
        '{"id": "b", "question": "Why?", "answers": [], "answerable": false}\n'
        '{"question": "When?", "answer": "1904"}\n'
    )
    items = load_labelled(good)
    assert [(q.id, q.answerable, q.answers) for q in items] == [
        ("a", True, ("Ann",)),
        ("b", False, ()),
        ("3", True, ("1904",)),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Who?", "answers": ["Ann"]}\n{"id": "b", "answers": ["x"]}\n')
    with pytest.raises(InputFileError, match=r"bad.jsonl:2: field 'question'"):
        load_labelled(bad)
    bad.write_text('{"id": "a", "question": "Who?", "answers": "x", "answerable": "yes"}\n')
    with pytest.raises(InputFileError, match=r":1: field 'answerable'"):
        load_labelled(bad)
    bad.write_text("not json\n")
    with pytest.raises(InputFileError, match=r":1: not valid JSON"):
        load_labelled(bad)
