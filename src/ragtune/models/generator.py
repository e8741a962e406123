"""The Generator seam: anything that turns chat messages into text and says how many tokens it used.

Backends (one file each): `hf.py` (transformers, batched), `openai_compat.py` (any OpenAI-compatible server),
`llamacpp.py` (llama-cpp-python). Every backend takes *messages*, not prompt strings, so that the one chat template
in `chat.py` decides what a local model sees, in training and at inference alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    role: Literal["system", "user", "assistant"]
    content: str


Conversation = Sequence[Message]


@dataclass(frozen=True)
class GenerationParams:
    max_new_tokens: int = 64
    temperature: float = 0.0  # 0: greedy
    stop: tuple[str, ...] = ()
    seed: int = 0


@dataclass(frozen=True)
class GenerationResult:
    text: str
    tokens_in: int
    tokens_out: int
    seconds: float
    finish_reason: Literal["stop", "length"] = "stop"
    extra: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Generates answers for many conversations at once (evaluation asks hundreds of questions)."""

    @property
    def name(self) -> str:
        """A human-readable model name, for reports."""
        ...

    @property
    def context_window(self) -> int:
        """Tokens the model can attend to: prompt plus answer."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of `text` in the generator's own tokenizer (an estimate for remote servers)."""
        ...

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[GenerationResult]:
        """One result per conversation, in order."""
        ...

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[str]:
        """Yields the answer's text piece by piece as it is generated."""
        ...


class TextStream(Iterator[str]):
    """Pieces of generated text. `extra` holds what the backend measured (as in `GenerationResult.extra`, e.g.
    `mean_logprob`) once the pieces are exhausted; it stays empty where a backend measures nothing."""

    def __init__(self, pieces: Iterator[str] = iter(())) -> None:
        self.pieces = pieces
        self.extra: dict[str, float] = {}

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        return next(self.pieces)

    def close(self) -> None:
        """Stop early: the backend stops generating (as closing a generator does)."""
        close = getattr(self.pieces, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class CopySpec:
    """What a copy-constrained answer may be: a span of one of `texts` (starting at a word), or one of `replies`."""

    texts: tuple[str, ...]
    replies: tuple[str, ...] = ()
    avoid_starts: frozenset[str] = frozenset()  # lower-case words a span may not start with
    answer_type: str = ""  # what the question asks for ("number", "time", "name"; "" anything): where a span starts
    end_at_citation: bool = False  # end the span where the model would write a citation (shorter answers)
    proximity: float = 0.0  # log-prior per word a span's start stands away from the question's words (avoid_starts)
    reply_bias: tuple[float, ...] = ()  # per reply, a log-prior added to its first token (contextual calibration)


@runtime_checkable
class CopyingGenerator(Generator, Protocol):
    """A generator that can restrict answers to spans of given texts (see `ragtune.models.copying`).

    An optional capability: remote servers cannot constrain decoding this way, and the answerer then extracts a
    span from a free answer instead.
    """

    def generate_copying(
        self, conversations: Sequence[Conversation], copy: Sequence[CopySpec], params: GenerationParams
    ) -> list[GenerationResult]:
        """One result per conversation, each a span of its own spec."""
        ...

    def stream_copying(self, conversation: Conversation, copy: CopySpec, params: GenerationParams) -> Iterator[str]:
        """`stream`, constrained like `generate_copying`."""
        ...


def apply_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the first stop sequence; returns the text and whether a stop sequence was found."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut], cut < len(text)


def model_identity(generator: Generator) -> str:
    """The model behind `generator`, without the adapters merged into it or the routing around it: what a refusal
    calibration is fitted for (an adapter tunes the same model; a calibration of the base model applies to it)."""
    return str(getattr(generator, "base_name", "") or generator.name)


def parameter_count(generator: Generator) -> int | None:
    """How many parameters the model has, where its backend knows (local models); None for a remote server."""
    count = getattr(generator, "parameters", None)
    return int(count) if isinstance(count, int) and count > 0 else None
