"""The words a model is asked in: closed-book and with numbered sources.

Shared by RAG answering (rag.py) and by the RAFT training-data builder (tune/data.py), so that a model tuned for the
hybrid strategy is trained on exactly the prompts it will be asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.models.generator import Message

CLOSED_BOOK_SYSTEM = "Answer the question in as few words as possible."

RAG_SYSTEM = (
    "Answer the question using only the numbered sources. Reply with the shortest answer, copied from the source, "
    "followed by the source number in brackets, like: Paris [1]. If the sources do not contain the answer, reply: "
    "The documents do not say."
)


@dataclass(frozen=True)
class SourceText:
    number: int  # 1-based, as the model cites it: [1]
    title: str
    text: str


def format_sources(sources: Sequence[SourceText]) -> str:
    return "\n\n".join(
        f"[{s.number}] {s.title}\n{s.text}".strip() if s.title else f"[{s.number}] {s.text}" for s in sources
    )


def closed_book_messages(question: str) -> list[Message]:
    return [Message("system", CLOSED_BOOK_SYSTEM), Message("user", question.strip())]


def rag_messages(question: str, sources: Sequence[SourceText]) -> list[Message]:
    user = f"Sources:\n{format_sources(sources)}\n\nQuestion: {question.strip()}"
    return [Message("system", RAG_SYSTEM), Message("user", user)]
