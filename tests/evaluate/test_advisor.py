from __future__ import annotations

import math

from ragtune.config import AdvisorConfig, choices_of
from ragtune.evaluate.advisor import INCONCLUSIVE, UPDATES_PER_MONTH, StrategyMeasures, recommend
from ragtune.evaluate.metrics import Estimate, PairedTest, paired_test


def est(v: float, n: int = 80) -> Estimate:
    return Estimate(v, max(0.0, v - 0.1), min(1.0, v + 0.1), n)


def measures(rag_acc: float, ft_acc: float, rag_fresh: float = 0.9, rag_p95: float = 1.5) -> list[StrategyMeasures]:
    return [
        StrategyMeasures("base", est(0.05), hallucination=0.9, citation_rate=0.0, freshness=0.0, latency_p95_s=0.4),
        StrategyMeasures(
            "rag",
            est(rag_acc),
            hallucination=0.2,
            citation_rate=0.9,
            freshness=rag_fresh,
            latency_p95_s=rag_p95,
            retrain_seconds=2.0,
            reads_sources=True,
        ),
        StrategyMeasures(
            "finetune",
            est(ft_acc),
            hallucination=0.3,
            citation_rate=0.0,
            freshness=0.05,
            latency_p95_s=0.4,
            train_seconds=600,
            retrain_seconds=600,
            forgetting=0.02,
        ),
    ]


def test_documents_that_change_and_must_cite_favour_rag() -> None:
    rec = recommend(measures(0.7, 0.45), AdvisorConfig())
    assert rec.strategy == "rag"
    assert [r.name for r in rec.ranking][-1] in {"base", "finetune"}
    text = " ".join(rec.reasons)
    assert "0.70" in text and "90%" in text  # reasons quote the measured numbers
    assert not next(r for r in rec.ranking if r.name == "finetune").meets_constraints


def test_different_data_gives_a_different_answer() -> None:
    static = AdvisorConfig(update_frequency="never", require_citations=False, max_latency_ms=1000)
    # On this data fine-tuning measured better and RAG is too slow for the latency budget.
    rec = recommend(measures(0.55, 0.8, rag_p95=2.5), static)
    assert rec.strategy == "finetune"
    assert any("exceeds the 1000 ms budget" in r for r in next(x for x in rec.ranking if x.name == "rag").reasons)
    # Same constraints, but data on which RAG measures better and fast: the answer follows the data.
    assert recommend(measures(0.9, 0.5, rag_p95=0.8), static).strategy == "rag"


def test_paired_test_is_quoted_and_nan_measurements_are_tolerated() -> None:
    a = [True] * 30 + [False] * 30
    b = [True] * 50 + [False] * 10
    paired = {
        ("base", "rag"): paired_test(a, b, names=("base", "rag")),
        ("rag", "finetune"): paired_test(b, a, names=("rag", "finetune")),
    }
    ms = measures(0.7, 0.45)
    ms.append(StrategyMeasures("hybrid", est(0.72), freshness=math.nan, citation_rate=math.nan, reads_sources=True))
    rec = recommend(ms, AdvisorConfig(require_citations=False), paired)
    assert rec.strategy in {"hybrid", "rag"}
    assert rec.as_dict()["strategy"] == rec.strategy


def test_every_update_frequency_the_settings_accept_has_a_cost() -> None:
    assert set(UPDATES_PER_MONTH) == set(choices_of(AdvisorConfig, "update_frequency"))


def test_reasons_name_forgetting_with_and_without_replay() -> None:
    import dataclasses

    static = AdvisorConfig(update_frequency="never", require_citations=False)
    # The strategy trained with replay; its contrast without.
    without = {"forgetting_replay_contrast": 0.6, "replay_contrast_share": 0.0}
    forgets = [dataclasses.replace(m, forgetting=0.12, **without) for m in measures(0.5, 0.8)]
    finetune = next(r for r in recommend(forgets, static).ranking if r.name == "finetune")
    assert any("dropped 12 points" in r and "60 points when trained without replay" in r for r in finetune.reasons)
    keeps = [dataclasses.replace(m, forgetting=0.0, **without) for m in measures(0.5, 0.8)]
    finetune = next(r for r in recommend(keeps, static).ranking if r.name == "finetune")
    assert any("keeps general knowledge: the probe drop is 0 points (60 points when trained without replay)" in r
               for r in finetune.reasons)  # fmt: skip
    routed = [
        dataclasses.replace(
            m, forgetting=0.02, forgetting_without_routing=0.4, forgetting_replay_contrast=0.5, replay_contrast_share=0
        )
        for m in measures(0.5, 0.8)
    ]
    finetune = next(r for r in recommend(routed, static).ranking if r.name == "finetune")
    assert any(
        "dropped 2 points (forgetting; 50 points when trained without replay; 40 points when the adapter answers "
        "every question)" in r
        for r in finetune.reasons
    ), finetune.reasons
    # Without a replay contrast the reason is the plain forgetting one.
    plain = next(r for r in recommend(measures(0.5, 0.8), static).ranking if r.name == "finetune")
    assert not any("replay" in r for r in plain.reasons)


