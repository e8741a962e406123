""" "rag with a tuned retriever" in a comparison (`compare.tune_retriever`): the untuned model answering from the
same index as rag, with a reranker that ragtune trained on the comparison's own training questions reordering what
the hybrid search finds (`ragtune tune --kind reranker --data`, ragtune.rerank). Beside rag it shows whether
tuning the retriever is worth it on this corpus: answer in the sources, accuracy, training minutes and query
milliseconds, each against rag's.

Why a reranker and not a tuned embedder: a reranker leaves the index as it is, so the variant is measured on the
very chunks and vectors rag reads (an embedder would need a second index, and its gain would mix with the
re-index).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluate.metrics import PairedTest
from ragtune.evaluate.questions import Question
from ragtune.evaluate.results import StrategyResult, Training
from ragtune.evaluate.stages import StageCache, hash_inputs
from ragtune.evaluate.strategies import Strategy, StrategyContext
from ragtune.evaluate.strategy_measures import RetrievalMeasure
from ragtune.models.generator import Generator

if TYPE_CHECKING:
    from ragtune.config import Config
    from ragtune.rag import Answerer
    from ragtune.retrieve import Retriever

NAME = "rag-tuned-retriever"
# Fewer labelled questions than this and the reranker also learns from queries written from the corpus.
_MIN_LABELLED = 50
# Queries timed per retriever for the query-latency figure.
_TIMED_QUERIES = 50


class TunedRetrieverRag(Strategy):
    """rag, with the reranker of the train-retriever stage (`ctx.reranker`) reordering the hybrid search's top
    `retrieval.rerank_candidates` of whichever index `ctx.retriever` searches (before or after an update)."""

    name = NAME
    description = "the untuned model answering from sources a reranker trained on the training questions reorders"
    reads_sources = True
    adapter_kind = None

    def generator(self, ctx: StrategyContext) -> Generator:
        return ctx.generator()

    def answerer(self, ctx: StrategyContext) -> Answerer:
        from ragtune.rag import Answerer
        from ragtune.retrieve import Retriever

        if ctx.retriever is None or ctx.reranker is None:
            raise RuntimeError(f"strategy {self.name!r} needs the index and the train-retriever stage's reranker")
        base = ctx.retriever
        retrieval = dataclasses.replace(base.config, reranker=str(ctx.reranker))
        return Answerer(
            self.generator(ctx),
            ctx.config,
            retriever=Retriever(base.store, base.embedder, retrieval),
            embedder=ctx.embedder,
            calibration=ctx.calibration,
        )


def train_stage(
    cache: StageCache,
    config: Config,
    retriever: Retriever,
    train: Sequence[Question],
    index_key: str,
    *,
    progress: bool,
    announce: Callable[[str], None],
) -> dict[str, Any]:
    """The train-retriever stage: a reranker trained on the answerable training questions (topped up with queries
    from the corpus when they are few), hard negatives mined from the comparison's index. Its record holds the
    reranker's folder, the training seconds and the reranker's metrics."""
    from ragtune.rerank import TrainingQuery, corpus_queries, mine_examples, train_reranker

    tune = config.tune
    labelled = [q for q in train if q.answerable and q.answers]
    inputs = {
        "index": index_key,
        "questions": hash_inputs([(q.id, q.question, list(q.answers)) for q in labelled]),
        "reranker": {k: v for k, v in dataclasses.asdict(tune).items() if k.startswith("reranker_") or k == "seed"},
        "embedder": retriever.embedder.name,
    }
    announce(f"train-retriever: a reranker on {len(labelled)} training questions")

    def compute(folder: Path) -> dict[str, Any]:
        start = time.perf_counter()
        queries = [TrainingQuery(q.question, q.answers[0], "", q.doc_id, source="labelled") for q in labelled]
        chunks = retriever.store.chunks()
        if len(queries) < _MIN_LABELLED:
            queries += corpus_queries(chunks, _MIN_LABELLED * 4, tune.seed)
        plain = type(retriever)(
            retriever.store, retriever.embedder, dataclasses.replace(retriever.config, reranker="", second_hop=False)
        )
        examples = mine_examples(queries[: tune.reranker_queries], plain, chunks, tune.reranker_negatives, tune.seed)
        note = {"source": "the comparison's training questions", "labelled": len(labelled), "queries": len(queries)}
        result = train_reranker(examples, folder / "reranker", config, data_note=note, progress=progress)
        return {"folder": str(result.folder), "metrics": result.metrics, "seconds": time.perf_counter() - start}

    return cache.run("train-retriever", inputs, compute)


def training_of(record: dict[str, Any]) -> Training:
    folder = Path(record["folder"])
    mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6 if folder.is_dir() else 0.0
    return Training(float(record["seconds"]), str(folder), round(mb, 1), dict(record.get("metrics") or {}))


def measure_retrieval(retriever: Retriever, questions: Sequence[Question], k: int) -> RetrievalMeasure:
    """How often the answer is in the top `k` chunks (questions with a span answer) and the median query time."""
    from ragtune.errors import InputFileError
    from ragtune.evaluate.retrieval import answer_recall

    try:
        recall = answer_recall(retriever, questions, k, "hybrid")
        found: float | None = recall.answer_in_chunks
        asked = recall.questions
    except InputFileError:  # only yes/no questions: nothing to find in the text
        found, asked = None, 0
    times = []
    for q in list(questions)[:_TIMED_QUERIES]:
        start = time.perf_counter()
        retriever.search(q.question, k=k)
        times.append((time.perf_counter() - start) * 1000)
    return RetrievalMeasure(k, found, asked, round(statistics.median(times), 1) if times else 0.0)


def measure_pair(
    cache: StageCache, ctx: StrategyContext, questions: Sequence[Question], k: int
) -> dict[str, RetrievalMeasure]:
    """What rag's retriever and the variant's find and cost on the test questions (a cached stage, so a resumed
    comparison reports the same figures); {} when the variant is off."""
    from ragtune.retrieve import Retriever

    if ctx.retriever is None or ctx.reranker is None:
        return {}
    base = ctx.retriever
    inputs = {
        "reranker": str(ctx.reranker),
        "questions": hash_inputs([(q.id, q.question, list(q.answers)) for q in questions]),
        "retrieval": dataclasses.asdict(base.config),
        "k": k,
    }

    def compute(folder: Path) -> dict[str, Any]:
        plain = Retriever(base.store, base.embedder, dataclasses.replace(base.config, reranker=""))
        tuned = Retriever(base.store, base.embedder, dataclasses.replace(base.config, reranker=str(ctx.reranker)))
        measured = {"rag": measure_retrieval(plain, questions, k), NAME: measure_retrieval(tuned, questions, k)}
        return {"measures": {name: m.to_json() for name, m in measured.items()}}

    record = cache.run("retrieval-measure", inputs, compute)
    return {name: RetrievalMeasure.from_json(m) for name, m in record["measures"].items()}


def retriever_reason(results: Mapping[str, StrategyResult], paired: Sequence[PairedTest]) -> str:
    """Whether tuning the retriever was worth it here (a significant accuracy gain over rag), in one line; "" when
    the variant was not measured."""
    rag, tuned = results.get("rag"), results.get(NAME)
    if rag is None or tuned is None or rag.retrieval is None or tuned.retrieval is None:
        return ""
    test = next((t for t in paired if {t.a, t.b} == {"rag", NAME}), None)
    p_value = test.p_value if test is not None else None
    a, b = rag.accuracy.value, tuned.accuracy.value
    gain = b - a
    worth = gain > 0 and p_value is not None and p_value < 0.05
    found = ""
    if rag.retrieval.answer_in_sources is not None and tuned.retrieval.answer_in_sources is not None:
        found = (
            f"answer in the top {rag.retrieval.k} sources {rag.retrieval.answer_in_sources:.0%} -> "
            f"{tuned.retrieval.answer_in_sources:.0%}, "
        )
    p = f", paired p = {p_value:.2f}" if p_value is not None else ""
    return (
        f"tuning the retriever {'is' if worth else 'is not'} worth it on this corpus: {found}accuracy "
        f"{a:.2f} -> {b:.2f}{p}, for {tuned.train_seconds / 60:.1f} min of reranker training and "
        f"{tuned.retrieval.query_ms_p50:.0f} ms per query against {rag.retrieval.query_ms_p50:.0f} ms"
    )
