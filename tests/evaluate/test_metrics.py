from __future__ import annotations

import math

import numpy as np
import pytest

from ragtune.evaluate.metrics import (
    bootstrap_ci,
    mcnemar_exact,
    paired_test,
    permutation_p_value,
    refusal_scores,
)
from ragtune.text import answer_correct, exact_match, normalize_answer, token_f1


def test_normalization_follows_squad() -> None:
    assert normalize_answer("The  Quick, brown FOX!") == "quick brown fox"
    assert normalize_answer("an apple—a day") == "apple day"


def test_answer_accuracy_is_gold_inside_answer_on_word_boundaries() -> None:
    assert answer_correct("The capital is Paris.", ["paris"])
    assert answer_correct("It opened in 1987 [2]", ["1987", "nineteen eighty-seven"])
    assert not answer_correct("14 engines", ["4"])  # not inside another number
    assert not answer_correct("", ["Paris"])
    assert not answer_correct("Paris", [""])  # an empty gold never matches


def test_exact_match_and_token_f1_hand_computed() -> None:
    assert exact_match("the Eiffel Tower", ["Eiffel tower"])
    assert not exact_match("Eiffel Tower in Paris", ["Eiffel Tower"])
    # pred tokens: eiffel tower in paris (4); gold: eiffel tower (2); common 2 -> P=0.5 R=1 -> F1=2/3
    assert token_f1("Eiffel Tower in Paris", ["Eiffel Tower"]) == pytest.approx(2 / 3)
    # best over golds: second gold matches exactly
    assert token_f1("blue", ["red", "blue"]) == 1.0
    assert token_f1("nothing", ["else"]) == 0.0


def test_bootstrap_interval_contains_mean_and_narrows_with_n() -> None:
    small = bootstrap_ci([1, 0, 1, 1, 0, 1, 0, 1, 1, 0], resamples=2000, seed=1)
    assert small.value == pytest.approx(0.6)
    assert small.ci_low < 0.6 < small.ci_high
    big = bootstrap_ci([1, 0, 1, 1, 0] * 40, resamples=2000, seed=1)
    assert (big.ci_high - big.ci_low) < (small.ci_high - small.ci_low)
    # The normal approximation of a proportion's CI at n=200 is +-1.96*sqrt(.6*.4/200) = +-0.068
    assert big.ci_high - big.ci_low == pytest.approx(2 * 0.068, abs=0.02)
    assert bootstrap_ci([1, 1, 1]).ci_low == 1.0
    assert math.isnan(bootstrap_ci([]).value)
    assert bootstrap_ci([0, 1] * 10, seed=3) == bootstrap_ci([0, 1] * 10, seed=3)  # same seed, same interval


def test_mcnemar_exact_hand_computed() -> None:
    # 6 questions only B gets right, 0 only A: two-sided binomial p = 2 * 0.5**6 = 0.03125
    a = [False] * 6 + [True] * 4
    b = [True] * 6 + [True] * 4
    assert mcnemar_exact(a, b) == pytest.approx(0.03125)
    assert mcnemar_exact(a, a) == 1.0


def test_paired_test_detects_real_difference_and_not_noise() -> None:
    rng = np.random.default_rng(0)
    a = rng.random(120) < 0.2
    b = a | (rng.random(120) < 0.5)
    t = paired_test(a.tolist(), b.tolist(), names=("base", "rag"))
    assert t.method == "mcnemar-exact" and t.significant and t.difference > 0.3
    assert t.ci_low > 0
    same = paired_test(a.tolist(), a.tolist())
    assert not same.significant and same.difference == 0
    cont = paired_test([0.1, 0.2, 0.3, 0.4] * 10, [0.6, 0.7, 0.8, 0.9] * 10)
    assert cont.method == "permutation" and cont.p_value < 0.01
    with pytest.raises(ValueError, match="same questions"):
        paired_test([1, 0], [1])


def test_exact_permutation_small_sample() -> None:
    # n=3, all differences +1: only the all-plus and all-minus of 8 sign patterns are as extreme -> 2/8
    assert permutation_p_value(np.array([1.0, 1.0, 1.0])) == pytest.approx(0.25)


def test_refusal_scores() -> None:
    r = refusal_scores(refused=[True, True, False, False, True], answerable=[False, True, False, True, False])
    assert r.recall == pytest.approx(2 / 3)
    assert r.precision == pytest.approx(2 / 3)
    assert r.answerable_refused == pytest.approx(1 / 2)  # the price: one of the two answerable questions refused
    none = refusal_scores([False], [True])
    assert math.isnan(none.recall) and math.isnan(none.precision)
    assert none.answerable_refused == 0.0
    assert math.isnan(refusal_scores([True], [False]).answerable_refused)
