"""One answer as the comparison measured it: the record an answers stage stores, and its JSON form.

These records are what results.json lists under `answers` and what scoring.py computes every metric from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JSONObject = dict[str, Any]  # what json.loads gives for an object; only at the edge of results.json


def num(x: Any) -> float:
    """A JSON number as a float; null (or anything else) as NaN."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


@dataclass(frozen=True)
class AnswerRecord:
    """What the metrics need of one answer (a stage result stores a list of them)."""

    id: str
    text: str
    refused: bool
    # Why a refusal happened ("not_relevant", "unsupported", "model_refused", "no_sources") and the calibrated
    # probability that the sources answer the question: what one reads to see which refusals cost accuracy.
    refusal_reason: str | None
    p_answerable: float | None
    sources: tuple[str, ...]
    cited: bool
    cited_supported: int
    cited_sentences: int
    supported: bool | None
    support: float | None
    tokens_in: int
    tokens_out: int
    total_s: float
    unrefused: str | None = None  # what a refused answer said before it was refused
    reader: str = ""  # who read the sources: "small" or "capable" (ragtune.rag.reader); "" in older results
    finish_reason: str = ""  # "length" when the answer was cut at its token budget

    def to_json(self) -> JSONObject:
        out: JSONObject = {
            "id": self.id,
            "text": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "p_answerable": self.p_answerable,
            "sources": list(self.sources),
            "cited": self.cited,
            "cited_supported": self.cited_supported,
            "cited_sentences": self.cited_sentences,
            "supported": self.supported,
            "support": self.support,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "total_s": self.total_s,
        }
        if self.unrefused is not None:
            out["unrefused"] = self.unrefused
        if self.reader:
            out["reader"] = self.reader
        if self.finish_reason:
            out["finish_reason"] = self.finish_reason
        return out

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> AnswerRecord:
        return AnswerRecord(
            id=str(d["id"]),
            text=str(d.get("text") or ""),
            refused=bool(d.get("refused")),
            refusal_reason=d.get("refusal_reason"),
            p_answerable=None if d.get("p_answerable") is None else float(d["p_answerable"]),
            sources=tuple(d.get("sources") or ()),
            cited=bool(d.get("cited")),
            cited_supported=int(d.get("cited_supported") or 0),
            cited_sentences=int(d.get("cited_sentences") or 0),
            supported=d.get("supported"),
            support=None if d.get("support") is None else float(d["support"]),
            tokens_in=int(d.get("tokens_in") or 0),
            tokens_out=int(d.get("tokens_out") or 0),
            total_s=num(d.get("total_s")),
            unrefused=d.get("unrefused"),
            reader=str(d.get("reader") or ""),
            finish_reason=str(d.get("finish_reason") or ""),
        )

    @property
    def text_unrefused(self) -> str:
        """The answer had nothing been refused."""
        return self.text if self.unrefused is None else self.unrefused


@dataclass(frozen=True)
class AnsweredSet:
    """One strategy's answers to one list of questions: the result of an answers stage."""

    records: tuple[AnswerRecord, ...]
    batched_seconds: float
    latencies: tuple[float, ...] = ()

    def to_json(self) -> JSONObject:
        return {
            "records": [r.to_json() for r in self.records],
            "batched_seconds": self.batched_seconds,
            "latencies": list(self.latencies),
        }

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> AnsweredSet:
        return AnsweredSet(
            tuple(AnswerRecord.from_json(r) for r in d["records"]),
            float(d["batched_seconds"]),
            tuple(float(x) for x in d.get("latencies") or ()),
        )


@dataclass(frozen=True)
class ListedAnswer:
    """An answer as the report lists it: its record, the question and the gold answers."""

    record: AnswerRecord
    question: str
    gold: tuple[str, ...]

    def to_json(self) -> JSONObject:
        return self.record.to_json() | {"question": self.question, "gold": list(self.gold)}

    @staticmethod
    def from_json(d: Mapping[str, Any]) -> ListedAnswer:
        return ListedAnswer(AnswerRecord.from_json(d), str(d.get("question", "")), tuple(d.get("gold") or ()))
