"""Facts of forms (`ragtune.synth.fields`) on lines of real NTSB reports (../shared/data/real-pdfs/ntsb)."""

from __future__ import annotations

from pathlib import Path

from ragtune.config import Config, SynthConfig
from ragtune.corpus.document import Document
from ragtune.corpus.loaders import load_paths
from ragtune.synth import fields as FL
from ragtune.synth import wellformed as W
from ragtune.synth.synthesize import synthesize

# Lines as pypdfium2 reads them from three reports: two columns of the form run into one line.
REPORTS = {
    "20080102X00005": """Location: Belen, NM Accident Number: DEN08CA034
Aircraft: Godwin, David P Sorrell SNJ-7 Aircraft Damage: Substantial
Registered Owner: ABQ New Mexico Adventure
Tours
Rated Power: 180 hp
Operator: David w. Shuckhart Operating Certificate(s)
Held:
Wind Speed/Gusts: / Turbulence Type
Wind Direction: Turbulence Severity
Airport: Alexander Municipal Airport (E80) Runway Surface Type: Asphalt
Crew Injuries: 1 None Aircraft Damage: Substantial""",
    "20080109X00035": """Location: Latrobe, PA Accident Number: NYC08CA048
Aircraft: Vans Aircraft RV-8 Aircraft Damage: Substantial
Registered Owner: On file Rated Power: 160
Operator: On file Operating Certificate(s)
Held:
Wind Speed/Gusts: 4 knots / Turbulence Type
Wind Direction: 10° Turbulence Severity
Airport: Arnold Palmer Regional Airport
Crew Injuries: 1 Serious Aircraft Damage: Substantial""",
    "20080115X00053": """Location: Elyria, OH Accident Number: CHI08CA048
Aircraft: Smith, Ted Aerostar Aerostar 601 Aircraft Damage: Substantial
Registered Owner: On file Rated Power: 290 hp
Operator: On file Operating Certificate(s)
Held:
Wind Speed/Gusts: 5 knots / Turbulence Type
Wind Direction: 190° Turbulence Severity
Airport: Lorain County Regional (LPR) Runway Surface Type:
Crew Injuries: 1 None Aircraft Damage: Substantial""",
}


def _docs(titled: bool = True) -> list[Document]:
    return [Document(f"{t}.pdf", text, {"title": t} if titled else {}) for t, text in REPORTS.items()]


def _entries(doc_facts: list[FL.Fact]) -> dict[str, str]:
    return {f.label: f.answer for f in doc_facts}


def test_labels_the_reports_share_split_two_columns_run_into_one_line() -> None:
    den, nyc, chi = (_entries(facts) for facts in FL.form_facts(_docs()))
    assert den["Location"] == "Belen, NM" and den["Accident Number"] == "DEN08CA034"
    assert den["Aircraft"] == "Godwin, David P Sorrell SNJ-7"  # "Aircraft Damage" starts the next field
    assert nyc["Rated Power"] == "160" and chi["Rated Power"] == "290 hp"  # after "Registered Owner: On file"
    assert nyc["Airport"] == "Arnold Palmer Regional Airport"


def test_what_the_template_ran_onto_a_value_is_cut_and_empty_fields_are_not_asked() -> None:
    den, nyc, chi = (_entries(facts) for facts in FL.form_facts(_docs()))
    # "Turbulence Severity" ends every report's wind direction and stands alone where the field is empty.
    assert nyc["Wind Direction"] == "10°" and chi["Wind Direction"] == "190°" and "Wind Direction" not in den
    assert nyc["Wind Speed/Gusts"] == "4 knots" and "Wind Speed/Gusts" not in den  # "/ Turbulence Type"
    # A value the reports enter alike is the form's common case: "Substantial".
    assert not any("Aircraft Damage" in e for e in (den, nyc, chi))
    # A value that runs on into the next line ("ABQ New Mexico Adventure / Tours") or holds a label only two
    # reports write ("Runway Surface Type:") is not asked: where it ends is unknown.
    assert "Registered Owner" not in den and "Airport" not in den and "Airport" not in chi


def test_each_field_is_a_span_of_its_line() -> None:
    for facts in FL.form_facts(_docs()):
        for f in facts:
            assert f.kind == "field" and f.sentence[f.start : f.end] == f.answer and f.sentence in REPORTS[f.title]


def test_one_document_or_an_untitled_one_gives_no_fields() -> None:
    one = [*_docs()[:1], Document("a.md", "Note: the pump runs at night.", {"title": "a"})]
    assert FL.form_facts(one) == [[], []]  # a label two documents write is no form's
    assert FL.form_facts(_docs(titled=False)) == [[], [], []]  # nothing to ask it within


def test_a_field_is_asked_by_its_label_within_its_document() -> None:
    facts = {f.label: f for f in FL.form_facts(_docs())[2]}
    draft = FL.field_draft(facts["Rated Power"])
    assert draft.question == "In “20080115X00053”, what is listed under Rated Power?"
    assert draft.twin == "What does “20080115X00053” list under Rated Power?"
    assert draft.answer == "290 hp" and draft.anchor == "20080115X00053" and W.problem(draft) == ""


def test_synthesis_asks_fields_beside_sentences() -> None:
    config = SynthConfig(count=12, yes_no_share=0.0, choice_share=0.0, unanswerable_share=0.0)
    result = synthesize(_docs(), config, None)
    asked = {(q.question, q.answer) for q in result.questions if q.split == "train"}
    assert ("In “20080109X00035”, what is listed under Accident Number?", "NYC08CA048") in asked
    assert all(q.question.startswith(("In “", "What does “")) for q in result.questions)


def test_twenty_reports_give_fields_under_labels_they_share(shared_data: Path) -> None:
    docs = load_paths([shared_data / "real-pdfs" / "ntsb"], Config().corpus).documents
    found = FL.form_facts(docs)
    labels = FL.shared_labels(docs)
    facts = [f for doc_facts in found for f in doc_facts]
    assert len(facts) >= 400 and all(len(doc_facts) >= 5 for doc_facts in found)
    assert all(labels[f.label] >= FL.FORM_DOCUMENTS and f.sentence[f.start : f.end] == f.answer for f in facts)
    assert {"Accident Number", "Investigator In Charge (IIC)", "Runway Surface Type"} <= {f.label for f in facts}
    # What many reports enter alike is not asked; "Operating Certificate(s)", the next label's first line, is cut.
    assert not {"Substantial", "On file", "Airplane"} & {f.answer for f in facts}
    den = {f.label: f.answer for f in found[[d.title for d in docs].index("20080102X00005")]}
    assert den["Operator"] == "David w. Shuckhart"
