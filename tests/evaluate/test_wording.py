"""Where the questions come from and how close the test wordings are: the split of accuracy by closeness to the
training questions, the advisor's reason when a lead comes from near-repeats, results.json and the report."""

from __future__ import annotations

from types import SimpleNamespace

from ragtune.evaluate.advisor import wording_reason
from ragtune.evaluate.questions import Question
from ragtune.evaluate.report_data import wording_lines
from ragtune.evaluate.results import DataSummary, QuestionCounts
from ragtune.evaluate.wording import WordingSplit, wording_split

TRAIN = [Question("t1", "Kettering Yard opened in which year?", ("1931",), "train")]
NEAR = Question("q1", "In which year was Kettering Yard opened?", ("1931",), "test")  # every content word repeated
FAR = Question("q2", "When did the tram depot start operating?", ("1931",), "test")  # none of them


def test_test_questions_are_split_by_their_nearest_training_question() -> None:
    correct = {"finetune": {"q1": True, "q2": False}, "rag": {"q1": True, "q2": True}}
    split = wording_split(TRAIN, [NEAR, FAR], correct)
    assert split is not None and (split.close, split.far) == (1, 1)
    assert split.accuracy_close == {"finetune": 1.0, "rag": 1.0}
    assert split.accuracy_far == {"finetune": 0.0, "rag": 1.0}
    assert split.mean_overlap == 0.5
    assert wording_split([], [NEAR], correct) is None  # nothing to be close to


def test_the_advisor_says_when_finetune_leads_on_near_repeats_only() -> None:
    gap = WordingSplit(0.8, 20, 10, {"finetune": 0.9, "rag": 0.7}, {"finetune": 0.3, "rag": 0.6})
    reason = wording_reason(gap)
    assert "worded like its training questions" in reason and "0.90" in reason and "0.30" in reason
    even = WordingSplit(0.8, 20, 10, {"finetune": 0.6, "rag": 0.7}, {"finetune": 0.55, "rag": 0.6})
    assert wording_reason(even) == ""
    # Nearly every test question a near-repeat and finetune ahead on them: its lead is recall of near-repeats.
    repeats = WordingSplit(0.95, 70, 2, {"finetune": 0.93, "rag": 0.83}, {"finetune": 0.5, "rag": 0.5})
    assert "near-repeats" in wording_reason(repeats)
    assert wording_reason(WordingSplit(0.95, 70, 2, {"finetune": 0.5, "rag": 0.83}, {})) == ""
    assert wording_reason(None) == ""


def test_results_json_and_the_report_say_where_the_questions_come_from() -> None:
    synth = {"wording": {"evidence_overlap_test": 0.91, "evidence_overlap_train": 0.97,
                         "evidence_overlap_people": [0.35, 0.6]}}  # fmt: skip
    split = WordingSplit(0.93, 70, 5, {"finetune": 0.93}, {"finetune": 0.4}).to_json()
    counts = QuestionCounts("questions.synth.jsonl", 75, 80, 75, 5, 0)
    data = DataSummary("x", "docs", 45, counts, "given", synth, split, "synthesized")
    out = data.to_json()
    assert out["question_source"] == "synthesized" and out["wording"]["close"] == 70
    text = "\n".join(wording_lines(data))
    assert "Questions: synthesized from the documents." in text
    assert "repeats 91% of its evidence sentence's content words" in text and "35%-60%" in text
    assert "finetune 0.93 / 0.40" in text
    given = DataSummary("x", "docs", 45, counts, "given", None, None, "given")
    assert wording_lines(given)[0] == "Questions: given (questions.synth.jsonl)."
    # A file written before any of this reads back without it.
    old = DataSummary("x", "docs", 45, counts, "given")
    assert "question_source" not in old.to_json() and wording_lines(SimpleNamespace(**vars(old))) == []


def test_a_comparison_from_documents_stops_when_the_rules_wrote_too_few_questions() -> None:
    from ragtune.evaluate.wording import too_few_synthesized

    summary = {"facts": 1, "drafted": 112, "dropped": {"near-duplicate": 49, "round trip failed": 8, "x": 1}}
    assert too_few_synthesized(1, summary, asked=40)
    assert not too_few_synthesized(12, summary | {"facts": 12}, asked=100)  # enough to measure something
    assert not too_few_synthesized(6, summary | {"facts": 6}, asked=8)  # few asked for, most written
    message = too_few_synthesized(1, summary, asked=40)
    assert "only 1 answerable test question(s)" in message and "1 facts kept of 112 drafted" in message
    assert "near-duplicate (49), round trip failed (8), x (1)" in message
    assert "--questions qa.jsonl" in message and "--synth-model" in message
