"""The comparison: build every strategy on the user's data, measure them side by side, recommend one, report.

Stages, each cached by a hash of its inputs (see stages.py), so a re-run after a crash continues where it stopped:

1. index      load the documents, chunk, embed and store them (timed: the index build cost)
2. data       training files from the training questions: closed-book QA pairs (with paraphrases) at 25/50/100%
              of the questions for the learning curve, and RAFT examples (question + oracle and distractor
              chunks -> cited answer) for the hybrid
3. plan       epochs, sequence lengths and example counts that fit the time budget (planner.py)
4. train-*    LoRA adapters: finetune (and its learning-curve shares) and hybrid (RAFT)
5. answers-*  every strategy answers the test questions through the same batched Answerer
6. update     documents v2 synced into a copy of the index (timed), changed-fact questions asked again
7. probe-*    the general-knowledge probe, closed-book, for the base and the tuned models (forgetting)
Then metrics with bootstrap intervals and paired tests, the advisor, and the report.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
import resource
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragtune import __version__
from ragtune.calibration import Calibration
from ragtune.config import Config, describe
from ragtune.corpus.document import Document
from ragtune.errors import InputFileError, RagtuneError
from ragtune.evaluate import metrics as M
from ragtune.evaluate.advisor import StrategyMeasures, recommend
from ragtune.evaluate.planner import JobSpec, Plan, PlannedJob, default_speed, plan_training
from ragtune.evaluate.questions import Question, QuestionSet, is_squad_file, load_questions, split_questions
from ragtune.evaluate.report import summary_paragraph, write_report
from ragtune.evaluate.stages import StageCache, hash_inputs
from ragtune.evaluate.strategies import Strategy, StrategyContext, builtin_strategies
from ragtune.models.embedder import Embedder
from ragtune.workspace import Workspace

QUICK = {
    "max_test": 30,
    "max_unanswerable": 8,
    "max_changed": 10,
    "max_probe": 10,
    "latency_sample": 2,
    "max_calibration": 30,
}


@dataclass(frozen=True)
class CompareRequest:
    """What to compare on: documents (folders/files), questions, optionally updated documents and a probe."""

    docs: tuple[Path, ...]
    questions: Path
    updated_docs: tuple[Path, ...] = ()
    general_probe: Path | None = None
    quick: bool = False
    label: str = ""  # how the report names the data, e.g. "the bundled sample"
    synthesized: Mapping[str, Any] | None = None  # `ragtune synth`'s summary when the questions were synthesized


@dataclass(frozen=True)
class ComparisonOutcome:
    results: dict[str, Any]
    paths: dict[str, Path]
    summary: str


def sample_request(quick: bool = False) -> CompareRequest:
    """The bundled sample knowledge base (what `ragtune compare` with no arguments runs)."""
    from ragtune.samples import sample

    s = sample()
    return CompareRequest(
        docs=(s.docs_v1,),
        questions=s.questions,
        updated_docs=(s.docs_v2,),
        general_probe=s.general_probe,
        quick=quick,
        label="the bundled sample",
    )


# ---------------------------------------------------------------------------------------------------- helpers


def _with_workspace(config: Config, folder: Path, table_tag: str = "") -> Config:
    """A copy of `config` whose workspace (so its LanceDB store) is `folder`; pgvector gets its own table."""
    cfg = dataclasses.replace(config, workspace=str(folder))
    if table_tag and config.store.backend != "lancedb":
        cfg.store = dataclasses.replace(config.store, table=f"{config.store.table}_{table_tag}")
    return cfg


def _dir_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def _peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes on macOS, kilobytes on Linux


def _questions_hash(questions: Sequence[Question]) -> str:
    return hash_inputs([dataclasses.asdict(q) | {"line": 0} for q in questions])


def _docs_hash(docs: Sequence[Document]) -> str:
    return hash_inputs(sorted((d.id, d.content_hash) for d in docs))


# Below this many test questions a 95% interval on accuracy is wider than +-0.18 (n = 30 at p = 0.5).
_FEW_TEST_QUESTIONS = 30


def load_documents(paths: Sequence[Path], config: Config, warn: Callable[[str], None] | None = None) -> list[Document]:
    """Documents from folders/files (as the knowledge base reads them) or from a SQuAD JSON's contexts. Files that
    cannot be read fail the run only when nothing could be read; otherwise each is passed to `warn` and skipped."""
    from ragtune.corpus.loaders import load_paths
    from ragtune.evaluate.questions import squad_documents

    docs: list[Document] = []
    plain: list[Path] = []
    for p in paths:
        if is_squad_file(p):
            docs.extend(squad_documents(p))
        else:
            plain.append(p)
    for root in plain:
        # Ids relative to the folder given, so version 2 of a folder (another path, the same file names) updates
        # the same documents instead of replacing every one of them.
        base = root if root.is_dir() else root.parent
        result = load_paths([root], config.corpus, root=base)
        if result.failures and not result.documents:
            raise InputFileError("no document could be read: " + "; ".join(str(f) for f in result.failures[:5]))
        for failure in result.failures:
            if warn is not None:
                warn(f"[warning] skipped {failure}")
        docs.extend(result.documents)
    if not docs:
        raise InputFileError(f"no documents found in {', '.join(str(p) for p in paths)}")
    return docs


def _seeded_subset(items: Sequence[Question], n: int, seed: int) -> list[Question]:
    if n <= 0 or len(items) <= n:
        return list(items)
    order = sorted(items, key=lambda q: hashlib.sha256(f"{seed}\x00{q.id}".encode()).hexdigest())
    keep = {q.id for q in order[:n]}
    return [q for q in items if q.id in keep]


@dataclass
class _Answered:
    """One strategy's answers to one list of questions, as stored in a stage result."""

    records: list[dict[str, Any]]
    seconds: float
    latencies: list[float] = field(default_factory=list)


