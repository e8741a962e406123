"""Training data from the knowledge base: RAFT examples whose oracle and distractors come from a real store and
retriever (the real embedder), and continued pre-training text from the store's chunks (`--from-docs`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.corpus.document import Document
from ragtune.retrieve import Retriever
from ragtune.store import StoreError, open_store
from ragtune.store.sync import sync_documents
from ragtune.tune.data import QAPair, TrainingFile
from ragtune.tune.train import TuneError, build_examples, prepare_data

DOCS = [
    Document(
        "bridges", "The Arden bridge in Velmora was opened in 1904 by the mayor Tomas Vell.", {"title": "Bridges"}
    ),
    Document("bakery", "The Oakleaf bakery was founded by Mira Holt in 1988.", {"title": "Bakery"}),
    Document("harbor", "The harbor of Velmora has a lighthouse painted red and white.", {"title": "Harbor"}),
    Document("school", "Velmora school teaches rowing on the Sarn river every spring.", {"title": "School"}),
    Document("market", "The Velmora market sells cheese from the hill farms on Saturdays.", {"title": "Market"}),
]


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[tuple[Config, Any]]:
    config = Config(workspace=str(tmp_path_factory.mktemp("kb") / "ws"))
    store = open_store(config, embedder.identity)
    sync_documents(DOCS, store, embedder, config, progress=False)
    yield config, store
    store.close()


def test_raft_examples_ground_answers_in_retrieved_oracles(kb: tuple[Config, Any], embedder: Any) -> None:
    config, store = kb
    config.tune.raft_oracle_share = 0.75
    config.tune.raft_distractors = 2
    pairs = (
        QAPair("Who opened the Arden bridge?", "Tomas Vell", "1"),
        QAPair("Who founded the Oakleaf bakery?", "Mira Holt", "2"),
        QAPair("What colour is the lighthouse?", "red and white", "3"),
        QAPair("What does the market sell?", "cheese", "4"),
        QAPair("Who is the king of Velmora?", "Queen Ada", "5"),  # in no document: left out, cannot be grounded
    )
    config.tune.eval_share = 0.0
    train, held = build_examples(
        TrainingFile(Path("qa.jsonl"), pairs),
        config.tune,
        kind="hybrid",
        retriever=Retriever(store, embedder, config.retrieval),
    )
    assert held == [] and len(train) == 4
    assert sum(e.origin == "raft" for e in train) == 3  # 75% of 4
    for ex in train:
        pair = next(p for p in pairs if p.fact_id == ex.fact_id)
        user, answer = ex.messages[-2].content, ex.messages[-1].content
        assert user.count("\n[") == (3 if ex.origin == "raft" else 2)
        if ex.origin == "raft":
            number = answer.rsplit("[", 1)[1].rstrip("]")
            cited = next(line for line in user.splitlines() if line.startswith(f"[{number}] "))
            assert pair.answer in cited and answer == f"{pair.answer} [{number}]"
        else:
            assert pair.answer not in user and answer == config.rag.refusal_text
    with pytest.raises(TuneError, match="need the knowledge base"):
        build_examples(TrainingFile(Path("qa.jsonl"), pairs), config.tune, kind="hybrid")


def test_from_docs_trains_on_the_stores_chunks(kb: tuple[Config, Any], tmp_path: Path) -> None:
    config, store = kb
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "Who opened the Arden bridge?", "answer": "Tomas Vell"}) + "\n")
    with prepare_data(config, data=qa, kind="finetune", from_docs=True, folder=tmp_path / "run") as (path, retriever):
        assert retriever is None
        lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0] == {"question": "Who opened the Arden bridge?", "answer": "Tomas Vell"}
    texts = [x["text"] for x in lines[1:]]
    assert len(texts) == store.count() and any("Mira Holt" in t and t.startswith("Bakery\n") for t in texts)
    empty = Config(workspace=str(tmp_path / "empty"))
    with (
        pytest.raises(StoreError, match="no documents in workspace"),  # and no empty store made there
        prepare_data(empty, data=None, kind="finetune", from_docs=True, folder=tmp_path / "r2"),
    ):
        pass
    assert not (tmp_path / "empty").exists()


def test_hybrid_examples_use_the_answerers_own_prompt(kb: tuple[Config, Any], embedder: Any, generator: Any) -> None:
    """RAFT prompts come from the same code as the hybrid strategy's: for the chunks it would retrieve itself, the
    training prompt is exactly `Answerer.prompt`, and cited answers are visible in what is shown."""
    from ragtune.rag import Answerer
    from ragtune.tune.knowledge import answerer_render

    config, store = kb
    config = copy.deepcopy(config)  # the settings below are this test's own, not the module's shared store's
    retriever = Retriever(store, embedder, config.retrieval)
    render = answerer_render(generator.model, generator.tokenizer, generator.name, config, retriever)
    question = "Who founded the Oakleaf bakery?"
    retrieved = [h.chunk for h in retriever.search(question)]
    assert render(question, retrieved) == Answerer(generator, config, retriever=retriever).prompt(question)

    config.tune.raft_oracle_share, config.tune.raft_distractors, config.tune.eval_share = 1.0, 2, 0.0
    # Whole chunks, so that every chunk of an example is shown and can be read back from its prompt (with the default
    # one sentence, the distractors are usually not shown at all).
    config.rag.source_sentences = 0
    pairs = (QAPair(question, "Mira Holt", "1"), QAPair("Who opened the Arden bridge?", "Tomas Vell", "2"))
    train, _ = build_examples(
        TrainingFile(Path("qa.jsonl"), pairs), config.tune, kind="hybrid", retriever=retriever, render=render
    )
    assert len(train) == 2
    for ex, pair in zip(train, pairs, strict=True):
        assert ex.origin == "raft" and ex.messages[:-1] == tuple(render(pair.question, _shown_chunks(ex, store)))
        number = ex.messages[-1].content.rsplit("[", 1)[1].rstrip("]")
        cited = next(line for line in ex.messages[-2].content.splitlines() if line.startswith(f"[{number}] "))
        assert pair.answer in cited


def _shown_chunks(example: Any, store: Any) -> list[Any]:
    """The chunks behind an example's numbered sources, in order (titles are unique in DOCS)."""
    by_title = {c.title: c for c in store.chunks()}
    lines = [ln for ln in example.messages[-2].content.splitlines() if ln.startswith("[")]
    numbered = {int(ln[1 : ln.index("]")]): ln[ln.index("]") + 2 : ln.index(":")] for ln in lines}
    return [by_title[numbered[n]] for n in sorted(numbered)]
