"""Facts found by rules and their wordings: training question, reworded test twin, yes/no, which-of-two."""

from __future__ import annotations

import re

from ragtune.corpus.document import Document
from ragtune.synth.candidates import BOILERPLATE_DOCUMENTS, document_facts, sample_facts
from ragtune.synth.questions import twin_question, wh_draft, which_of_two, yes_no

TEXT = (
    "The Zorvat pump was designed by Ilsa Marrow. Kettering Yard opened in 1931 and holds 12 trams. "
    "The Copper Kettle opens at 7:30 on working days. Meals are covered up to $35 per day. "
    "A Skellet S3 can be placed up to 300 metres from a hub. It weighs 840 grams. "
    "Its chief engineer is Otto Vance. The depot manager is Bryony Hale."
)


def _facts() -> dict[str, object]:
    doc = Document("d", TEXT, {"title": "t"})
    return {f.span: f for f in document_facts(doc)}


def test_rules_find_typed_spans_of_the_sentence() -> None:
    facts = _facts()
    kinds = {span: f.kind for span, f in facts.items()}  # type: ignore[attr-defined]
    assert kinds["1931"] == "year" and kinds["7:30"] == "time" and kinds["$35"] == "money"
    assert kinds["12 trams"] == "count" and kinds["300 metres"] == "quantity" and kinds["Ilsa Marrow"] == "name"
    for f in facts.values():
        assert f.sentence[f.start : f.end] == f.span  # type: ignore[attr-defined]
    # A sentence that starts with a pronoun is about nobody on its own: no question from it.
    assert "840 grams" not in facts and "Otto Vance" not in facts


def test_wh_question_fits_the_answer_kind_and_hides_it() -> None:
    facts = _facts()
    year = wh_draft(facts["1931"])  # type: ignore[arg-type]
    assert year.question == "Kettering Yard opened in which year and holds 12 trams?" and year.answer == "1931"
    count = wh_draft(facts["12 trams"])  # type: ignore[arg-type]
    assert "how many trams" in count.question and count.answer == "12"
    person = wh_draft(facts["Ilsa Marrow"])  # type: ignore[arg-type]
    assert person.question == "The Zorvat pump was designed by whom?"
    assert person.twin == "By whom was the Zorvat pump designed?"


def test_twin_is_worded_differently() -> None:
    for f in _facts().values():
        d = wh_draft(f)  # type: ignore[arg-type]
        assert d.twin != d.question and d.twin.endswith("?")
        assert twin_question(f) == d.twin  # type: ignore[arg-type]
    manager = wh_draft(_facts()["Bryony Hale"])  # type: ignore[arg-type]
    assert (manager.question, manager.twin) == ("The depot manager is who?", "Who is the depot manager?")
    # Fronting would leave "up to" hanging ("How many metres can a Skellet S3 be placed up to from a hub?").
    metres = wh_draft(_facts()["300 metres"])  # type: ignore[arg-type]
    assert (
        metres.twin == "According to the documents, a Skellet S3 can be placed up to what number of metres from a hub?"
    )


def test_yes_no_and_which_of_two() -> None:
    facts = _facts()
    yes = yes_no(facts["$35"])  # type: ignore[arg-type]
    assert yes.question == "Are meals covered up to $35 per day?" and yes.answer == "yes"
    no = yes_no(facts["$35"], wrong="$50")  # type: ignore[arg-type]
    assert "$50" in no.question and no.answer == "no"
    choice = which_of_two(facts["7:30"], "9:15", swap=False)  # type: ignore[arg-type]
    assert choice.question.endswith(", 7:30 or 9:15?") and choice.answer == "7:30"
    assert choice.twin.endswith(", 9:15 or 7:30?")


def _variant(i: int) -> str:
    """TEXT with every sentence changed (its numbers shifted, its names suffixed), so that no sentence repeats."""
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + i), TEXT)
    for name in ("Zorvat", "Bryony"):
        text = text.replace(name, f"{name}{i}")
    return text


def test_sampling_is_seeded_and_visits_documents_in_turn() -> None:
    docs = [Document(f"d{i}", _variant(i), {}) for i in range(3)]
    first = sample_facts(docs, seed=1)
    assert first == sample_facts(docs, seed=1) and first != sample_facts(docs, seed=2)
    assert {f.doc_id for f in first[:3]} == {"d0", "d1", "d2"}


def test_a_sentence_every_document_repeats_is_not_asked_about() -> None:
    # The disclaimer each of 20 NTSB reports ends with gave most of the facts found in them: a template's, not one
    # report's. Said in two documents a sentence is still asked about; in three (BOILERPLATE_DOCUMENTS) it is not.
    footer = " Dockets released prior to June 1, 2009 are publicly available from the Record Management Division."
    for n, asked in ((2, True), (BOILERPLATE_DOCUMENTS, False)):
        docs = [Document(f"d{i}", _variant(i) + footer, {}) for i in range(n)]
        spans = {f.span for f in sample_facts(docs, seed=0)}
        assert ("June 1, 2009" in spans) is asked
        assert {"Ilsa Marrow", "$36"} <= spans  # the rest of each document is still asked about


def test_an_apposition_after_the_subject_is_left_out_of_the_question() -> None:
    text = "Adela Fenwright, co-founder, chairs the board. Kettering Yard, the old depot, opened in 1931."
    facts = {f.span: f for f in document_facts(Document("d", text, {"title": "t"}))}
    chair = wh_draft(facts["Adela Fenwright"])
    assert (chair.question, chair.answer) == ("Who chairs the board?", "Adela Fenwright")
    assert chair.twin == "According to the documents, which person chairs the board?"
    assert yes_no(facts["Adela Fenwright"]).question == "Is it true that Adela Fenwright chairs the board?"
    # Only after the subject: a question about a later span keeps the sentence's apposition as it stands.
    assert wh_draft(facts["1931"]).question == "Kettering Yard, the old depot, opened in which year?"


def test_a_place_name_before_its_noun_is_no_person_and_one_unit_is_asked_in_the_plural() -> None:
    text = (
        "By train, Marrowgate Central station is the nearest stop. The fastest interval is 1 second. "
        "The pump weighs 1 kg."
    )
    facts = {f.span: f for f in document_facts(Document("d", text, {"title": "t"}))}
    assert wh_draft(facts["Marrowgate Central"]).question == "By train, what station is the nearest stop?"
    assert wh_draft(facts["1 second"]).question == "The fastest interval is how many seconds?"
    # An abbreviation is no word to put in the plural.
    assert "how many kg" in wh_draft(facts["1 kg"]).question
