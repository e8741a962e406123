"""Retrieval on BEIR SciFact (../shared/data/scifact): quality, ingest cost and query latency of the default store.

- Quality: nDCG@10 (and Recall@10/100, MRR@10 in the JSON) of dense, BM25 and hybrid over the 300 test queries,
  against the issue's targets (BM25 >= 0.67, dense >= 0.64, hybrid >= 0.72).
- Ingest: `sync_documents` of the whole corpus into a fresh LanceDB store (chunking, embedding, writing, indexing)
  against the embedder's own batched `embed_documents` over exactly the same chunk texts, in the same process.
- Latency: hybrid search per query (including the query's embedding), p50/p95, against a baseline of the same
  query embedding + a brute-force numpy dot product over the same vectors + bm25s (k1 0.9, b 0.4, English stemmer
  and stop words) over the same chunks, fused the same way (`retrieval.fusion`).

`--quick` uses 40 queries and a 600-document slice that contains their relevant documents.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import Row, Section

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
TARGETS = {"bm25": 0.67, "dense": 0.64, "hybrid": 0.72}


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@dataclass
class _Bench:
    """What the steps of `run` share: the test split, the embedder, a fresh store of it and the chunks ingested."""

    data: Any
    embedder: Any
    config: Any
    store: Any = None
    chunks: list[Any] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    vectors: Any = None


def run(quick: bool = False) -> Section:
    from ragtune.config import Config, ModelsConfig
    from ragtune.evaluate.retrieval import load_beir
    from ragtune.models.loader import load_embedder

    section = Section(title="retrieval (BEIR SciFact, LanceDB store, all-MiniLM-L6-v2)")
    if not SCIFACT.is_dir():
        section.notes.append(f"skipped: {SCIFACT} not found")
        return section
    data = load_beir(SCIFACT, "test", max_queries=40 if quick else None)
    if quick:
        relevant = {d for rels in data.qrels.values() for d in rels}
        keep = [d for d in data.corpus if d.id in relevant]
        keep += [d for d in data.corpus if d.id not in relevant][: 600 - len(keep)]
        data = replace(data, corpus=keep)
    embedder = load_embedder(ModelsConfig())
    embedder.embed_documents(["warm-up"])  # first-call overheads belong to neither side
    config = Config(workspace=tempfile.mkdtemp(prefix="ragtune-bench-"))
    config.store.table = "beir_scifact"
    bench = _Bench(data, embedder, config)
    section.extra = _ingest_rows(section, bench)
    section.extra |= _quality_rows(section, bench, quick)
    section.extra |= _train_weight_rows(section, bench, quick)
    section.extra |= _latency_rows(section, bench)
    _reranker_rows(section, bench.store, embedder, config, data, quick)
    bench.store.close()
    shutil.rmtree(config.workspace, ignore_errors=True)
    _qa_lever_rows(section, quick)
    return section


def _ingest_rows(section: Section, bench: _Bench) -> dict[str, Any]:
    """Ingest of the whole corpus into a fresh store against the embedder's own batched encode of exactly the
    chunks that ingest produces (the baseline runs first, in the same process)."""
    from ragtune.corpus.chunking import chunk_document, embedding_text
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    data, embedder, config = bench.data, bench.embedder, bench.config
    bench.chunks = [c for d in data.corpus for c in chunk_document(d, embedder, config.corpus)]
    bench.texts = [embedding_text(c) for c in bench.chunks]
    start, cpu = time.perf_counter(), time.process_time()
    bench.vectors = embedder.embed_documents(bench.texts, progress=True)
    encode_s, encode_cpu = time.perf_counter() - start, time.process_time() - cpu

    bench.store = open_store(config, embedder.identity)
    start, cpu = time.perf_counter(), time.process_time()
    report = sync_documents(data.corpus, bench.store, embedder, config, progress=True)
    ingest_s, ingest_cpu = time.perf_counter() - start, time.process_time() - cpu
    ratio = ingest_s / encode_s
    section.rows.append(
        Row(
            name=f"ingest {len(data.corpus)} docs -> {report.chunks_written} chunks (chunk, embed, write, index)",
            value=ingest_s,
            unit="s",
            baseline=encode_s,
            baseline_name="embedder batched encode of the same chunks",
            higher_is_better=False,
            target="<= 1.15x",
            passed=ratio <= 1.15,
        )
    )
    section.rows.append(
        Row(
            name="ingest CPU time (same run; robust to other load on a shared machine)",
            value=ingest_cpu,
            unit="CPU s",
            baseline=encode_cpu,
            baseline_name="embedder batched encode of the same chunks",
            higher_is_better=False,
            target="<= 1.15x",
            passed=ingest_cpu / encode_cpu <= 1.15,
        )
    )
    return {
        "ingest_s": ingest_s,
        "encode_s": encode_s,
        "ingest_ratio": ratio,
        "ingest_cpu_s": ingest_cpu,
        "encode_cpu_s": encode_cpu,
        "chunks": len(bench.chunks),
        "documents": len(data.corpus),
        "queries": len(data.queries),
    }


def _quality_rows(section: Section, bench: _Bench, quick: bool) -> dict[str, Any]:
    """nDCG@10 of each mode on the test queries against the issue's targets, and hybrid under the other fusion."""
    from ragtune.evaluate.retrieval import evaluate_retriever
    from ragtune.retrieve import Retriever

    data, store, embedder, retrieval = bench.data, bench.store, bench.embedder, bench.config.retrieval
    scores = evaluate_retriever(Retriever(store, embedder, retrieval), data)
    fusion = retrieval.fusion
    other = "rrf" if fusion == "convex" else "convex"
    other_scores = evaluate_retriever(
        Retriever(store, embedder, replace(retrieval, fusion=other)), data, modes=("hybrid",)
    )["hybrid"]
    for mode in ("bm25", "dense", "hybrid"):
        s = scores[mode]
        section.rows.append(
            Row(
                name=f"{mode} nDCG@10 ({s.queries} queries)"
                + (f" (fusion {fusion}, equal weights: the default)" if mode == "hybrid" else ""),
                value=s.ndcg_10,
                unit="nDCG@10",
                target=f">= {TARGETS[mode]}" if not quick else "",
                passed=(s.ndcg_10 >= TARGETS[mode]) if not quick else None,
            )
        )
    section.rows.append(
        Row(name=f"hybrid nDCG@10, fusion = {other} (equal weights)", value=other_scores.ndcg_10, unit="nDCG@10")
    )
    return {"scores": {m: s.as_dict() for m, s in scores.items()}, f"hybrid_{other}": other_scores.as_dict()}


