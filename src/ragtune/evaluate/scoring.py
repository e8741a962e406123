"""From answers to measured results: records of answers, metrics with intervals, paired tests, the learning curve,
freshness and forgetting, each built as the types of results.py. The stage runner (experiment.py) only gathers
answers; every number the report shows is computed here."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ragtune.evaluate import metrics as M
from ragtune.evaluate.advisor import StrategyMeasures
from ragtune.evaluate.judge import Judge, JudgeItem
from ragtune.evaluate.planner import Plan
from ragtune.evaluate.questions import Question
from ragtune.evaluate.records import AnsweredSet, AnswerRecord
from ragtune.evaluate.results import (
    AnswerScores,
    CurvePoint,
    FreshnessSummary,
    LearningCurve,
    StrategyResult,
    SyncCounts,
    Training,
)
from ragtune.evaluate.strategies import Strategy, StrategyContext
from ragtune.evaluate.strategy_measures import Forgetting, ReplayContrast, StrategyFreshness
from ragtune.models.embedder import Embedder
from ragtune.text import answer_correct, exact_match, token_f1


def answer_record(question_id: str, answer: Any, unrefused: str | None = None) -> AnswerRecord:
    """What the metrics need of an answer. Support is the calibrated support model's verdict (`ragtune.citations`:
    a sentence is attributed to a source only when a source clears its fitted threshold), never a fixed cut on its
    probability: fitted where few sentence-source pairs are positive, that probability seldom reaches 0.5 even for
    a sentence copied word for word, so a cut at 0.5 counted nearly every sourced answer as unsupported."""
    sentences = list(getattr(answer, "sentences", ()) or ())
    kept = [s for s in sentences if getattr(s, "cited", False)]  # the cited source supports the sentence
    # Citations apply to the answer's sentences; attribution keeps one only where the cited source supports it.
    citations = tuple(getattr(answer, "citations", ()) or ())
    supports = [float(s.support) for s in sentences if getattr(s, "support", None) is not None]
    support = getattr(answer, "support", None)
    if support is None:
        support = min(supports) if supports else None
    attributed = [getattr(s, "source_number", None) is not None for s in sentences]
    timings = dict(getattr(answer, "timings", {}) or {})
    signals = getattr(answer, "signals", {}) or {}
    return AnswerRecord(
        id=question_id,
        text=answer.text,
        refused=bool(answer.refused),
        refusal_reason=(getattr(answer, "refusal_reason", "") or None) if answer.refused else None,
        p_answerable=float(signals["answerable"]) if "answerable" in signals else None,
        sources=tuple(s.doc_id for s in getattr(answer, "sources", ())),
        cited=bool(citations or kept),
        cited_supported=len(kept),
        cited_sentences=len(sentences) if citations else len(kept),
        supported=all(attributed) if attributed and getattr(answer, "sources", None) else None,
        support=None if support is None else float(support),
        tokens_in=int(getattr(answer, "tokens_in", 0) or 0),
        tokens_out=int(getattr(answer, "tokens_out", 0) or 0),
        total_s=float(timings.get("total_s", math.nan)),
        unrefused=unrefused if answer.refused else None,
        reader=str(getattr(answer, "reader", "") or ""),
        finish_reason=str(getattr(answer, "finish_reason", "") or ""),
    )


def answer_set(
    strategy: Strategy, ctx: StrategyContext, questions: Sequence[Question], latency_sample: int, progress: bool
) -> AnsweredSet:
    """The strategy's answers to `questions` (batched, timed), and per-question latency on the first few."""
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
    # `unrefused`: what a refused answer said before it was refused (the refusal itself where nothing was said).
    records = tuple(answer_record(q.id, a, d.text) for q, a, d in zip(questions, answers, unrefused, strict=True))
    return AnsweredSet(records, batched, tuple(latencies))


# ------------------------------------------------------------------------------------------------------ metrics


def _is_hallucination(rec: AnswerRecord, q: Question, correct: bool, reads_sources: bool) -> bool:
    if rec.refused:
        return False
    if not q.answerable:
        return True  # answered what the documents cannot answer
    unsupported = reads_sources and rec.supported is False  # no source backs some sentence of it
    return (not correct) or unsupported