def test_reasons_name_the_replay_share_when_the_contrast_trained_with_replay() -> None:
    import dataclasses

    static = AdvisorConfig(update_frequency="never", require_citations=False)
    # The strategy trained without replay (routing keeps its drop at 0); its contrast with replay at share 0.25.
    contrast = {"forgetting_replay_contrast": 0.02, "replay_contrast_share": 0.25, "forgetting_without_routing": 0.57}
    keeps = [dataclasses.replace(m, forgetting=0.0, **contrast) for m in measures(0.5, 0.8)]
    finetune = next(r for r in recommend(keeps, static).ranking if r.name == "finetune")
    assert any(
        "keeps general knowledge: the probe drop is 0 points (2 points when trained with replay (share 0.25); "
        "57 points when the adapter answers every question)" in r
        for r in finetune.reasons
    ), finetune.reasons
    # A drop whose contrast share is unknown (NaN) is read as a contrast without replay, as older results were.
    unknown = [dataclasses.replace(m, forgetting=0.1, forgetting_replay_contrast=0.3) for m in measures(0.5, 0.8)]
    finetune = next(r for r in recommend(unknown, static).ranking if r.name == "finetune")
    assert any("30 points when trained without replay" in r for r in finetune.reasons), finetune.reasons


def _paired(correct: dict[str, list[bool]]) -> dict[tuple[str, str], PairedTest]:
    names = list(correct)
    return {
        (a, b): paired_test(correct[a], correct[b], names=(a, b)) for i, a in enumerate(names) for b in names[i + 1 :]
    }


def test_no_strategy_beating_base_is_inconclusive_and_says_why_and_what_next() -> None:
    # compare --quick on HotpotQA: every strategy answers the same 2 of 30, as many as base.
    same = [True] * 2 + [False] * 28
    names = ["base", "rag", "finetune", "hybrid"]
    ms = [
        StrategyMeasures(n, Estimate(2 / 30, 0.0, 0.17, 30), citation_rate=0.9, reads_sources=n in ("rag", "hybrid"))
        for n in names
    ]
    rec = recommend(ms, AdvisorConfig(update_frequency="never"), _paired({n: same for n in names}))
    assert rec.strategy == INCONCLUSIVE and rec.as_dict()["strategy"] == "inconclusive"
    text = " ".join(rec.reasons)
    assert "no strategy answers significantly more than base" in text and "7% (CI 0%-17%)" in text
    assert "--server-strategy" in text and "more questions (30 now)" in text
    assert all(any(r.startswith(f"{n}: answer accuracy") for r in rec.reasons) for n in names)  # trade-offs listed


def test_leaders_that_cannot_be_told_apart_and_cost_the_same_are_inconclusive() -> None:
    base = [True] * 5 + [False] * 55
    rag = [True] * 40 + [False] * 20
    hybrid = [True] * 39 + [False] * 21
    ms = [
        StrategyMeasures("base", est(5 / 60, 60), citation_rate=0.0),
        StrategyMeasures("rag", est(40 / 60, 60), citation_rate=0.9, reads_sources=True),
        StrategyMeasures("hybrid", est(39 / 60, 60), citation_rate=0.9, reads_sources=True),
    ]
    paired = _paired({"base": base, "rag": rag, "hybrid": hybrid})
    constraints = AdvisorConfig(update_frequency="never")
    rec = recommend(ms, constraints, paired)
    assert rec.strategy == INCONCLUSIVE
    assert (
        "rag and hybrid cannot be told apart" in rec.reasons[0] and "no measured cost separates them" in rec.reasons[0]
    )

    # A measured cost separates them: the hybrid adapter took 15 minutes to train, rag nothing.
    ms[2] = StrategyMeasures("hybrid", est(41 / 60, 60), citation_rate=0.9, reads_sources=True, train_seconds=900)
    paired = _paired({"base": base, "rag": rag, "hybrid": [True] * 41 + [False] * 19})
    rec = recommend(ms, constraints, paired)
    assert rec.strategy == "rag"
    assert (
        "cannot be told apart from hybrid's" in rec.reasons[0]
        and "no training against 15.0 min for hybrid" in rec.reasons[0]
    )
    # The runner-up is the leader it was chosen over, with rag's accuracy minus hybrid's.
    assert rec.reasons[1].startswith("runner-up hybrid scores") and "accuracy difference -0.02" in rec.reasons[1]

    # A significant difference names the leader as before.
    ms[2] = StrategyMeasures("hybrid", est(58 / 60, 60), citation_rate=0.9, reads_sources=True, train_seconds=900)
    paired = _paired({"base": base, "rag": rag, "hybrid": [True] * 58 + [False] * 2})
    assert recommend(ms, constraints, paired).strategy == "hybrid"
