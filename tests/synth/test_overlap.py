"""The wording distance: the share of a question's content words found in its evidence or its nearest training
question; a reworded question scores lower than a rearranged one."""

from __future__ import annotations

from ragtune.synth.overlap import evidence_overlap, mean, nearest_overlap

EVIDENCE = "The Zorvat pump was designed by Ilsa Marrow."


def test_a_rearranged_question_repeats_its_evidence_and_a_reworded_one_does_not() -> None:
    assert evidence_overlap("By whom was the Zorvat pump designed?", EVIDENCE, "Ilsa Marrow") == 1.0
    assert evidence_overlap("Who is the engineer behind the Zorvat pump?", EVIDENCE, "Ilsa Marrow") == 0.5
    assert evidence_overlap("Who?", EVIDENCE) is None  # nothing asked but function words


def test_the_document_title_a_question_leads_with_counts_neither_way() -> None:
    # A title names where to look, it rewords nothing: "In “pumps-2024”, ..." repeats its evidence as much as the
    # question without it (synthesized questions lead with it where their subject only describes).
    for lead in ("In “Pumps and valves 2024”, by", "According to “Pumps and valves 2024”, by"):
        assert evidence_overlap(f"{lead} whom was the Zorvat pump designed?", EVIDENCE, "Ilsa Marrow") == 1.0
    assert evidence_overlap("Does “Pumps 2024” say that the pump was designed by Ilsa Marrow?", EVIDENCE) == 1.0


def test_nearest_training_question_and_the_mean() -> None:
    train = ["The Zorvat pump was designed by whom?", "Kettering Yard opened in which year?"]
    assert nearest_overlap("By whom was the Zorvat pump designed?", train) == 1.0
    assert nearest_overlap("Which engineer drew up the pump?", train) == 0.25
    assert nearest_overlap("Anything?", []) is None
    assert mean([0.5, None, 1.0]) == 0.75 and mean([None]) is None


def test_the_synthesis_summary_reports_the_wording_distance() -> None:
    from ragtune.synth.synthesize import SynthQuestion, SynthResult, SynthStats

    train = SynthQuestion(
        "s1-train", "The Zorvat pump was designed by whom?", "Ilsa Marrow", "train", evidence=EVIDENCE
    )
    test = SynthQuestion(
        "s1-test", "Who is the engineer behind the Zorvat pump?", "Ilsa Marrow", "test", evidence=EVIDENCE
    )
    stats = SynthStats(1, 1, {}, 1, 0, 0, "rules", 0.0)
    wording = SynthResult((train, test), stats).summary()["wording"]
    assert wording["evidence_overlap_test"] == 0.5 and wording["evidence_overlap_train"] == 1.0
    assert wording["nearest_train_overlap_test"] == 0.5 and wording["evidence_overlap_people"] == [0.35, 0.6]
