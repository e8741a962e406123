"""Routing: a closed-book adapter answers the questions of its domain; the base model answers the rest.

Why: a LoRA adapter trained on a user's facts answers *every* closed-book question in their style. What it forgets
is values ("The capital of Russia is Leningtiv."): on the bundled sample it answered 0.57 fewer of the general
probe's questions than the base model, and replay (`tune.replay_share`) only halved that at twice the data and a
loss of 0.085 in accuracy. A question far from everything the adapter was taught gains nothing from the adapter and
can only lose what the base model knew, so it is better asked without the adapter. This is how adapters are served
behind a router (one base model, an adapter per domain); here the domain is what the adapter was trained on.

The domain is the questions of the adapter's closed-book training examples (facts and their paraphrases, as
`train_adapter` wrote them to the adapter folder's `train.jsonl`). Replay prompts are general by design and left
out, and so are RAFT examples, whose prompt is sources plus a question: a hybrid adapter is never routed. A question
goes to the adapter when the cosine similarity of its embedding to the nearest domain question reaches
`tune.route_min_similarity`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ragtune.models.generator import CopyingGenerator, Generator
from ragtune.models.routed import RoutedGenerator

if TYPE_CHECKING:
    from ragtune.models.embedder import Embedder

log = logging.getLogger(__name__)

# Closed-book conversations whose user message is the question as asked (tune.data's qa_examples, chat files).
ROUTED_ORIGINS = frozenset({"qa", "paraphrase", "chat"})
TRAINED_FILE = "train.jsonl"


def trained_questions(adapter: Path) -> list[str]:
    """The questions the adapter in folder `adapter` was trained to answer closed-book, in file order and without
    repeats; none when the folder has no readable training file (an adapter made elsewhere)."""
    path = Path(adapter) / TRAINED_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    out: dict[str, None] = {}
    for line in lines:
        try:
            record = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("origin", "chat") not in ROUTED_ORIGINS:
            continue
        users = [m for m in record.get("messages") or () if isinstance(m, dict) and m.get("role") == "user"]
        if len(users) == 1 and isinstance(users[0].get("content"), str) and users[0]["content"].strip():
            out[users[0]["content"].strip()] = None
    return list(out)


@dataclass(frozen=True)
class DomainRouter:
    """Decides, per question, whether it is near enough to the adapter's training questions to be its to answer."""

    embedder: Embedder
    vectors: npt.NDArray[np.float32]  # unit vectors of the domain questions, one row each
    min_similarity: float

    def __post_init__(self) -> None:
        if len(self.vectors) == 0:
            raise ValueError("a DomainRouter needs at least one domain question")
        if not 0.0 < self.min_similarity <= 1.0:
            raise ValueError(f"min_similarity must be in (0, 1], got {self.min_similarity}")

    @classmethod
    def from_questions(cls, embedder: Embedder, questions: Sequence[str], min_similarity: float) -> DomainRouter:
        vectors = np.asarray(embedder.embed_queries(list(questions)), dtype=np.float32)
        return cls(embedder, vectors, min_similarity)

    def similarity(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Per text: the cosine similarity to its nearest domain question."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        queries = np.asarray(self.embedder.embed_queries(list(texts)), dtype=np.float32)
        return np.asarray((queries @ self.vectors.T).max(axis=1), dtype=np.float32)

    def to_adapter(self, texts: Sequence[str]) -> list[bool]:
        return [bool(s >= self.min_similarity) for s in self.similarity(texts)]


def route(tuned: Generator, base: Generator, adapter: Path, embedder: Embedder, min_similarity: float) -> Generator:
    """`tuned` (the base model with the adapter in folder `adapter`), routed: questions outside the adapter's domain
    go to `base`. `tuned` itself when routing is off (`min_similarity` 0), the adapter has no closed-book training
    questions (a RAFT adapter), or the generators cannot be routed."""
    if min_similarity <= 0:
        return tuned
    if isinstance(tuned, CopyingGenerator) != isinstance(base, CopyingGenerator):
        log.info("the tuned and base generators decode differently: every question goes to the adapter")
        return tuned
    questions = trained_questions(adapter)
    if not questions:
        log.info("adapter %s has no closed-book training questions: every question goes to it", adapter)
        return tuned
    router = DomainRouter.from_questions(embedder, questions, min_similarity)
    return RoutedGenerator(tuned, base, router.to_adapter)