def score_answers(
    records: Sequence[AnswerRecord],
    questions: Sequence[Question],
    *,
    reads_sources: bool,
    embedder: Embedder | None,
    resamples: int,
    seed: int,
    updated: bool = False,
) -> AnswerScores:
    """Per-strategy metrics with intervals, plus the per-question verdicts the paired tests need."""
    by_id = {q.id: q for q in questions}
    qs = [by_id[r.id] for r in records]
    answerable = [(r, q) for r, q in zip(records, qs, strict=True) if q.answerable]
    correct = [answer_correct(r.text, q.gold(updated)) for r, q in answerable]
    correct_unrefused = [answer_correct(r.text_unrefused, q.gold(updated)) for r, q in answerable]
    em = [exact_match(r.text, q.gold(updated)) for r, q in answerable]
    f1 = [token_f1(r.text, q.gold(updated)) for r, q in answerable]
    sem: list[float] = []
    if embedder is not None and answerable:
        preds = embedder.embed_queries([r.text or " " for r, _ in answerable])
        golds = [embedder.embed_queries(list(q.gold(updated))) for _, q in answerable]
        sem = M.cosine_best(preds, golds)
    correct_by_id = {r.id: c for (r, _), c in zip(answerable, correct, strict=True)}
    halluc = [
        _is_hallucination(r, q, correct_by_id.get(r.id, False), reads_sources) for r, q in zip(records, qs, strict=True)
    ]
    refusals = M.refusal_scores([r.refused for r in records], [q.answerable for q in qs])
    answered = [r for r in records if not r.refused]
    cite_prec = [r.cited_supported / r.cited_sentences for r in answered if r.cited_sentences]

    def ci(values: Sequence[float] | Sequence[bool]) -> M.Estimate:
        return M.bootstrap_ci(values, resamples=resamples, seed=seed)

    return AnswerScores(
        accuracy=ci(correct),
        accuracy_refusal_off=ci(correct_unrefused),
        exact_match=ci(em),
        token_f1=ci(f1),
        semantic_similarity=ci(sem) if sem else None,
        hallucination=ci(halluc),
        refusal_recall=refusals.recall,
        refusal_precision=refusals.precision,
        refusals=refusals.refusals,
        answerable_refused=refusals.answerable_refused,
        refusal_reasons=dict(Counter(str(r.refusal_reason or "unknown") for r in records if r.refused)),
        citation_rate=ci([r.cited for r in answered]) if reads_sources else ci([False] * len(answered)),
        citation_precision=ci(cite_prec) if cite_prec else None,
        tokens_per_answer=float(np.mean([r.tokens_out for r in records])) if records else math.nan,
        tokens_in_per_answer=float(np.mean([r.tokens_in for r in records])) if records else math.nan,
        correct=correct_by_id,
    )


def _share_correct(
    records: Sequence[AnswerRecord], golds: Mapping[str, Sequence[str]], resamples: int, seed: int, unrefused: bool
) -> M.Estimate:
    right = [answer_correct(r.text_unrefused if unrefused else r.text, golds[r.id]) for r in records]
    return M.bootstrap_ci(right, resamples=resamples, seed=seed)


def strategy_freshness(
    before: AnsweredSet, after: AnsweredSet, changed: Sequence[Question], reads_sources: bool, resamples: int, seed: int
) -> StrategyFreshness:
    """Changed facts answered with the new value before and after the update (and the old value after it)."""
    new = {q.id: q.answers_v2 for q in changed}
    old = {q.id: q.answers for q in changed}
    return StrategyFreshness(
        before=_share_correct(before.records, new, resamples, seed, unrefused=False),
        after=_share_correct(after.records, new, resamples, seed, unrefused=False),
        after_refusal_off=_share_correct(after.records, new, resamples, seed, unrefused=True),
        old_after=_share_correct(after.records, old, resamples, seed, unrefused=False),
        stale_until_retrained=not reads_sources,
    )


def probe_accuracy(answered: AnsweredSet, probe: Sequence[Question], resamples: int, seed: int) -> M.Estimate:
    """General-knowledge questions answered right, closed-book."""
    right = [answer_correct(r.text, q.answers) for r, q in zip(answered.records, probe, strict=True)]
    return M.bootstrap_ci(right, resamples=resamples, seed=seed)


def replay_contrast(
    probe_answers: AnsweredSet,
    probe: Sequence[Question],
    test_answers: AnsweredSet,
    test: Sequence[Question],
    base_probe: float | None,
    *,
    strategy_share: float,
    contrast_share: float,
    resamples: int,
    seed: int,
) -> ReplayContrast:
    """The replay contrast: the finetune adapter trained at the other replay setting (`contrast_share` against the
    strategy's `strategy_share`), on the probe and the test questions."""
    acc = probe_accuracy(probe_answers, probe, resamples, seed)
    test_acc = score_answers(
        test_answers.records, test, reads_sources=False, embedder=None, resamples=resamples, seed=seed
    ).accuracy
    drop = None if base_probe is None else base_probe - acc.value
    return ReplayContrast(strategy_share, contrast_share, acc, drop, test_acc)


def strategy_result(
    strategy: Strategy,
    answered: AnsweredSet,
    questions: Sequence[Question],
    *,
    embedder: Embedder | None,
    resamples: int,
    seed: int,
    judge: M.Estimate | None = None,
    training: Training | None = None,
    freshness: StrategyFreshness | None = None,
    forgetting: Forgetting | None = None,
    retrain_seconds: float | None = None,
) -> StrategyResult:
    """Everything measured of one strategy, from its answers to the test questions and what else was measured."""
    scores = score_answers(
        answered.records,
        questions,
        reads_sources=strategy.reads_sources,
        embedder=embedder,
        resamples=resamples,
        seed=seed,
    )
    readers = Counter(r.reader for r in answered.records if r.reader)
    return StrategyResult(
        description=strategy.description,
        reads_sources=strategy.reads_sources,
        reader=readers.most_common(1)[0][0] if readers else "",
        scores=scores,
        latency_p50_s=M.percentile(answered.latencies, 50),
        latency_p95_s=M.percentile(answered.latencies, 95),
        batched_seconds_per_question=answered.batched_seconds / max(1, len(answered.records)),
        judge_accuracy=judge,
        training=training,
        freshness=freshness,
        forgetting=forgetting,
        retrain_seconds=retrain_seconds,
    )


