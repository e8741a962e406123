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

from ragtune.errors import RagtuneError
from ragtune.evaluate.compare_stages import dir_mb, questions_hash
from ragtune.evaluate.metrics import PairedTest
from ragtune.evaluate.questions import Question
from ragtune.evaluate.results import StrategyResult, Training
from ragtune.evaluate.stages import StageCache
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


def reranked(ctx: StrategyContext) -> Retriever:
    """The retriever of the variant: `ctx.retriever` (whichever index it searches, before or after an update) with
    the train-retriever stage's reranker."""
    from ragtune.retrieve import Retriever

    if ctx.retriever is None or ctx.reranker is None:
        raise RagtuneError(f"strategy {NAME!r} needs the index and the train-retriever stage's reranker")
    base = ctx.retriever
    return Retriever(base.store, base.embedder, dataclasses.replace(base.config, reranker=str(ctx.reranker)))


class TunedRetrieverRag(Strategy):
    """rag, with the reranker of the train-retriever stage (`ctx.reranker`) reordering the hybrid search's top
    `retrieval.rerank_candidates`."""

    name = NAME
    description = "the untuned model answering from sources a reranker trained on the training questions reorders"
    reads_sources = True
    adapter_kind = None

    def generator(self, ctx: StrategyContext) -> Generator:
        return ctx.generator()

    def answerer(self, ctx: StrategyContext) -> Answerer:
        from ragtune.rag import Answerer

        return Answerer(
            self.generator(ctx),
            ctx.config,
            retriever=reranked(ctx),
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
    from ragtune.rerank import corpus_queries, mine_examples, mining_retriever, question_queries, train_reranker

    tune = config.tune
    labelled = question_queries(train, tune.reranker_queries, tune.seed)
    inputs = {
        "index": index_key,
        "questions": questions_hash(train),
        "reranker": {k: v for k, v in dataclasses.asdict(tune).items() if k.startswith("reranker_") or k == "seed"},
        "embedder": retriever.embedder.name,
    }
    announce(f"train-retriever: a reranker on {len(labelled)} training questions")

    def compute(folder: Path) -> dict[str, Any]:
        start = time.perf_counter()
        chunks = retriever.store.chunks()
        queries = list(labelled)
        if len(queries) < _MIN_LABELLED:
            queries += corpus_queries(chunks, _MIN_LABELLED * 4, tune.seed)
        plain = mining_retriever(retriever.store, retriever.embedder, retriever.config)
        examples = mine_examples(queries, plain, chunks, tune.reranker_negatives, tune.seed)
        note = {"source": "the comparison's training questions", "labelled": len(labelled), "queries": len(queries)}
        result = train_reranker(examples, folder / "reranker", config, data_note=note, progress=progress)
        return {"folder": str(result.folder), "metrics": result.metrics, "seconds": time.perf_counter() - start}

    return cache.run("train-retriever", inputs, compute)


def training_of(record: dict[str, Any]) -> Training:
    folder = Path(record["folder"])
    return Training(float(record["seconds"]), str(folder), round(dir_mb(folder), 1), dict(record.get("metrics") or {}))


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
    """What rag's retriever (the one it answered with) and the variant's find and cost on the test questions (a
    cached stage, so a resumed comparison reports the same figures); {} when the variant is off."""
    if ctx.retriever is None or ctx.reranker is None:
        return {}
    inputs = {
        "reranker": str(ctx.reranker),
        "questions": questions_hash(questions),
        "retrieval": dataclasses.asdict(ctx.retriever.config),
        "k": k,
    }

    def compute(folder: Path) -> dict[str, Any]:
        assert ctx.retriever is not None
        measured = {
            "rag": measure_retrieval(ctx.retriever, questions, k),
            NAME: measure_retrieval(reranked(ctx), questions, k),
        }
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
