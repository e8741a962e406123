"""The synth benchmark's measure of how much a question repeats its evidence sentence."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bench_synth import evidence_overlap, human_overlaps

SENTENCE = "The support team of 14 people works from Lantern House in Marrowgate."


def test_a_rearranged_sentence_overlaps_fully_and_a_reworded_one_less() -> None:
    copied = "According to the documents, the support team of how many people works from Lantern House in Marrowgate?"
    reworded = "How large is the staff answering customers at the Marrowgate office?"
    assert evidence_overlap(copied, SENTENCE, "14") == 1.0
    assert evidence_overlap(reworded, SENTENCE, "14") == 1 / 6  # only "marrowgate" of six content words is said
    # The answer's words and function words never count; a question of nothing else has no overlap to measure.
    assert evidence_overlap("What is 14?", SENTENCE, "14") is None


def test_human_questions_are_measured_against_the_sentence_holding_the_answer(tmp_path: Path) -> None:
    context = "Quorrin was founded in 2009. " + SENTENCE
    qas = [
        {"question": "How many people work in support?", "answers": [{"text": "14", "answer_start": 49}]},
        {"question": "When was Quorrin founded?", "answers": [{"text": "2009", "answer_start": 23}]},
        {"question": "Who is the mayor?", "answers": []},  # unanswerable: not measured
    ]
    path = tmp_path / "squad.json"
    path.write_text(json.dumps({"data": [{"paragraphs": [{"context": context, "qas": qas}]}]}), encoding="utf-8")
    assert context[49:51] == "14"
    # "people" and "support" are in the second sentence, "work" is not (it says "works"); "quorrin" and "founded"
    # are both in the first.
    assert human_overlaps(path) == [2 / 3, 1.0]
