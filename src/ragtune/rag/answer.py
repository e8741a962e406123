"""What an answer is: its text, the sources it was given with what the model was shown of each, how well each of its
sentences is supported, and its one JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    number: int  # as cited: [number]
    doc_id: str
    title: str
    chunk_id: str
    score: float  # the retriever's score
    text: str  # the whole chunk
    page: int | None = None
    heading: str | None = None
    excerpt: str = ""  # what the model was shown of it ("" when nothing: it was retrieved but not relevant enough)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "doc_id": self.doc_id,
            "title": self.title,
            "chunk_id": self.chunk_id,
            "score": float(self.score),
            "text": self.text,
            "page": self.page,
            "heading": self.heading,
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True)
class SentenceSupport:
    text: str
    source_number: int | None  # the source that supports it best, None when none does
    support: float  # calibrated probability that the source backs it
    cited: bool  # the model cited that source itself (and the source does support it)
    lexical: tuple[float, ...] = ()  # per source (in source order): share of the sentence's words it contains
    embedding: tuple[float, ...] = ()  # per source: best cosine between the claim and one of its sentences


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    refused: bool
    sources: tuple[Source, ...]
    sentences: tuple[SentenceSupport, ...]
    tokens_in: int
    tokens_out: int
    timings: Mapping[str, float]  # retrieval_s, generation_s, total_s (a batch's time is shared by its questions)
    raw: str = ""  # the model's own words, before extraction
    support: float = 0.0  # the answer's support: the weakest sentence's
    refusal_reason: str = ""  # "" when answered; else why it was refused
    signals: Mapping[str, float] = field(default_factory=dict)  # relevance, coverage, answerable, ... (diagnostics)
    citations: tuple[int, ...] = ()  # the numbers the model cited, checked or not
    form: str = "open"  # the question's form as answered: "open" (a span), "polar" (yes/no first), "choice"
    reader: str = "small"  # who read the sources: "small" or "capable" (ragtune.rag.reader)
    finish_reason: str = ""  # "stop", or "length" when the answer was cut at its token budget ("" not generated)

    def to_json(self) -> dict[str, Any]:
        """The answer's one machine-readable form (`ragtune ask --json`, `--questions`, the API's `ragtune` field):
        a contract, fields are only ever added."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason or None,
            "form": self.form,
            "reader": self.reader,
            "finish_reason": self.finish_reason or None,
            "support": round(self.support, 4),
            "sources": [s.to_json() for s in self.sources],
            "sentences": [
                {"text": s.text, "source": s.source_number, "support": round(s.support, 4), "cited": s.cited}
                for s in self.sentences
            ],
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
