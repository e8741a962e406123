"""An optional LLM judge: a bigger model behind any OpenAI-compatible server decides whether an answer is right.

String matching undercounts answers that are right in other words ("five" for "5"); a judge catches those. It is
never required: the comparison's primary metric stays answer accuracy, and the judge's verdict is reported beside
it (`judge_accuracy`) only when `compare.judge_url` is set.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from ragtune.errors import BackendUnavailableError

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
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        key = os.environ.get(api_key_env, "")
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.timeout = timeout_s
        self.retries = retries

    def _ask(self, client: httpx.Client, prompt: str) -> str:
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": 3,
        }
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                r = client.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
                r.raise_for_status()
                return str(r.json()["choices"][0]["message"]["content"] or "")
            except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
                last = exc
                time.sleep(min(8.0, 0.5 * 2**attempt))
        raise BackendUnavailableError(f"LLM judge at {self.url} failed: {last}. Check compare.judge_url, or unset it.")

    def grade(self, items: Sequence[JudgeItem]) -> list[bool]:
        with httpx.Client() as client:
            return [
                parse_verdict(
                    self._ask(
                        client,
                        JUDGE_PROMPT.format(question=i.question, gold=" | ".join(i.gold), answer=i.answer or "(empty)"),
                    )
                )
                for i in items
            ]
