"""Bootstrap confidence intervals and paired significance tests over per-question scores; the per-answer rules
(accuracy, exact match, token F1) are in `ragtune.text`.

Answer accuracy (a gold answer appears in the normalized answer) is the primary metric: a small model wraps a right
answer in words ("The capital is Paris."), which exact match would count as wrong. Exact match and token F1 follow
the SQuAD evaluation script's normalization so that figures compare with published ones.

Every aggregate is an `Estimate` with a percentile-bootstrap 95% interval over questions; two strategies answering
the same questions are compared with a paired test (exact McNemar for right/wrong outcomes, a sign-flip permutation
test otherwise) so that a verdict is not noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


def cosine_best(pred_vectors: np.ndarray, gold_vectors: Sequence[np.ndarray]) -> list[float]:
    """For each prediction row, its best cosine similarity to that question's gold vectors (unit-length rows)."""
    out: list[float] = []
    for row, golds in zip(pred_vectors, gold_vectors, strict=True):
        out.append(float(np.max(golds @ row)) if len(golds) else 0.0)
    return out


@dataclass(frozen=True)
class Estimate:
    """A mean over questions with its 95% bootstrap interval; `n` questions went into it."""

    value: float
    ci_low: float
    ci_high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high, "n": self.n}


def _as_array(values: Sequence[float] | Sequence[bool] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def bootstrap_ci(
    values: Sequence[float] | Sequence[bool] | np.ndarray, *, resamples: int = 1000, seed: int = 0, level: float = 0.95
) -> Estimate:
    """Mean of `values` with a percentile-bootstrap interval (resampling questions with replacement).

    No values gives NaN everywhere (shown as "n/a"), not a made-up zero.
    """
    x = _as_array(values)
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n == 1 or resamples <= 0:
        return Estimate(mean, mean, mean, n)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    means = x[idx].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    # The percentile interval of a mean always contains the mean up to float rounding; clamp that rounding away.
    return Estimate(mean, float(min(low, mean)), float(max(high, mean)), n)


@dataclass(frozen=True)
class PairedTest:
    """B minus A on the same questions: the mean difference, its 95% paired-bootstrap interval and a p-value."""

    a: str
    b: str
    metric: str
    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str  # "mcnemar-exact" or "permutation"
    n: int

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05

    def as_dict(self) -> dict[str, object]:
        return {
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "difference": self.difference,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "method": self.method,
            "n": self.n,
            "significant": self.significant,
        }


def mcnemar_exact(a: Sequence[bool] | np.ndarray, b: Sequence[bool] | np.ndarray) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the questions where exactly one of A and B is right."""
    x, y = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    only_a = int(np.sum(x & ~y))
    only_b = int(np.sum(~x & y))
    if only_a + only_b == 0:
        return 1.0
    return float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)


def permutation_p_value(differences: np.ndarray, *, resamples: int = 1000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation test of a zero mean paired difference (exact when 2^n is small)."""
    d = np.asarray(differences, dtype=np.float64)
    n = len(d)
    observed = abs(d.mean()) if n else 0.0
    if n == 0 or np.all(d == 0):
        return 1.0
    if n <= 12:  # every sign pattern: exact
        signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * n)).reshape(n, -1).T
    else:
        rng = np.random.default_rng(seed)
        signs = rng.choice([-1.0, 1.0], size=(resamples, n))
    means = np.abs((signs * d).mean(axis=1))
    # Counting the observed pattern itself (add one) keeps a Monte Carlo p-value from being exactly zero.
    extreme = int(np.sum(means >= observed - 1e-12))
    if n <= 12:
        return extreme / len(signs)
    return (extreme + 1) / (len(signs) + 1)


def paired_test(
    a: Sequence[float] | Sequence[bool],
    b: Sequence[float] | Sequence[bool],
    *,
    names: tuple[str, str] = ("a", "b"),
    metric: str = "accuracy",
    resamples: int = 1000,
    seed: int = 0,
) -> PairedTest:
    """Compares two strategies' per-question scores on the same questions (same order)."""
    x, y = _as_array(a), _as_array(b)
    if len(x) != len(y):
        raise ValueError(
            f"paired test needs the same questions: {len(x)} scores for {names[0]}, {len(y)} for {names[1]}"
        )
    n = len(x)
    if n == 0:
        return PairedTest(names[0], names[1], metric, math.nan, math.nan, math.nan, 1.0, "none", 0)
    d = y - x
    binary = bool(np.all(np.isin(x, (0.0, 1.0))) and np.all(np.isin(y, (0.0, 1.0))))
    if binary:
        p, method = mcnemar_exact(x.astype(bool), y.astype(bool)), "mcnemar-exact"
    else:
        p, method = permutation_p_value(d, resamples=resamples, seed=seed), "permutation"
    ci = bootstrap_ci(d, resamples=resamples, seed=seed)
    return PairedTest(names[0], names[1], metric, ci.value, ci.ci_low, ci.ci_high, p, method, n)


@dataclass(frozen=True)
class RefusalScores:
    """Refusal as a detector of unanswerable questions."""

    recall: float  # unanswerable questions refused / unanswerable questions
    precision: float  # refusals on unanswerable questions / all refusals
    refusals: int
    unanswerable: int
    # answerable questions refused / answerable questions: what refusing costs in accuracy
    answerable_refused: float = math.nan


def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> RefusalScores:
    r = np.asarray(refused, dtype=bool)
    ans = np.asarray(answerable, dtype=bool)
    unanswerable = int(np.sum(~ans))
    refusals = int(np.sum(r))
    hits = int(np.sum(r & ~ans))
    recall = hits / unanswerable if unanswerable else math.nan
    precision = hits / refusals if refusals else math.nan
    answerable_refused = float(np.sum(r & ans)) / int(np.sum(ans)) if np.any(ans) else math.nan
    return RefusalScores(recall, precision, refusals, unanswerable, answerable_refused)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) or NaN for no values."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if len(values) else math.nan
