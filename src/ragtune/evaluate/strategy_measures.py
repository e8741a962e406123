"""Parts of one strategy's results that each measure one thing besides its answers: freshness after an update,
forgetting (with the replay contrast and routing off), and what its retriever finds and costs. Their JSON forms are
parts of results.json (ragtune.evaluate.results)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ragtune.evaluate.metrics import Estimate
from ragtune.evaluate.records import JSONObject, num


def estimate_json(e: Estimate | None) -> JSONObject | None:
    return None if e is None else e.as_dict()


def estimate_from_json(d: Any) -> Estimate | None:
    if not isinstance(d, Mapping):
        return None
    return Estimate(num(d.get("value")), num(d.get("ci_low")), num(d.get("ci_high")), int(d.get("n") or 0))


def estimate_or_nan(d: Any) -> Estimate:
    """An estimate that is always there; a missing one reads as not measured."""
    return estimate_from_json(d) or Estimate(math.nan, math.nan, math.nan, 0)


@dataclass(frozen=True)
class StrategyFreshness:
    """Changed facts answered with the new value before and after the documents' update."""

    before: Estimate
    after: Estimate
    after_refusal_off: Estimate
    old_after: Estimate  # the old value given after the update
    stale_until_retrained: bool

    def to_json(self) -> JSONObject:
        return {
            "before": self.before.as_dict(),
            "after": self.after.as_dict(),
            "after_refusal_off": self.after_refusal_off.as_dict(),
            "old_after": self.old_after.as_dict(),
            "stale_until_retrained": self.stale_until_retrained,
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> StrategyFreshness:
        return StrategyFreshness(
            estimate_or_nan(d.get("before")),
            estimate_or_nan(d.get("after")),
            estimate_or_nan(d.get("after_refusal_off")),
            estimate_or_nan(d.get("old_after")),
            bool(d.get("stale_until_retrained")),
        )


@dataclass(frozen=True)
class ReplayContrast:
    """The same fine-tune trained at the other replay setting (with replay when the strategy trained without it, and
    the other way round): its probe accuracy, drop and test accuracy, so the report shows what replay buys against
    what it costs."""

    strategy_share: float  # the replay share the strategy itself was trained with
    contrast_share: float  # the replay share of the contrast (0: without replay)
    probe_accuracy: Estimate
    drop: float | None
    accuracy: Estimate

    @property
    def with_replay(self) -> bool:
        """Whether the contrast (not the strategy) is the one trained with replay."""
        return self.contrast_share > self.strategy_share

    def to_json(self) -> JSONObject:
        out: JSONObject = {
            "strategy_share": self.strategy_share,
            "contrast_share": self.contrast_share,
            "probe_accuracy": self.probe_accuracy.as_dict(),
            "accuracy": self.accuracy.as_dict(),
        }
        if self.drop is not None:
            out["drop"] = self.drop
        return out

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> ReplayContrast:
        return ReplayContrast(
            num(d.get("strategy_share", 0.0)),
            num(d.get("contrast_share", 0.0)),
            estimate_or_nan(d.get("probe_accuracy")),
            None if "drop" not in d else num(d["drop"]),
            estimate_or_nan(d.get("accuracy")),
        )

    @staticmethod
    def from_legacy_json(d: Mapping[str, Any]) -> ReplayContrast:
        """An older results file's "without_replay": the strategy's share under "replay_share", the contrast none."""
        return ReplayContrast.from_json(dict(d) | {"strategy_share": d.get("replay_share", 0.0), "contrast_share": 0.0})


@dataclass(frozen=True)
class Forgetting:
    """General-probe accuracy closed-book, and its drop against the base model (positive: forgot)."""

    probe_accuracy: Estimate
    drop: float | None = None
    replay_contrast: ReplayContrast | None = None
    # The same adapter asked every probe question (tune.route_min_similarity = 0): what routing keeps.
    unrouted_probe_accuracy: Estimate | None = None
    unrouted_drop: float | None = None

    def to_json(self) -> JSONObject:
        out: JSONObject = {"probe_accuracy": self.probe_accuracy.as_dict()}
        if self.drop is not None:
            out["drop"] = self.drop
        if self.replay_contrast is not None:
            out["replay_contrast"] = self.replay_contrast.to_json()
        if self.unrouted_probe_accuracy is not None:
            unrouted: JSONObject = {"probe_accuracy": self.unrouted_probe_accuracy.as_dict()}
            if self.unrouted_drop is not None:
                unrouted["drop"] = self.unrouted_drop
            out["without_routing"] = unrouted
        return out

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> Forgetting:
        unrouted = d.get("without_routing") or {}
        contrast = None
        if d.get("replay_contrast"):
            contrast = ReplayContrast.from_json(d["replay_contrast"])
        elif d.get("without_replay"):  # results written before the contrast could be the one with replay
            contrast = ReplayContrast.from_legacy_json(d["without_replay"])
        return Forgetting(
            estimate_or_nan(d.get("probe_accuracy")),
            None if "drop" not in d else num(d["drop"]),
            contrast,
            estimate_or_nan(unrouted["probe_accuracy"]) if unrouted.get("probe_accuracy") else None,
            None if "drop" not in unrouted else num(unrouted["drop"]),
        )


@dataclass(frozen=True)
class RetrievalMeasure:
    """What a strategy's retriever finds and costs on the test questions: the share of those with a span answer
    whose answer is in the top `k` chunks, and the median milliseconds of one search."""

    k: int
    answer_in_sources: float | None
    questions: int
    query_ms_p50: float

    def to_json(self) -> JSONObject:
        return asdict(self)

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> RetrievalMeasure:
        found = d.get("answer_in_sources")
        return RetrievalMeasure(
            int(d.get("k") or 0),
            None if found is None else num(found),
            int(d.get("questions") or 0),
            num(d.get("query_ms_p50")),
        )
