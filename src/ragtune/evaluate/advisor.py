"""The advisor: measured numbers plus the user's constraints -> a ranked recommendation with its reasons.

No verdict is fixed in advance. Each strategy's score starts from its measured answer accuracy and loses what the
measurements and the constraints say it costs: answers that go stale when the documents change (weighted by how
often they do), hallucinations, general knowledge forgotten, and retraining time on the user's compute. Hard
constraints (answers must cite sources, a latency budget) put a strategy that breaks them below every one that
keeps them. Every reason quotes the numbers it came from, so a user can check it against results.json.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ragtune.config import AdvisorConfig
from ragtune.errors import RagtuneError
from ragtune.evaluate.metrics import Estimate, PairedTest
from ragtune.evaluate.wording import CLOSE, WordingSplit

# Document updates per month for each setting; drives how much stale answers and retraining cost.
UPDATES_PER_MONTH = {"never": 0.0, "monthly": 1.0, "weekly": 4.3, "daily": 30.0}
# Share of answers a strategy must cite to count as "answers cite their sources".
CITATION_FLOOR = 0.5
# The verdict when the measurements cannot name a strategy (`results.json`'s recommendation.strategy).
INCONCLUSIVE = "inconclusive"
# The first reason when the ranking's leader is recommended: its score, which a summary can leave out.
RANKS_FIRST = "ranks first with score"
# Two leaders whose accuracy a paired test cannot tell apart are separated by their measured costs only when these
# differ by at least this much score (staleness, hallucination, forgetting, retraining: see `_score`) ...
COST_SEPARATION = 0.02
# ... or when one needs this many more seconds of training than the other (and at least twice as many).
TRAINING_SEPARATION_S = 60.0


@dataclass(frozen=True)
class StrategyMeasures:
    """What the advisor reads of one strategy (NaN where a measurement was not taken)."""

    name: str
    accuracy: Estimate
    hallucination: float = math.nan
    citation_rate: float = math.nan
    freshness: float = math.nan  # share of changed-fact questions answered with the new value after the update
    latency_p95_s: float = math.nan
    train_seconds: float = 0.0  # training its model took (0: nothing to train)
    retrain_seconds: float = 0.0  # keeping it fresh after one document update (re-sync, or a retrain)
    retrain_measured: bool = False  # False: retrain_seconds is an estimate
    forgetting: float = math.nan  # drop of general-probe accuracy against the base model (positive: forgot)
    # The same drop for the adapter trained at the other replay setting (the replay contrast), and its replay share
    # (0: trained without replay).
    forgetting_replay_contrast: float = math.nan
    replay_contrast_share: float = math.nan
    forgetting_without_routing: float = math.nan  # the same drop with every probe question asked of the adapter
    reads_sources: bool = False


@dataclass(frozen=True)
class Ranked:
    name: str
    score: float
    meets_constraints: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    strategy: str
    reasons: tuple[str, ...]
    ranking: tuple[Ranked, ...]
    constraints: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            "reasons": list(self.reasons),
            "ranking": [
                {
                    "strategy": r.name,
                    "score": r.score,
                    "meets_constraints": r.meets_constraints,
                    "reasons": list(r.reasons),
                }
                for r in self.ranking
            ],
            "constraints": dict(self.constraints),
        }


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 100:.0f}%"


def _dur(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _score(m: StrategyMeasures, base: StrategyMeasures | None, c: AdvisorConfig) -> tuple[float, bool, list[str]]:
    acc = m.accuracy
    reasons = [f"answer accuracy {acc.value:.2f} (95% CI {acc.ci_low:.2f}-{acc.ci_high:.2f}, {acc.n} questions)"]
    score = acc.value
    ok = True
    updates = UPDATES_PER_MONTH[c.update_frequency]
    if updates > 0 and not math.isnan(m.freshness):
        # Stale answers hurt in proportion to how often the documents change (capped: daily is the worst case).
        weight = min(1.0, 0.25 + updates / 10)
        score -= weight * (1 - m.freshness) * 0.5
        reasons.append(
            f"after the document update it gave the new value for {_pct(m.freshness)} of changed facts "
            f"(documents change {c.update_frequency})"
        )
    if updates > 0 and m.train_seconds > 0 and not m.reads_sources:
        monthly = m.retrain_seconds * updates
        how = "measured" if m.retrain_measured else "estimated from the measured training speed"
        # On a CPU a retrain per update is a real running cost; on a GPU it is small.
        per_hour = 0.04 if c.compute_budget == "cpu" else 0.01
        score -= min(0.3, per_hour * monthly / 3600)
        reasons.append(
            f"staying current needs a retrain per update: {_dur(m.retrain_seconds)} each ({how}), "
            f"about {_dur(monthly)} a month on {c.compute_budget}"
        )
    elif updates > 0 and m.reads_sources and m.retrain_seconds > 0:
        reasons.append(f"an update is a re-sync of the index: {_dur(m.retrain_seconds)}")
    if not math.isnan(m.hallucination):
        score -= 0.3 * m.hallucination
        reasons.append(f"hallucination rate {_pct(m.hallucination)}")
    reasons.extend(_forgetting_reasons(m))
    if not math.isnan(m.forgetting) and m.forgetting > 0:
        score -= 0.5 * m.forgetting
    if c.require_citations:
        rate = 0.0 if math.isnan(m.citation_rate) else m.citation_rate
        if rate < CITATION_FLOOR:
            ok = False
            reasons.append(f"cites sources in only {_pct(rate)} of answers, but answers must cite sources")
        else:
            reasons.append(f"cites sources in {_pct(rate)} of answers")
    if c.max_latency_ms > 0 and not math.isnan(m.latency_p95_s):
        p95_ms = m.latency_p95_s * 1000
        if p95_ms > c.max_latency_ms:
            ok = False
            reasons.append(f"p95 latency {p95_ms:.0f} ms exceeds the {c.max_latency_ms:.0f} ms budget")
        else:
            reasons.append(f"p95 latency {p95_ms:.0f} ms within the {c.max_latency_ms:.0f} ms budget")
    if base is not None and base.name != m.name and base.accuracy.value > 0:
        reasons.append(f"{acc.value / base.accuracy.value:.1f}x the base model's accuracy ({base.accuracy.value:.2f})")
    return score, ok, reasons


def recommend(
    measures: Sequence[StrategyMeasures],
    constraints: AdvisorConfig,
    paired: Mapping[tuple[str, str], PairedTest] | None = None,
    base: str = "base",
) -> Recommendation:
    """Ranks the strategies; the first is the recommendation. `paired[(a, b)]` holds accuracy tests of b vs a."""
    if not measures:
        raise RagtuneError("nothing to recommend: no strategy was measured")
    if constraints.update_frequency not in UPDATES_PER_MONTH:
        raise RagtuneError(
            f"advisor.update_frequency must be one of {', '.join(UPDATES_PER_MONTH)}, "
            f"got {constraints.update_frequency!r}"
        )
    by_name = {m.name: m for m in measures}
    base_m = by_name.get(base)
    scored = []
    for m in measures:
        score, ok, reasons = _score(m, base_m, constraints)
        scored.append(Ranked(m.name, round(score, 6), ok, tuple(reasons)))
    # Hard constraints first, then score; the name breaks exact ties so the order is deterministic.
    ranking = sorted(scored, key=lambda r: (not r.meets_constraints, -r.score, r.name))
    verdict = Verdict(by_name, paired or {}, base)
    strategy, why = verdict.decide(ranking)
    return Recommendation(
        strategy=strategy,
        reasons=tuple(why),
        ranking=tuple(ranking),
        constraints={
            "update_frequency": constraints.update_frequency,
            "require_citations": constraints.require_citations,
            "max_latency_ms": constraints.max_latency_ms,
            "compute_budget": constraints.compute_budget,
        },
    )


def _forgetting_reasons(m: StrategyMeasures) -> list[str]:
    """What the general probe says of a tuned strategy, with what replay and routing each changed."""
    if math.isnan(m.forgetting):
        return []
    levers = []
    if not math.isnan(m.forgetting_replay_contrast):
        points = f"{m.forgetting_replay_contrast * 100:.0f} points"
        share = m.replay_contrast_share
        with_replay = not math.isnan(share) and share > 0
        levers.append(
            f"{points} when trained with replay (share {share:g})"
            if with_replay
            else f"{points} when trained without replay"
        )
    if not math.isnan(m.forgetting_without_routing):
        levers.append(f"{m.forgetting_without_routing * 100:.0f} points when the adapter answers every question")
    if m.forgetting > 0:
        detail = "; ".join(["forgetting", *levers])
        return [f"general-knowledge probe accuracy dropped {m.forgetting * 100:.0f} points ({detail})"]
    if levers:
        return [f"keeps general knowledge: the probe drop is {m.forgetting * 100:.0f} points ({'; '.join(levers)})"]
    return []


@dataclass(frozen=True)
class Verdict:
    """Which strategy the ranking names, or that it names none: a strategy is recommended only when it answers
    significantly more than base (a paired test), and over a runner-up only when the two differ significantly in
    accuracy or in what they measurably cost. Without paired tests the ranking's first is taken as it is."""

    measures: Mapping[str, StrategyMeasures]
    paired: Mapping[tuple[str, str], PairedTest]
    base: str

    def test(self, a: str, b: str) -> tuple[float, PairedTest] | None:
        """b's accuracy minus a's, and the paired test that measured it (either way round)."""
        test = self.paired.get((a, b)) or self.paired.get((b, a))
        if test is None:
            return None
        return (test.difference if test.b == b else -test.difference), test

    def penalty(self, r: Ranked) -> float:
        return self.measures[r.name].accuracy.value - r.score

    def decide(self, ranking: Sequence[Ranked]) -> tuple[str, list[str]]:
        best = ranking[0]
        why = [f"{best.name} {RANKS_FIRST} {best.score:.2f} (accuracy less measured costs)"]
        if not best.meets_constraints:
            why.append("no strategy meets every constraint; this one comes closest")
        if (nothing := self.nothing_beats_base(ranking)) is not None:
            return INCONCLUSIVE, [*nothing, *self.trade_offs(ranking)]
        if len(ranking) == 1:
            return best.name, why + list(best.reasons)
        second = ranking[1]
        measured = self.test(second.name, best.name)
        if measured is None or measured[1].significant or best.meets_constraints != second.meets_constraints:
            return best.name, [*why, *best.reasons, self.runner_up(best, second)]
        return self.tie(best, second, ranking)

    def runner_up(self, chosen: Ranked, other: Ranked) -> str:
        """The line on the strategy not chosen: its score, and the chosen one's accuracy minus its own."""
        line = f"runner-up {other.name} scores {other.score:.2f}"
        measured = self.test(other.name, chosen.name)
        if measured is not None:
            diff, t = measured
            line += (
                f"; accuracy difference {diff:+.2f} (paired {t.method}, p={t.p_value:.3f}, "
                f"{'significant' if t.significant else 'not significant'})"
            )
        return line

    def tie(self, best: Ranked, second: Ranked, ranking: Sequence[Ranked]) -> tuple[str, list[str]]:
        """The two leaders' accuracy cannot be told apart: the cheaper by measured cost, else no verdict."""
        gap = self.penalty(second) - self.penalty(best)
        train = {r.name: self.measures[r.name].train_seconds for r in (best, second)}
        if abs(gap) >= COST_SEPARATION:
            cheaper = best if gap > 0 else second
            costs = f"its measured costs are {abs(gap):.2f} lower in score"
        elif abs(train[best.name] - train[second.name]) >= TRAINING_SEPARATION_S and max(train.values()) >= 2 * min(
            train.values()
        ):
            cheaper = best if train[best.name] < train[second.name] else second
            other = second if cheaper is best else best
            own = f"{_dur(train[cheaper.name])} of training" if train[cheaper.name] > 0 else "no training"
            costs = f"it needs {own} against {_dur(train[other.name])} for {other.name}"
        else:
            line = self.runner_up(best, second)
            return INCONCLUSIVE, [
                f"{best.name} and {second.name} cannot be told apart: {line.split('; ', 1)[-1]}, and no measured "
                f"cost separates them (scores {best.score:.2f} and {second.score:.2f})",
                self.next_step(),
                *self.trade_offs(ranking),
            ]
        other = second if cheaper is best else best
        return cheaper.name, [
            f"{cheaper.name} is recommended: its accuracy cannot be told apart from {other.name}'s, and {costs}",
            self.runner_up(cheaper, other),  # the leader by score when the cheaper one is recommended over it
            *cheaper.reasons,
        ]

    def nothing_beats_base(self, ranking: Sequence[Ranked]) -> list[str] | None:
        """Reasons for no verdict when no strategy answers significantly more than base; None when one does (or
        base, or the paired tests against it, were not measured)."""
        others = [r for r in ranking if r.name != self.base]
        if self.base not in self.measures or not others:
            return None
        tests = {r.name: self.test(self.base, r.name) for r in others}
        if any(t is None for t in tests.values()):
            return None
        if any(t is not None and t[0] > 0 and t[1].significant for t in tests.values()):
            return None
        base = self.measures[self.base].accuracy
        accs = [f"{n} {_est(self.measures[n].accuracy)}" for n in (r.name for r in others)]
        return [
            f"no strategy answers significantly more than base ({_est(base)} on {base.n} questions): "
            + ", ".join(accs),
            self.next_step(),
        ]

    def next_step(self) -> str:
        n = self.measures[next(iter(self.measures))].accuracy.n
        return (
            f"next step: measure on more questions ({n} now), or bring a stronger generator as a strategy: "
            "ragtune compare --server-strategy NAME=URL#MODEL+rag"
        )

    def trade_offs(self, ranking: Sequence[Ranked]) -> list[str]:
        """The measured trade-offs, still listed when no strategy is named."""
        return [f"{r.name}: " + "; ".join(r.reasons) for r in ranking]


