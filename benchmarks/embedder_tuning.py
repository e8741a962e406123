"""Tuning the embedder itself instead of adding a reranker (issue #30): the shipped all-MiniLM-L6-v2 fine-tuned with
sentence-transformers' MultipleNegativesRankingLoss (in-batch negatives plus one mined hard negative per query),
the SciFact corpus re-indexed with it, and nDCG@10 of dense, BM25 and hybrid on the 300 test queries beside the
shipped embedder's.

    python -m benchmarks.embedder_tuning synth [--queries 2000]   # queries written from the corpus (no labels)
    python -m benchmarks.embedder_tuning qrels                    # SciFact's qrels/train.tsv (labelled)

Not part of `make bench`: each run trains for 15-25 minutes and indexes the corpus twice on a 2-core CPU. The
results are in docs/benchmarks.md (Measurements behind the defaults › Retrieval levers). The test queries are never
used for training.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"


def training_queries(source: str, chunks: Sequence[Any], limit: int, seed: int = 0) -> list[Any]:
    """Queries with their positive chunk: written from the corpus (`synth`) or SciFact's train labels (`qrels`)."""
    from ragtune.evaluate.retrieval import load_beir
    from ragtune.rerank import TrainingQuery, corpus_queries

    if source == "synth":
        return corpus_queries(chunks, limit, seed)
    train = load_beir(SCIFACT, "train")
    # Two SciFact claims are in both splits under different ids: never train on a test query's words.
    test_texts = set(load_beir(SCIFACT, "test").queries.values())
    first_chunk: dict[str, str] = {}
    for c in chunks:
        first_chunk.setdefault(c.doc_id, c.id)
    queries = [
        TrainingQuery(train.queries[qid], "", first_chunk[doc], doc, source="labelled")
        for qid, rels in train.qrels.items()
        for doc in rels
        if doc in first_chunk and train.queries[qid] not in test_texts
    ]
    random.Random(seed).shuffle(queries)
    return queries[:limit]


def score(workspace: Path, embedder_setting: str, data: Any) -> dict[str, float]:
    """nDCG@10 per mode of the corpus indexed with `embedder_setting` into `workspace`."""
    from ragtune.config import Config
    from ragtune.evaluate.retrieval import evaluate_retriever
    from ragtune.models.loader import load_embedder
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    config = Config(workspace=str(workspace))
    config.models.embedder = embedder_setting
    embedder = load_embedder(config.models)
    store = open_store(config, embedder.identity)
    try:
        if store.count() == 0:
            sync_documents(data.corpus, store, embedder, config, progress=True)
        scores = evaluate_retriever(Retriever(store, embedder, config.retrieval), data)
    finally:
        store.close()
    return {mode: round(s.ndcg_10, 4) for mode, s in scores.items()}


def main(argv: Sequence[str] | None = None) -> int:
    from ragtune.config import Config
    from ragtune.evaluate.retrieval import load_beir
    from ragtune.models.loader import load_embedder
    from ragtune.rerank import mine_examples
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.tune.embedder import train_embedder, triplets

    parser = argparse.ArgumentParser(prog="python -m benchmarks.embedder_tuning")
    parser.add_argument("source", choices=("synth", "qrels"))
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=3e-5)  # tune.embedder_learning_rate's default
    parser.add_argument("--epochs", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not SCIFACT.is_dir():
        print(f"skipped: {SCIFACT} not found")
        return 0
    data = load_beir(SCIFACT, "test")
    with tempfile.TemporaryDirectory(prefix="ragtune-embedder-") as tmp:
        root = Path(tmp)
        base_scores = score(root / "base", "default", data)
        config = Config(workspace=str(root / "base"))
        embedder = load_embedder(config.models)
        store = open_store(config, embedder.identity)
        chunks = store.chunks()
        queries = training_queries(args.source, chunks, args.queries)
        examples = mine_examples(queries, Retriever(store, embedder, config.retrieval), chunks, 1)
        store.close()
        config.tune.embedder_learning_rate, config.tune.embedder_epochs = args.lr, args.epochs
        config.tune.embedder_queries = args.queries
        result = train_embedder(triplets(examples), root / "tuned", config, data_note={"source": args.source})
        tuned_scores = score(root / "tuned-index", str(result.model), data)
    print(f"shipped embedder: {base_scores}")
    m = result.metrics
    print(f"tuned on {args.source} ({m['triplets']} triplets, {m['fit_seconds'] / 60:.1f} min): {tuned_scores}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