def _train_weight_rows(section: Section, bench: _Bench, quick: bool) -> dict[str, Any]:
    """The fusion's dense weight chosen on the *train* queries (never on test), then scored once on test."""
    from ragtune.evaluate.retrieval import BeirData, documents_ranking, load_beir, score_runs
    from ragtune.retrieve import fuse
    from ragtune.store.base import Hit

    data, store, config = bench.data, bench.store, bench.config
    cache: dict[tuple[str, str], list[Hit]] = {}
    depth = config.retrieval.candidates  # what a search fuses (min-max normalisation depends on it)

    def fused_runs(split: BeirData, dense_weight: float) -> dict[str, list[str]]:
        ids = list(split.queries)
        missing = [q for q in ids if (q, "d") not in cache]
        if missing:
            vectors_q = bench.embedder.embed_queries([split.queries[q] for q in missing])
            for q, vec in zip(missing, vectors_q, strict=True):
                cache[(q, "d")] = store.dense_search(vec, depth)
                cache[(q, "k")] = store.keyword_search(split.queries[q], depth)
        weighted = replace(config.retrieval, dense_weight=dense_weight, bm25_weight=1.0)
        return {q: documents_ranking(fuse(cache[(q, "d")], cache[(q, "k")], weighted)) for q in ids}

    train = load_beir(SCIFACT, "train", max_queries=100 if quick else None)
    if quick:  # only queries whose relevant documents are in the slice
        present = {d.id for d in data.corpus}
        keep_q = [q for q, rels in train.qrels.items() if set(rels) <= present]
        train = replace(train, qrels={q: train.qrels[q] for q in keep_q}, queries={q: train.queries[q] for q in keep_q})
    train_scores = {w: score_runs(fused_runs(train, w), train.qrels).ndcg_10 for w in (0.5, 1.0, 1.5, 2.0, 3.0)}
    best = max(train_scores, key=lambda w: train_scores[w])
    tuned = score_runs(fused_runs(data, best), data.qrels)
    fusion = config.retrieval.fusion
    section.rows.append(
        Row(
            name=f"hybrid nDCG@10, {fusion} dense weight {best:g} : BM25 1 "
            f"(chosen on {len(train.queries)} train queries)",
            value=tuned.ndcg_10,
            unit="nDCG@10",
        )
    )
    section.notes.append(
        f"train-split nDCG@10 by {fusion} dense weight: "
        + ", ".join(f"{w:g}: {v:.4f}" for w, v in train_scores.items())
    )
    return {
        "hybrid_train_weights": {"fusion": fusion, **{str(w): v for w, v in train_scores.items()}},
        "hybrid_tuned": {"fusion": fusion, "dense_weight": best, **tuned.as_dict()},
    }


