"""What one comparison run carries from stage to stage: the questions each part asks, the index and trained
adapters the strategies answer with, and every answer gathered (ragtune.evaluate.experiment)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ragtune.evaluate import scoring
from ragtune.evaluate.compare_stages import IndexBuilt, Updated
from ragtune.evaluate.jobs import JOB_OF_ADAPTER, is_replay_contrast
from ragtune.evaluate.planner import Plan
from ragtune.evaluate.questions import Question, QuestionSet
from ragtune.evaluate.records import AnsweredSet
from ragtune.evaluate.results import Training
from ragtune.evaluate.strategy_measures import RetrievalMeasure
from ragtune.evaluate.tuned_retriever import NAME as TUNED_RETRIEVER


@dataclass(frozen=True)
class AskedQuestions:
    """The questions each part of the comparison asks."""

    qset: QuestionSet
    test: list[Question]  # answerable and not a changed fact
    unanswerable: list[Question]
    changed: list[Question]  # the freshness test's own set, asked before and after the update
    latency_sample: int

    @property
    def evaluated(self) -> list[Question]:
        return self.test + self.unanswerable


@dataclass(frozen=True)
class BuiltArtifacts:
    """The index and the trained adapters the strategies answer with."""

    index: IndexBuilt
    plan: Plan
    jobs: Mapping[str, Training]  # each train stage's result, by job name
    with_curve: bool
    retriever: Training | None = None  # the train-retriever stage's reranker (compare.tune_retriever)

    def training(self, kind: str) -> Training:
        return self.jobs[JOB_OF_ADAPTER[kind]]

    def trained_retriever(self, strategy: str) -> Training | None:
        return self.retriever if strategy == TUNED_RETRIEVER else None

    def adapter(self, kind: str) -> str:
        return self.training(kind).adapter

    @property
    def replay_contrast(self) -> str | None:
        """The replay contrast's job name, when it was trained."""
        return next((name for name in self.jobs if is_replay_contrast(name)), None)


@dataclass(frozen=True)
class GatheredAnswers:
    """Every answer the comparison gathered."""

    test: dict[str, AnsweredSet]
    before: dict[str, AnsweredSet]  # changed facts, documents v1
    after: dict[str, AnsweredSet]  # changed facts, documents v2
    curve: list[scoring.CurveRun]
    probe: dict[str, AnsweredSet]  # by model: base, finetune, hybrid
    probe_questions: list[Question]
    update: Updated | None
    # finetune's test answers from the adapter trained at the other replay setting (the replay contrast)
    replay_contrast: AnsweredSet | None = None
    retrieval: Mapping[str, RetrievalMeasure] = dataclasses.field(default_factory=dict)  # rag's and the variant's
