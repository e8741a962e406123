"""The comparison's stages: each a computation whose result the stage cache keeps under a hash of its inputs.

index (documents chunked, embedded, stored; timed), update (documents v2 synced into a copy of the index; timed),
data (training files: closed-book QA pairs at each learning-curve share, RAFT examples), plan (no cache: the
planner is instant), train-* (LoRA adapters), answers-* (one strategy's answers to one question set) and calibrate
(refusal fitted on the training questions). experiment.py runs them in order; scoring.py turns answers into numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import random
import resource
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.config import Config, describe
from ragtune.corpus.document import Document
from ragtune.errors import InputFileError
from ragtune.evaluate.jobs import (
    ReplayContrastJob,
    example_lengths,
    is_replay_contrast,
    replay_contrast_job,
)
from ragtune.evaluate.planner import JobSpec, Plan, PlannedJob, default_speed, plan_training, with_side_job
from ragtune.evaluate.questions import Question, QuestionSet, is_squad_file
from ragtune.evaluate.records import AnsweredSet
from ragtune.evaluate.results import SyncCounts, Training
from ragtune.evaluate.scoring import answer_set
from ragtune.evaluate.stages import StageCache, hash_inputs
from ragtune.evaluate.strategies import Strategy, StrategyContext
from ragtune.models.embedder import Embedder

# What a quick run (`--quick`) keeps: at most this many of each, chosen by a seeded hash of the question ids.
QUICK = {
    "max_test": 30,
    "max_unanswerable": 8,
    "max_changed": 10,
    "max_probe": 10,
    "latency_sample": 2,
    "max_calibration": 30,
}


@dataclass(frozen=True)
class IndexBuilt:
    """The index stage: the documents chunked, embedded and stored in `folder`, and what that cost."""

    folder: Path
    seconds: float
    documents: int
    chunks: int
    index_mb: float
    failed: tuple[str, ...]

    @property
    def key(self) -> str:
        """The stage's folder name: a hash of its inputs, which later stages name as their upstream."""
        return self.folder.name


@dataclass(frozen=True)
class Updated:
    """The update stage: documents v2 synced into a copy of the index in `folder` (`seconds`: the sync alone)."""

    folder: Path
    seconds: float
    sync: SyncCounts


@dataclass(frozen=True)
class TrainingFiles:
    """The data stage: one JSONL file of training examples per job (finetune-<percent>, hybrid)."""

    files: Mapping[str, str]
    examples: Mapping[str, int]
    train_questions: int

    @property
    def key(self) -> str:
        return hash_inputs(dict(self.files) | {"examples": dict(self.examples)})


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


# ---------------------------------------------------------------------------------------------------- helpers


def with_workspace(config: Config, folder: Path, table_tag: str = "") -> Config:
    """A copy of `config` whose workspace (so its LanceDB store) is `folder`; pgvector gets its own table."""
    cfg = dataclasses.replace(config, workspace=str(folder))
    if table_tag and config.store.backend != "lancedb":
        cfg.store = dataclasses.replace(config.store, table=f"{config.store.table}_{table_tag}")
    return cfg


def dir_mb(path: Path) -> float:
    if not path.exists():
        return 0.0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes on macOS, kilobytes on Linux


def questions_hash(questions: Sequence[Question]) -> str:
    return hash_inputs([dataclasses.asdict(q) | {"line": 0} for q in questions])


def docs_hash(docs: Sequence[Document]) -> str:
    return hash_inputs(sorted((d.id, d.content_hash) for d in docs))


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


def seeded_subset(items: Sequence[Question], n: int, seed: int) -> list[Question]:
    if n <= 0 or len(items) <= n:
        return list(items)
    order = sorted(items, key=lambda q: hashlib.sha256(f"{seed}\x00{q.id}".encode()).hexdigest())
    keep = {q.id for q in order[:n]}
    return [q for q in items if q.id in keep]


# ------------------------------------------------------------------------------------------------------ stages


def index_stage(
    cache: StageCache, config: Config, embedder: Embedder, docs: Sequence[Document], docs_hash: str, *, progress: bool
) -> IndexBuilt:
    """The index stage: `docs` chunked, embedded and stored under `cache`, or the stored result when the same
    documents, chunking, store and embedder were indexed before (its `seconds` are those of the run that built it).
    Public so that work before a comparison (synthesizing its questions) searches the index the comparison reads."""
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents

    inputs = {
        "docs": docs_hash,
        "corpus": describe(config)["corpus"],
        "store": {k: v for k, v in describe(config)["store"].items() if k != "pg_dsn"},
        "embedder": embedder.name,
    }

    def compute(folder: Path) -> dict[str, Any]:
        cfg = with_workspace(config, folder, folder.name[-8:])
        store = open_store(cfg, embedder.identity)
        try:
            report = sync_documents(list(docs), store, embedder, cfg, progress=progress)
            chunks = store.count()
        finally:
            store.close()
        return {
            "seconds": report.seconds,
            "documents": len(docs),
            "chunks": chunks,
            "index_mb": dir_mb(folder / "store"),
            "failed": [str(f) for f in report.failed],
        }

    r = cache.run("index", inputs, compute)
    folder = cache.folder("index", inputs)
    return IndexBuilt(folder, r["seconds"], r["documents"], r["chunks"], r["index_mb"], tuple(r["failed"]))


