"""Test twins worded further from their evidence with the meaning kept (issue #29, part 2), on real documents of
../shared/data (HotpotQA's Wikipedia paragraphs, COVID-QA articles, SciFact abstracts): for each lever, a twin it
rewords and one it leaves alone because the rewording would lose or change the meaning."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ragtune.corpus.document import Document
from ragtune.synth.candidates import Fact, document_facts
from ragtune.synth.questions import Draft, did_fronted, wh_draft, yes_no
from ragtune.synth.reword import document_mentions, long_form, reword_twin
from ragtune.synth.verbs import base_form


@cache
def _hotpot(shared: Path) -> dict[str, str]:
    paragraphs: dict[str, str] = {}
    for line in (shared / "hotpotqa-dev52" / "hotpot_dev_distractor_52.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        for title, sentences in zip(record["context"]["title"], record["context"]["sentences"], strict=True):
            paragraphs.setdefault(title, "".join(sentences))
    return paragraphs


def hotpot(shared: Path, title: str) -> Document:
    return Document(title, _hotpot(shared)[title], {"title": title})


def covid(shared: Path, article: int) -> Document:
    """Article `article` of COVID-QA, as the reading's corpus (its first 12 articles) has it."""
    data = json.loads((shared / "covidqa" / "200423_covidQA.json").read_text("utf-8"))["data"]
    return Document(f"covid-{article}", data[article]["paragraphs"][0]["context"], {"title": ""})


def scifact(shared: Path, doc_id: str) -> Document:
    for line in (shared / "scifact" / "corpus.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        if record["_id"] == doc_id:
            return Document(doc_id, record["text"], {"title": record["title"]})
    raise AssertionError(f"SciFact abstract {doc_id} not found")


def fact(doc: Document, sentence_part: str, span: str) -> Fact:
    return next(f for f in document_facts(doc) if sentence_part in f.sentence and f.span == span)


def reworded(doc: Document, draft: Draft) -> str:
    return reword_twin(draft, document_mentions(doc)).twin


# ------------------------------------------------------------------------------------ another mention


def test_an_abbreviation_the_document_defines_is_written_out(shared_data: Path) -> None:
    doc = covid(shared_data, 6)  # "... abnormal chest X-ray (CXRAY) ..."
    draft = wh_draft(fact(doc, "examined by CXRAY", "54,279 participants"))
    assert "CXRAY" in draft.twin
    twin = reworded(doc, draft)
    assert twin == (
        "According to the documents, what number of participants attended clinical consultation and were examined "
        "by chest X-ray?"
    )


def test_an_abbreviation_whose_long_form_is_unclear_is_left_alone(shared_data: Path) -> None:
    # "eastern equine encephalitis virus (EEEV)": the letters also match from "equine", so where the long form
    # starts is not clear; the twin keeps "EEEV" rather than name another virus.
    doc = covid(shared_data, 5)
    assert long_form("tick-borne encephalitis virus(TBEV), and eastern equine encephalitis virus", "EEEV") == ""
    assert "EEEV" not in dict(document_mentions(doc).abbreviations)
    draft = yes_no(fact(doc, "The culture of TBEV and EEEV", "JEV"))
    assert "EEEV" in reworded(doc, draft)


def test_a_surname_used_alone_is_given_the_full_name(shared_data: Path) -> None:
    doc = hotpot(shared_data, "Jim Lentz")
    draft = wh_draft(fact(doc, "Lentz also serves as the chairman", "North American Executive Committee"))
    assert draft.twin == "According to the documents, Lentz also serves as the chairman of what?"
    assert reworded(doc, draft) == "According to the documents, Jim Lentz also serves as the chairman of what?"


def test_a_place_is_not_taken_for_a_full_name(shared_data: Path) -> None:
    # "the prevalence survey conducted in Shandong China": "Shandong China" is a place, not China's full name.
    doc = covid(shared_data, 6)
    assert "China" not in dict(document_mentions(doc).full_names)
    draft = wh_draft(fact(doc, "average rate of China", "2000"))
    assert "rate of China" in reworded(doc, draft)


# ------------------------------------------------------------------------------------------ asides


def test_an_aside_after_the_asked_value_is_left_out(shared_data: Path) -> None:
    doc = hotpot(shared_data, "SavaCentre")
    draft = wh_draft(fact(doc, "SavaCentre was a chain of", "13 hypermarkets"))
    assert draft.twin.endswith("owned and operated jointly by Sainsbury's and BHS, beginning in 1977?")
    assert reworded(doc, draft).endswith("owned and operated jointly by Sainsbury's and BHS?")


def test_a_list_of_verbs_is_not_taken_for_an_aside(shared_data: Path) -> None:
    # "who was bred, owned and exhibited by Nagle": cutting at ", owned" would leave "who was bred?".
    doc = hotpot(shared_data, "Florence Nagle")
    draft = wh_draft(fact(doc, "Best in Show at Crufts", "1960"))
    twin = reworded(doc, draft)
    assert twin.endswith("who was bred, owned and exhibited by Florence Nagle?")


# ------------------------------------------------------------------------------------- "did" fronting


def test_a_past_tense_clause_is_asked_with_did(shared_data: Path) -> None:
    doc = hotpot(shared_data, "Madonna (book)")
    draft = wh_draft(fact(doc, "Morton decided to write a biography", "2000"))
    assert draft.twin == "According to the documents, Morton decided to write a biography on Madonna in what year?"
    assert did_fronted(draft.fact) == "In which year did Morton decide to write a biography on Madonna?"
    # and the surname is given the full name the paragraph writes ("English author Andrew Morton")
    assert reworded(doc, draft) == "In which year did Andrew Morton decide to write a biography on Madonna?"


def test_a_value_inside_a_noun_phrase_is_not_fronted(shared_data: Path) -> None:
    # "varied from 45% of cyclists ...": "From what percentage did frequency of active asthma vary of cyclists" is no
    # English; the twin stays as drafted.
    doc = scifact(shared_data, "641459")
    draft = wh_draft(fact(doc, "Frequency of active asthma varied", "45%"))
    assert did_fronted(draft.fact) == ""
    assert reworded(doc, draft) == draft.twin


def test_a_base_form_only_where_the_spelling_makes_it_clear() -> None:
    assert [base_form(w) for w in ("merged", "founded", "studied", "stopped", "treated", "created", "won")] == [
        "merge", "found", "study", "stop", "treat", "create", "win",
    ]  # fmt: skip
    # "visited"/"united", "developed"/"hoped", "called"/"controlled", "focused"/"caused": not clear, not asked so
    assert [base_form(w) for w in ("visited", "developed", "called", "focused", "cells")] == [None] * 5
