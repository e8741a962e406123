"""The comparison: build every strategy on the user's data, measure them side by side, recommend one, report.

Stages, each cached by a hash of its inputs (compare_stages.py, stages.py), so a re-run after a crash continues where
it stopped:

1. index      load the documents, chunk, embed and store them (timed: the index build cost)
2. data       training files from the training questions: closed-book QA pairs (with paraphrases) at 25/50/100%
              of the questions for the learning curve, and RAFT examples (question + oracle and distractor
              chunks -> cited answer) for the hybrid
3. plan       epochs, sequence lengths and example counts that fit the time budget (planner.py)
4. train-*    LoRA adapters: finetune (and its learning-curve shares) and hybrid (RAFT)
5. answers-*  every strategy answers the test questions through the same batched Answerer
6. update     documents v2 synced into a copy of the index (timed), changed-fact questions asked again
7. probe-*    the general-knowledge probe, closed-book, for the base and the tuned models (forgetting)
Then metrics with bootstrap intervals and paired tests (scoring.py), the advisor, and the report.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune import __version__
from ragtune.calibration import Calibration
from ragtune.config import Config, describe
from ragtune.corpus.document import Document
from ragtune.errors import InputFileError, RagtuneError
from ragtune.evaluate import scoring, tuned_retriever
from ragtune.evaluate.advisor import recommend, wording_reason
from ragtune.evaluate.compare_stages import (
    QUICK,
    CompareRequest,
    Stages,
    Updated,
    docs_hash,
    index_stage,
    load_documents,
    open_retriever,
    peak_memory_mb,
    seeded_subset,
)
from ragtune.evaluate.gathered import AskedQuestions, BuiltArtifacts, GatheredAnswers
from ragtune.evaluate.jobs import JOB_OF_ADAPTER, is_replay_contrast, replay_contrast_job
from ragtune.evaluate.questions import Question, QuestionSet, load_questions, split_advice, split_questions
from ragtune.evaluate.records import AnsweredSet, ListedAnswer
from ragtune.evaluate.report import summary_paragraph, write_report
from ragtune.evaluate.results import (
    Costs,
    DataSummary,
    Forgetting,
    FreshnessSummary,
    LearningCurve,
    QuestionCounts,
    Results,
    Skipped,
    StrategyResult,
)
from ragtune.evaluate.stages import StageCache, hash_inputs
from ragtune.evaluate.strategies import Strategy, StrategyContext, builtin_strategies
from ragtune.evaluate.wording import question_source, too_few_synthesized, wording_split
from ragtune.models.embedder import Embedder
from ragtune.workspace import Workspace

__all__ = [
    "CompareRequest",
    "Comparison",
    "ComparisonOutcome",
    "corpus_retriever",
    "load_documents",
    "run_comparison",
    "sample_request",
]

# Below this many test questions a 95% interval on accuracy is wider than +-0.18 (n = 30 at p = 0.5).
_FEW_TEST_QUESTIONS = 30


def unrouted_name(adapter_kind: str) -> str:
    """The probe's answers from an adapter asked every question (routing off), e.g. "finetune-unrouted"."""
    return f"{adapter_kind}-unrouted"