def open_retriever(config: Config, embedder: Embedder, folder: Path, tag: str) -> Any:
    """A Retriever over the store a stage built in `folder` (`tag`: its table suffix on PostgreSQL)."""
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store

    store = open_store(with_workspace(config, folder, tag), embedder.identity)
    return Retriever(store, embedder, config.retrieval)


class Stages:
    """The comparison's cached stages over one request, configuration and stage cache."""

    def __init__(
        self,
        request: CompareRequest,
        config: Config,
        cache: StageCache,
        *,
        progress: bool,
        echo: Callable[[str], None],
        embedder: Embedder | None,
    ) -> None:
        self.request = request
        self.config = config
        self.cache = cache
        self.progress = progress
        self.echo = echo
        self._embedder = embedder
        self.seed = config.compare.seed

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from ragtune.models.loader import load_embedder

            self._embedder = load_embedder(self.config.models, self.config.store.embed_batch_size)
        return self._embedder

    def model_identity(self) -> dict[str, Any]:
        from ragtune.models.registry import resolve_generator

        if self.config.models.generator_backend == "transformers":
            files = resolve_generator(self.config.models)
            gen = {"name": files.name, "fingerprint": files.fingerprint}
        else:
            gen = {"name": self.config.models.openai_model, "url": self.config.models.openai_base_url}
        return {"generator": gen, "embedder": self.embedder.name, "dtype": self.config.models.dtype}

    def retriever(self, folder: Path, tag: str) -> Any:
        return open_retriever(self.config, self.embedder, folder, tag)

    def announce(self, title: str) -> None:
        self.echo(f"[stage] {title}")

    # -- stages -----------------------------------------------------------------------------------------------

    def index(self, docs: Sequence[Document], docs_hash: str) -> IndexBuilt:
        self.announce(f"index: {len(docs)} documents")
        return index_stage(self.cache, self.config, self.embedder, docs, docs_hash, progress=self.progress)

    def update(self, index_folder: Path, index_key: str, docs_v2: Sequence[Document]) -> Updated:
        from ragtune.store import open_store
        from ragtune.store.sync import sync_documents

        inputs = {"index": index_key, "docs_v2": docs_hash(docs_v2)}

        def compute(folder: Path) -> dict[str, Any]:
            tag = folder.name[-8:]
            cfg = with_workspace(self.config, folder, tag)
            if self.config.store.backend == "lancedb":
                # A copy of the v1 index, so v1 answers stay reproducible and the timed sync is only the update.
                if (folder / "store").exists():
                    shutil.rmtree(folder / "store")
                shutil.copytree(index_folder / "store", folder / "store")
            else:
                v1 = load_documents(self.request.docs, self.config)  # warned about when first loaded
                seed_store = open_store(cfg, self.embedder.identity)
                sync_documents(v1, seed_store, self.embedder, cfg, progress=self.progress)
                seed_store.close()
            store = open_store(cfg, self.embedder.identity)
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

        self.announce(f"update: sync {len(docs_v2)} updated documents")
        r = self.cache.run("update", inputs, compute)
        return Updated(self.cache.folder("update", inputs), r["seconds"], SyncCounts(**r["sync"]))

    def training_data(
        self, qset: QuestionSet, index_folder: Path, index_key: str, shares: Sequence[float]
    ) -> TrainingFiles:
        from ragtune.tune import data as tdata

        train = [q for q in qset.train if q.answerable]
        # A quick run cannot afford paraphrase copies: one pass over the plain pairs teaches more per second.
        paraphrases = 0 if self.request.quick else self.config.tune.paraphrases
        contrast = self.replay_contrast
        inputs = {
            "paraphrases": paraphrases,
            "train": questions_hash(qset.train),
            "index": index_key,
            "shares": list(shares),
            "tune": {
                k: v
                for k, v in describe(self.config)["tune"].items()
                if k.startswith(("raft", "parap", "seed", "replay"))
            },
            "probe": questions_hash(self.probe_questions),
            # The contrast's job and share (compare.replay_contrast_share when the strategy trains without replay).
            "replay_contrast": dataclasses.asdict(contrast) if contrast else None,
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
            built: dict[str, list[tdata.Example]] = {}
            for share in shares:
                subset = pairs[: max(1, round(len(pairs) * share))]
                paraphrased = tdata.paraphrase_pairs(subset, paraphrases, seed=self.seed)
                built[f"finetune-{round(share * 100)}"] = tdata.qa_examples(subset) + tdata.qa_examples(
                    paraphrased, origin="paraphrase"
                )
            # RAFT: each training question with the chunk that holds its answer (the oracle) among retrieved
            # distractors, as the hybrid strategy will see it at answer time.
            retriever = self.retriever(index_folder, index_key[-8:])
            try:
                tune = dataclasses.replace(self.config.tune, seed=self.seed)
                built["hybrid"] = tdata.raft_from_retriever(
                    pairs, retriever, tune, refusal_text=self.config.rag.refusal_text
                )
            finally:
                retriever.store.close()
            shares_of = {name: self.config.tune.replay_share for name in built}
            if contrast is not None:  # the full training set at the other replay setting
                built[contrast.name] = list(built["finetune-100"])
                shares_of[contrast.name] = contrast.share
            mixed = self.with_replay(built, shares_of, exclude=[q.question for q in order])
            for name, examples in mixed.items():
                files[name] = str(tdata.write_jsonl(examples, folder / f"{name}.jsonl"))
                counts[name] = len(examples)
            return {"files": files, "examples": counts, "train_questions": len(order)}

        self.announce(f"training data from {len(train)} training questions")
        r = self.cache.run("data", inputs, compute)
        return TrainingFiles(r["files"], r["examples"], r["train_questions"])

    @property
    def replay_contrast(self) -> ReplayContrastJob | None:
        """The finetune adapter at the other replay setting, trained too so the report shows what replay changes;
        only when forgetting is measured (a probe is given) and the run is not a quick one."""
        if self.request.general_probe is None or self.request.quick:
            return None
        return replay_contrast_job(self.config)

    @functools.cached_property
    def probe_questions(self) -> list[Question]:
        """The general probe's questions (read once: the data stage excludes them, the probe stage asks them)."""
        if self.request.general_probe is None:
            return []
        from ragtune.evaluate.questions import load_questions

        return load_questions(self.request.general_probe)

    def with_replay(
        self, built: Mapping[str, Sequence[Any]], shares: Mapping[str, float], exclude: Sequence[str]
    ) -> dict[str, list[Any]]:
        """Each training set with its share (`shares[name]`) of replay examples (the base model's own answers to
        general prompts; never a probe or training question) mixed in at seeded places, so that a job trained on the
        first n examples keeps the share. Made here rather than in training so that the planner counts them. The
        answers are generated once, for the largest count; each set takes a prefix of them."""
        from ragtune.models.loader import load_generator
        from ragtune.tune import replay

        tune = self.config.tune
        counts = {name: replay.replay_count(len(examples), shares[name]) for name, examples in built.items()}
        if not any(counts.values()):
            return {name: list(examples) for name, examples in built.items()}
        banned = [*exclude, *(q.question for q in self.probe_questions)]
        self.announce(f"replay: the base model answers general prompts for {max(counts.values())} examples")
        generator = load_generator(self.config.models, self.config.generation)
        answered = replay.general_answers(generator, tune, max(counts.values()), banned, self.seed)
        del generator
        out: dict[str, list[Any]] = {}
        for name, examples in built.items():
            if not counts[name]:  # a set without replay keeps its order, as when no set has replay
                out[name] = list(examples)
                continue
            mixed = [*examples, *answered[: counts[name]]]
            random.Random(f"{self.seed}-{name}").shuffle(mixed)
            out[name] = mixed
        return out

    def plan(self, data: TrainingFiles, budget_s: float, with_curve: bool) -> Plan:
        files = data.files
        device = self.config.models.device
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        tps, step_s = default_speed(device)
        tps = self.config.compare.train_tokens_per_s or tps
        tune = self.config.tune
        ft_names = [
            n
            for n in files
            if n.startswith("finetune-") and not is_replay_contrast(n) and (with_curve or n == "finetune-100")
        ]
        ft_specs = [
            JobSpec(
                n,
                "finetune",
                tuple(example_lengths(self.config, Path(files[n]))),
                tune.epochs,
                tune.max_seq_len,
                tune.batch_size,
            )
            for n in sorted(ft_names, key=lambda n: -int(n.split("-")[1]))
        ]
        raft_cap = max(tune.max_seq_len, 1024)  # RAFT prompts carry sources: cutting them cuts the evidence
        hybrid = JobSpec(
            "hybrid",
            "hybrid",
            tuple(example_lengths(self.config, Path(files["hybrid"]))),
            tune.epochs,
            raft_cap,
            tune.batch_size,
        )
        plan = plan_training(
            ft_specs,
            hybrid,
            budget_seconds=budget_s,
            tokens_per_s=tps,
            step_seconds=step_s,
            hybrid_share=self.config.compare.hybrid_share,
        )
        contrast = next((n for n in files if is_replay_contrast(n)), None)
        if contrast is None:
            return plan
        lengths = tuple(example_lengths(self.config, Path(files[contrast])))
        spec = JobSpec(contrast, "finetune", lengths, tune.epochs, tune.max_seq_len, tune.batch_size)
        return with_side_job(plan, spec, plan.job("finetune-100").epochs)

    def train(self, job: PlannedJob, data_file: Path, data_key: str) -> Training:
        from ragtune.models.adapters import MANIFEST_NAME, read_manifest
        from ragtune.tune.checkpoints import CHECKPOINTS, RUN_STATE
        from ragtune.tune.train import train_adapter

        tune = dataclasses.replace(
            self.config.tune, epochs=job.epochs, max_seq_len=job.max_seq_len, eval_share=0.0, seed=self.seed
        )
        if is_replay_contrast(job.name):  # its manifest and cache key name the share it was trained with
            tune = dataclasses.replace(tune, replay_share=replay_contrast_job(self.config).share)
        inputs = {
            "job": dataclasses.asdict(job) | {"planned_seconds": 0},
            "data": data_key,
            "file": data_file.name,
            "tune": dataclasses.asdict(tune),
            "model": self.model_identity(),
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
                # The probe is banned here too: a file without replay examples (every prompt banned, or a prefix
                # that drew none) has training add its own, which must not be the probe's questions either.
                probe = [q.question for q in self.probe_questions]
                result = train_adapter(
                    train_file, out, cfg, kind=job.kind, resume=resume, progress=self.progress, exclude=probe
                )
                metrics_in = result.metrics
            seconds = time.perf_counter() - start
            metrics = {k: v for k, v in dict(metrics_in).items() if isinstance(v, (int, float, str))}
            return {
                "seconds": seconds,
                "adapter": str(out),
                "adapter_mb": dir_mb(out),
                "metrics": metrics,
            }

        self.announce(
            f"train {job.name}: {job.examples} examples x {job.epochs:g} epochs (max {job.max_seq_len} tokens)"
        )
        r = self.cache.run(f"train-{job.name}", inputs, compute)
        return Training(r["seconds"], r["adapter"], r["adapter_mb"], r["metrics"])

    def answers(
        self,
        strategy: Strategy,
        ctx: StrategyContext,
        questions: Sequence[Question],
        what: str,
        upstream: Mapping[str, Any],
        latency_sample: int = 0,
    ) -> AnsweredSet:
        inputs = {
            "strategy": {"name": strategy.name, "class": type(strategy).__qualname__, "about": strategy.description},
            "questions": questions_hash(questions),
            "upstream": dict(upstream),
            "generation": describe(self.config)["generation"],
            "rag": describe(self.config)["rag"],
            "retrieval": describe(self.config)["retrieval"] if strategy.reads_sources else None,
            "model": self.model_identity(),
            "latency_sample": latency_sample,
            # Tuned answers depend on which questions the adapter is asked (tune.routing).
            "route": ctx.config.tune.route_min_similarity if strategy.adapter_kind else None,
        }
        self.announce(f"{strategy.name}: {what} ({len(questions)} questions)")
        result = self.cache.run(
            f"answers-{strategy.name}-{what}",
            inputs,
            lambda folder: answer_set(strategy, ctx, questions, latency_sample, self.progress).to_json(),
        )
        return AnsweredSet.from_json(result)

    def calibrate(self, ctx: StrategyContext, train: Sequence[Question], upstream: Mapping[str, Any]) -> dict[str, Any]:
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
            answerable = seeded_subset(answerable, QUICK["max_calibration"], self.seed)
        questions = answerable + unanswerable
        inputs = {
            "questions": questions_hash(questions),
            "upstream": dict(upstream),
            "rag": describe(self.config)["rag"],
            "retrieval": describe(self.config)["retrieval"],
            "model": self.model_identity(),
        }

        def compute(folder: Path) -> dict[str, Any]:
            labelled = [LabelledQuestion(q.id, q.question, tuple(q.answers), q.answerable) for q in questions]
            try:
                fitted, _ = calibrate(RagStrategy().answerer(ctx), labelled, progress=self.progress)
            except CalibrationError as e:
                return {"calibration": None, "questions": len(questions), "note": f"default calibration kept: {e}"}
            note = f"fitted on {len(answerable)} answerable and {len(unanswerable)} unanswerable training questions"
            return {"calibration": fitted.to_json(), "questions": len(questions), "note": note}

        self.announce(f"calibrate refusal on {len(questions)} training questions")
        return self.cache.run("calibrate", inputs, compute)

    # -- the run ----------------------------------------------------------------------------------------------
