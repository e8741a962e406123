"""Retriever: dense, BM25 and hybrid over a real store and the real embedder; fusion checked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config, RetrievalConfig
from ragtune.corpus.document import Chunk, Document
from ragtune.retrieve import RetrievalError, Retriever, convex_fuse, rrf_fuse
from ragtune.store import open_store
from ragtune.store.base import Hit
from ragtune.store.sync import sync_documents

DOCS = [
    ("pump", "Pump manual", "Model ZX-9000 pumps need a new gasket every year. Order part GK-12."),
    ("dog", "Pets", "A dog needs a walk twice a day and fresh water."),
    ("sun", "Astronomy", "The Sun is a star at the centre of our solar system."),
    ("tax", "Taxes", "Income tax returns are due by the end of April."),
]


def _hit(cid: str, score: float) -> Hit:
    return Hit(Chunk(id=cid, doc_id=cid.split("#")[0], text=cid, position=0), score)


def test_rrf_matches_hand_computation() -> None:
    dense = [_hit("a#0", 0.9), _hit("b#0", 0.8), _hit("c#0", 0.1)]
    bm25 = [_hit("c#0", 12.0), _hit("a#0", 3.0)]
    fused = rrf_fuse([dense, bm25], weights=[1.0, 2.0], k=60)
    expected = {"a#0": 1 / 61 + 2 / 62, "b#0": 1 / 62, "c#0": 1 / 63 + 2 / 61}
    assert [h.chunk.id for h in fused] == sorted(expected, key=lambda c: -expected[c])
    assert all(h.score == pytest.approx(expected[h.chunk.id]) for h in fused)


def test_convex_matches_hand_computation() -> None:
    dense = [_hit("a#0", 0.9), _hit("b#0", 0.5), _hit("c#0", 0.1)]
    bm25 = [_hit("c#0", 10.0), _hit("a#0", 0.0)]
    fused = {h.chunk.id: h.score for h in convex_fuse([dense, bm25], weights=[1.0, 1.0])}
    assert fused == pytest.approx({"a#0": 0.5, "b#0": 0.25, "c#0": 0.5})


@pytest.fixture
def retriever(embedder: Any, tmp_path: Path) -> Any:
    config = Config(workspace=str(tmp_path / "ws"))
    store = open_store(config, embedder.identity)
    docs = [Document(id=i, text=t, metadata={"title": title, "source": f"{i}.txt"}) for i, title, t in DOCS]
    sync_documents(docs, store, embedder, config, progress=False)
    yield Retriever(store, embedder, config.retrieval)
    store.close()


def test_modes_filters_and_batch(retriever: Retriever) -> None:
    # BM25 finds the exact part code; dense finds the paraphrase; hybrid finds both kinds.
    assert retriever.search("GK-12", k=1, mode="bm25")[0].chunk.doc_id == "pump"
    assert retriever.search("when should I file my income taxes?", k=1, mode="dense")[0].chunk.doc_id == "tax"
    assert retriever.search("GK-12", k=1, mode="hybrid")[0].chunk.doc_id == "pump"
    assert retriever.search("which star is in the middle of the planets", k=1, mode="hybrid")[0].chunk.doc_id == "sun"
    hits = retriever.search("water for my puppy", k=3)  # the config's mode (hybrid)
    assert len(hits) == 3 and hits[0].chunk.doc_id == "dog"
    assert hits[0].chunk.metadata["title"] == "Pets" and hits[0].chunk.metadata["source"] == "dog.txt"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    only = retriever.search("water for my puppy", k=3, filters={"source": "sun.txt"})
    assert [h.chunk.doc_id for h in only] == ["sun"]
    assert len(retriever.search("anything", k=50)) == len(DOCS)
    queries = ["GK-12", "income tax"]
    assert [[h.chunk.id for h in r] for r in retriever.search_many(queries, k=2)] == [
        [h.chunk.id for h in retriever.search(q, k=2)] for q in queries
    ]
    with pytest.raises(RetrievalError, match="mode"):
        retriever.search("x", mode="magic")
    with pytest.raises(RetrievalError, match="at least one"):
        retriever.search("x", k=0)


def test_reranker_sees_candidates_and_decides(retriever: Retriever) -> None:
    seen: list[int] = []

    def by_length(query: str, hits: list[Hit]) -> list[Hit]:
        seen.append(len(hits))
        return sorted(hits, key=lambda h: len(h.chunk.text))

    reranked = Retriever(retriever.store, retriever.embedder, RetrievalConfig(), reranker=by_length)
    hits = reranked.search("GK-12", k=2)
    assert seen == [len(DOCS)]  # every candidate, not just the top k
    lengths = sorted(len(t) for _, _, t in DOCS)[:2]
    assert [len(h.chunk.text) for h in hits] == lengths


def test_a_document_named_by_its_title_in_quotes_leads_the_results(retriever: Retriever) -> None:
    def top(query: str, **kwargs: Any) -> list[str | None]:
        return [h.chunk.doc_id for h in retriever.search(query, **kwargs)]

    question = "what needs a walk twice a day"
    assert top(question, k=1) == ["dog"]
    assert top(f"In “Taxes”, {question}?", k=1) == ["tax"]  # the question says which document it asks
    assert top(f'According to "Astronomy", {question}?', k=1, mode="bm25") == ["sun"]
    assert top(f"According to “Astronomy”, {question}?", k=1, mode="dense") == ["sun"]
    # Two named documents take turns at the top; the rest follow as the search ranked them.
    assert set(top(f"Is a walk in “Pets” or a return in “Taxes” due first, {question}?", k=2)) == {"dog", "tax"}
    assert len(top(f"In “Taxes”, {question}?", k=4)) == 4
    # A quoted phrase that is no stored title, a title the caller filters on, or the setting off: as before.
    assert top(f"In “Pet care”, {question}?", k=1) == ["dog"]
    assert top(f"In “Taxes”, {question}?", k=1, filters={"title": "Pets"}) == ["dog"]
    off = Retriever(retriever.store, retriever.embedder, RetrievalConfig(named_documents=False))
    assert [h.chunk.doc_id for h in off.search(f"In “Taxes”, {question}?", k=1)] == ["dog"]
    # bm25 keeps BM25's own scores for what it leads with.
    (hit,) = retriever.search(f"In “Pump manual”, {question}?", k=1, mode="bm25")
    assert hit.chunk.doc_id == "pump" and hit.score > 0.1


def test_quoted_titles() -> None:
    from ragtune.retrieve import quoted_titles

    assert quoted_titles('In “20080102X00005”, what "Rated  Power" and “20080102X00005” again?') == [
        "20080102X00005",
        "Rated Power",
    ]
    assert quoted_titles("no quotes, or an unclosed “one") == []
