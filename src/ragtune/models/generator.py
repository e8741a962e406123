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


def apply_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut `text` at the first stop sequence; returns the text and whether a stop sequence was found."""
    cut = len(text)
    for s in stop:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut], cut < len(text)
