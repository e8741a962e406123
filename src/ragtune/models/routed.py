"""A generator that sends each conversation to one of two models: a tuned one for the conversations its router
claims, the base one for the others (`ragtune.tune.routing` decides which, from the question's embedding).

Both models must share a tokenizer (an adapter and its base model do): token counts and the context window are the
tuned model's. Each batch is split in two and each part batched on its own model; results come back in the order
asked, each with `extra["adapter"]` 1.0 when the tuned model answered and 0.0 when the base one did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

from ragtune.models.generator import (
    Conversation,
    CopyingGenerator,
    CopySpec,
    GenerationParams,
    GenerationResult,
    Generator,
    model_identity,
    parameter_count,
)

# Per conversation's last user message (the question, or sources and the question), whether the tuned model answers.
Route = Callable[[Sequence[str]], list[bool]]


def last_user_message(conversation: Conversation) -> str:
    """What a conversation asks, with whatever the prompt put around the question."""
    return next((m.content for m in reversed(conversation) if m.role == "user"), "")


class RoutedGenerator:
    """`tuned` for the conversations `route` claims, `base` for the rest; a CopyingGenerator when both are."""

    def __init__(self, tuned: Generator, base: Generator, route: Route) -> None:
        self.tuned = tuned
        self.base = base
        self.route = route

    @property
    def name(self) -> str:
        return f"{self.tuned.name}, routed (outside its domain: {self.base.name})"

    @property
    def base_name(self) -> str:
        return model_identity(self.base)

    @property
    def parameters(self) -> int | None:
        return parameter_count(self.base)

    @property
    def context_window(self) -> int:
        return min(self.tuned.context_window, self.base.context_window)

    @property
    def batch_size(self) -> int:
        return int(getattr(self.tuned, "batch_size", 8))

    def count_tokens(self, text: str) -> int:
        return self.tuned.count_tokens(text)

    def _split(self, conversations: Sequence[Conversation]) -> tuple[list[int], list[int]]:
        claimed = self.route([last_user_message(c) for c in conversations]) if conversations else []
        tuned = [i for i, yes in enumerate(claimed) if yes]
        return tuned, [i for i, yes in enumerate(claimed) if not yes]

    def _merged(
        self,
        conversations: Sequence[Conversation],
        run: Callable[[Generator, list[int]], list[GenerationResult]],
    ) -> list[GenerationResult]:
        tuned, base = self._split(conversations)
        out: dict[int, GenerationResult] = {}
        for model, rows, flag in ((self.tuned, tuned, 1.0), (self.base, base, 0.0)):
            if rows:
                for i, result in zip(rows, run(model, rows), strict=True):
                    out[i] = dataclasses.replace(result, extra={**result.extra, "adapter": flag})
        return [out[i] for i in range(len(conversations))]

    def _one(self, conversation: Conversation) -> Generator:
        tuned, _ = self._split([conversation])
        return self.tuned if tuned else self.base

    def generate(self, conversations: Sequence[Conversation], params: GenerationParams) -> list[GenerationResult]:
        return self._merged(conversations, lambda m, rows: m.generate([conversations[i] for i in rows], params))

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[str]:
        return self._one(conversation).stream(conversation, params)

    def generate_copying(
        self, conversations: Sequence[Conversation], copy: Sequence[CopySpec], params: GenerationParams
    ) -> list[GenerationResult]:
        def run(model: Generator, rows: list[int]) -> list[GenerationResult]:
            return _copying(model).generate_copying([conversations[i] for i in rows], [copy[i] for i in rows], params)

        return self._merged(conversations, run)

    def stream_copying(self, conversation: Conversation, copy: CopySpec, params: GenerationParams) -> Iterator[str]:
        return _copying(self._one(conversation)).stream_copying(conversation, copy, params)


def _copying(model: Generator) -> CopyingGenerator:
    if not isinstance(model, CopyingGenerator):
        raise TypeError(f"{model.name} cannot generate copy-constrained answers")
    return model
