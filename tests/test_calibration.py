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
    can_hold_out,
    default_calibration,
    fit_calibration,
    fit_calibration_held_out,
    load_calibration,
    load_labelled,
    refuses,
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


def test_refuses_is_the_decision_the_fit_counted() -> None:
    records = _records()
    cal = fit_calibration(records, max_false_refusal=0.1)
    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    assert sum(refuses(cal, r) for r in answerable) / len(answerable) == pytest.approx(
        cal.fitted_on["fit_false_refusal"]
    )
    assert sum(refuses(cal, r) for r in unanswerable) / len(unanswerable) == pytest.approx(
        cal.fitted_on["fit_refusal_recall"]
    )
    model_refused = CalibrationRecord(
        True, False, {"relevance": 0.99, "model_refused": 1.0}, (0.9,), (0.9,), (True,), True
    )
    assert refuses(cal, model_refused)


def test_held_out_fit_keeps_the_share_on_questions_it_did_not_fit() -> None:
    records = _records(400, seed=3)
    groups = [(i // 8) % 2 for i in range(len(records))]  # questions come in runs, as they do per passage
    cal = fit_calibration_held_out(records, groups, max_false_refusal=0.15, fitted_on={"file": "q.jsonl"})
    held_out = cal.fitted_on["held_out"]
    tried = held_out["tried"]
    assert cal.fitted_on["file"] == "q.jsonl"
    assert [t["fit_share"] for t in tried] == pytest.approx([k / 100 for k in range(16)])
    # The chosen in-fit share is the largest whose held-out rate keeps within the asked share ...
    within = [t["fit_share"] for t in tried if t["held_out_false_refusal"] <= 0.15]
    assert held_out["fit_share"] == max(within)
    assert held_out["held_out_false_refusal"] <= 0.15
    # ... and the returned calibration is the fit on every question at that share.
    again = fit_calibration(records, max_false_refusal=held_out["fit_share"])
    assert cal.min_answerable == pytest.approx(again.min_answerable)
    assert cal.fitted_on["max_false_refusal"] == held_out["fit_share"]
    # Refusing more answerable questions buys recall: the held-out recall grows with the in-fit share.
    assert tried[-1]["held_out_refusal_recall"] > tried[0]["held_out_refusal_recall"]


def test_held_out_fit_errors_name_what_is_wrong() -> None:
    records = _records()
    with pytest.raises(CalibrationError, match="group labels"):
        fit_calibration_held_out(records, [0, 1], max_false_refusal=0.1)
    with pytest.raises(CalibrationError, match="two groups"):
        fit_calibration_held_out(records, [0] * len(records), max_false_refusal=0.1)
    # Every answerable question in group 0: leaving group 0 out leaves a fit with none.
    groups = [0 if r.answerable else 1 for r in records]
    assert not can_hold_out(records, groups) and not can_hold_out(records, [0] * len(records))
    assert can_hold_out(records, [(i // 8) % 2 for i in range(len(records))])
    with pytest.raises(CalibrationError, match="without group 0.*at least 5 answerable"):
        fit_calibration_held_out(records, groups, max_false_refusal=0.1)


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
    (tmp_path / "binary.json").write_bytes(b"\x80\x81 not text")  # a damaged file was a UnicodeDecodeError
    with pytest.raises(CalibrationError, match="binary.json: not valid JSON .*run `ragtune calibrate` again"):
        load_calibration(tmp_path / "binary.json")
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
