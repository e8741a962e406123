"""Retrieval evaluation on BEIR-format data: nDCG@10, Recall@10, Recall@100 and MRR@10 for dense, BM25 and hybrid.

The metrics follow trec_eval (as pytrec_eval / ir-measures compute them, which the tests check): nDCG uses the
graded relevance as linear gain, `rel / log2(rank + 1)`, normalised by the ideal ordering of all judged documents;
Recall@k is the share of relevant documents in the top k; MRR@10 is 1 / rank of the first relevant document within
the top 10 (0 when none). Documents judged 0 are not relevant. Scores are means over the queries that have
relevance judgments.

The store holds chunks; a document's rank is that of its best chunk. The evaluation corpus goes into its own table
(`beir_<name>`) of the configured store, synced incrementally, so a second run embeds nothing.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ragtune.config import Config, RetrievalConfig
from ragtune.corpus.document import Document
from ragtune.errors import InputFileError
from ragtune.evaluate.questions import Question, load_questions
from ragtune.jsonl import iter_records, read_user_text
from ragtune.models.embedder import Embedder, EmbedderIdentity
from ragtune.models.registry import DEFAULT_EMBEDDER
from ragtune.retrieve import MODES, Retriever
from ragtune.store.base import DocumentStore, Hit
from ragtune.store.sync import SyncReport, sync_documents

RERANK = "hybrid+rerank"  # the results key of hybrid search reranked by retrieval.reranker (a contract)
Qrels = Mapping[str, Mapping[str, int]]  # query id -> doc id -> graded relevance


@dataclass(frozen=True)
class BeirData:
    name: str
    corpus: list[Document]
    queries: dict[str, str]  # query id -> text, only the queries judged in the split
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class RetrievalScores:
    ndcg_10: float
    recall_10: float
    recall_100: float
    mrr_10: float
    queries: int

    def as_dict(self) -> dict[str, float]:
        return {
            "ndcg@10": self.ndcg_10,
            "recall@10": self.recall_10,
            "recall@100": self.recall_100,
            "mrr@10": self.mrr_10,
        }


# -- metrics -------------------------------------------------------------------------------------------------------


def ndcg_at_k(ranking: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    ideal = sorted((r for r in relevance.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    if idcg == 0:
        return 0.0
    dcg = sum(max(relevance.get(doc, 0), 0) / math.log2(i + 2) for i, doc in enumerate(ranking[:k]))
    return dcg / idcg


def recall_at_k(ranking: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    relevant = {d for d, r in relevance.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at_k(ranking: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranking[:k]):
        if relevance.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def score_runs(runs: Mapping[str, Sequence[str]], qrels: Qrels) -> RetrievalScores:
    """Mean metrics over the judged queries (a judged query missing from `runs` scores 0)."""
    judged = [q for q, rels in qrels.items() if any(r > 0 for r in rels.values())]
    if not judged:
        raise InputFileError("no query has a relevant document in the relevance judgments (qrels)")
    sums = [0.0, 0.0, 0.0, 0.0]
    for q in judged:
        ranking, rels = list(runs.get(q, ())), qrels[q]
        sums[0] += ndcg_at_k(ranking, rels, 10)
        sums[1] += recall_at_k(ranking, rels, 10)
        sums[2] += recall_at_k(ranking, rels, 100)
        sums[3] += mrr_at_k(ranking, rels, 10)
    n = len(judged)
    return RetrievalScores(sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, n)


def documents_ranking(hits: Sequence[Hit], depth: int = 100) -> list[str]:
    """Document ids in the order of their best chunk."""
    return list(dict.fromkeys(h.chunk.doc_id for h in hits))[:depth]


# -- BEIR data -----------------------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise InputFileError(f"{path}: not found; a BEIR folder has corpus.jsonl, queries.jsonl and qrels/<split>.tsv")
    records: list[dict[str, object]] = []
    for where, _, record in iter_records(path, what="BEIR file", shape="an object with '_id' and 'text'"):
        if "_id" not in record:
            raise InputFileError(f"{where}: expected an object with '_id' and 'text'")
        records.append(record)
    return records


def load_beir(folder: str | Path, split: str = "test", max_queries: int | None = None) -> BeirData:
    """A BEIR data set folder: corpus.jsonl (_id, title, text), queries.jsonl (_id, text), qrels/<split>.tsv."""
    folder = Path(folder)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not folder.is_dir() or not (folder / "qrels").is_dir():
        what = "no qrels/ folder" if folder.is_dir() else "a file, not a folder" if folder.exists() else "not found"
        raise InputFileError(
            f"{folder}: not a BEIR data set ({what}); a BEIR folder holds corpus.jsonl, queries.jsonl and "
            "qrels/<split>.tsv. To score your own question file on the store, use --questions FILE instead"
        )
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv")) if (folder / "qrels").is_dir() else []
        raise InputFileError(f"{qrels_path}: not found (splits here: {', '.join(have) or 'none'}); use --split")
    qrels: dict[str, dict[str, int]] = {}
    for line_no, line in enumerate(read_user_text(qrels_path).splitlines(), start=1):
        parts = line.split("\t")
        if line_no == 1 and not parts[-1].strip().lstrip("-").isdigit():
            continue  # header
        if len(parts) < 3:
            if line.strip():
                raise InputFileError(f"{qrels_path}:{line_no}: expected 'query-id<TAB>corpus-id<TAB>score'")
            continue
        try:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
        except ValueError as exc:
            raise InputFileError(f"{qrels_path}:{line_no}: score {parts[2]!r} is not an integer") from exc
    if max_queries is not None:
        qrels = {q: qrels[q] for q in sorted(qrels)[:max_queries]}
    all_queries = {str(r["_id"]): str(r.get("text", "")) for r in _read_jsonl(folder / "queries.jsonl")}
    missing = [q for q in qrels if q not in all_queries]
    if missing:
        raise InputFileError(f"{folder / 'queries.jsonl'}: queries {missing[:5]} of the qrels are missing")
    corpus = [
        # Only the title as metadata: the hash then depends on nothing but the data, so re-runs embed nothing.
        Document(id=str(r["_id"]), text=str(r.get("text", "")), metadata={"title": str(r.get("title") or "")})
        for r in _read_jsonl(folder / "corpus.jsonl")
        if str(r.get("text", "")).strip() or str(r.get("title", "")).strip()
    ]
    corpus = [d if d.text.strip() else replace(d, text=d.title, content_hash="") for d in corpus]
    queries = {q: all_queries[q] for q in qrels}
    return BeirData(name=folder.resolve().name, corpus=corpus, queries=queries, qrels=qrels)


def table_name(data: BeirData, embedder: EmbedderIdentity | None = None) -> str:
    """The BEIR set's own table: one per embedder other than the shipped one (suffixed with its weights' hash), so
    measuring a tuned embedder beside the default re-indexes neither twice and never meets the store's guard."""
    base = "beir_" + (re.sub(r"[^A-Za-z0-9_]", "_", data.name).lower() or "data")
    if embedder is None or embedder.name == DEFAULT_EMBEDDER.name:
        return base
    tag = embedder.fingerprint or hashlib.sha256(embedder.name.encode()).hexdigest()
    return f"{base}_{tag[:12]}"


