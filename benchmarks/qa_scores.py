"""Scoring of the QA dev suite: one record per answer, summaries per data set x configuration x shape, the macro
average, and the markdown tables. No models here: everything works from the records, so a saved JSONL can be
re-scored."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ragtune.evaluate.metrics import bootstrap_ci, paired_test
from ragtune.text import answer_correct, decision_of, token_f1

ALL = "all"  # the shape name of a data set's whole row


class _Source(Protocol):
    @property
    def doc_id(self) -> str: ...


class AnswerLike(Protocol):
    """What the suite reads of a `ragtune.rag.Answer` (a protocol, so the answering code may move freely)."""

    @property
    def text(self) -> str: ...
    @property
    def refused(self) -> bool: ...
    @property
    def refusal_reason(self) -> str: ...
    @property
    def sources(self) -> Sequence[_Source]: ...
    @property
    def tokens_in(self) -> int: ...


@dataclass(frozen=True)
class Record:
    """One question answered by one configuration (a line of the per-question JSONL)."""

    id: str
    dataset: str
    shape: str
    config: str
    question: str
    gold: tuple[str, ...]
    answerable: bool
    answer: str  # as the user reads it (after refusal)
    correct: bool  # answerable: a gold answer is in it (compare's scorer); unanswerable: it was refused
    refused: bool
    unrefused: str  # the same generation before refusal
    unrefused_correct: bool
    f1: float
    unrefused_f1: float
    decision: str  # "yes" / "no" / "maybe" when the answer opens with one, else ""
    refusal_reason: str
    sources: tuple[str, ...]  # document ids of the sources shown, in order
    tokens_in: int
    seconds: float  # this question's share of the batch's wall time


def score(
    *,
    item_id: str,
    dataset: str,
    shape: str,
    config: str,
    question: str,
    gold: Sequence[str],
    answerable: bool,
    final: AnswerLike,
    draft: AnswerLike,
    seconds: float,
) -> Record:
    """A record from the answer (`final`) and the same generation before refusal (`draft`)."""
    text, refused, raw, raw_refused = final.text, final.refused, draft.text, draft.refused
    golds = tuple(gold)
    if answerable:
        correct = not refused and answer_correct(text, golds)
        unrefused_correct = not raw_refused and answer_correct(raw, golds)
        f1 = 0.0 if refused else token_f1(text, golds)
        unrefused_f1 = 0.0 if raw_refused else token_f1(raw, golds)
    else:
        correct, unrefused_correct, f1, unrefused_f1 = refused, raw_refused, 0.0, 0.0
    return Record(
        id=item_id,
        dataset=dataset,
        shape=shape,
        config=config,
        question=question,
        gold=golds,
        answerable=answerable,
        answer=text,
        correct=correct,
        refused=refused,
        unrefused=raw,
        unrefused_correct=unrefused_correct,
        f1=f1,
        unrefused_f1=unrefused_f1,
        decision=decision_of(text) or "",
        refusal_reason=final.refusal_reason,
        sources=tuple(s.doc_id for s in final.sources),
        tokens_in=final.tokens_in,
        seconds=seconds,
    )


@dataclass(frozen=True)
class Summary:
    """One data set x configuration x shape (`shape` = "all" for the whole data set). NaN: not measured here."""

    dataset: str
    config: str
    shape: str
    n: int
    answerable: int
    accuracy: float  # over answerable questions, after refusal
    ci_low: float
    ci_high: float
    accuracy_unrefused: float
    f1: float
    f1_unrefused: float
    refusal_recall: float  # unanswerable questions refused
    answerable_refused: float  # answerable questions refused
    opens_decision: float  # answers opening with yes/no/maybe (NaN where no gold is a decision)
    seconds_per_question: float
    tokens_in: float


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def summarize(records: Sequence[Record], *, shape: str, decides: bool) -> Summary:
    first = records[0]
    ans = [r for r in records if r.answerable]
    una = [r for r in records if not r.answerable]
    ci = bootstrap_ci([r.correct for r in ans])
    return Summary(
        dataset=first.dataset,
        config=first.config,
        shape=shape,
        n=len(records),
        answerable=len(ans),
        accuracy=ci.value,
        ci_low=ci.ci_low,
        ci_high=ci.ci_high,
        accuracy_unrefused=_mean([float(r.unrefused_correct) for r in ans]),
        f1=_mean([r.f1 for r in ans]),
        f1_unrefused=_mean([r.unrefused_f1 for r in ans]),
        refusal_recall=_mean([float(r.refused) for r in una]),
        answerable_refused=_mean([float(r.refused) for r in ans]),
        opens_decision=_mean([float(bool(r.decision)) for r in records]) if decides else math.nan,
        seconds_per_question=_mean([r.seconds for r in records]),
        tokens_in=_mean([float(r.tokens_in) for r in records]),
    )


def summaries(records: Sequence[Record], decides: dict[str, bool]) -> list[Summary]:
    """Per data set x configuration: the whole row first, then one per shape (in the order the shapes appear)."""
    groups: dict[tuple[str, str], list[Record]] = {}
    for r in records:
        groups.setdefault((r.dataset, r.config), []).append(r)
    out: list[Summary] = []
    for (dataset, _config), rs in groups.items():
        out.append(summarize(rs, shape=ALL, decides=decides.get(dataset, False)))
        for shape in dict.fromkeys(r.shape for r in rs):
            out.append(summarize([r for r in rs if r.shape == shape], shape=shape, decides=decides.get(dataset, False)))
    return out


def macro(stats: Sequence[Summary], config: str, datasets: Sequence[str]) -> tuple[float, float]:
    """(accuracy, refusal-off accuracy) averaged over data sets, each data set weighing the same."""
    rows = [s for s in stats if s.config == config and s.shape == ALL and s.dataset in datasets]
    return _mean([s.accuracy for s in rows]), _mean([s.accuracy_unrefused for s in rows])


@dataclass(frozen=True)
class Difference:
    """Configuration B minus A on one data set's answerable questions (paired: the same questions)."""

    dataset: str
    a: str
    b: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int


