"""The fluency measurement's ROC area: the Mann-Whitney form, ties counted half."""

from __future__ import annotations

from benchmarks.synth_fluency import auc


def test_auc_counts_pairs_ranked_right_and_ties_as_half() -> None:
    assert auc([3.0, 4.0], [1.0, 2.0]) == 1.0
    assert auc([1.0], [2.0]) == 0.0
    assert auc([1.0, 3.0], [2.0, 1.0]) == 0.625  # 3>2, 3>1, 1=1 (half), 1<2
    assert auc([], [1.0]) is None