# -- evaluation ----------------------------------------------------------------------------------------------------


def evaluate_retriever(
    retriever: Retriever,
    data: BeirData,
    modes: Sequence[str] = MODES,
    depth: int = 100,
) -> dict[str, RetrievalScores]:
    """Scores of each mode on `data` (documents ranked by their best chunk, `depth` documents per query)."""
    ids = list(data.queries)
    texts = [data.queries[q] for q in ids]
    out: dict[str, RetrievalScores] = {}
    for mode in modes:
        # A document may have several chunks: ask for enough chunks to fill `depth` distinct documents.
        hits = retriever.search_many(texts, k=3 * depth, mode=mode)
        runs = {q: documents_ranking(h, depth) for q, h in zip(ids, hits, strict=False)}
        out[mode] = score_runs(runs, data.qrels)
    return out


def prepare_store(
    data: BeirData, store: DocumentStore, embedder: Embedder, config: Config, *, progress: bool = True
) -> SyncReport:
    """Sync the corpus into `store` (incremental: an unchanged corpus embeds nothing)."""
    return sync_documents(data.corpus, store, embedder, config, prune=True, progress=progress)


def evaluate_beir(
    folder: str | Path,
    config: Config,
    embedder: Embedder,
    *,
    split: str = "test",
    modes: Sequence[str] = MODES,
    progress: bool = True,
) -> tuple[dict[str, RetrievalScores], SyncReport]:
    """Load a BEIR folder, index it in its own table of the configured store, and score every mode."""
    from ragtune.store import open_store

    data = load_beir(folder, split)
    eval_config = replace(config, store=replace(config.store, table=table_name(data, embedder.identity)))
    store = open_store(eval_config, embedder.identity)
    try:
        report = prepare_store(data, store, embedder, eval_config, progress=progress)
        # The plain modes without the levers, so that each lever is scored beside what it starts from.
        plain = replace(config.retrieval, reranker="", second_hop=False)
        scores = evaluate_retriever(Retriever(store, embedder, plain), data, modes)
        for name, lever in levers(config.retrieval).items():
            scores[name] = evaluate_retriever(Retriever(store, embedder, lever), data, ("hybrid",))["hybrid"]
        return scores, report
    finally:
        store.close()