def judge_accuracy(
    judge: Judge, test: Sequence[Question], answered: AnsweredSet, resamples: int, seed: int
) -> M.Estimate:
    """An LLM judge's verdicts on the answers to the answerable test questions."""
    by_id = {r.id: r for r in answered.records}
    grades = judge.grade([JudgeItem(q.question, q.answers, by_id[q.id].text) for q in test])
    return M.bootstrap_ci(grades, resamples=resamples, seed=seed)


def paired_tests(correct: Mapping[str, Sequence[bool]], resamples: int, seed: int) -> tuple[M.PairedTest, ...]:
    """Accuracy of every later strategy against every earlier one, on the same questions."""
    names = list(correct)
    return tuple(
        M.paired_test(correct[a], correct[b], names=(a, b), metric="accuracy", resamples=resamples, seed=seed)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    )


@dataclass(frozen=True)
class CurveRun:
    """One learning-curve job's answers (the share is in its name, `finetune-<percent>`)."""

    job: str
    answered: AnsweredSet
    train_seconds: float


def learning_curve(
    runs: Sequence[CurveRun],
    full: StrategyResult,
    plan: Plan,
    test: Sequence[Question],
    resamples: int,
    seed: int,
) -> LearningCurve:
    """Accuracy at each share of the training questions; the 100% point is the finetune strategy itself."""
    points = [
        CurvePoint(
            share=int(r.job.split("-")[1]) / 100,
            examples=plan.job(r.job).examples,
            accuracy=score_answers(
                r.answered.records, test, reads_sources=False, embedder=None, resamples=resamples, seed=seed
            ).accuracy,
            train_seconds=r.train_seconds,
        )
        for r in runs
    ]
    points.append(CurvePoint(1.0, plan.job("finetune-100").examples, full.accuracy, full.train_seconds))
    return LearningCurve("finetune", tuple(sorted(points, key=lambda p: p.share)))


def freshness_summary(
    changed_questions: int, resync_seconds: float, sync: SyncCounts, plan: Plan, finetune_seconds: float
) -> FreshnessSummary:
    """The update's re-sync, and retraining estimated from the finetune job's measured training speed."""
    job = plan.job("finetune-100")
    tokens = job.tokens * job.epochs
    tps = tokens / finetune_seconds if finetune_seconds > 0 else math.nan
    retrain = tokens / tps if tps and not math.isnan(tps) else finetune_seconds
    return FreshnessSummary(
        changed_questions=changed_questions,
        resync_seconds=resync_seconds,
        sync=sync,
        retrain_seconds=retrain,
        retrain_measured=False,
        retrain_note=(
            f"estimated: the same {job.examples} examples x {job.epochs:g} epochs at the measured {tps:.0f} "
            "training tokens/s"
        ),
    )


def advisor_measures(strategies: Mapping[str, StrategyResult]) -> list[StrategyMeasures]:
    """What the advisor reads of each strategy."""
    return [
        StrategyMeasures(
            name=n,
            accuracy=s.accuracy,
            hallucination=s.scores.hallucination.value,
            citation_rate=s.scores.citation_rate.value,
            freshness=s.freshness.after.value if s.freshness else math.nan,
            latency_p95_s=s.latency_p95_s,
            train_seconds=s.train_seconds,
            retrain_seconds=_retrain_seconds(s),
            retrain_measured=False,
            forgetting=s.forgetting.drop if s.forgetting and s.forgetting.drop is not None else math.nan,
            forgetting_replay_contrast=_contrast_drop(s),
            replay_contrast_share=_contrast_share(s),
            forgetting_without_routing=(
                s.forgetting.unrouted_drop if s.forgetting and s.forgetting.unrouted_drop is not None else math.nan
            ),
            reads_sources=s.reads_sources,
        )
        for n, s in strategies.items()
    ]


def _retrain_seconds(s: StrategyResult) -> float:
    """Keeping `s` current after one update: measured by an update run, else (no --updated-docs) a retrain of a
    tuned model estimated as the training it measured; a strategy that reads sources re-syncs, unmeasured here."""
    if s.retrain_seconds is not None:
        return s.retrain_seconds
    return 0.0 if s.reads_sources else s.train_seconds


def _contrast_drop(s: StrategyResult) -> float:
    c = s.forgetting.replay_contrast if s.forgetting else None
    return c.drop if c is not None and c.drop is not None else math.nan


def _contrast_share(s: StrategyResult) -> float:
    c = s.forgetting.replay_contrast if s.forgetting else None
    return c.contrast_share if c is not None else math.nan