def _answer_record(answer: Any) -> dict[str, Any]:
    """What the metrics need of an answer. Support is the calibrated support model's verdict (`ragtune.citations`:
    a sentence is attributed to a source only when a source clears its fitted threshold), never a fixed cut on its
    probability: fitted where few sentence-source pairs are positive, that probability seldom reaches 0.5 even for
    a sentence copied word for word, so a cut at 0.5 counted nearly every sourced answer as unsupported."""
    sentences = list(getattr(answer, "sentences", ()) or ())
    kept = [s for s in sentences if getattr(s, "cited", False)]  # the cited source supports the sentence
    # Citations apply to the answer's sentences; attribution keeps one only where the cited source supports it.
    citations = tuple(getattr(answer, "citations", ()) or ())
    cited_sentences = len(sentences) if citations else len(kept)
    supports = [float(s.support) for s in sentences if getattr(s, "support", None) is not None]
    support = getattr(answer, "support", None)
    if support is None:
        support = min(supports) if supports else None
    attributed = [getattr(s, "source_number", None) is not None for s in sentences]
    timings = dict(getattr(answer, "timings", {}) or {})
    signals = getattr(answer, "signals", {}) or {}
    return {
        "text": answer.text,
        "refused": bool(answer.refused),
        # Why a refusal happened ("not_relevant", "unsupported", "model_refused", "no_sources") and the calibrated
        # probability that the sources answer the question: what one reads to see which refusals cost accuracy.
        "refusal_reason": (getattr(answer, "refusal_reason", "") or None) if answer.refused else None,
        "p_answerable": float(signals["answerable"]) if "answerable" in signals else None,
        "sources": [s.doc_id for s in getattr(answer, "sources", ())],
        "cited": bool(citations or kept),
        "cited_supported": len(kept),
        "cited_sentences": cited_sentences,
        "supported": all(attributed) if attributed and getattr(answer, "sources", None) else None,
        "support": None if support is None else float(support),
        "tokens_in": int(getattr(answer, "tokens_in", 0) or 0),
        "tokens_out": int(getattr(answer, "tokens_out", 0) or 0),
        "total_s": float(timings.get("total_s", math.nan)),
    }


def _answer(
    strategy: Strategy, ctx: StrategyContext, questions: Sequence[Question], latency_sample: int, progress: bool
) -> dict[str, Any]:
    start = time.perf_counter()
    answers, unrefused = strategy.answer_many_unrefused(ctx, [q.question for q in questions], progress=progress)
    batched = time.perf_counter() - start
    latencies: list[float] = []
    if latency_sample > 0 and questions:
        # Per-question latency as a user sees it: one question at a time, not a share of a batch.
        answerer = strategy.answerer(ctx)
        for q in questions[:latency_sample]:
            t = time.perf_counter()
            answerer.answer(q.question)
            latencies.append(time.perf_counter() - t)
    records = [
        # `unrefused`: what a refused answer said before it was refused (the refusal itself where nothing was said).
        {"id": q.id, **_answer_record(a), **({"unrefused": d.text} if a.refused else {})}
        for q, a, d in zip(questions, answers, unrefused, strict=True)
    ]
    return {"records": records, "batched_seconds": batched, "latencies": latencies}


# ------------------------------------------------------------------------------------------------- metrics


def _is_hallucination(rec: Mapping[str, Any], q: Question, correct: bool, reads_sources: bool) -> bool:
    if rec["refused"]:
        return False
    if not q.answerable:
        return True  # answered what the documents cannot answer
    unsupported = reads_sources and rec.get("supported") is False  # no source backs some sentence of it
    return (not correct) or unsupported


def score_answers(
    records: Sequence[Mapping[str, Any]],
    questions: Sequence[Question],
    *,
    reads_sources: bool,
    embedder: Embedder | None,
    resamples: int,
    seed: int,
    updated: bool = False,
) -> dict[str, Any]:
    """Per-strategy metrics with intervals, plus the per-question vectors the paired tests need."""
    by_id = {q.id: q for q in questions}
    qs = [by_id[r["id"]] for r in records]
    answerable = [(r, q) for r, q in zip(records, qs, strict=True) if q.answerable]
    correct = [M.answer_correct(r["text"], q.gold(updated)) for r, q in answerable]
    correct_unrefused = [M.answer_correct(r.get("unrefused", r["text"]), q.gold(updated)) for r, q in answerable]
    em = [M.exact_match(r["text"], q.gold(updated)) for r, q in answerable]
    f1 = [M.token_f1(r["text"], q.gold(updated)) for r, q in answerable]
    sem: list[float] = []
    if embedder is not None and answerable:
        preds = embedder.embed_queries([r["text"] or " " for r, _ in answerable])
        golds = [embedder.embed_queries(list(q.gold(updated))) for _, q in answerable]
        sem = M.cosine_best(preds, golds)
    correct_by_id = {r["id"]: c for (r, _), c in zip(answerable, correct, strict=True)}
    halluc = [
        _is_hallucination(r, q, correct_by_id.get(r["id"], False), reads_sources)
        for r, q in zip(records, qs, strict=True)
    ]
    refusals = M.refusal_scores([r["refused"] for r in records], [q.answerable for q in qs])
    answered = [r for r in records if not r["refused"]]
    cites = [r["cited"] for r in answered]
    cite_prec = [r["cited_supported"] / r["cited_sentences"] for r in answered if r["cited_sentences"]]

    def ci(values: Sequence[float] | Sequence[bool]) -> dict[str, Any]:
        return M.bootstrap_ci(values, resamples=resamples, seed=seed).as_dict()

    return {
        "accuracy": ci(correct),
        # The same answers had nothing been refused: the accuracy that refusal trades for catching unanswerable ones.
        "accuracy_refusal_off": ci(correct_unrefused),
        "exact_match": ci(em),
        "token_f1": ci(f1),
        "semantic_similarity": ci(sem) if sem else None,
        "hallucination": ci(halluc),
        "refusal_recall": refusals.recall,
        "refusal_precision": refusals.precision,
        "refusals": refusals.refusals,
        "answerable_refused": refusals.answerable_refused,
        "refusal_reasons": dict(Counter(str(r.get("refusal_reason") or "unknown") for r in records if r["refused"])),
        "citation_rate": ci(cites) if reads_sources else ci([False] * len(answered)),
        "citation_precision": ci(cite_prec) if cite_prec else None,
        "tokens_per_answer": float(np.mean([r["tokens_out"] for r in records])) if records else math.nan,
        "tokens_in_per_answer": float(np.mean([r["tokens_in"] for r in records])) if records else math.nan,
        "_correct": {r["id"]: c for (r, _), c in zip(answerable, correct, strict=True)},
    }


