"""The embedder-tuning experiment's data: labelled SciFact training queries point at their own document's chunk,
never at a test query."""

from __future__ import annotations

from pathlib import Path

from benchmarks.embedder_tuning import training_queries
from ragtune.corpus.document import Chunk
from ragtune.evaluate.retrieval import load_beir


def test_labelled_queries_come_from_the_train_split_only(shared_data: Path) -> None:
    scifact = shared_data / "scifact"
    train, test = load_beir(scifact, "train"), load_beir(scifact, "test")
    chunks = [Chunk(f"{d.id}#0", d.id, d.text, 0) for d in train.corpus]
    queries = training_queries("qrels", chunks, limit=10_000)
    test_texts = set(test.queries.values())
    pairs = {(text, doc) for qid, text in train.queries.items() for doc in train.qrels[qid] if text not in test_texts}
    # One query per (train query, relevant document), on that document's chunk, and no test query's words (two
    # SciFact claims appear in both splits under different ids).
    assert {(q.query, q.doc_id) for q in queries} == pairs and len(pairs) > 800  # a few train claims repeat
    assert all(q.chunk_id == f"{q.doc_id}#0" for q in queries)
    assert not {q.query for q in queries} & test_texts
