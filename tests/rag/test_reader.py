"""Readers (issue #32): the small model keeps its aids, a capable one loses nothing to them.

The capable reader is driven through a real OpenAI-compatible HTTP server: the scripted reader of the reader-loss
benchmark, which answers right whenever its prompt holds the answer. It measures the pipeline, not a model: what
reaches the user of an answer the server gave.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.scripted_reader import STYLES, ScriptedServer
from ragtune.calibration import DEFAULT_CALIBRATION, save_calibration
from ragtune.config import Config, apply_overrides
from ragtune.corpus.document import Document
from ragtune.models.generator import CopySpec
from ragtune.models.hf import HFGenerator
from ragtune.models.loader import load_generator
from ragtune.prompts import CAPABLE_RAG_SYSTEM, RAG_SYSTEM
from ragtune.rag import Answerer
from ragtune.rag.drafts import refused_in_words
from ragtune.rag.forms import POLAR_REPLIES
from ragtune.rag.reader import choose_reader
from ragtune.retrieve import Retriever
from ragtune.store import open_store
from ragtune.store.sync import sync_documents
from ragtune.workspace import Workspace
from tests.rag.test_answerer import BAKERY, BRIDGES

GOLDS = {
    "Who opened the Arden bridge?": ["Tomas Vell"],
    "Was the Arden bridge opened in 1904?": ["yes"],
    "Which is older, the Arden bridge or the Copper bridge?": ["the Arden bridge"],
    "Who founded the Oakleaf bakery?": ["Mira Holt"],
}


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[Path, Any]]:
    root = tmp_path_factory.mktemp("town")
    store = open_store(Config(workspace=str(root)), embedder.identity)
    docs = [
        Document("bridges", BRIDGES, {"title": "Bridges of Velmora"}),
        Document("bakery", BAKERY, {"title": "The Oakleaf bakery"}),
    ]
    sync_documents(docs, store, embedder, Config(workspace=str(root)), progress=False)
    yield root, store
    store.close()


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer(GOLDS) as server:
        yield server


def _server_config(root: Path, server: ScriptedServer, style: str) -> Config:
    """What a user sets to point ragtune at a server: the backend, the URL and the model; nothing else."""
    sets = {
        "workspace": str(root),
        "models.generator_backend": "openai",
        "models.openai_base_url": server.base_url,
        "models.openai_model": style,
    }
    return apply_overrides(Config(), sets, "test")


def _answerer(config: Config, store: Any, embedder: Any, generator: Any) -> Answerer:
    return Answerer(generator, config, retriever=Retriever(store, embedder, config.retrieval), embedder=embedder)


def test_auto_gives_the_default_model_the_small_reader_and_a_server_the_capable_one(
    generator: Any, scripted: ScriptedServer
) -> None:
    config = Config()
    assert choose_reader(config, generator).kind == "small"
    server = load_generator(_server_config(Path("."), scripted, "terse").models)
    assert choose_reader(config, server).kind == "capable"
    # A local model that is not the embedded default is sized by its parameters (SmolLM2-135M's weights, renamed).
    local = HFGenerator(generator.model, generator.tokenizer, name="my-local-model")
    assert local.parameters is not None and 100e6 < local.parameters < 200e6
    assert choose_reader(config, local).kind == "small"
    small_limit = apply_overrides(Config(), {"rag.small_reader_max_params": "100000000"}, "test")
    assert choose_reader(small_limit, local).kind == "capable"
    # The setting decides when it names a reader.
    assert choose_reader(apply_overrides(Config(), {"rag.reader": "capable"}, "test"), generator).kind == "capable"
    assert choose_reader(apply_overrides(Config(), {"rag.reader": "small"}, "test"), server).kind == "small"


def test_the_small_readers_path_is_unchanged(town: Any, embedder: Any, generator: Any) -> None:
    root, store = town
    config = Config(workspace=str(root))
    answerer = _answerer(config, store, embedder, generator)
    assert answerer.reader.kind == "small"
    assert answerer.config is config  # every rag.* setting as given: nothing is swapped for the small reader
    assert answerer.params().max_new_tokens == config.rag.answer_tokens
    messages = answerer.prompt("Who opened the Arden bridge?")
    assert messages[0].content == RAG_SYSTEM and len(messages) == 4  # instructions, the worked example, question
    answer = answerer.answer("Who opened the Arden bridge?")
    assert answer.reader == "small" and "Tomas Vell" in answer.text and answer.to_json()["reader"] == "small"


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_capable_readers_whole_answer_survives_with_its_citations(
    town: Any, embedder: Any, scripted: ScriptedServer, style: str
) -> None:
    root, store = town
    config = _server_config(root, scripted, style)
    generator = load_generator(config.models)
    answerer = _answerer(config, store, embedder, generator)
    assert answerer.reader.kind == "capable"
    assert answerer.params().max_new_tokens == 256 and answerer.config.retrieval.top_k == 10
    prompt = answerer.prompt("Who opened the Arden bridge?")
    assert prompt[0].content == CAPABLE_RAG_SYSTEM and len(prompt) == 2  # no worked example
    assert BRIDGES.split("\n\n")[0] in prompt[-1].content.replace("\n", " ")  # whole chunks, not one sentence

    answer = answerer.answer("Who opened the Arden bridge?")
    said = scripted.reader.seen[-1].text
    assert not answer.refused and answer.reader == "capable" and answer.finish_reason == "stop"
    # Every word the server said reaches the user; only the [n] markers become citations.
    assert answer.text.replace(" ", "") == said.replace(" [1]", "").replace(" ", "")
    assert answer.citations == (1,)
    assert any(s.cited and s.source_number == 1 for s in answer.sentences)
    assert answer.sources[0].doc_id == "bridges"


def test_a_capable_readers_yes_no_and_choice_answers_open_with_the_decision(
    town: Any, embedder: Any, scripted: ScriptedServer
) -> None:
    root, store = town
    config = _server_config(root, scripted, "sentence")
    answerer = _answerer(config, store, embedder, load_generator(config.models))
    polar = answerer.answer("Was the Arden bridge opened in 1904?")
    assert polar.form == "polar" and polar.text.startswith("Yes: According to the documents")
    choice = answerer.answer("Which is older, the Arden bridge or the Copper bridge?")
    assert choice.form == "choice" and choice.text.startswith("the Arden bridge: According to the documents")


def test_a_capable_reader_refuses_in_its_own_words(town: Any, embedder: Any, scripted: ScriptedServer) -> None:
    root, store = town
    config = _server_config(root, scripted, "terse")
    answerer = _answerer(config, store, embedder, load_generator(config.models))
    answer = answerer.answer("Who painted the Copper bridge green?")  # the scripted reader knows no gold: refuses
    assert answer.refused and answer.refusal_reason == "model_refused"
    assert refused_in_words("The sources do not mention who painted it.", ())
    assert refused_in_words("I don't know.", ())
    assert not refused_in_words("The sources do not mention a date, but Tomas Vell opened it.", (1,))
    assert not refused_in_words("Its cause is unknown to the authors of [1]; the bridge opened in 1904.", (1,))


def test_closed_book_a_models_own_refusal_is_a_refusal(scripted: ScriptedServer, generator: Any) -> None:
    """base and finetune read no sources: a capable model's "I don't know" (the scripted reader's refusal with no
    source in its prompt) was recorded as an answer with no text, not refused, and so scored as a hallucination."""
    config = _server_config(Path("."), scripted, "terse")
    closed = Answerer(load_generator(config.models), config).answer("Who opened the Arden bridge?")
    assert closed.refused and closed.refusal_reason == "model_refused" and closed.sources == ()
    # The small reader's closed-book refusal in words is read the same way; an answer stays an answer.
    small = Answerer(generator, Config())
    assert small.answer("What is the capital of France?").refused is False


def test_an_answer_cut_at_its_budget_says_so(town: Any, embedder: Any, scripted: ScriptedServer) -> None:
    root, store = town
    config = apply_overrides(_server_config(root, scripted, "long"), {"rag.capable_answer_tokens": "6"}, "test")
    answer = _answerer(config, store, embedder, load_generator(config.models)).answer("Who opened the Arden bridge?")
    assert answer.finish_reason == "length" and answer.to_json()["finish_reason"] == "length"


def test_a_calibration_fitted_for_another_generator_is_not_applied(
    town: Any, embedder: Any, generator: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, store = town
    config = Config(workspace=str(tmp_path / "ws"))
    # A calibration that refuses every answer as unsupported: P(answerable) can never reach 1.01.
    strict = DEFAULT_CALIBRATION.__class__(
        support=DEFAULT_CALIBRATION.support,
        answerable=DEFAULT_CALIBRATION.answerable,
        min_relevance=DEFAULT_CALIBRATION.min_relevance,
        min_answerable=1.01,
        fitted_on={"generator": "some-other-model"},
    )
    path = save_calibration(strict, Workspace(config.workspace_path).calibration_file)
    with caplog.at_level(logging.WARNING, logger="ragtune.rag.answerer"):
        answerer = _answerer(config, store, embedder, generator)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "some-other-model" in warnings[0] and "not used" in warnings[0]
    assert not answerer.calibrated
    answer = answerer.answer("Who opened the Arden bridge?")
    assert not answer.refused and "Tomas Vell" in answer.text

    # The same file fitted for this generator is applied: everything is refused as unsupported.
    data = json.loads(path.read_text())
    data["fitted_on"]["generator"] = generator.name
    path.write_text(json.dumps(data))
    mine = _answerer(config, store, embedder, generator)
    assert mine.calibrated
    refused = mine.answer("Who opened the Arden bridge?")
    assert refused.refused and refused.refusal_reason == "unsupported"


def test_the_small_readers_yes_no_is_levelled_by_its_content_free_prior(
    town: Any, embedder: Any, generator: Any
) -> None:
    root, store = town
    half = _answerer(Config(workspace=str(root)), store, embedder, generator)
    yes, no = half.polar_bias()
    # SmolLM2-135M leans to "No" on content-free prompts, so "Yes" gets the larger log-prior.
    assert yes > no > 0
    full = _answerer(apply_overrides(Config(workspace=str(root)), {"rag.polar_calibration": "1"}, "test"), store,
                     embedder, generator)  # fmt: skip
    assert full.polar_bias() == pytest.approx((2 * yes, 2 * no))
    off = _answerer(apply_overrides(Config(workspace=str(root)), {"rag.polar_calibration": "0"}, "test"), store,
                    embedder, generator)  # fmt: skip
    assert off.polar_bias() == ()
    # The bias reaches the constrained choice: whichever reply it favours strongly enough is chosen.
    prompt = off.prompt("Is the Copper bridge painted red?")
    for bias, chosen in (((20.0, 0.0), "Yes"), ((0.0, 20.0), "No")):
        spec = CopySpec((), replies=POLAR_REPLIES, reply_bias=bias)
        (result,) = generator.generate_copying([prompt], [spec], off.params())
        assert result.text == chosen
