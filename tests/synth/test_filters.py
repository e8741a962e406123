"""Each filter can fail: answer not a span, answer in the question, near-duplicates, the round trip."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ragtune.corpus.document import Document
from ragtune.synth import filters as F
from ragtune.synth.candidates import document_facts
from ragtune.synth.questions import wh_draft, which_of_two, yes_no

TEXT = "Kettering Yard opened in 1931 and holds 12 trams. The Zorvat pump was designed by Ilsa Marrow."


def _drafts() -> dict[str, F.Draft]:
    return {f.span: wh_draft(f) for f in document_facts(Document("d", TEXT))}


def test_answer_must_be_a_span_of_the_evidence() -> None:
    d = _drafts()["1931"]
    assert F.answer_is_span(d)
    assert not F.answer_is_span(replace(d, answer="1932"))
    assert F.answer_is_span(yes_no(d.fact)) and not F.answer_is_span(replace(yes_no(d.fact), answer="maybe"))


def test_question_may_not_contain_the_answer() -> None:
    d = _drafts()["1931"]
    assert F.answer_not_in_question(d)
    assert not F.answer_not_in_question(replace(d, twin="Kettering Yard opened in 1931, right?"))
    # "4" inside "14" is not the answer written out.
    assert F.answer_not_in_question(replace(d, answer="4", twin="Which of the 14 years?"))
    # A which-of-two question offers its answer by design; elsewhere it may not show it.
    choice = which_of_two(d.fact, "1950", swap=True)
    assert F.answer_not_in_question(choice)
    assert not F.answer_not_in_question(replace(choice, question="In 1931 it opened; 1931 or 1950?"))


def test_question_must_be_about_its_evidence() -> None:
    d = _drafts()["1931"]
    assert F.grounded(d)
    assert not F.grounded(replace(d, twin="The Zorvath bridge was opened by which engineer?"))


def test_near_duplicates_are_dropped() -> None:
    drafts = _drafts()
    d = drafts["1931"]
    same_fact = replace(d, question="Which year saw Kettering Yard open?")
    near = replace(drafts["Ilsa Marrow"], question="Kettering Yard opened in which year and holds 12 trams?!")
    kept = F.drop_near_duplicates([d, same_fact, near, drafts["12 trams"]], threshold=0.8)
    assert kept == [d, drafts["12 trams"]]
    assert F.drop_near_duplicates([drafts["12 trams"]], 0.8, kept=[drafts["12 trams"]]) == []


@pytest.mark.slow
def test_round_trip_with_the_real_generator(generator: Any) -> None:
    drafts = _drafts()
    good = drafts["Ilsa Marrow"]
    wrong = replace(drafts["1931"], answer="Otto Vance")  # the sentence cannot give this back
    assert F.round_trip([good, wrong], generator) == [True, False]


@pytest.mark.parametrize(
    ("sentence", "usable"),
    [
        ("Let's say your computer has 4 cores and you run 4 processes.", False),  # threadpoolctl's README
        ('Let us denote the "clinically diagnosed cases" as Qj in the model.', False),  # COVID-QA
        ("Thank you for choosing the Brindle SP-7 weather station.", False),  # the bundled sample
        ("Thanks to the specificity of gastric juice, we screened for gastric cancer.", True),  # SciFact, a cause
        ("The Skellet S3 weighs 840 grams without the mounting bracket.", True),
    ],
)
def test_suppositions_and_courtesies_state_no_fact(sentence: str, usable: bool) -> None:
    from ragtune.synth.candidates import usable_sentence

    assert usable_sentence(sentence, max_words=40) is usable