def levers(retrieval: RetrievalConfig) -> dict[str, RetrievalConfig]:
    """The configured retrieval levers, each as a hybrid setting of its own, under its name in results:
    'hybrid+rerank' (retrieval.reranker), 'hybrid+hop' (retrieval.second_hop) and 'hybrid+hop+rerank' (both)."""
    plain = replace(retrieval, reranker="", second_hop=False)
    out: dict[str, RetrievalConfig] = {}
    if retrieval.reranker.strip():
        out[RERANK] = replace(plain, reranker=retrieval.reranker)
    if retrieval.second_hop:
        out["hybrid+hop"] = replace(plain, second_hop=True)
    if retrieval.reranker.strip() and retrieval.second_hop:
        out["hybrid+hop+rerank"] = retrieval
    return out


# -- question files: is the answer in the retrieved chunks? ---------------------------------------------------------


@dataclass(frozen=True)
class AnswerRecall:
    """Of the answerable questions whose answer is a span (not yes/no): the share with an answer in the top k
    chunks; of those that name their document (doc_id): the share with that document in the top k."""

    k: int
    answer_in_chunks: float
    questions: int
    doc_recall: float | None
    with_doc: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            f"answer_in_top{self.k}": self.answer_in_chunks,
            f"doc_recall@{self.k}": self.doc_recall,
            "questions": self.questions,
        }


def answer_recall(retriever: Retriever, questions: Sequence[Question], k: int, mode: str) -> AnswerRecall:
    from ragtune.text import contains_answer, is_decision

    asked = [q for q in questions if q.answerable and q.answers and not is_decision(q.answers)]
    if not asked:
        raise InputFileError("no answerable question with a span answer to score retrieval with")
    hits = retriever.search_many([q.question for q in asked], k=k, mode=mode)
    pairs = list(zip(asked, hits, strict=True))
    found = [any(contains_answer(h.chunk.text, a) for h in got for a in q.answers) for q, got in pairs]
    docs = [q.doc_id in {h.chunk.doc_id for h in got} for q, got in pairs if q.doc_id]
    return AnswerRecall(k, sum(found) / len(asked), len(asked), sum(docs) / len(docs) if docs else None, len(docs))


def evaluate_questions(
    path: str | Path, store: DocumentStore, embedder: Embedder, config: Config, k: int, modes: Sequence[str] = MODES
) -> dict[str, AnswerRecall]:
    """ "Answer in the retrieved chunks" of every mode and configured lever, over the store's documents."""
    questions = load_questions(path)
    plain = Retriever(store, embedder, replace(config.retrieval, reranker="", second_hop=False))
    out = {mode: answer_recall(plain, questions, k, mode) for mode in modes}
    for name, lever in levers(config.retrieval).items():
        out[name] = answer_recall(Retriever(store, embedder, lever), questions, k, "hybrid")
    return out
