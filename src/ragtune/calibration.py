"""Refusal thresholds and support weights fitted on labelled questions, not guessed.

`ragtune calibrate QUESTIONS.jsonl` answers labelled questions (`{"id", "question", "answers", "answerable"}`) with
refusal switched off, then fits three things from what it saw and stores them in the workspace's `calibration.json`:

1. **Support model** (`citations.SupportModel`): a logistic regression from (lexical overlap, embedding similarity)
   of an answer sentence with a source to "this source backs a correct answer" (the answer is right and the source
   holds a gold answer). Its decision threshold maximises balanced accuracy on those pairs.
2. **Relevance floor** (`min_retrieval_score`): the best question-sentence similarity below which retrieval "found
   nothing relevant": the `relevance_quantile` quantile of that similarity over answerable questions whose answer
   was retrieved, so at most that share of good retrievals would be refused by it.
3. **Answerability model** (`min_support`): a logistic regression from question-level signals (relevance, coverage
   of the question's rare words by the best sentence, the answer's best support, whether the answer is a span of
   the sources) to "the question is answerable from the sources"; the threshold on its probability is the largest
   that refuses no more than `max_false_refusal` of the answerable calibration questions.

Calibrate on questions that are not the ones you evaluate on (the benchmark fits on one half of its questions and
measures on the other half, then swaps). A threshold fitted to refuse `max_false_refusal` of the fit's own answerable
questions refuses more of new ones; `fit_calibration_held_out` (`ragtune calibrate --held-out`) makes the share hold
for questions the fit has not seen.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.citations import SupportModel
from ragtune.errors import InputFileError, RagtuneError
from ragtune.jsonl import iter_records

CALIBRATION_VERSION = 1
# "confidence" is the model's mean log-probability of its answer's tokens (local generators report it; where a
# backend does not, a calibration fitted with it weighs a missing value as 0, so calibrate per backend).
ANSWERABLE_FEATURES = ("relevance", "coverage", "support", "in_source", "confidence")


class CalibrationError(RagtuneError):
    """A calibration file is unreadable, or the labelled set cannot support a fit."""


@dataclass(frozen=True)
class LinearModel:
    """sigmoid(bias + sum(w * x)) over named features."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(w * float(values.get(f, 0.0)) for f, w in zip(self.features, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Calibration:
    support: SupportModel
    answerable: LinearModel
    min_relevance: float  # refuse when the best question-sentence similarity is below this
    min_answerable: float  # refuse when P(answerable) is below this
    fitted_on: Mapping[str, Any] = field(default_factory=dict)  # where the numbers come from, and how they did
    version: int = CALIBRATION_VERSION

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["answerable"]["features"] = list(self.answerable.features)
        data["answerable"]["weights"] = list(self.answerable.weights)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "calibration") -> Calibration:
        try:
            if int(data.get("version", 0)) != CALIBRATION_VERSION:
                raise CalibrationError(
                    f"{where}: calibration version {data.get('version')} is not {CALIBRATION_VERSION}; "
                    "run `ragtune calibrate` again"
                )
            s, a = data["support"], data["answerable"]
            return cls(
                support=SupportModel(
                    float(s["w_lexical"]), float(s["w_embedding"]), float(s["bias"]), float(s["threshold"])
                ),
                answerable=LinearModel(
                    tuple(str(f) for f in a["features"]), tuple(float(w) for w in a["weights"]), float(a["bias"])
                ),
                min_relevance=float(data["min_relevance"]),
                min_answerable=float(data["min_answerable"]),
                fitted_on=dict(data.get("fitted_on", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{where}: malformed calibration ({exc!r}); run `ragtune calibrate` again") from exc


# Fitted by `fit_calibration` (the code behind `ragtune calibrate`) on answers of the default models and settings
# (hybrid retrieval, top-5, answers copied from the sources) to all 500 SQuAD 2.0 dev questions of
# ../shared/data/squad2-dev-sample500 (`python -m benchmarks rag`, `calibration_all_questions` in its JSON results; the
# benchmark itself measures refusal with thresholds cross-fitted on the other half of the questions, not with these).
# Refitted at 1ea0978 with the labels of `ragtune.text.answer_correct` (compare's whole-word rule; the fit before used
# substring matching, so "4" counted inside "14"): the in_source weight went from -0.540 to -0.045 and confidence's
# from 0.407 to 0.652, the thresholds stayed (relevance 0.409, P(answerable) 0.391 from 0.390) and so did the fit's
# own figures (refusal recall 0.267 from 0.264, answerable refused 9.9%).
# Used until a project fits its own: thresholds depend on the documents and the models, so run `ragtune calibrate`
# on your own labelled questions.
DEFAULT_CALIBRATION = Calibration(
    support=SupportModel(w_lexical=3.5607, w_embedding=2.6962, bias=-5.5955, threshold=0.2433),
    answerable=LinearModel(
        ("relevance", "coverage", "support", "in_source", "confidence"),
        (2.2877, 0.8077, 0.6306, -0.0448, 0.6518),
        -2.2540,
    ),
    min_relevance=0.4091,
    min_answerable=0.3908,
    fitted_on={
        "generator": "SmolLM2-135M-Instruct",  # applies to this model only (and its adapters): see `applies_to`
        "embedder": "all-MiniLM-L6-v2",
        "source": "benchmarks/bench_rag.py",
        "questions": 500,
        "answerable": 242,
        "fit_refusal_recall": 0.267,
        "fit_false_refusal": 0.099,
    },
)


def default_calibration() -> Calibration:
    return DEFAULT_CALIBRATION


def fitted_for(calibration: Calibration) -> str:
    """The generator a calibration was fitted with ("" when its file does not say: an older or hand-made one)."""
    return str(calibration.fitted_on.get("generator", "") or "")


def applies_to(calibration: Calibration, generator_names: Sequence[str]) -> bool:
    """Whether a calibration's refusal model may judge a generator's answers: only the generator it was fitted with
    (any of `generator_names`: the model, or the model with its adapter) does, since support and answerability are
    fitted to that model's answers (the packaged one to SmolLM2-135M's copied spans). A calibration that names no
    generator applies to any."""
    fitted = fitted_for(calibration)
    return not fitted or fitted in generator_names


def load_calibration(path: str | Path) -> Calibration:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CalibrationError(f"{path}: no calibration file; run `ragtune calibrate QUESTIONS.jsonl`") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # a torn or overwritten file: fit it again
        raise CalibrationError(f"{path}: not valid JSON ({exc}); run `ragtune calibrate` again") from exc
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a JSON object; run `ragtune calibrate` again")
    return Calibration.from_json(data, str(path))


def save_calibration(calibration: Calibration, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(calibration.to_json(), indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)  # a crash never leaves half a calibration behind
    return path


# ----------------------------------------------------------------------------------------------- labelled questions


@dataclass(frozen=True)
class LabelledQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    answerable: bool


def load_labelled(path: str | Path) -> list[LabelledQuestion]:
    """JSONL, one `{"id", "question", "answers": [...], "answerable": bool}` per line (`answerable` defaults to
    whether `answers` is non-empty; `answer` may stand for a single answer). Errors name the line and the field."""
    path = Path(path)
    out: list[LabelledQuestion] = []
    seen: set[str] = set()
    shape = "a JSON object with 'question' and 'answers'"
    for where, line_no, record in iter_records(path, what="labelled question file", shape=shape):
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            raise InputFileError(f"{where}: field 'question' is missing or empty (a string is required)")
        answers: Any = record.get("answers", [record["answer"]] if "answer" in record else [])
        if isinstance(answers, str):
            answers = [answers]
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise InputFileError(f"{where}: field 'answers' must be a list of strings")
        answerable = record.get("answerable", bool(answers))
        if not isinstance(answerable, bool):
            raise InputFileError(f"{where}: field 'answerable' must be true or false")
        if answerable and not any(a.strip() for a in answers):
            raise InputFileError(f"{where}: an answerable question needs at least one answer in 'answers'")
        qid = str(record.get("id", line_no))
        if qid in seen:
            raise InputFileError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        out.append(LabelledQuestion(qid, question.strip(), tuple(a for a in answers if a.strip()), answerable))
    if not out:
        raise InputFileError(f"{path}: no questions")
    return out


MIN_PER_CLASS = 5  # answerable and unanswerable questions a fit needs at the least


def check_labels(questions: Sequence[LabelledQuestion], source: str, *, held_out: bool = False) -> None:
    """Fail before any model is loaded when `questions` cannot be fitted on: too few of either kind (twice as many
    for a held-out fit, which fits on half of them at a time)."""
    answerable = sum(q.answerable for q in questions)
    unanswerable = len(questions) - answerable
    need = 2 * MIN_PER_CLASS if held_out else MIN_PER_CLASS
    if answerable < need or unanswerable < need:
        why = " (--held-out fits on half of them at a time)" if held_out else ""
        raise CalibrationError(
            f"{source}: {answerable} answerable and {unanswerable} unanswerable questions; calibration needs at least "
            f'{need} of each{why}. A question counts as unanswerable when it has "answerable": false (or no '
            "answers); add questions your documents cannot answer, labelled so"
        )


# --------------------------------------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class CalibrationRecord:
    """What one labelled question looked like when answered with refusal off."""

    answerable: bool
    correct: bool  # the answer holds a gold answer
    signals: Mapping[str, float]  # relevance, coverage, in_source, model_refused
    lexical: tuple[float, ...]  # per source: support features of the answer's first sentence
    embedding: tuple[float, ...]
    gold_in_source: tuple[bool, ...]  # per source: it holds a gold answer
    has_sources: bool


def decide(
    signals: Mapping[str, float],
    *,
    min_relevance: float,
    min_answerable: float | None = None,
    has_sources: bool = True,
) -> str:
    """The one refusal decision: "" to answer, else why not.

    "no_sources" (retrieval found nothing), "model_refused" (the model said it cannot answer), "not_relevant" (the
    best question-sentence similarity is below `min_relevance`) or "unsupported" (the calibrated probability that
    the question is answered, `signals["answerable"]`, is below `min_answerable`). Before generation the answer's
    own signals are not known yet: `min_answerable=None` leaves that test out. The Answerer decides with this before
    and after generating, `refuses` and the fit decide with it on records, so every refusal follows one rule."""
    if not has_sources:
        return "no_sources"
    if signals.get("model_refused", 0.0) > 0:
        return "model_refused"
    if signals.get("relevance", 0.0) < min_relevance:
        return "not_relevant"
    if min_answerable is not None and signals.get("answerable", 0.0) < min_answerable:
        return "unsupported"
    return ""


def _logistic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        raise CalibrationError(
            "the labelled questions give only one class here (e.g. every answer right, or no unanswerable "
            "question); add questions of both kinds and calibrate again"
        )
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x, y)
    return model.coef_[0].astype(float), float(model.intercept_[0])


def fit_calibration(
    records: Sequence[CalibrationRecord],
    *,
    max_false_refusal: float = 0.1,
    relevance_quantile: float = 0.02,
    fitted_on: Mapping[str, Any] | None = None,
) -> Calibration:
    """Fit the support model, the relevance floor and the answerability threshold (see the module docstring)."""
    if not 0.0 <= max_false_refusal < 1.0:
        raise CalibrationError(f"max_false_refusal must be in [0, 1), got {max_false_refusal}")
    answered = [r for r in records if r.has_sources]
    if not _enough(records):
        raise CalibrationError(
            f"calibration needs at least {MIN_PER_CLASS} answerable and {MIN_PER_CLASS} unanswerable questions whose "
            "retrieval found sources; "
            f"got {sum(r.answerable for r in answered)} and {sum(not r.answerable for r in answered)}"
        )
    # 1. support: (lexical, embedding) of the answer with each source -> the source backs a correct answer
    xs, ys = [], []
    for r in answered:
        if not r.answerable or r.signals.get("model_refused", 0.0) > 0:
            continue
        for lx, em, gold in zip(r.lexical, r.embedding, r.gold_in_source, strict=True):
            xs.append((lx, em))
            ys.append(1 if (r.correct and gold) else 0)
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=int)
    (w_lex, w_emb), bias = _logistic(x, y)
    probs = 1.0 / (1.0 + np.exp(-(bias + x @ np.array([w_lex, w_emb]))))
    threshold = _balanced_threshold(probs, y)
    support = SupportModel(float(w_lex), float(w_emb), float(bias), threshold)

    # 2. relevance floor over answerable questions whose answer was retrieved
    good = [r.signals["relevance"] for r in answered if r.answerable and any(r.gold_in_source)]
    # "lower": the floor is an observed value, so on a small set it never refuses the least relevant good retrieval.
    min_relevance = float(np.quantile(good, relevance_quantile, method="lower")) if good else 0.0

    # 3. answerability
    def row(r: CalibrationRecord) -> list[float]:
        values = _answerable_values(r, support)
        return [values[f] for f in ANSWERABLE_FEATURES]

    xa = np.asarray([row(r) for r in answered], dtype=float)
    ya = np.asarray([int(r.answerable) for r in answered], dtype=int)
    weights, abias = _logistic(xa, ya)
    model = LinearModel(ANSWERABLE_FEATURES, tuple(float(w) for w in weights), abias)
    scores = np.asarray([model.probability(dict(zip(ANSWERABLE_FEATURES, v, strict=True))) for v in xa])
    # Refused whatever the threshold: the model said it cannot answer, or nothing relevant was retrieved. They
    # spend the false-refusal budget first; the threshold gets what is left.
    always = np.asarray([bool(decide(r.signals, min_relevance=min_relevance)) for r in answered])
    budget = math.floor(max_false_refusal * int(ya.sum())) - int((always & (ya == 1)).sum())
    rest = np.sort(scores[(ya == 1) & ~always])
    if budget <= 0 or len(rest) == 0:
        min_answerable = 0.0  # the budget is spent already: the threshold refuses nothing more
    else:
        # Largest threshold that refuses at most `budget` more answerable questions (scores < threshold).
        min_answerable = float(rest[budget]) if budget < len(rest) else float(rest[-1]) + 1e-9
    refuse = always | (scores < min_answerable)
    stats = {
        "questions": len(records),
        "with_sources": len(answered),
        "answerable": int(ya.sum()),
        "unanswerable": int((1 - ya).sum()),
        "support_pairs": len(ys),
        "support_positive": int(y.sum()),
        "max_false_refusal": max_false_refusal,
        "relevance_quantile": relevance_quantile,
        "fit_refusal_recall": float(refuse[ya == 0].mean()),
        "fit_false_refusal": float(refuse[ya == 1].mean()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return Calibration(support, model, min_relevance, min_answerable, {**(fitted_on or {}), **stats})


def refuses(calibration: Calibration, record: CalibrationRecord) -> bool:
    """Whether `calibration` refuses the question behind `record`: the decision `rag.apply_calibration` makes on the
    answer, made here from the record so that a fit can be tried on questions it was not fitted on."""
    values = _answerable_values(record, calibration.support)
    signals = {**record.signals, "answerable": calibration.answerable.probability(values)}
    reason = decide(
        signals,
        min_relevance=calibration.min_relevance,
        min_answerable=calibration.min_answerable,
        has_sources=record.has_sources,
    )
    return bool(reason)


def _enough(records: Sequence[CalibrationRecord]) -> bool:
    """Enough answerable and unanswerable questions whose retrieval found sources for `fit_calibration`."""
    answered = [r for r in records if r.has_sources]
    return min(sum(r.answerable for r in answered), sum(not r.answerable for r in answered)) >= MIN_PER_CLASS


def can_hold_out(records: Sequence[CalibrationRecord], groups: Sequence[int]) -> bool:
    """Whether `fit_calibration_held_out` can fit on every group but one, for each group in turn."""
    return len(set(groups)) > 1 and all(
        _enough([r for r, k in zip(records, groups, strict=True) if k != g]) for g in set(groups)
    )


HELD_OUT_STEP = 0.01  # granularity of the in-fit shares that `fit_calibration_held_out` tries


def fit_calibration_held_out(
    records: Sequence[CalibrationRecord],
    groups: Sequence[int],
    *,
    max_false_refusal: float = 0.1,
    relevance_quantile: float = 0.02,
    fitted_on: Mapping[str, Any] | None = None,
) -> Calibration:
    """`fit_calibration` with `max_false_refusal` read as the share of answerable questions refused among questions
    the fit has not seen, not among those it was fitted on.

    Why: the threshold is the largest that keeps the fit's own answerable questions under the budget, so on new
    questions it refuses more (on SQuAD 2.0, a 10% fit refused 12.8% of the other half's answerable questions).
    Here the questions are split by `groups` (put questions about the same passage in the same group, or the
    estimate is optimistic); every in-fit share from 0 to `max_false_refusal` in steps of `HELD_OUT_STEP` is fitted
    on all groups but one and tried on the one left out, and the largest share whose held-out rate stays within
    `max_false_refusal` is fitted on every question.
    """
    if len(groups) != len(records):
        raise CalibrationError(f"{len(groups)} group labels for {len(records)} labelled questions")
    if len(set(groups)) < 2:
        raise CalibrationError("a held-out fit needs the questions split into at least two groups")
    answerable = sum(r.answerable for r in records)
    shares = [round(k * HELD_OUT_STEP, 6) for k in range(int(max_false_refusal / HELD_OUT_STEP + 1e-9) + 1)]
    tried: list[dict[str, float]] = []
    for share in shares:
        refused = [False] * len(records)
        for g in sorted(set(groups)):
            try:
                cal = fit_calibration(
                    [r for r, k in zip(records, groups, strict=True) if k != g],
                    max_false_refusal=share,
                    relevance_quantile=relevance_quantile,
                )
            except CalibrationError as exc:
                raise CalibrationError(
                    f"a held-out fit leaves out one group at a time, and without group {g}: {exc}; label more "
                    "questions of the kind that is short, or fit without holding out"
                ) from exc
            for i, (r, k) in enumerate(zip(records, groups, strict=True)):
                if k == g:
                    refused[i] = refuses(cal, r)
        tried.append(
            {
                "fit_share": share,
                "held_out_false_refusal": sum(f for f, r in zip(refused, records, strict=True) if r.answerable)
                / max(1, answerable),
                "held_out_refusal_recall": sum(f for f, r in zip(refused, records, strict=True) if not r.answerable)
                / max(1, len(records) - answerable),
            }
        )
    within = [t for t in tried if t["held_out_false_refusal"] <= max_false_refusal]
    chosen = max(within, key=lambda t: t["fit_share"]) if within else tried[0]
    held_out = {
        "target_false_refusal": max_false_refusal,
        "groups": len(set(groups)),
        **chosen,
        "tried": tried,
    }
    return fit_calibration(
        records,
        max_false_refusal=chosen["fit_share"],
        relevance_quantile=relevance_quantile,
        fitted_on={**(fitted_on or {}), "held_out": held_out},
    )


def _balanced_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The probability cut that maximises balanced accuracy (mean of the two classes' recalls)."""
    best, best_t = -1.0, 0.5
    for t in np.unique(probs):
        pred = probs >= t
        tpr = pred[y == 1].mean() if (y == 1).any() else 0.0
        tnr = (~pred[y == 0]).mean() if (y == 0).any() else 0.0
        if (tpr + tnr) / 2 > best:
            best, best_t = (tpr + tnr) / 2, float(t)
    return best_t


def _answerable_values(r: CalibrationRecord, support: SupportModel) -> dict[str, float]:
    best = max((support.score(lx, em) for lx, em in zip(r.lexical, r.embedding, strict=True)), default=0.0)
    return {
        "relevance": float(r.signals.get("relevance", 0.0)),
        "coverage": float(r.signals.get("coverage", 0.0)),
        "support": best,
        "in_source": float(r.signals.get("in_source", 0.0)),
        "confidence": float(r.signals.get("confidence", 0.0)),
    }