def _latency_rows(section: Section, bench: _Bench) -> dict[str, Any]:
    """Hybrid query latency against baseline retrievers over the same chunks: numpy brute force + bm25s, fused the
    same way, timed query by query in turn."""
    import bm25s
    import Stemmer

    from ragtune.evaluate.retrieval import documents_ranking, score_runs
    from ragtune.retrieve import Retriever, fuse
    from ragtune.store.base import Hit

    data, embedder, config, chunks = bench.data, bench.embedder, bench.config, bench.chunks
    retriever = Retriever(bench.store, embedder, config.retrieval)
    depth, fusion = config.retrieval.candidates, config.retrieval.fusion
    stemmer = Stemmer.Stemmer("english")
    bm25 = bm25s.BM25(k1=config.retrieval.bm25_k1, b=config.retrieval.bm25_b)
    bm25.index(bm25s.tokenize(bench.texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    matrix = np.asarray(bench.vectors, dtype=np.float32)

    def baseline_search(query: str) -> list[Hit]:
        q = embedder.embed_queries([query])[0]
        sims = matrix @ q
        d = min(depth, len(chunks))
        top = np.argpartition(-sims, d - 1)[:d]
        top = top[np.argsort(-sims[top])]
        dense = [Hit(chunks[i], float(sims[i])) for i in top]
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
        ids, values = bm25.retrieve(tokens, k=d, show_progress=False, n_threads=1)
        keyword = [Hit(chunks[int(i)], float(v)) for i, v in zip(ids[0], values[0], strict=True) if v > 0]
        return fuse(dense, keyword, config.retrieval)[:10]

    ours_ms: list[float] = []
    base_ms: list[float] = []
    base_runs: dict[str, list[str]] = {}
    for qid, query in data.queries.items():
        start = time.perf_counter()
        retriever.search(query, k=10, mode="hybrid")
        ours_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        hits = baseline_search(query)
        base_ms.append((time.perf_counter() - start) * 1000)
        base_runs[qid] = documents_ranking(hits)
    base_scores = score_runs(base_runs, data.qrels)
    for label, q in (("p50", 50), ("p95", 95)):
        section.rows.append(
            Row(
                name=f"hybrid query latency {label} (incl. query embedding)",
                value=_percentile(ours_ms, q),
                unit="ms",
                baseline=_percentile(base_ms, q),
                baseline_name=f"numpy dot + bm25s + same fusion ({fusion})",
                higher_is_better=False,
            )
        )
    section.notes.append(
        f"baseline hybrid (numpy + bm25s k1 {config.retrieval.bm25_k1} b {config.retrieval.bm25_b}) nDCG@10 "
        f"{base_scores.ndcg_10:.4f} over the same chunks (top-10 chunks only)"
    )
    section.notes.append(
        f"median ours {statistics.median(ours_ms):.1f} ms, baseline {statistics.median(base_ms):.1f} ms"
    )
    return {
        "latency_ms": {
            "ours_p50": _percentile(ours_ms, 50),
            "ours_p95": _percentile(ours_ms, 95),
            "baseline_p50": _percentile(base_ms, 50),
            "baseline_p95": _percentile(base_ms, 95),
        }
    }


def _reranker_rows(section: Section, store: Any, embedder: Any, config: Any, data: Any, quick: bool) -> None:
    """A reranker trained on the corpus alone (`tune --kind reranker`, no labels), scored on the test queries
    beside plain hybrid, and its cost: training minutes and query p50 against hybrid, in the same process."""
    from ragtune.evaluate.retrieval import evaluate_retriever
    from ragtune.rerank import train_on_store
    from ragtune.retrieve import Retriever

    if quick:
        config.tune.reranker_queries = 200
    start = time.perf_counter()
    result = train_on_store(config, Path(config.workspace) / "reranker", progress=True)
    train_s = time.perf_counter() - start
    plain = Retriever(store, embedder, config.retrieval)
    reranked = Retriever(store, embedder, replace(config.retrieval, reranker=str(result.folder)))
    base = evaluate_retriever(plain, data, ("hybrid",))["hybrid"]
    ours = evaluate_retriever(reranked, data, ("hybrid",))["hybrid"]
    section.rows.append(
        Row(
            name=f"hybrid+rerank nDCG@10 (corpus-trained, top {config.retrieval.rerank_candidates} reranked)",
            value=ours.ndcg_10,
            unit="nDCG@10",
            baseline=base.ndcg_10,
            baseline_name="hybrid",
            target=">= 0.745" if not quick else "",
            passed=(ours.ndcg_10 >= 0.745) if not quick else None,
        )
    )
    plain_ms, rerank_ms = [], []
    for query in list(data.queries.values())[:100]:
        t0 = time.perf_counter()
        plain.search(query, k=10)
        plain_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        reranked.search(query, k=10)
        rerank_ms.append((time.perf_counter() - t0) * 1000)
    section.rows.append(
        Row(
            name="hybrid+rerank query latency p50",
            value=_percentile(rerank_ms, 50),
            unit="ms",
            baseline=_percentile(plain_ms, 50),
            baseline_name="hybrid",
            higher_is_better=False,
            target="<= 150 ms",
            passed=_percentile(rerank_ms, 50) <= 150,
        )
    )
    section.rows.append(
        Row(
            name=f"reranker training ({result.metrics['queries']} queries, {result.metrics['pairs']} pairs, "
            f"{len(data.corpus)} documents)",
            value=train_s / 60,
            unit="min",
            higher_is_better=False,
        )
    )
    section.extra["rerank"] = {"hybrid": base.as_dict(), "hybrid+rerank": ours.as_dict(), "train_s": train_s}


def _qa_lever_rows(section: Section, quick: bool) -> None:
    from benchmarks import retrieval_levers

    rows, results = retrieval_levers.run(quick)
    section.rows += rows
    section.extra["qa_levers"] = results
