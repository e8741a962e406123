"""Changed facts from two versions of a document: aligned sentences, the changed span, its new value."""

from __future__ import annotations

from ragtune.corpus.document import Document
from ragtune.synth.diff import changed_facts, sentence_edits

V1 = (
    "# Brindle\n\nThe Brindle SP-7 takes a reading every 15 minutes. Each probe is 45 centimetres long. "
    "The probe ships from Greyquay in 2024. Support answers within 2 days."
)
V2 = (
    "# Brindle\n\nThe Brindle SP-7 takes a reading every 20 minutes. Each probe is 45 centimetres long. "
    "A new sentence about the colour of the casing was added here. "
    "Our shipping of probes now starts from the new depot in Pennyfold and takes a week longer in 2024. "
    "Support answers within 3 days."
)


def test_changed_values_are_found_with_their_new_value() -> None:
    found = changed_facts([Document("b", V1)], [Document("b", V2)])
    pairs = {(c.fact.answer, c.new_answer) for c in found}
    assert pairs == {("15", "20"), ("2", "3")}
    interval = next(c for c in found if c.fact.answer == "15")
    assert interval.fact.sentence == "The Brindle SP-7 takes a reading every 15 minutes."
    assert interval.new_sentence == "The Brindle SP-7 takes a reading every 20 minutes."


def test_rewritten_or_unchanged_sentences_are_not_changed_facts() -> None:
    edits = sentence_edits(Document("b", V1), Document("b", V2))
    # The shipping sentence was rewritten, not edited in one place: no pair for it.
    assert all("Greyquay" not in e.old for e in edits)
    assert changed_facts([Document("b", V1)], [Document("b", V1)]) == []
    assert changed_facts([Document("b", V1)], [Document("other", V2)]) == []  # matched by document id
