"""An optional LLM judge: a bigger model behind any OpenAI-compatible server decides whether an answer is right.

String matching undercounts answers that are right in other words ("five" for "5"); a judge catches those. It is
never required: the comparison's primary metric stays answer accuracy, and the judge's verdict is reported beside
it (`judge_accuracy`) only when `compare.judge_url` is set.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.errors import BackendUnavailableError
from ragtune.models.generator import GenerationParams, Message
from ragtune.models.openai_compat import OpenAICompatGenerator

JUDGE_PROMPT = (
    "You grade answers to questions. Question: {question}\nReference answer(s): {gold}\nCandidate answer: {answer}\n"
    "Does the candidate answer give the same answer as a reference answer? Extra words are fine; a different or "
    "missing answer is not. Reply with exactly one word: yes or no."
)


@dataclass(frozen=True)
class JudgeItem:
    question: str
    gold: tuple[str, ...]
    answer: str


def parse_verdict(text: str) -> bool:
    """The judge's reply -> right or wrong: its first word, 'yes' meaning right."""
    words = text.strip().lower().lstrip("*\"' ").split()
    return bool(words) and words[0].strip(".,!:*\"'") == "yes"


class Judge:
    """Grades answers through the OpenAI-compatible generator backend (its timeouts, retries and errors)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        retries: int = 3,
    ) -> None:
        if not base_url or not model:
            raise BackendUnavailableError("the LLM judge needs compare.judge_url and compare.judge_model")
        self.generator = OpenAICompatGenerator(
            base_url, model, api_key=os.environ.get(api_key_env, ""), timeout_s=timeout_s, max_retries=retries
        )

    def grade(self, items: Sequence[JudgeItem]) -> list[bool]:
        conversations = [
            [
                Message(
                    "user",
                    JUDGE_PROMPT.format(question=i.question, gold=" | ".join(i.gold), answer=i.answer or "(empty)"),
                )
            ]
            for i in items
        ]
        try:
            results = self.generator.generate(conversations, GenerationParams(max_new_tokens=3, temperature=0.0))
        except BackendUnavailableError as exc:
            raise BackendUnavailableError(f"LLM judge failed: {exc} Check compare.judge_url, or unset it.") from exc
        return [parse_verdict(r.text) for r in results]
