"""What a comparison measured, as types: per strategy, per metric, with intervals; `results.json` is their JSON form.

The experiment builds these (through scoring.py), the report reads them, and `Results.from_json` reads a written
results.json back, so the report of a file and the report of a run are made by the same code. `to_json` keeps the
field names and their order exactly as results.json has always had them: tools and old reports read that file.
Numbers not measured are NaN here and null in the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.evaluate.advisor import Ranked, Recommendation
from ragtune.evaluate.metrics import Estimate, PairedTest
from ragtune.evaluate.planner import Plan, PlannedJob
from ragtune.evaluate.records import JSONObject, ListedAnswer, num
from ragtune.evaluate.stages import StageRecord
from ragtune.evaluate.strategy_measures import (
    Forgetting,
    RetrievalMeasure,
    StrategyFreshness,
    estimate_from_json,
    estimate_json,
    estimate_or_nan,
)

# ------------------------------------------------------------------------------------------------ per strategy


@dataclass(frozen=True)
class AnswerScores:
    """One strategy's answer metrics on one question set, with 95% bootstrap intervals."""

    accuracy: Estimate
    # The same answers had nothing been refused: the accuracy that refusal trades for catching unanswerable ones.
    accuracy_refusal_off: Estimate
    exact_match: Estimate
    token_f1: Estimate
    semantic_similarity: Estimate | None
    hallucination: Estimate
    refusal_recall: float
    refusal_precision: float
    refusals: int
    answerable_refused: float
    refusal_reasons: Mapping[str, int]
    citation_rate: Estimate
    citation_precision: Estimate | None
    tokens_per_answer: float
    tokens_in_per_answer: float
    # Per answerable question id: right or not (the paired tests' input; not written to results.json).
    correct: Mapping[str, bool] = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        return {
            "accuracy": self.accuracy.as_dict(),
            "accuracy_refusal_off": self.accuracy_refusal_off.as_dict(),
            "exact_match": self.exact_match.as_dict(),
            "token_f1": self.token_f1.as_dict(),
            "semantic_similarity": estimate_json(self.semantic_similarity),
            "hallucination": self.hallucination.as_dict(),
            "refusal_recall": self.refusal_recall,
            "refusal_precision": self.refusal_precision,
            "refusals": self.refusals,
            "answerable_refused": self.answerable_refused,
            "refusal_reasons": dict(self.refusal_reasons),
            "citation_rate": self.citation_rate.as_dict(),
            "citation_precision": estimate_json(self.citation_precision),
            "tokens_per_answer": self.tokens_per_answer,
            "tokens_in_per_answer": self.tokens_in_per_answer,
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> AnswerScores:
        return AnswerScores(
            accuracy=estimate_or_nan(d.get("accuracy")),
            accuracy_refusal_off=estimate_or_nan(d.get("accuracy_refusal_off")),
            exact_match=estimate_or_nan(d.get("exact_match")),
            token_f1=estimate_or_nan(d.get("token_f1")),
            semantic_similarity=estimate_from_json(d.get("semantic_similarity")),
            hallucination=estimate_or_nan(d.get("hallucination")),
            refusal_recall=num(d.get("refusal_recall")),
            refusal_precision=num(d.get("refusal_precision")),
            refusals=int(d.get("refusals") or 0),
            answerable_refused=num(d.get("answerable_refused")),
            refusal_reasons={str(k): int(v) for k, v in (d.get("refusal_reasons") or {}).items()},
            citation_rate=estimate_or_nan(d.get("citation_rate")),
            citation_precision=estimate_from_json(d.get("citation_precision")),
            tokens_per_answer=num(d.get("tokens_per_answer")),
            tokens_in_per_answer=num(d.get("tokens_in_per_answer")),
        )


@dataclass(frozen=True)
class Training:
    """The adapter a tuned strategy answers with, and what training it took."""

    seconds: float
    adapter: str
    adapter_mb: float
    metrics: Mapping[str, float | int | str]


@dataclass(frozen=True)
class StrategyResult:
    """Everything measured of one strategy."""

    description: str
    reads_sources: bool
    scores: AnswerScores
    latency_p50_s: float
    latency_p95_s: float
    batched_seconds_per_question: float
    judge_accuracy: Estimate | None = None
    training: Training | None = None
    freshness: StrategyFreshness | None = None
    forgetting: Forgetting | None = None
    retrain_seconds: float | None = None  # keeping it fresh after one update (only when documents were updated)
    reader: str = ""  # who read the sources: "small" or "capable" (ragtune.rag.reader); "" in older results
    retrieval: RetrievalMeasure | None = None  # what its retriever finds and costs (with compare.tune_retriever)

    @property
    def accuracy(self) -> Estimate:
        return self.scores.accuracy

    @property
    def train_seconds(self) -> float:
        return self.training.seconds if self.training else 0.0

    @property
    def adapter_mb(self) -> float:
        return self.training.adapter_mb if self.training else 0.0

    def to_json(self) -> JSONObject:
        out: JSONObject = {"description": self.description, "reads_sources": self.reads_sources}
        if self.reader:
            out["reader"] = self.reader
        out |= self.scores.to_json()
        if self.judge_accuracy is not None:
            out["judge_accuracy"] = self.judge_accuracy.as_dict()
        out |= {
            "latency_p50_s": self.latency_p50_s,
            "latency_p95_s": self.latency_p95_s,
            "batched_seconds_per_question": self.batched_seconds_per_question,
            "train_seconds": self.train_seconds,
            "adapter_mb": self.adapter_mb,
        }
        if self.training is not None:
            out["adapter"] = self.training.adapter
            out["train_metrics"] = dict(self.training.metrics)
        if self.freshness is not None:
            out["freshness"] = self.freshness.to_json()
        if self.forgetting is not None:
            out["forgetting"] = self.forgetting.to_json()
        if self.retrain_seconds is not None:
            out["retrain_seconds"] = self.retrain_seconds
        if self.retrieval is not None:
            out["retrieval"] = self.retrieval.to_json()
        return out

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> StrategyResult:
        training = None
        if d.get("adapter") or num(d.get("train_seconds")) > 0:
            training = Training(
                num(d.get("train_seconds")),
                str(d.get("adapter") or ""),
                num(d.get("adapter_mb")),
                dict(d.get("train_metrics") or {}),
            )
        return StrategyResult(
            description=str(d.get("description", "")),
            reads_sources=bool(d.get("reads_sources")),
            scores=AnswerScores.from_json(d),
            latency_p50_s=num(d.get("latency_p50_s")),
            latency_p95_s=num(d.get("latency_p95_s")),
            batched_seconds_per_question=num(d.get("batched_seconds_per_question")),
            judge_accuracy=estimate_from_json(d.get("judge_accuracy")),
            training=training,
            freshness=StrategyFreshness.from_json(d["freshness"]) if d.get("freshness") else None,
            forgetting=Forgetting.from_json(d["forgetting"]) if d.get("forgetting") else None,
            retrain_seconds=None if "retrain_seconds" not in d else num(d["retrain_seconds"]),
            reader=str(d.get("reader") or ""),
            retrieval=RetrievalMeasure.from_json(d["retrieval"]) if d.get("retrieval") else None,
        )


# ------------------------------------------------------------------------------------------------ the whole run


@dataclass(frozen=True)
class Skipped:
    """A part of the comparison that did not run, and why (`{"skipped": why}` in results.json)."""

    skipped: str

    def to_json(self) -> JSONObject:
        return {"skipped": self.skipped}


@dataclass(frozen=True)
class CurvePoint:
    share: float
    examples: int
    accuracy: Estimate
    train_seconds: float

    def to_json(self) -> JSONObject:
        return {
            "share": self.share,
            "examples": self.examples,
            "accuracy": self.accuracy.as_dict(),
            "train_seconds": self.train_seconds,
        }


@dataclass(frozen=True)
class LearningCurve:
    """Fine-tune accuracy against the share of the training questions it learned from."""

    strategy: str
    points: tuple[CurvePoint, ...] = ()
    skipped: str | None = None

    def to_json(self) -> JSONObject:
        out: JSONObject = {"strategy": self.strategy, "points": [p.to_json() for p in self.points]}
        if self.skipped is not None:
            out["skipped"] = self.skipped
        return out

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> LearningCurve:
        points = tuple(
            CurvePoint(
                num(p.get("share")),
                int(p.get("examples") or 0),
                estimate_or_nan(p.get("accuracy")),
                num(p.get("train_seconds")),
            )
            for p in d.get("points") or ()
        )
        return LearningCurve(str(d.get("strategy", "finetune")), points, d.get("skipped"))


@dataclass(frozen=True)
class SyncCounts:
    added: int
    updated: int
    unchanged: int
    removed: int


@dataclass(frozen=True)
class FreshnessSummary:
    """The documents' update: its re-sync, and what retraining a tuned model would take instead."""

    changed_questions: int
    resync_seconds: float
    sync: SyncCounts
    retrain_seconds: float
    retrain_measured: bool
    retrain_note: str

    def to_json(self) -> JSONObject:
        return {
            "changed_questions": self.changed_questions,
            "resync_seconds": self.resync_seconds,
            "sync": asdict(self.sync),
            "retrain_seconds": self.retrain_seconds,
            "retrain_measured": self.retrain_measured,
            "retrain_note": self.retrain_note,
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> FreshnessSummary | Skipped:
        if d.get("skipped") or not d:
            return Skipped(str(d.get("skipped") or "no updated documents given"))
        sync = d.get("sync") or {}
        return FreshnessSummary(
            int(d.get("changed_questions") or 0),
            num(d.get("resync_seconds")),
            SyncCounts(*(int(sync.get(k) or 0) for k in ("added", "updated", "unchanged", "removed"))),
            num(d.get("retrain_seconds")),
            bool(d.get("retrain_measured")),
            str(d.get("retrain_note", "")),
        )


@dataclass(frozen=True)
class QuestionCounts:
    file: str
    train: int
    test: int
    test_answerable: int
    unanswerable: int
    changed: int


@dataclass(frozen=True)
class DataSummary:
    label: str
    source_docs: str
    documents: int
    questions: QuestionCounts
    split_note: str
    synthesized: Mapping[str, Any] | None = None  # `ragtune synth`'s summary when the questions were synthesized
    # Test questions against their nearest training question, with each strategy's accuracy split by closeness
    # (`ragtune.evaluate.wording.WordingSplit.to_json`).
    wording: Mapping[str, Any] | None = None
    question_source: str = ""  # "synthesized" or "given" ("" in a file written before it was recorded)

    def to_json(self) -> dict[str, Any]:
        """Without `synthesized` when the questions were the user's, and without what older files did not record:
        such a results.json is written back in its old shape."""
        out = asdict(self)
        for key in ("synthesized", "wording"):
            if out[key] is None:
                del out[key]
        if not self.question_source:
            del out["question_source"]
        return out


@dataclass(frozen=True)
class Costs:
    index_build_seconds: float
    index_mb: float
    chunks: int
    peak_memory_mb: float
    training_seconds_total: float


@dataclass(frozen=True)
class Results:
    """One comparison: what results.json holds."""

    ragtune_version: str
    seed: int
    quick: bool
    data: DataSummary
    generator: str | None
    embedder: str
    strategies: Mapping[str, StrategyResult]
    paired: tuple[PairedTest, ...]
    learning_curve: LearningCurve
    freshness: FreshnessSummary | Skipped
    general_probe: int | Skipped  # how many probe questions were asked
    costs: Costs
    plan: Plan
    measured_seconds: Mapping[str, float]  # training seconds per planned job
    # The calibrate stage's record less the fit itself ("note", and when fitted "questions" and "seconds").
    calibration: Mapping[str, Any]
    stages: tuple[StageRecord, ...]
    recommendation: Recommendation
    answers: Mapping[str, tuple[ListedAnswer, ...]]  # per strategy, its answers to the test questions
    config: Mapping[str, Any]  # the configuration as `ragtune.config.describe` gives it, less secrets
    total_seconds: float

    def to_json(self) -> JSONObject:
        probe = self.general_probe
        return {
            "ragtune_version": self.ragtune_version,
            "seed": self.seed,
            "quick": self.quick,
            "data": self.data.to_json(),
            "models": {"generator": self.generator, "embedder": self.embedder},
            "strategies": {n: s.to_json() for n, s in self.strategies.items()},
            "paired": [t.as_dict() for t in self.paired],
            "learning_curve": self.learning_curve.to_json(),
            "freshness": self.freshness.to_json(),
            "general_probe": probe.to_json() if isinstance(probe, Skipped) else {"questions": probe},
            "costs": asdict(self.costs),
            "plan": self.plan.as_dict() | {"measured_seconds": dict(self.measured_seconds)},
            "calibration": dict(self.calibration),
            "stages": [asdict(r) for r in self.stages],
            "recommendation": self.recommendation.as_dict(),
            "answers": {n: [a.to_json() for a in listed] for n, listed in self.answers.items()},
            "config": dict(self.config),
            "total_seconds": self.total_seconds,
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> Results:
        """A results.json read back (tolerant of fields older files lack: they read as not measured)."""
        data = d.get("data") or {}
        q = data.get("questions") or {}
        models = d.get("models") or {}
        probe = d.get("general_probe") or {}
        costs = d.get("costs") or {}
        plan = d.get("plan") or {}
        return Results(
            ragtune_version=str(d.get("ragtune_version", "")),
            seed=int(d.get("seed") or 0),
            quick=bool(d.get("quick")),
            data=DataSummary(
                str(data.get("label", "")),
                str(data.get("source_docs", "")),
                int(data.get("documents") or 0),
                QuestionCounts(
                    str(q.get("file", "")),
                    *(int(q.get(k) or 0) for k in ("train", "test", "test_answerable", "unanswerable", "changed")),
                ),
                str(data.get("split_note", "")),
                data.get("synthesized"),
                data.get("wording"),
                str(data.get("question_source") or ""),
            ),
            generator=models.get("generator"),
            embedder=str(models.get("embedder", "")),
            strategies={str(n): StrategyResult.from_json(s) for n, s in (d.get("strategies") or {}).items()},
            paired=tuple(_paired_from_json(t) for t in d.get("paired") or ()),
            learning_curve=LearningCurve.from_json(d.get("learning_curve") or {}),
            freshness=FreshnessSummary.from_json(d.get("freshness") or {}),
            general_probe=Skipped(str(probe.get("skipped") or "no general probe given"))
            if not probe or probe.get("skipped")
            else int(probe.get("questions") or 0),
            costs=Costs(
                num(costs.get("index_build_seconds")),
                num(costs.get("index_mb")),
                int(costs.get("chunks") or 0),
                num(costs.get("peak_memory_mb")),
                num(costs.get("training_seconds_total")),
            ),
            plan=_plan_from_json(plan),
            measured_seconds={str(k): num(v) for k, v in (plan.get("measured_seconds") or {}).items()},
            calibration=dict(d.get("calibration") or {}),
            stages=tuple(
                StageRecord(str(s.get("name")), str(s.get("key", "")), num(s.get("seconds")), bool(s.get("cached")))
                for s in d.get("stages") or ()
            ),
            recommendation=_recommendation_from_json(d.get("recommendation") or {}),
            answers={
                str(n): tuple(ListedAnswer.from_json(a) for a in listed)
                for n, listed in (d.get("answers") or {}).items()
            },
            config=dict(d.get("config") or {}),
            total_seconds=num(d.get("total_seconds")),
        )


def _paired_from_json(d: Mapping[str, Any]) -> PairedTest:
    return PairedTest(
        str(d.get("a")),
        str(d.get("b")),
        str(d.get("metric", "accuracy")),
        num(d.get("difference")),
        num(d.get("ci_low")),
        num(d.get("ci_high")),
        num(d.get("p_value")),
        str(d.get("method", "")),
        int(d.get("n") or 0),
    )


def _plan_from_json(d: Mapping[str, Any]) -> Plan:
    jobs = tuple(
        PlannedJob(
            str(j.get("name")),
            str(j.get("kind", "")),
            int(j.get("examples") or 0),
            int(j.get("available") or 0),
            num(j.get("epochs")),
            int(j.get("max_seq_len") or 0),
            int(j.get("tokens") or 0),
            num(j.get("planned_seconds")),
        )
        for j in d.get("jobs") or ()
    )
    return Plan(
        jobs,
        num(d.get("budget_seconds")),
        num(d.get("tokens_per_s")),
        num(d.get("step_seconds")),
        str(d.get("note", "")),
    )


def _recommendation_from_json(d: Mapping[str, Any]) -> Recommendation:
    ranking = tuple(
        Ranked(
            str(r.get("strategy")), num(r.get("score")), bool(r.get("meets_constraints")), tuple(r.get("reasons") or ())
        )
        for r in d.get("ranking") or ()
    )
    return Recommendation(
        str(d.get("strategy", "n/a")), tuple(d.get("reasons") or ()), ranking, dict(d.get("constraints") or {})
    )
