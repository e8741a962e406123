"""Citations: parsing `[n]`, sentence splitting, and the fallback that attributes uncited sentences by measured
support (real embedder: support is measured with the model the product uses)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ragtune.calibration import default_calibration
from ragtune.citations import attribute, claim_text, parse_citations, support_features
from ragtune.text import content_terms, split_sentences


def test_parse_citations_strips_markers_and_keeps_numbers_in_order() -> None:
    assert parse_citations("Paris [2].") == ("Paris.", (2,))
    assert parse_citations("It opened in 1904 [1][3] and closed [1, 2].") == (
        "It opened in 1904 and closed.",
        (1, 3, 2),
    )
    assert parse_citations("No citation here") == ("No citation here", ())


def test_split_sentences_keeps_abbreviations_and_numbers_and_splits_headings() -> None:
    text = "# Bridges\nThe U.S. span is 3.5 km long. It opened in 1904!\n\nA new paragraph starts here."
    assert split_sentences(text) == [
        "Bridges",
        "The U.S. span is 3.5 km long.",
        "It opened in 1904!",
        "A new paragraph starts here.",
    ]
    # A line wrapped inside a sentence (as PDF text is) stays one sentence.
    assert split_sentences("The bridge was painted green\nin the spring of 1990.") == [
        "The bridge was painted green in the spring of 1990."
    ]


def test_split_sentences_keeps_list_items_and_table_rows_apart() -> None:
    # Joined, a list is one run-on "sentence" too long to show and matched to a question by its average.
    text = (
        "## At a glance\n\n- Launched: March 2024\n- Housing colour: slate grey\n- Weight: 840 grams without\n"
        "the bracket\n1. Unpack it.\n2. Mount it\n\n| Measurement | Range |\n|---|:--:|\n| Wind speed | 0 to 60 m/s |\n"
        "Sales of every product we make grew strongly in\n2025. They fell in 2026."
    )
    assert split_sentences(text) == [
        "At a glance",
        "- Launched: March 2024",
        "- Housing colour: slate grey",
        "- Weight: 840 grams without the bracket",  # a wrapped item stays whole
        "1. Unpack it.",
        "2. Mount it",
        "Measurement | Range",
        "Wind speed | 0 to 60 m/s",
        "Sales of every product we make grew strongly in 2025.",  # a year at a line's start is not a numbered item
        "They fell in 2026.",
    ]


def test_split_sentences_keeps_a_form_field_out_of_the_narrative_after_it() -> None:
    # The first page of NTSB report 20080108X00029 (../shared/data/real-pdfs) as its text layer gives it: one field
    # per line, no end punctuation. Joined as wrapped text, the fields ran into the narrative's first sentence.
    text = (
        "Location: Arteaga, Mexico Accident Number: DFW08WA043\n"
        "Aircraft: Cessna 210 Aircraft Damage: Destroyed\n"
        "Flight Conducted Under: Non-U.S., Non-Commercial\n"
        "On December 6, 2007, at 1308 central standard time, a Cessna 210, XB-GTS, serial number \n"
        "21057478, was destroyed upon impact with mountainous terrain.\n"
        "Investigation Docket: NTSB accident and incident dockets serve as permanent archival information for the\n"
        "investigations.\n"
        "Quorrin Instruments Annual Report 2025: Summary\n"
        "Markets\n"
        "Farms remain our largest customer group."
    )
    assert split_sentences(text) == [
        "Location: Arteaga, Mexico Accident Number: DFW08WA043",
        "Aircraft: Cessna 210 Aircraft Damage: Destroyed",
        "Flight Conducted Under: Non-U.S., Non-Commercial",
        "On December 6, 2007, at 1308 central standard time, a Cessna 210, XB-GTS, serial number 21057478, was "
        "destroyed upon impact with mountainous terrain.",
        # a value wrapped onto a line in lower case stays with its field
        "Investigation Docket: NTSB accident and incident dockets serve as permanent archival information for the "
        "investigations.",
        "Quorrin Instruments Annual Report 2025: Summary",  # the bundled sample's PDF: a heading still follows it
        "Markets",
        "Farms remain our largest customer group.",
    ]


def _features(embedder: Any, sentence: str, question: str, sources: list[str]) -> tuple[list[float], list[float]]:
    claim = embedder.embed_documents([claim_text(sentence, question)])[0]
    terms = [[t for s in split_sentences(src) for t in content_terms(s)] for src in sources]
    vectors = [np.asarray(embedder.embed_documents(split_sentences(src))) for src in sources]
    return support_features(sentence, claim, terms, vectors)


SOURCES = [
    "The Oakleaf bakery was founded by Mira Holt in 1988. It closes on Mondays.",
    "The Arden bridge was opened in 1904 by the mayor Tomas Vell. It crosses the Sarn river.",
]


def test_uncited_sentence_is_attributed_to_the_source_that_supports_it(embedder: Any) -> None:
    model = default_calibration().support
    sentence, cited = parse_citations("The Arden bridge was opened by Tomas Vell in 1904.")
    assert cited == ()
    lexical, embedding = _features(embedder, sentence, "Who opened the Arden bridge?", SOURCES)
    result = attribute(sentence, cited, [1, 2], lexical, embedding, model)
    assert result.source_number == 2 and not result.cited
    assert result.support >= model.threshold
    assert result.supports[1] > result.supports[0]


def test_a_citation_to_the_wrong_source_is_corrected(embedder: Any) -> None:
    model = default_calibration().support
    sentence, cited = parse_citations("Mira Holt [2]")
    lexical, embedding = _features(embedder, sentence, "Who founded the Oakleaf bakery?", SOURCES)
    result = attribute(sentence, cited, [1, 2], lexical, embedding, model)
    assert result.source_number == 1 and not result.cited  # [2] does not say it, [1] does
    right = attribute(sentence, (1,), [1, 2], lexical, embedding, model)
    assert right.source_number == 1 and right.cited


def test_a_sentence_no_source_supports_is_marked_unsupported(embedder: Any) -> None:
    model = default_calibration().support
    sentence = "Penguins migrate across the Sahara every winter."
    lexical, embedding = _features(embedder, sentence, "", SOURCES)
    result = attribute(sentence, (), [1, 2], lexical, embedding, model)
    assert result.source_number is None
    assert result.support < model.threshold


@pytest.mark.parametrize("short", ["1904", "Tomas Vell"])
def test_short_answers_are_checked_together_with_their_question(short: str) -> None:
    assert claim_text(short, "Who opened the Arden bridge?").startswith("Who opened the Arden bridge?")
    long = "The Arden bridge was opened by the mayor Tomas Vell."
    assert claim_text(long, "Who opened it?") == long