def _est(e: Estimate) -> str:
    return f"{e.value:.0%} (CI {e.ci_low:.0%}-{e.ci_high:.0%})"


def wording_reason(split: WordingSplit | None, strategy: str = "finetune", rival: str = "rag") -> str:
    """Says so when `strategy`'s accuracy comes from test questions worded like its training questions: a trained
    adapter recalls a near-repeat far more easily than the fact asked anew, so that part of its lead does not carry
    over to a user's own questions. "" when the split shows nothing of the kind."""
    if split is None or strategy not in split.accuracy_close:
        return ""
    close, far = split.accuracy_close[strategy], split.accuracy_far.get(strategy)
    share = f"{CLOSE:.0%} of their content words"
    if split.far >= 5 and far is not None and close - far >= 0.2:
        return (
            f"{strategy}'s accuracy comes from test questions worded like its training questions: {close:.2f} on "
            f"the {split.close} that share at least {share} with one, {far:.2f} on the other {split.far}"
        )
    leads = close > split.accuracy_close.get(rival, 1.0)
    if split.close >= 4 * split.far and leads:
        return (
            f"{split.close} of {split.close + split.far} test questions share at least {share} with a training "
            f"question, so {strategy}'s lead ({close:.2f} on them) measures recall of near-repeats more than of "
            "facts asked in new words"
        )
    return ""
