"""Answers shaped by the question's form, with the real default models: a yes/no question opens with Yes or No and
its evidence, a choice question answers with one of its options, and a question that joins two facts is shown
evidence from both documents."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.rag import Answerer
from ragtune.rag.evidence import Evidence
from ragtune.rag.forms import chosen_option, decision, shape
from ragtune.retrieve import Retriever
from ragtune.store import open_store
from ragtune.store.sync import sync_documents
from ragtune.text import QuestionForm

pytestmark = pytest.mark.slow

DOCS = [
    Document(
        "bridges",
        "The Arden bridge in Velmora was opened in 1904 by the mayor Tomas Vell. It crosses the Sarn river and is 240 "
        "metres long. The Copper bridge was built in 1962 and was painted green in 1990.",
        {"title": "Bridges of Velmora"},
    ),
    Document(
        "bakery",
        "The Oakleaf bakery was founded by Mira Holt in 1988. Its best-known bread is a rye sourdough.",
        {"title": "The Oakleaf bakery"},
    ),
    Document(
        "holt",
        "Mira Holt grew up in Keelby, a fishing town on the north coast, before she moved to Velmora in 1980.",
        {"title": "Mira Holt"},
    ),
]


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[Config, Any]]:
    config = Config(workspace=str(tmp_path_factory.mktemp("forms")))
    store = open_store(config, embedder.identity)
    sync_documents(DOCS, store, embedder, config, progress=False)
    yield config, store
    store.close()


def _answerer(config: Config, store: Any, embedder: Any, generator: Any) -> Answerer:
    return Answerer(generator, config, retriever=Retriever(store, embedder, config.retrieval), embedder=embedder)


def test_a_polar_question_opens_with_yes_or_no_then_its_evidence(town: Any, embedder: Any, generator: Any) -> None:
    config, store = town
    answer = _answerer(config, store, embedder, generator).answer("Was the Copper bridge painted green?", refuse=False)
    assert answer.form == "polar"
    decision_word, _, evidence = answer.text.partition(": ")
    assert decision_word in ("Yes", "No"), answer.text
    shown = " ".join(s.excerpt for s in answer.sources)
    assert evidence.rstrip(".") in shown  # the evidence is a sentence the model was shown
    assert answer.citations and answer.sentences[0].source_number is not None


def test_a_choice_question_answers_with_one_of_its_options(town: Any, embedder: Any, generator: Any) -> None:
    config, store = town
    answerer = _answerer(config, store, embedder, generator)
    question = "Which was built first, the Arden bridge or the Copper bridge?"
    answer = answerer.answer(question, refuse=False)
    assert answer.form == "choice"
    assert answer.text in ("the Arden bridge", "the Copper bridge")
    # Closed-book too: the options constrain the base model's answer the same way.
    closed = Answerer(generator, config).answer(question)
    assert closed.form == "choice" and closed.text in ("the Arden bridge", "the Copper bridge")


def test_forms_can_be_switched_off(town: Any, embedder: Any, generator: Any) -> None:
    config, store = town
    config = copy.deepcopy(config)
    config.rag.answer_forms = False
    answer = _answerer(config, store, embedder, generator).answer("Was the Copper bridge painted green?", refuse=False)
    assert answer.form == "open" and not answer.text.startswith(("Yes", "No"))


def test_a_question_joining_two_facts_is_shown_both_documents(town: Any, embedder: Any, generator: Any) -> None:
    """The founder is in the bakery's document, where she grew up in her own: with `rag.min_documents = 2` the
    evidence holds both (the bakery sentence names her: the bridge). The default is 1 (see the QA suite), and then
    only the best document is shown."""
    config, store = town
    config = copy.deepcopy(config)
    config.rag.min_documents = 2
    answer = _answerer(config, store, embedder, generator).answer(
        "In which town did the founder of the Oakleaf bakery grow up?", refuse=False
    )
    shown = {s.doc_id for s in answer.sources if s.excerpt}
    assert {"bakery", "holt"} <= shown, [(s.doc_id, s.excerpt) for s in answer.sources]
    # A second document that does not hold the bridge is not shown to an open question: the bridges' document.
    assert "bridges" not in shown


def test_free_answers_are_mapped_to_the_form() -> None:
    """A remote server cannot constrain decoding: its free answer is mapped afterwards."""
    assert decision("yes, it was painted in 1990") == "Yes" and decision("No.") == "No"
    assert decision("It was painted green") == ""
    assert chosen_option("I think the Copper bridge is older", ("the Arden bridge", "the Copper bridge")) == (
        "the Copper bridge"
    )
    assert chosen_option("Arden", ("the Arden bridge", "the Copper bridge")) == "the Arden bridge"
    assert chosen_option("Neither", ("the Arden bridge", "the Copper bridge")) == ""
    empty = Evidence((), (), (), (2, "It was painted green in 1990."), (), (), 0.0, 0.0)
    assert shape(QuestionForm("polar"), "yes", empty) == ("Yes: It was painted green in 1990.", (2,))
    assert shape(QuestionForm("polar"), "It was green", empty) == ("It was green", ())
