"""Routing: an adapter answers the questions of its domain; the base model answers the rest.

Why: a LoRA adapter trained on a user's facts answers *every* question in their style. What it forgets is values
("The capital of Russia is Leningtiv."): on the bundled sample it answered 0.57 fewer of the general probe's
questions than the base model, and replay (`tune.replay_share`) only halved that at twice the data and a loss of
0.085 in accuracy. A question far from everything the adapter was taught gains nothing from the adapter and can only
lose what the base model knew, so it is better asked without the adapter. This is how adapters are served behind a
router (one base model, an adapter per domain); here the domain is what the adapter was trained on.

The domain is the questions of the adapter's training examples (as `train_adapter` wrote them to the adapter
folder's `train.jsonl`): closed-book facts and their paraphrases, and the questions of RAFT examples, whose prompt
is sources plus a question (`prompts.question_in` takes the question out). Replay prompts are general by design and
left out. A conversation goes to the adapter when the cosine similarity of its question's embedding to the nearest
domain question reaches `tune.route_min_similarity`; otherwise the base model answers the same conversation, so a
hybrid question keeps its sources and is answered as the rag strategy would answer it.
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
from ragtune.prompts import question_in

if TYPE_CHECKING:
    from ragtune.models.embedder import Embedder

log = logging.getLogger(__name__)

# Training examples whose last user message asks one of the adapter's questions: closed-book (tune.data's
# qa_examples, chat files) or with sources (RAFT, with and without the oracle among them). Not replay.
ROUTED_ORIGINS = frozenset({"qa", "paraphrase", "chat", "raft", "raft-no-oracle"})
TRAINED_FILE = "train.jsonl"


def trained_questions(adapter: Path) -> list[str]:
    """The questions the adapter in folder `adapter` was trained to answer (closed-book or from sources), in file
    order and without repeats; none when the folder has no readable training file (an adapter made elsewhere)."""
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
        # The last user turn: a RAFT prompt's earlier one is the worked example, not the question.
        users = [m for m in record.get("messages") or () if isinstance(m, dict) and m.get("role") == "user"]
        content = users[-1].get("content") if users else None
        question = question_in(content) if isinstance(content, str) else ""
        if question:
            out[question] = None
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
    go to `base`. `tuned` itself when routing is off (`min_similarity` 0), the adapter has no readable training
    questions (one made elsewhere), or the generators cannot be routed."""
    if min_similarity <= 0:
        return tuned
    return route_questions(tuned, base, trained_questions(adapter), embedder, min_similarity)


def route_questions(
    tuned: Generator, base: Generator, questions: Sequence[str], embedder: Embedder, min_similarity: float
) -> Generator:
    """`route` with the domain's questions already read."""
    if min_similarity <= 0:
        return tuned
    if isinstance(tuned, CopyingGenerator) != isinstance(base, CopyingGenerator):
        log.info("the tuned and base generators decode differently: every question goes to the adapter")
        return tuned
    if not questions:
        log.info("the adapter has no readable training questions: every question goes to it")
        return tuned
    router = DomainRouter.from_questions(embedder, questions, min_similarity)
    return RoutedGenerator(tuned, base, lambda messages: router.to_adapter([question_in(m) for m in messages]))