def _freshness_scores(
    records: Sequence[Mapping[str, Any]], questions: Sequence[Question], resamples: int, seed: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(new value given, old value given, new value given had nothing been refused) on the changed facts."""
    by_id = {q.id: q for q in questions}
    new = [M.answer_correct(r["text"], by_id[r["id"]].answers_v2) for r in records]
    old = [M.answer_correct(r["text"], by_id[r["id"]].answers) for r in records]
    unrefused = [M.answer_correct(r.get("unrefused", r["text"]), by_id[r["id"]].answers_v2) for r in records]
    return (
        M.bootstrap_ci(new, resamples=resamples, seed=seed).as_dict(),
        M.bootstrap_ci(old, resamples=resamples, seed=seed).as_dict(),
        M.bootstrap_ci(unrefused, resamples=resamples, seed=seed).as_dict(),
    )


# ---------------------------------------------------------------------------------------------- the experiment


class Comparison:
    """One comparison run. `run()` does the stages in order; each is cached under the workspace's runs/."""

    def __init__(
        self,
        request: CompareRequest,
        config: Config,
        *,
        strategies: Sequence[Strategy] | None = None,
        progress: bool = True,
        echo: Callable[[str], None] = print,
        embedder: Embedder | None = None,
    ) -> None:
        self.request = request
        self.config = config
        self.strategies = list(strategies) if strategies is not None else builtin_strategies()
        names = [s.name for s in self.strategies]
        if len(set(names)) != len(names):
            raise RagtuneError(f"strategy names must be unique, got {names}")
        self.progress = progress
        self.echo = echo
        self.workspace = Workspace(config.workspace_path).ensure()
        self.cache = StageCache(self.workspace.runs_dir)
        self._embedder = embedder
        self.seed = config.compare.seed

    # -- shared resources -------------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from ragtune.models.loader import load_embedder

            self._embedder = load_embedder(self.config.models)
        return self._embedder

    def _model_identity(self) -> dict[str, Any]:
        from ragtune.models.registry import resolve_generator

        if self.config.models.generator_backend == "transformers":
            files = resolve_generator(self.config.models)
            gen = {"name": files.name, "fingerprint": files.fingerprint}
        else:
            gen = {"name": self.config.models.openai_model, "url": self.config.models.openai_base_url}
        return {"generator": gen, "embedder": self.embedder.name, "dtype": self.config.models.dtype}

    def _retriever(self, folder: Path, tag: str) -> Any:
        from ragtune.retrieve import Retriever
        from ragtune.store import open_store

        store = open_store(_with_workspace(self.config, folder, tag), self.embedder.dim)
        return Retriever(store, self.embedder, self.config.retrieval)

    def _stage(self, title: str) -> None:
        self.echo(f"[stage] {title}")

    # -- stages -----------------------------------------------------------------------------------------------

    def _index(self, docs: Sequence[Document], docs_hash: str) -> tuple[dict[str, Any], Path]:
        from ragtune.store import open_store
        from ragtune.store.sync import sync_documents

        inputs = {
            "docs": docs_hash,
            "corpus": describe(self.config)["corpus"],
            "store": {k: v for k, v in describe(self.config)["store"].items() if k != "pg_dsn"},
            "embedder": self.embedder.name,
        }

        def compute(folder: Path) -> dict[str, Any]:
            tag = folder.name[-8:]
            store = open_store(_with_workspace(self.config, folder, tag), self.embedder.dim)
            try:
                report = sync_documents(
                    list(docs), store, self.embedder, _with_workspace(self.config, folder, tag), progress=self.progress
                )
                chunks = store.count()
            finally:
                store.close()
            return {
                "seconds": report.seconds,
                "documents": len(docs),
                "chunks": chunks,
                "index_mb": _dir_mb(folder / "store"),
                "failed": [str(f) for f in report.failed],
            }

        self._stage(f"index: {len(docs)} documents")
        result = self.cache.run("index", inputs, compute)
        return result, self.cache.folder("index", inputs)

    def _update(self, index_folder: Path, index_key: str, docs_v2: Sequence[Document]) -> tuple[dict[str, Any], Path]:
        from ragtune.store import open_store
        from ragtune.store.sync import sync_documents

        inputs = {"index": index_key, "docs_v2": _docs_hash(docs_v2)}

        def compute(folder: Path) -> dict[str, Any]:
            tag = folder.name[-8:]
            cfg = _with_workspace(self.config, folder, tag)
            if self.config.store.backend == "lancedb":
                # A copy of the v1 index, so v1 answers stay reproducible and the timed sync is only the update.
                if (folder / "store").exists():
                    shutil.rmtree(folder / "store")
                shutil.copytree(index_folder / "store", folder / "store")
            else:
                v1 = load_documents(self.request.docs, self.config)  # warned about when first loaded
                seed_store = open_store(cfg, self.embedder.dim)
                sync_documents(v1, seed_store, self.embedder, cfg, progress=self.progress)
                seed_store.close()
            store = open_store(cfg, self.embedder.dim)
            try:
                start = time.perf_counter()
                report = sync_documents(list(docs_v2), store, self.embedder, cfg, prune=True, progress=self.progress)
                seconds = time.perf_counter() - start
            finally:
                store.close()
            return {
                "seconds": seconds,
                "sync": {
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "removed": report.removed,
                },
            }

        self._stage(f"update: sync {len(docs_v2)} updated documents")
        return self.cache.run("update", inputs, compute), self.cache.folder("update", inputs)

    def _training_data(
        self, qset: QuestionSet, index_folder: Path, index_key: str, shares: Sequence[float]
    ) -> dict[str, Any]:
        from ragtune.tune import data as tdata

        train = [q for q in qset.train if q.answerable]
        # A quick run cannot afford paraphrase copies: one pass over the plain pairs teaches more per second.
        paraphrases = 0 if self.request.quick else self.config.tune.paraphrases
        inputs = {
            "paraphrases": paraphrases,
            "train": _questions_hash(qset.train),
            "index": index_key,
            "shares": list(shares),
            "tune": {k: v for k, v in describe(self.config)["tune"].items() if k.startswith(("raft", "parap", "seed"))},
            "rag": describe(self.config)["rag"],
            "retrieval": describe(self.config)["retrieval"],
            "seed": self.seed,
        }

        def compute(folder: Path) -> dict[str, Any]:
            rng = random.Random(self.seed)
            order = list(train)
            rng.shuffle(order)
            pairs = [tdata.QAPair(q.question, q.answers[0], q.fact_id or q.id) for q in order]
            files: dict[str, str] = {}
            counts: dict[str, int] = {}
            for share in shares:
                subset = pairs[: max(1, round(len(pairs) * share))]
                paraphrased = tdata.paraphrase_pairs(subset, paraphrases, seed=self.seed)
                examples = tdata.qa_examples(subset) + tdata.qa_examples(paraphrased, origin="paraphrase")
                name = f"finetune-{round(share * 100)}"
                files[name] = str(tdata.write_jsonl(examples, folder / f"{name}.jsonl"))
                counts[name] = len(examples)
            # RAFT: each training question with the chunk that holds its answer (the oracle) among retrieved
            # distractors, as the hybrid strategy will see it at answer time.
            retriever = self._retriever(index_folder, index_key[-8:])
            try:
                tune = dataclasses.replace(self.config.tune, seed=self.seed)
                raft = tdata.raft_from_retriever(pairs, retriever, tune, refusal_text=self.config.rag.refusal_text)
            finally:
                retriever.store.close()
            files["hybrid"] = str(tdata.write_jsonl(raft, folder / "hybrid.jsonl"))
            counts["hybrid"] = len(raft)
            return {"files": files, "examples": counts, "train_questions": len(order)}

        self._stage(f"training data from {len(train)} training questions")
        return self.cache.run("data", inputs, compute)

    def _lengths(self, path: Path) -> list[int]:
        """Tokens of each training example as the trainer will see it (prompt + answer, chat template)."""
        from transformers import AutoTokenizer

        from ragtune.models.chat import render_training_pair
        from ragtune.models.generator import Message
        from ragtune.models.registry import resolve_generator

        tok = AutoTokenizer.from_pretrained(str(resolve_generator(self.config.models).folder))
        lengths = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            msgs = [Message(m["role"], m["content"]) for m in json.loads(line)["messages"]]
            prompt, completion = render_training_pair(tok, msgs)
            lengths.append(len(tok(prompt + completion, add_special_tokens=False)["input_ids"]))
        return lengths

    def _plan(self, data: Mapping[str, Any], budget_s: float, with_curve: bool) -> Plan:
        files = data["files"]
        device = self.config.models.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        tps, step_s = default_speed(device)
        tps = self.config.compare.train_tokens_per_s or tps
        tune = self.config.tune
        ft_names = [n for n in files if n.startswith("finetune-") and (with_curve or n == "finetune-100")]
        ft_specs = [
            JobSpec(n, "finetune", tuple(self._lengths(Path(files[n]))), tune.epochs, tune.max_seq_len, tune.batch_size)
            for n in sorted(ft_names, key=lambda n: -int(n.split("-")[1]))
        ]
        raft_cap = max(tune.max_seq_len, 1024)  # RAFT prompts carry sources: cutting them cuts the evidence
        hybrid = JobSpec(
            "hybrid", "hybrid", tuple(self._lengths(Path(files["hybrid"]))), tune.epochs, raft_cap, tune.batch_size
        )
        return plan_training(
            ft_specs,
            hybrid,
            budget_seconds=budget_s,
            tokens_per_s=tps,
            step_seconds=step_s,
            hybrid_share=self.config.compare.hybrid_share,
        )

    def _train(self, job: PlannedJob, data_file: Path, data_key: str) -> tuple[dict[str, Any], Path]:
        from ragtune.models.adapters import MANIFEST_NAME, read_manifest
        from ragtune.tune.train import CHECKPOINTS, RUN_STATE, train_adapter

        tune = dataclasses.replace(
            self.config.tune, epochs=job.epochs, max_seq_len=job.max_seq_len, eval_share=0.0, seed=self.seed
        )
        inputs = {
            "job": dataclasses.asdict(job) | {"planned_seconds": 0},
            "data": data_key,
            "file": data_file.name,
            "tune": dataclasses.asdict(tune),
            "model": self._model_identity(),
        }

        def compute(folder: Path) -> dict[str, Any]:
            train_file = data_file
            if job.examples < job.available:
                lines = [x for x in data_file.read_text(encoding="utf-8").splitlines() if x.strip()]
                train_file = folder / "train.jsonl"
                train_file.write_text("\n".join(lines[: job.examples]) + "\n", encoding="utf-8")
            cfg = dataclasses.replace(self.config, tune=tune)
            out = folder / "adapter"
            start = time.perf_counter()
            if (out / MANIFEST_NAME).is_file():  # finished before a crash took the stage's result with it
                metrics_in: Mapping[str, Any] = read_manifest(out).metrics
            else:
                resume = (out / CHECKPOINTS / RUN_STATE).is_file()
                if out.exists() and not resume:
                    shutil.rmtree(out)  # killed before its first checkpoint: nothing to continue from
                result = train_adapter(train_file, out, cfg, kind=job.kind, resume=resume, progress=self.progress)
                metrics_in = result.metrics
            seconds = time.perf_counter() - start
            metrics = {k: v for k, v in dict(metrics_in).items() if isinstance(v, (int, float, str))}
            return {
                "seconds": seconds,
                "adapter": str(out),
                "adapter_mb": _dir_mb(out),
                "metrics": metrics,
            }

        self._stage(f"train {job.name}: {job.examples} examples x {job.epochs:g} epochs (max {job.max_seq_len} tokens)")
        return self.cache.run(f"train-{job.name}", inputs, compute), self.cache.folder(f"train-{job.name}", inputs)

    def _answers(
        self,
        strategy: Strategy,
        ctx: StrategyContext,
        questions: Sequence[Question],
        what: str,
        upstream: Mapping[str, Any],
        latency_sample: int = 0,
    ) -> dict[str, Any]:
        inputs = {
            "strategy": {"name": strategy.name, "class": type(strategy).__qualname__, "about": strategy.description},
            "questions": _questions_hash(questions),
            "upstream": dict(upstream),
            "generation": describe(self.config)["generation"],
            "rag": describe(self.config)["rag"],
            "retrieval": describe(self.config)["retrieval"] if strategy.reads_sources else None,
            "model": self._model_identity(),
            "latency_sample": latency_sample,
        }
        self._stage(f"{strategy.name}: {what} ({len(questions)} questions)")
        return self.cache.run(
            f"answers-{strategy.name}-{what}",
            inputs,
            lambda folder: _answer(strategy, ctx, questions, latency_sample, self.progress),
        )

    def _calibrate(
        self, ctx: StrategyContext, train: Sequence[Question], upstream: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Refusal fitted on the training questions, answered by the untuned model from sources with refusal off.

        Why: the packaged calibration was fitted on SQuAD, and where to cut depends on the documents and the
        questions. Why optional (compare.calibrate): a fit on training questions carries over only as far as the
        test questions resemble them; the bundled sample's are reworded on purpose, and its fit refuses half of
        them. The fit is the rag strategy's; the hybrid answers from the same sources and uses it too.
        """
        from ragtune.calibration import CalibrationError, LabelledQuestion
        from ragtune.evaluate.strategies import RagStrategy
        from ragtune.rag import calibrate

        answerable = [q for q in train if q.answerable]
        unanswerable = [q for q in train if not q.answerable]
        if self.request.quick:
            answerable = _seeded_subset(answerable, QUICK["max_calibration"], self.seed)
        questions = answerable + unanswerable
        inputs = {
            "questions": _questions_hash(questions),
            "upstream": dict(upstream),
            "rag": describe(self.config)["rag"],
            "retrieval": describe(self.config)["retrieval"],
            "model": self._model_identity(),
        }

        def compute(folder: Path) -> dict[str, Any]:
            labelled = [LabelledQuestion(q.id, q.question, tuple(q.answers), q.answerable) for q in questions]
            try:
                fitted, _ = calibrate(RagStrategy().answerer(ctx), labelled, progress=self.progress)
            except CalibrationError as e:
                return {"calibration": None, "questions": len(questions), "note": f"default calibration kept: {e}"}
            note = f"fitted on {len(answerable)} answerable and {len(unanswerable)} unanswerable training questions"
            return {"calibration": fitted.to_json(), "questions": len(questions), "note": note}

        self._stage(f"calibrate refusal on {len(questions)} training questions")
        return self.cache.run("calibrate", inputs, compute)

    # -- the run ----------------------------------------------------------------------------------------------

    def run(self, out_dir: Path | None = None) -> ComparisonOutcome:
        t_start = time.perf_counter()
        cfg = self.config
        quick = self.request.quick
        resamples = cfg.compare.bootstrap
        all_questions = load_questions(self.request.questions)
        qset = split_questions(
            all_questions,
            test_share=cfg.compare.test_share,
            max_questions=cfg.compare.max_questions,
            seed=self.seed,
            source=str(self.request.questions),
        )
        if not [q for q in qset.train if q.answerable]:
            raise InputFileError(f"{self.request.questions}: no answerable training questions to fine-tune on")
        # Changed-fact questions are the freshness test's own set, asked before and after the update.
        test = [q for q in qset.test if q.answerable and not q.changed]
        unanswerable = [q for q in qset.test if not q.answerable]
        max_test = cfg.compare.max_test_questions or (QUICK["max_test"] if quick else 0)
        test = _seeded_subset(test, max_test, self.seed)
        if quick:
            unanswerable = _seeded_subset(unanswerable, QUICK["max_unanswerable"], self.seed)
        if not test:
            raise InputFileError(f"{self.request.questions}: no answerable test questions")
        if len(test) < _FEW_TEST_QUESTIONS:
            self.echo(
                f"[warning] only {len(test)} answerable test questions: accuracy differences between strategies "
                f"are unlikely to be significant; {_FEW_TEST_QUESTIONS} or more give usable confidence intervals"
            )
        eval_questions = test + unanswerable
        changed = list(qset.changed)
        if quick:
            changed = _seeded_subset(changed, QUICK["max_changed"], self.seed)
        latency_sample = QUICK["latency_sample"] if quick else cfg.compare.latency_sample

        docs = load_documents(self.request.docs, cfg, warn=self.echo)
        docs_hash = _docs_hash(docs)
        index, index_folder = self._index(docs, docs_hash)
        index_key = index_folder.name

        with_curve = not quick and len(cfg.compare.learning_curve) > 1
        shares = sorted({float(s) for s in cfg.compare.learning_curve} | {1.0}) if with_curve else [1.0]
        data = self._training_data(qset, index_folder, index_key, shares)
        budget_s = (cfg.compare.quick_time_budget_min if quick else cfg.compare.time_budget_min) * 60
        plan = self._plan(data, budget_s, with_curve)
        self.echo(f"[plan] {plan.note}")
        data_key = hash_inputs(data["files"] | {"examples": data["examples"]})

        trained: dict[str, dict[str, Any]] = {}
        adapters: dict[str, Path] = {}
        for job in plan.jobs:
            res, _ = self._train(job, Path(data["files"][job.name]), data_key)
            trained[job.name] = res
        adapters["finetune"] = Path(trained["finetune-100"]["adapter"])
        adapters["hybrid"] = Path(trained["hybrid"]["adapter"])

        ctx = StrategyContext(config=cfg, embedder=self.embedder, adapters=adapters)
        ctx.retriever = self._retriever(index_folder, index_key[-8:])
        calibration: dict[str, Any] = {"note": "off (compare.calibrate = false): default calibration"}
        if cfg.compare.calibrate and any(s.reads_sources for s in self.strategies):
            calibration = self._calibrate(ctx, qset.train, {"index": index_key})
            if calibration["calibration"] is not None:
                ctx.calibration = Calibration.from_json(calibration["calibration"], "the calibrate stage")
        self.echo(f"[calibration] {calibration['note']}")
        calibration_key = hash_inputs(calibration.get("calibration"))
        upstream_for = {
            s.name: {
                "index": index_key if s.reads_sources else None,
                "calibration": calibration_key if s.reads_sources else None,
                "adapter": trained[{"finetune": "finetune-100", "hybrid": "hybrid"}[s.adapter_kind]]["adapter"]
                if s.adapter_kind
                else None,
            }
            for s in self.strategies
        }

        # Strategy by strategy, so that a tuned model is loaded once for both question sets (one tuned model stays
        # in memory at a time); the last one loaded also answers the changed facts after the update.
        answers: dict[str, dict[str, Any]] = {}
        before: dict[str, dict[str, Any]] = {}
        for s in self.strategies:
            answers[s.name] = self._answers(s, ctx, eval_questions, "test", upstream_for[s.name], latency_sample)
            if changed and self.request.updated_docs:
                before[s.name] = self._answers(s, ctx, changed, "changed-v1", upstream_for[s.name])

        # Learning curve: the 100% point is the finetune strategy itself.
        curve_points: list[dict[str, Any]] = []
        ft = next((s for s in self.strategies if s.adapter_kind == "finetune"), None)
        if with_curve and ft is not None:
            for job in plan.jobs:
                if job.kind != "finetune" or job.name == "finetune-100":
                    continue
                sub_ctx = StrategyContext(
                    config=cfg, embedder=self.embedder, adapters={"finetune": Path(trained[job.name]["adapter"])}
                )
                res = self._answers(ft, sub_ctx, test, f"curve-{job.name}", {"adapter": trained[job.name]["adapter"]})
                sub_ctx.release()
                curve_points.append({"job": job.name, "res": res})

        # Freshness: documents v2 into a copy of the index, then the changed-fact questions again.
        update: dict[str, Any] | None = None
        after: dict[str, dict[str, Any]] = {}
        if changed and self.request.updated_docs:
            docs_v2 = load_documents(self.request.updated_docs, cfg, warn=self.echo)
            update, update_folder = self._update(index_folder, index_key, docs_v2)
            ctx.retriever = self._retriever(update_folder, update_folder.name[-8:])
            for s in self.strategies:
                if s.reads_sources:
                    up = dict(upstream_for[s.name]) | {"index": update_folder.name}
                    after[s.name] = self._answers(s, ctx, changed, "changed-v2", up)
                else:
                    after[s.name] = before[s.name]  # a closed-book model knows what it was trained on until retrained

        # Forgetting: the general probe, closed-book, base model against the tuned ones.
        probe_results: dict[str, dict[str, Any]] = {}
        probe_questions: list[Question] = []
        if self.request.general_probe is not None:
            from ragtune.evaluate.strategies import BaseStrategy, FinetuneStrategy

            probe_questions = load_questions(self.request.general_probe)
            if quick:
                probe_questions = _seeded_subset(probe_questions, QUICK["max_probe"], self.seed)
            probe_models: list[tuple[str, Strategy, StrategyContext, Path | None]] = [
                ("base", BaseStrategy(), ctx, None)
            ]
            for name in ("finetune", "hybrid"):
                if name in adapters and any(s.adapter_kind == name for s in self.strategies):
                    # Closed-book with the adapter: what the tuned weights still know without any sources.
                    probe_models.append(
                        (
                            name,
                            FinetuneStrategy(),
                            StrategyContext(cfg, self.embedder, adapters={"finetune": adapters[name]}),
                            adapters[name],
                        )
                    )
            for name, strat, sctx, adapter in probe_models:
                probe_results[name] = self._answers(
                    strat, sctx, probe_questions, f"probe-as-{name}", {"adapter": str(adapter) if adapter else None}
                )
        ctx.release()

        # ---- metrics ----
        strategies_out: dict[str, dict[str, Any]] = {}
        correct_vectors: dict[str, list[bool]] = {}
        test_ids = [q.id for q in test]
        for s in self.strategies:
            res = answers[s.name]
            scores = score_answers(
                res["records"],
                eval_questions,
                reads_sources=s.reads_sources,
                embedder=self.embedder,
                resamples=resamples,
                seed=self.seed,
            )
            correct_vectors[s.name] = [scores["_correct"][i] for i in test_ids]
            del scores["_correct"]
            if cfg.compare.judge_url:
                from ragtune.evaluate.judge import Judge, JudgeItem

                judge = Judge(cfg.compare.judge_url, cfg.compare.judge_model, timeout_s=cfg.models.request_timeout_s)
                by_id = {r["id"]: r for r in res["records"]}
                grades = judge.grade([JudgeItem(q.question, q.answers, by_id[q.id]["text"]) for q in test])
                scores["judge_accuracy"] = M.bootstrap_ci(grades, resamples=resamples, seed=self.seed).as_dict()
            lat = res["latencies"]
            entry: dict[str, Any] = {
                "description": s.description,
                "reads_sources": s.reads_sources,
                **scores,
                "latency_p50_s": M.percentile(lat, 50),
                "latency_p95_s": M.percentile(lat, 95),
                "batched_seconds_per_question": res["batched_seconds"] / max(1, len(res["records"])),
                "train_seconds": 0.0,
                "adapter_mb": 0.0,
            }
            if s.adapter_kind:
                job_name = {"finetune": "finetune-100", "hybrid": "hybrid"}[s.adapter_kind]
                entry["train_seconds"] = trained[job_name]["seconds"]
                entry["adapter_mb"] = trained[job_name]["adapter_mb"]
                entry["adapter"] = trained[job_name]["adapter"]
                entry["train_metrics"] = trained[job_name]["metrics"]
            if s.name in after:
                new_b, _, _ = _freshness_scores(before[s.name]["records"], changed, resamples, self.seed)
                new_a, old_a, new_a_unrefused = _freshness_scores(
                    after[s.name]["records"], changed, resamples, self.seed
                )
                entry["freshness"] = {
                    "before": new_b,
                    "after": new_a,
                    "after_refusal_off": new_a_unrefused,
                    "old_after": old_a,
                    "stale_until_retrained": not s.reads_sources,
                }
            if s.name in probe_results or (s.adapter_kind in probe_results):
                key = s.name if s.name in probe_results else str(s.adapter_kind)
                probe = M.bootstrap_ci(
                    [
                        M.answer_correct(r["text"], q.answers)
                        for r, q in zip(probe_results[key]["records"], probe_questions, strict=True)
                    ],
                    resamples=resamples,
                    seed=self.seed,
                )
                entry["forgetting"] = {"probe_accuracy": probe.as_dict()}
            strategies_out[s.name] = entry
        if "base" in probe_results:
            base_probe = strategies_out.get("base", {}).get("forgetting", {}).get("probe_accuracy", {}).get("value")
            if base_probe is None:
                base_probe = M.bootstrap_ci(
                    [
                        M.answer_correct(r["text"], q.answers)
                        for r, q in zip(probe_results["base"]["records"], probe_questions, strict=True)
                    ]
                ).value
            for entry in strategies_out.values():
                if "forgetting" in entry:
                    entry["forgetting"]["drop"] = base_probe - entry["forgetting"]["probe_accuracy"]["value"]

        paired = []
        names = [s.name for s in self.strategies]
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                paired.append(
                    M.paired_test(
                        correct_vectors[a],
                        correct_vectors[b],
                        names=(a, b),
                        metric="accuracy",
                        resamples=resamples,
                        seed=self.seed,
                    )
                )

        # Learning curve
        curve: dict[str, Any] = {"strategy": "finetune", "points": []}
        if with_curve and "finetune" in strategies_out:
            for p in curve_points:
                scores = score_answers(
                    p["res"]["records"], test, reads_sources=False, embedder=None, resamples=resamples, seed=self.seed
                )
                job = plan.job(p["job"])
                share = int(p["job"].split("-")[1]) / 100
                curve["points"].append(
                    {
                        "share": share,
                        "examples": job.examples,
                        "accuracy": scores["accuracy"],
                        "train_seconds": trained[p["job"]]["seconds"],
                    }
                )
            full = plan.job("finetune-100")
            curve["points"].append(
                {
                    "share": 1.0,
                    "examples": full.examples,
                    "accuracy": strategies_out["finetune"]["accuracy"],
                    "train_seconds": trained["finetune-100"]["seconds"],
                }
            )
            curve["points"].sort(key=lambda p: p["share"])
        else:
            curve["skipped"] = "quick run: the learning curve is skipped" if quick else "no learning-curve shares set"

        # Freshness summary: retrain time estimated from the finetune job's measured training speed.
        freshness: dict[str, Any]
        if update is not None:
            ft_train = trained["finetune-100"]
            tokens = plan.job("finetune-100").tokens * plan.job("finetune-100").epochs
            tps = tokens / ft_train["seconds"] if ft_train["seconds"] > 0 else math.nan
            retrain = tokens / tps if tps and not math.isnan(tps) else ft_train["seconds"]
            freshness = {
                "changed_questions": len(changed),
                "resync_seconds": update["seconds"],
                "sync": update["sync"],
                "retrain_seconds": retrain,
                "retrain_measured": False,
                "retrain_note": (
                    f"estimated: the same {plan.job('finetune-100').examples} examples x "
                    f"{plan.job('finetune-100').epochs:g} epochs at the measured {tps:.0f} training tokens/s"
                ),
            }
            for s in self.strategies:
                entry = strategies_out[s.name]
                entry["retrain_seconds"] = (
                    update["seconds"] if s.reads_sources else (retrain if s.adapter_kind else 0.0)
                )
        else:
            freshness = {
                "skipped": "no updated documents given (--updated-docs)" if not changed else "no updated documents"
            }
            if self.request.updated_docs and not changed:
                freshness["skipped"] = "the question file marks no changed facts (changed: true with answers_v2)"

        measures = [
            StrategyMeasures(
                name=n,
                accuracy=M.Estimate(
                    e["accuracy"]["value"], e["accuracy"]["ci_low"], e["accuracy"]["ci_high"], e["accuracy"]["n"]
                ),
                hallucination=e["hallucination"]["value"],
                citation_rate=e["citation_rate"]["value"] if e.get("citation_rate") else math.nan,
                freshness=e["freshness"]["after"]["value"] if e.get("freshness") else math.nan,
                latency_p95_s=e["latency_p95_s"],
                train_seconds=e["train_seconds"],
                retrain_seconds=e.get("retrain_seconds", 0.0),
                retrain_measured=False,
                forgetting=e["forgetting"].get("drop", math.nan) if e.get("forgetting") else math.nan,
                reads_sources=e["reads_sources"],
            )
            for n, e in strategies_out.items()
        ]
        rec = recommend(measures, cfg.advisor, {(t.a, t.b): t for t in paired})

        results: dict[str, Any] = {
            "ragtune_version": __version__,
            "seed": self.seed,
            "quick": quick,
            "data": {
                "label": self.request.label,
                "source_docs": ", ".join(str(p) for p in self.request.docs),
                "documents": index["documents"],
                "questions": {
                    "file": str(self.request.questions),
                    "train": len(qset.train),
                    "test": len(eval_questions),
                    "test_answerable": len(test),
                    "unanswerable": len(unanswerable),
                    "changed": len(changed),
                },
                "split_note": qset.split_note,
                **({"synthesized": dict(self.request.synthesized)} if self.request.synthesized else {}),
            },
            "models": {"generator": self._model_identity()["generator"].get("name"), "embedder": self.embedder.name},
            "strategies": strategies_out,
            "paired": [t.as_dict() for t in paired],
            "learning_curve": curve,
            "freshness": freshness,
            "general_probe": {"questions": len(probe_questions)}
            if probe_questions
            else {"skipped": "no general probe given"},
            "costs": {
                "index_build_seconds": index["seconds"],
                "index_mb": index["index_mb"],
                "chunks": index["chunks"],
                "peak_memory_mb": _peak_memory_mb(),
                "training_seconds_total": sum(t["seconds"] for t in trained.values()),
            },
            "plan": plan.as_dict() | {"measured_seconds": {k: v["seconds"] for k, v in trained.items()}},
            "calibration": {k: v for k, v in calibration.items() if k != "calibration"},
            "stages": [dataclasses.asdict(r) for r in self.cache.records],
            "recommendation": rec.as_dict(),
            "answers": {
                name: [
                    {**r, "question": q.question, "gold": list(q.answers)}
                    for r, q in zip(res["records"], eval_questions, strict=True)
                ]
                for name, res in answers.items()
            },
            "config": {k: v for k, v in describe(cfg).items() if k not in ("serve",)},
            "total_seconds": time.perf_counter() - t_start,
        }
        results["config"]["store"] = {k: v for k, v in results["config"]["store"].items() if k != "pg_dsn"}
        out = out_dir or self.workspace.new_report_dir()
        paths = write_report(results, out)
        return ComparisonOutcome(results=results, paths=paths, summary=summary_paragraph(results))


def run_comparison(
    request: CompareRequest,
    config: Config,
    *,
    out_dir: Path | None = None,
    strategies: Sequence[Strategy] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] = print,
    embedder: Embedder | None = None,
) -> ComparisonOutcome:
    """Runs (or continues) a comparison and writes report.html, report.md and results.json into `out_dir`."""
    return Comparison(request, config, strategies=strategies, progress=progress, echo=echo, embedder=embedder).run(
        out_dir
    )
