"""How an answer becomes a metrics record: support and citations as the calibrated support model judged them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ragtune.evaluate.questions import Question
from ragtune.evaluate.scoring import answer_record, score_answers
from ragtune.rag import Answer, SentenceSupport, Source

SOURCE = Source(1, "gauge.md", "Gauge", "gauge.md#0", 0.9, "Housing colour: forest green.", excerpt="forest green")


def _answer(text: str, sentence: SentenceSupport, citations: tuple[int, ...]) -> Answer:
    return Answer("Which colour?", text, False, (SOURCE,), (sentence,), 100, 3, {}, citations=citations)


def test_support_is_the_calibrated_verdict_not_a_fixed_probability() -> None:
    # Copied word for word, attributed to its source; the fitted probability is low (few positive pairs in the
    # calibration data), yet the support model's own threshold says the source backs it.
    kept = _answer("forest green", SentenceSupport("forest green", 1, 0.21, True), (1,))
    # Cited source 1, which does not back it: attribution dropped the citation and found no other source.
    dropped = _answer("bright red", SentenceSupport("bright red", None, 0.02, False), (1,))
    uncited = _answer("green", SentenceSupport("green", 1, 0.3, False), ())
    records = [answer_record(str(i), a) for i, a in enumerate([kept, dropped, uncited])]
    assert [(r.cited, r.cited_supported, r.cited_sentences, r.supported) for r in records] == [
        (True, 1, 1, True),
        (True, 0, 1, False),
        (False, 0, 0, True),
    ]
    questions = [Question(str(i), "Which colour?", ("forest green",)) for i in range(3)]
    scores = score_answers(records, questions, reads_sources=True, embedder=None, resamples=100, seed=0)
    # kept: right and supported; dropped: wrong and unsupported; uncited: "green" holds no gold answer: wrong.
    assert scores.accuracy.value == 1 / 3
    assert scores.hallucination.value == 2 / 3
    assert scores.citation_rate.value == 2 / 3
    assert scores.citation_precision is not None and scores.citation_precision.value == 0.5


def test_records_say_why_an_answer_was_refused() -> None:
    answered = dataclasses.replace(
        _answer("forest green", SentenceSupport("forest green", 1, 0.4, True), (1,)), signals={"answerable": 0.71}
    )
    refused = Answer(
        "Which colour is the lid?",
        "The documents do not say.",
        True,
        (SOURCE,),
        (),
        100,
        0,
        {},
        refusal_reason="unsupported",
        signals={"relevance": 0.3, "answerable": 0.12},
    )
    closed_book_refusal = Answer("Who?", "The documents do not say.", True, (), (), 20, 5, {}, refusal_reason="")
    records = [answer_record(str(i), a) for i, a in enumerate([answered, refused, closed_book_refusal])]
    assert [(r.refusal_reason, r.p_answerable) for r in records] == [
        (None, 0.71),
        ("unsupported", 0.12),
        (None, None),
    ]
    questions = [
        Question("0", "Which colour?", ("forest green",)),
        Question("1", "Which colour is the lid?", ("grey",)),
        Question("2", "Who?", (), answerable=False),
    ]
    scores = score_answers(records, questions, reads_sources=True, embedder=None, resamples=100, seed=0)
    assert scores.answerable_refused == 0.5  # the lid question was answerable: refusing it cost accuracy
    assert scores.refusal_recall == 1.0
    assert scores.refusal_reasons == {"unsupported": 1, "unknown": 1}


def test_unreadable_documents_are_reported_not_silently_dropped(tmp_path: Path) -> None:
    from ragtune.config import Config
    from ragtune.errors import InputFileError
    from ragtune.evaluate.experiment import load_documents

    (tmp_path / "good.md").write_text("# Gauge\n\nThe housing is forest green.", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"\x00\x17 not a pdf")
    warnings: list[str] = []
    docs = load_documents([tmp_path], Config(), warn=warnings.append)
    assert [d.id for d in docs] == ["good.md"]
    assert len(warnings) == 1 and "skipped broken.pdf" in warnings[0]
    (tmp_path / "good.md").unlink()
    with pytest.raises(InputFileError, match="no document could be read: broken.pdf"):
        load_documents([tmp_path], Config())
