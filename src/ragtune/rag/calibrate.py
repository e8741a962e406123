"""Refusal with a calibration: score an answer's support and decide (`apply_calibration`), the record a fit needs
(`calibration_record`, labelled with compare's accuracy rule), and fitting one on labelled questions (`calibrate`).

Why calibrated: whether an answer is supported is a score (see `ragtune.citations`), and where to cut depends on the
models and the documents, so the cut is fitted on labelled questions (`ragtune calibrate`).
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.calibration import (
    Calibration,
    CalibrationError,
    CalibrationRecord,
    LabelledQuestion,
    can_hold_out,
    decide,
    default_calibration,
    fit_calibration,
    fit_calibration_held_out,
    load_calibration,
)
from ragtune.citations import attribute
from ragtune.config import Config
from ragtune.models.generator import model_identity
from ragtune.prompts import REFUSAL
from ragtune.rag.answer import Answer, SentenceSupport
from ragtune.text import answer_correct, contains_answer
from ragtune.workspace import Workspace

if TYPE_CHECKING:
    from ragtune.rag.answerer import Answerer


def load_calibration_for(config: Config) -> Calibration:
    """The workspace's calibration (from `ragtune calibrate`), or the packaged default when there is none."""
    path = Workspace(config.workspace_path).calibration_file
    return load_calibration(path) if path.is_file() else default_calibration()


def apply_calibration(
    answer: Answer,
    calibration: Calibration,
    *,
    min_relevance: float,
    min_answerable: float,
    refusal_text: str = REFUSAL,
) -> Answer:
    """Score an answer's support with `calibration` and refuse it when retrieval found nothing relevant enough or
    the answer is unlikely to be supported. The Answerer decides with this; the benchmark re-decides answers given
    with refusal off under a calibration fitted on other questions, with the same code."""
    if answer.refused or not answer.sources:
        return answer
    numbers = [s.number for s in answer.sources]
    sentences = []
    for s in answer.sentences:
        if len(s.lexical) != len(numbers):  # no features (closed-book): nothing to rescore
            sentences.append(s)
            continue
        a = attribute(s.text, answer.citations, numbers, s.lexical, s.embedding, calibration.support)
        sentences.append(SentenceSupport(a.text, a.source_number, a.support, a.cited, a.lexical, a.embedding))
    signals = dict(answer.signals)
    first = sentences[0] if sentences else None
    signals["support"] = (
        max(
            (calibration.support.score(lx, em) for lx, em in zip(first.lexical, first.embedding, strict=True)),
            default=0.0,
        )
        if first is not None
        else 0.0
    )
    signals["answerable"] = calibration.answerable.probability(signals)
    scored = dataclasses.replace(
        answer,
        sentences=tuple(sentences),
        support=min((s.support for s in sentences), default=0.0),
        signals=signals,
    )
    reason = decide(signals, min_relevance=min_relevance, min_answerable=min_answerable)
    if not reason:
        return scored
    return dataclasses.replace(
        scored, text=refusal_text, refused=True, sentences=(), support=0.0, refusal_reason=reason
    )


def calibration_record(answer: Answer, answers: Sequence[str], answerable: bool) -> CalibrationRecord:
    """What `fit_calibration` needs from one answer given with refusal off, and its labels."""
    n = len(answer.sources)
    first = answer.sentences[0] if answer.sentences else None
    has_features = first is not None and len(first.lexical) == n
    gold = tuple(any(contains_answer(s.excerpt or "", a) for a in answers) for s in answer.sources)
    return CalibrationRecord(
        answerable=answerable,
        correct=answerable and not answer.refused and answer_correct(answer.text, answers),
        signals={k: float(v) for k, v in answer.signals.items()},
        lexical=first.lexical if has_features and first is not None else tuple(0.0 for _ in range(n)),
        embedding=first.embedding if has_features and first is not None else tuple(0.0 for _ in range(n)),
        gold_in_source=gold,
        has_sources=bool(answer.sources),
    )


def calibrate(
    answerer: Answerer,
    questions: Sequence[LabelledQuestion],
    *,
    max_false_refusal: float = 0.1,
    relevance_quantile: float = 0.02,
    held_out: bool = False,
    progress: bool = True,
    fitted_on: Mapping[str, Any] | None = None,
) -> tuple[Calibration, list[Answer]]:
    """Answer `questions` with refusal off, fit a Calibration on what happened; returns it and the answers.

    `held_out`: `max_false_refusal` holds for questions the fit has not seen (`fit_calibration_held_out`). The
    questions are split in two by the document their best source comes from, so that questions about one passage
    stay together; if that split leaves a half without enough of either kind, by their order instead."""
    if not answerer.reads_sources:
        raise CalibrationError("calibration needs an answerer that reads sources (the rag or hybrid strategy)")
    answers = answerer.answer_many([q.question for q in questions], progress=progress, refuse=False)
    records = [calibration_record(a, q.answers, q.answerable) for a, q in zip(answers, questions, strict=True)]
    # The calibration applies to this generator only (`calibration.applies_to`): its refusal model is fitted to the
    # answers of this model, read by this reader.
    info = {
        "generator": model_identity(answerer.generator),
        "reader": answerer.reader.kind,
        "embedder": getattr(answerer.embedder, "name", ""),
        **(fitted_on or {}),
    }
    if not held_out:
        calibration = fit_calibration(
            records, max_false_refusal=max_false_refusal, relevance_quantile=relevance_quantile, fitted_on=info
        )
        return calibration, answers
    groups = [
        zlib.crc32(a.sources[0].doc_id.encode("utf-8")) % 2 if a.sources else i % 2 for i, a in enumerate(answers)
    ]
    if not can_hold_out(records, groups):
        groups = [i % 2 for i in range(len(records))]
    calibration = fit_calibration_held_out(
        records, groups, max_false_refusal=max_false_refusal, relevance_quantile=relevance_quantile, fitted_on=info
    )
    return calibration, answers