@dataclass(frozen=True)
class ComparisonOutcome:
    results: Results
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
        if config.compare.tune_retriever and "rag" in names and tuned_retriever.NAME not in names:
            self.strategies.append(tuned_retriever.TunedRetrieverRag())
            names.append(tuned_retriever.NAME)
        if len(set(names)) != len(names):
            raise RagtuneError(f"strategy names must be unique, got {names}")
        self.echo = echo
        self.workspace = Workspace(config.workspace_path).ensure()
        self.cache = StageCache(self.workspace.runs_dir)
        self.stages = Stages(request, config, self.cache, progress=progress, echo=echo, embedder=embedder)
        self.seed = config.compare.seed

    def run(self, out_dir: Path | None = None) -> ComparisonOutcome:
        t_start = time.perf_counter()
        questions = self._questions()
        built = self._build(questions.qset)
        ctx = StrategyContext(
            config=self.config,
            embedder=self.stages.embedder,
            adapters={kind: Path(built.adapter(kind)) for kind in JOB_OF_ADAPTER},
        )
        ctx.retriever = self.stages.retriever(built.index.folder, built.index.key[-8:])
        calibration = self._calibration(ctx, questions.qset, built.index.key)
        built = self._tune_retriever(ctx, questions.qset, built)
        answers = self._gather(ctx, questions, built, calibration)
        ctx.release()
        results = self._results(questions, built, calibration, answers, t_start)
        out = out_dir or self.workspace.new_report_dir()
        paths = write_report(results, out)
        return ComparisonOutcome(results=results, paths=paths, summary=summary_paragraph(results))

    # -- what to ask ------------------------------------------------------------------------------------------

    def _questions(self) -> AskedQuestions:
        cfg, quick = self.config, self.request.quick
        loaded = load_questions(self.request.questions)
        qset = split_questions(
            loaded,
            test_share=cfg.compare.test_share,
            max_questions=cfg.compare.max_questions,
            seed=self.seed,
            source=str(self.request.questions),
        )
        if not [q for q in qset.train if q.answerable]:
            raise InputFileError(f"{self.request.questions}: no answerable training questions to fine-tune on")
        test = [q for q in qset.test if q.answerable and not q.changed]
        unanswerable = [q for q in qset.test if not q.answerable]
        max_test = cfg.compare.max_test_questions or (QUICK["max_test"] if quick else 0)
        test = seeded_subset(test, max_test, self.seed)
        if quick:
            unanswerable = seeded_subset(unanswerable, QUICK["max_unanswerable"], self.seed)
        synthesized = self.request.synthesized
        if synthesized and (why := too_few_synthesized(len(test), synthesized, cfg.synth.count)):
            raise InputFileError(why)
        if not test:
            raise InputFileError(f"{self.request.questions}: no answerable test questions")
        if len(test) < _FEW_TEST_QUESTIONS:
            self.echo(
                f"[warning] only {len(test)} answerable test questions: accuracy differences between strategies "
                f"are unlikely to be significant; {_FEW_TEST_QUESTIONS} or more give usable confidence intervals"
                + split_advice(loaded, self.request.questions, cfg.compare.test_share)
            )
        changed = list(qset.changed)
        if quick:
            changed = seeded_subset(changed, QUICK["max_changed"], self.seed)
        latency_sample = QUICK["latency_sample"] if quick else cfg.compare.latency_sample
        return AskedQuestions(qset, test, unanswerable, changed, latency_sample)

    # -- index, training data, plan, adapters -----------------------------------------------------------------

    def _build(self, qset: QuestionSet) -> BuiltArtifacts:
        cfg, quick = self.config, self.request.quick
        docs = load_documents(self.request.docs, cfg, warn=self.echo)
        index = self.stages.index(docs, docs_hash(docs))
        with_curve = not quick and len(cfg.compare.learning_curve) > 1
        shares = sorted({float(s) for s in cfg.compare.learning_curve} | {1.0}) if with_curve else [1.0]
        data = self.stages.training_data(qset, index.folder, index.key, shares)
        budget_s = (cfg.compare.quick_time_budget_min if quick else cfg.compare.time_budget_min) * 60
        plan = self.stages.plan(data, budget_s, with_curve)
        self.echo(f"[plan] {plan.note}")
        jobs = {job.name: self.stages.train(job, Path(data.files[job.name]), data.key) for job in plan.jobs}
        return BuiltArtifacts(index, plan, jobs, with_curve)

    def _tune_retriever(self, ctx: StrategyContext, qset: QuestionSet, built: BuiltArtifacts) -> BuiltArtifacts:
        """The reranker of "rag with a tuned retriever", when that variant is compared (sets `ctx.reranker`)."""
        if not any(s.name == tuned_retriever.NAME for s in self.strategies) or ctx.retriever is None:
            return built
        record = tuned_retriever.train_stage(
            self.cache,
            self.config,
            ctx.retriever,
            qset.train,
            built.index.key,
            progress=self.stages.progress,
            announce=self.stages.announce,
        )
        ctx.reranker = Path(record["folder"])
        return dataclasses.replace(built, retriever=tuned_retriever.training_of(record))

    def _calibration(self, ctx: StrategyContext, qset: QuestionSet, index_key: str) -> dict[str, Any]:
        """The calibrate stage's record (its fit set on `ctx`), or a note that the default calibration is used."""
        calibration: dict[str, Any] = {"note": "off (compare.calibrate = false): default calibration"}
        if self.config.compare.calibrate and any(s.reads_sources for s in self.strategies):
            calibration = self.stages.calibrate(ctx, qset.train, {"index": index_key})
            if calibration["calibration"] is not None:
                ctx.calibration = Calibration.from_json(calibration["calibration"], "the calibrate stage")
        self.echo(f"[calibration] {calibration['note']}")
        return calibration

    # -- answers ----------------------------------------------------------------------------------------------

    def _gather(
        self, ctx: StrategyContext, questions: AskedQuestions, built: BuiltArtifacts, calibration: Mapping[str, Any]
    ) -> GatheredAnswers:
        """Every answer, stage by stage, in the order that keeps one tuned model in memory at a time."""
        calibration_key = hash_inputs(calibration.get("calibration"))
        upstream_for = {
            s.name: {
                "index": built.index.key if s.reads_sources else None,
                "calibration": calibration_key if s.reads_sources else None,
                "adapter": built.adapter(s.adapter_kind) if s.adapter_kind else None,
                "reranker": str(ctx.reranker) if s.name == tuned_retriever.NAME else None,
            }
            for s in self.strategies
        }
        with_changed = bool(questions.changed and self.request.updated_docs)
        test: dict[str, AnsweredSet] = {}
        before: dict[str, AnsweredSet] = {}
        # Strategy by strategy, so that a tuned model is loaded once for both question sets; the last one loaded
        # also answers the changed facts after the update.
        for s in self.strategies:
            up = upstream_for[s.name]
            test[s.name] = self.stages.answers(s, ctx, questions.evaluated, "test", up, questions.latency_sample)
            if with_changed:
                before[s.name] = self.stages.answers(s, ctx, questions.changed, "changed-v1", up)
        # What rag's and the variant's retrievers find, on the index the test questions were answered from.
        retrieval = tuned_retriever.measure_pair(self.cache, ctx, questions.test, self.config.retrieval.top_k)
        curve = self._curve(questions.test, built)
        update, after = self._after_update(ctx, questions.changed, built, before, upstream_for)
        probe_questions, probe = self._probe(ctx, built)
        contrast = self._replay_contrast(questions.test, built)
        return GatheredAnswers(test, before, after, curve, probe, probe_questions, update, contrast, retrieval)

    def _curve(self, test: Sequence[Question], built: BuiltArtifacts) -> list[scoring.CurveRun]:
        """The learning curve's shares below 100% (the 100% point is the finetune strategy itself)."""
        ft = next((s for s in self.strategies if s.adapter_kind == "finetune"), None)
        if not built.with_curve or ft is None:
            return []
        runs = []
        for job in built.plan.jobs:
            if job.kind != "finetune" or job.name == JOB_OF_ADAPTER["finetune"] or is_replay_contrast(job.name):
                continue
            answered = self._closed_book(ft, built.jobs[job.name].adapter, test, f"curve-{job.name}")
            runs.append(scoring.CurveRun(job.name, answered, built.jobs[job.name].seconds))
        return runs

    def _closed_book(self, ft: Strategy, adapter: str, questions: Sequence[Question], what: str) -> AnsweredSet:
        """The finetune strategy's answers with another adapter than its own (a learning-curve or baseline job)."""
        sub_ctx = StrategyContext(self.config, self.stages.embedder, adapters={"finetune": Path(adapter)})
        answered = self.stages.answers(ft, sub_ctx, questions, what, {"adapter": adapter})
        sub_ctx.release()
        return answered

    def _after_update(
        self,
        ctx: StrategyContext,
        changed: Sequence[Question],
        built: BuiltArtifacts,
        before: Mapping[str, AnsweredSet],
        upstream_for: Mapping[str, Mapping[str, Any]],
    ) -> tuple[Updated | None, dict[str, AnsweredSet]]:
        """Documents v2 into a copy of the index, then the changed-fact questions again."""
        if not (changed and self.request.updated_docs):
            return None, {}
        docs_v2 = load_documents(self.request.updated_docs, self.config, warn=self.echo)
        update = self.stages.update(built.index.folder, built.index.key, docs_v2)
        ctx.retriever = self.stages.retriever(update.folder, update.folder.name[-8:])
        after: dict[str, AnsweredSet] = {}
        for s in self.strategies:
            if s.reads_sources:
                up = dict(upstream_for[s.name]) | {"index": update.folder.name}
                after[s.name] = self.stages.answers(s, ctx, changed, "changed-v2", up)
            else:
                after[s.name] = before[s.name]  # a closed-book model knows what it was trained on until retrained
        return update, after

    def _probe(self, ctx: StrategyContext, built: BuiltArtifacts) -> tuple[list[Question], dict[str, AnsweredSet]]:
        """The general probe, closed-book: the base model against the tuned ones (forgetting)."""
        if self.request.general_probe is None:
            return [], {}
        from ragtune.evaluate.strategies import BaseStrategy, FinetuneStrategy

        probe_questions = self.stages.probe_questions
        if self.request.quick:
            probe_questions = seeded_subset(probe_questions, QUICK["max_probe"], self.seed)
        models: list[tuple[str, Strategy, StrategyContext, Path | None]] = [("base", BaseStrategy(), ctx, None)]
        for name in JOB_OF_ADAPTER:
            if name in ctx.adapters and any(s.adapter_kind == name for s in self.strategies):
                # Closed-book with the adapter: what the tuned weights still know without any sources.
                adapter = ctx.adapters[name]
                sctx = StrategyContext(self.config, self.stages.embedder, adapters={"finetune": adapter})
                models.append((name, FinetuneStrategy(), sctx, adapter))
        contrast = built.replay_contrast
        if contrast is not None and "finetune" in ctx.adapters:
            # Through FinetuneStrategy, so the contrast is routed as the strategy is: only replay differs.
            adapter = Path(built.jobs[contrast].adapter)
            sctx = StrategyContext(self.config, self.stages.embedder, adapters={"finetune": adapter})
            models.append((contrast, FinetuneStrategy(), sctx, adapter))
        if self.config.tune.route_min_similarity > 0:
            # Each adapter asked every probe question: what routing (tune.routing) keeps of the base model.
            unrouted = dataclasses.replace(
                self.config, tune=dataclasses.replace(self.config.tune, route_min_similarity=0.0)
            )
            for name in [m[0] for m in models if m[0] in JOB_OF_ADAPTER]:
                adapter = ctx.adapters[name]
                sctx = StrategyContext(unrouted, self.stages.embedder, adapters={"finetune": adapter})
                models.append((unrouted_name(name), FinetuneStrategy(), sctx, adapter))
        probe = {
            name: self.stages.answers(
                strat, sctx, probe_questions, f"probe-as-{name}", {"adapter": str(adapter) if adapter else None}
            )
            for name, strat, sctx, adapter in models
        }
        return probe_questions, probe

    def _replay_contrast(self, test: Sequence[Question], built: BuiltArtifacts) -> AnsweredSet | None:
        """The finetune strategy's test answers from the adapter trained at the other replay setting (what replay
        costs in accuracy)."""
        ft = next((s for s in self.strategies if s.adapter_kind == "finetune"), None)
        contrast = built.replay_contrast
        if ft is None or contrast is None:
            return None
        return self._closed_book(ft, built.jobs[contrast].adapter, test, f"test-{contrast}")

    # -- measures ---------------------------------------------------------------------------------------------

    def _strategy_results(
        self, questions: AskedQuestions, built: BuiltArtifacts, answers: GatheredAnswers, fresh: FreshnessSummary | None
    ) -> dict[str, StrategyResult]:
        cfg, resamples = self.config, self.config.compare.bootstrap
        judge = None
        if cfg.compare.judge_url:
            from ragtune.evaluate.judge import Judge

            judge = Judge(cfg.compare.judge_url, cfg.compare.judge_model, timeout_s=cfg.models.request_timeout_s)
        base_probe = (
            scoring.probe_accuracy(answers.probe["base"], answers.probe_questions, resamples, self.seed).value
            if "base" in answers.probe
            else None
        )
        out: dict[str, StrategyResult] = {}
        for s in self.strategies:
            answered = answers.test[s.name]
            freshness = None
            if s.name in answers.after:
                freshness = scoring.strategy_freshness(
                    answers.before[s.name],
                    answers.after[s.name],
                    questions.changed,
                    s.reads_sources,
                    resamples,
                    self.seed,
                )
            forgetting = self._forgetting(s, questions, built, answers, base_probe)
            retrain = None
            if fresh is not None:
                retrain = (
                    fresh.resync_seconds if s.reads_sources else (fresh.retrain_seconds if s.adapter_kind else 0.0)
                )
            out[s.name] = scoring.strategy_result(
                s,
                answered,
                questions.evaluated,
                embedder=self.stages.embedder,
                resamples=resamples,
                seed=self.seed,
                judge=scoring.judge_accuracy(judge, questions.test, answered, resamples, self.seed) if judge else None,
                training=built.training(s.adapter_kind) if s.adapter_kind else built.trained_retriever(s.name),
                freshness=freshness,
                forgetting=forgetting,
                retrain_seconds=retrain,
            )
            if s.name in answers.retrieval:
                out[s.name] = dataclasses.replace(out[s.name], retrieval=answers.retrieval[s.name])
        return out

    def _forgetting(
        self,
        s: Strategy,
        questions: AskedQuestions,
        built: BuiltArtifacts,
        answers: GatheredAnswers,
        base_probe: float | None,
    ) -> Forgetting | None:
        """The strategy's probe accuracy and drop; for finetune also the replay contrast's and the unrouted ones."""
        resamples = self.config.compare.bootstrap
        key = s.name if s.name in answers.probe else str(s.adapter_kind)
        if key not in answers.probe:
            return None
        acc = scoring.probe_accuracy(answers.probe[key], answers.probe_questions, resamples, self.seed)
        contrast = None
        name = built.replay_contrast
        if s.adapter_kind == "finetune" and answers.replay_contrast and name is not None and name in answers.probe:
            contrast = scoring.replay_contrast(
                answers.probe[name],
                answers.probe_questions,
                answers.replay_contrast,
                questions.test,
                base_probe,
                strategy_share=self.config.tune.replay_share,
                contrast_share=replay_contrast_job(self.config).share,
                resamples=resamples,
                seed=self.seed,
            )
        unrouted = None
        if s.adapter_kind and unrouted_name(s.adapter_kind) in answers.probe:
            unrouted = scoring.probe_accuracy(
                answers.probe[unrouted_name(s.adapter_kind)], answers.probe_questions, resamples, self.seed
            )
        return Forgetting(
            acc,
            None if base_probe is None else base_probe - acc.value,
            contrast,
            unrouted,
            None if base_probe is None or unrouted is None else base_probe - unrouted.value,
        )

    def _freshness(
        self, questions: AskedQuestions, built: BuiltArtifacts, answers: GatheredAnswers
    ) -> FreshnessSummary | Skipped:
        if answers.update is not None:
            return scoring.freshness_summary(
                len(questions.changed),
                answers.update.seconds,
                answers.update.sync,
                built.plan,
                built.training("finetune").seconds,
            )
        if self.request.updated_docs and not questions.changed:
            return Skipped("the question file marks no changed facts (changed: true with answers_v2)")
        return Skipped(
            "no updated documents given (--updated-docs)" if not questions.changed else "no updated documents"
        )

    def _curve_result(
        self,
        questions: AskedQuestions,
        built: BuiltArtifacts,
        answers: GatheredAnswers,
        strategies: Mapping[str, StrategyResult],
    ) -> LearningCurve:
        if built.with_curve and "finetune" in strategies:
            return scoring.learning_curve(
                answers.curve,
                strategies["finetune"],
                built.plan,
                questions.test,
                self.config.compare.bootstrap,
                self.seed,
            )
        quick = self.request.quick
        return LearningCurve(
            "finetune", skipped="quick run: the learning curve is skipped" if quick else "no learning-curve shares set"
        )

    def _results(
        self,
        questions: AskedQuestions,
        built: BuiltArtifacts,
        calibration: Mapping[str, Any],
        answers: GatheredAnswers,
        t_start: float,
    ) -> Results:
        cfg = self.config
        fresh = self._freshness(questions, built, answers)
        strategies = self._strategy_results(
            questions, built, answers, fresh if isinstance(fresh, FreshnessSummary) else None
        )
        correct = {n: [s.scores.correct[q.id] for q in questions.test] for n, s in strategies.items()}
        paired = scoring.paired_tests(correct, cfg.compare.bootstrap, self.seed)
        recommendation = recommend(scoring.advisor_measures(strategies), cfg.advisor, {(t.a, t.b): t for t in paired})
        wording = wording_split(
            questions.qset.train, questions.test, {n: s.scores.correct for n, s in strategies.items()}
        )
        for reason in (wording_reason(wording), tuned_retriever.retriever_reason(strategies, paired)):
            if reason:
                recommendation = dataclasses.replace(recommendation, reasons=(*recommendation.reasons, reason))
        config = {k: v for k, v in describe(cfg).items() if k not in ("serve",)}
        config["store"] = {k: v for k, v in config["store"].items() if k != "pg_dsn"}
        qset, evaluated, index = questions.qset, questions.evaluated, built.index
        return Results(
            ragtune_version=__version__,
            seed=self.seed,
            quick=self.request.quick,
            data=DataSummary(
                label=self.request.label,
                source_docs=", ".join(str(p) for p in self.request.docs),
                documents=index.documents,
                questions=QuestionCounts(
                    str(self.request.questions),
                    len(qset.train),
                    len(evaluated),
                    len(questions.test),
                    len(questions.unanswerable),
                    len(questions.changed),
                ),
                split_note=qset.split_note,
                synthesized=self.request.synthesized,
                wording=wording.to_json() if wording else None,
                question_source=question_source(self.request.synthesized),
            ),
            generator=self.stages.model_identity()["generator"].get("name"),
            embedder=self.stages.embedder.name,
            strategies=strategies,
            paired=paired,
            learning_curve=self._curve_result(questions, built, answers, strategies),
            freshness=fresh,
            general_probe=len(answers.probe_questions)
            if answers.probe_questions
            else Skipped("no general probe given"),
            costs=Costs(
                index_build_seconds=index.seconds,
                index_mb=index.index_mb,
                chunks=index.chunks,
                peak_memory_mb=peak_memory_mb(),
                training_seconds_total=sum(t.seconds for t in built.jobs.values())
                + (built.retriever.seconds if built.retriever else 0.0),
            ),
            plan=built.plan,
            measured_seconds={k: v.seconds for k, v in built.jobs.items()},
            calibration={k: v for k, v in calibration.items() if k != "calibration"},
            stages=tuple(self.cache.records),
            recommendation=recommendation,
            answers={
                name: tuple(
                    ListedAnswer(r, q.question, tuple(q.answers)) for r, q in zip(res.records, evaluated, strict=True)
                )
                for name, res in answers.test.items()
            },
            config=config,
            total_seconds=time.perf_counter() - t_start,
        )


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


def corpus_retriever(config: Config, docs: Sequence[Document], *, progress: bool = True) -> Any:
    """A Retriever over the comparison's own index of `docs`: the index stage, cached under the workspace's runs/,
    so the comparison that follows reads it instead of embedding the documents a second time (and reports the
    seconds of the run that built it). Synthesizing a comparison's questions searches the corpus with it."""
    from ragtune.models.loader import load_embedder

    cache = StageCache(Workspace(config.workspace_path).ensure().runs_dir)
    embedder = load_embedder(config.models, config.store.embed_batch_size)
    index = index_stage(cache, config, embedder, docs, docs_hash(docs), progress=progress)
    return open_retriever(config, embedder, index.folder, index.key[-8:])