def difference(records: Sequence[Record], dataset: str, a: str, b: str) -> Difference | None:
    def correct(config: str) -> dict[str, bool]:
        return {r.id: r.correct for r in records if r.dataset == dataset and r.config == config and r.answerable}

    ca, cb = correct(a), correct(b)
    ids = [i for i in ca if i in cb]
    if not ids:
        return None
    t = paired_test([ca[i] for i in ids], [cb[i] for i in ids], names=(a, b))
    return Difference(dataset, a, b, t.difference, t.ci_low, t.ci_high, t.p_value, t.n)


# ------------------------------------------------------------------------------------------------------ tables


def _f(x: float, digits: int = 2) -> str:
    return "–" if math.isnan(x) else f"{x:.{digits}f}"


def accuracy_table(stats: Sequence[Summary], configs: Sequence[str], datasets: Sequence[str]) -> str:
    """Data set x shape rows, one column per configuration: accuracy (refusal off) F1."""
    head = "| data set | shape | n | " + " | ".join(configs) + " |"
    lines = [
        "accuracy after refusal (accuracy with refusal off) / token F1; unanswerable rows: share refused",
        "",
        head,
        "| --- | --- | ---: |" + " ---: |" * len(configs),
    ]
    by = {(s.dataset, s.config, s.shape): s for s in stats}
    for dataset in datasets:
        shapes = [s.shape for s in stats if s.dataset == dataset and s.config == configs[0]]
        shapes = shapes[:1] if len(shapes) == 2 else shapes  # one shape: its row would repeat the whole one
        for shape in shapes:
            cells = []
            for c in configs:
                s = by.get((dataset, c, shape))
                if s is None:
                    cells.append("")
                elif s.answerable == 0:
                    cells.append(f"refused {_f(s.refusal_recall)}")
                else:
                    cells.append(f"{_f(s.accuracy)} ({_f(s.accuracy_unrefused)}) / {_f(s.f1)}")
            n = by[(dataset, configs[0], shape)].n
            name = f"**{dataset}**" if shape == ALL else ""
            lines.append(f"| {name} | {shape} | {n} | " + " | ".join(cells) + " |")
    cells = []
    for c in configs:
        acc, off = macro(stats, c, datasets)
        cells.append(f"**{_f(acc, 3)}** ({_f(off, 3)})")
    lines.append(f"| **macro average** | {len(datasets)} data sets | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def detail_table(stats: Sequence[Summary], diffs: Sequence[Difference], baseline: str) -> str:
    """One row per data set x configuration: the interval, refusal, decisions, speed, and the paired difference."""
    lines = [
        "| data set | config | accuracy [95% CI] | refused: unanswerable / answerable | opens yes/no/maybe "
        f"| s/question | prompt tokens | vs {baseline} (paired, p) |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    dmap = {(d.dataset, d.b): d for d in diffs}
    for s in stats:
        if s.shape != ALL:
            continue
        d = dmap.get((s.dataset, s.config))
        vs = f"{d.difference:+.3f} [{d.ci_low:+.2f}, {d.ci_high:+.2f}], p {d.p_value:.2g}" if d else ""
        lines.append(
            f"| {s.dataset} | {s.config} | {_f(s.accuracy, 3)} [{_f(s.ci_low)}, {_f(s.ci_high)}] "
            f"| {_f(s.refusal_recall)} / {_f(s.answerable_refused)} | {_f(s.opens_decision)} "
            f"| {_f(s.seconds_per_question)} | {_f(s.tokens_in, 0)} | {vs} |"
        )
    return "\n".join(lines)
