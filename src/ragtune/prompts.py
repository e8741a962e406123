"""The words a model is asked in: closed-book and with numbered sources.

Shared by RAG answering (rag.py) and by the RAFT training-data builder (tune/data.py), so that a model tuned for the
hybrid strategy is trained on exactly the prompts it will be asked.

Written for small models: a 135M model answers best when the instruction is one short line, the answer it should
give is shown once (a worked example), and the question comes last, right before it starts answering. Every token
here is paid for on every question (prompt length is most of the cost of answering on a CPU), so the example is
short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.models.generator import Message

REFUSAL = "The documents do not say."

CLOSED_BOOK_SYSTEM = "Answer the question in as few words as possible."

RAG_SYSTEM = (
    "Answer the question with a few words copied from the numbered sources, followed by the source number in "
    f"brackets. If the sources do not contain the answer, reply: {REFUSAL}"
)

# A capable model needs no worked example and no "few words copied": it is asked for a short answer in its own words,
# with the numbers of the sources it used, so that its whole answer (and where each part comes from) reaches the user.
CAPABLE_RAG_SYSTEM = (
    "Answer the question from the numbered sources only. Keep the answer short, and cite the sources it rests on "
    f"by their numbers in brackets, like [1]. If the sources do not contain the answer, reply: {REFUSAL}"
)

# One worked example (a user turn and the answer turn): it shows the format (a short span copied from a source,
# then its number) better than any instruction does. It is deliberately unlike real documents, so that its content
# does not leak into answers.
FEW_SHOT_SOURCES = (
    "The Zorvath bridge was opened in 1931 by the engineer Ilse Mahr.",
    "It spans the Keel river and carries two rail tracks.",
)
FEW_SHOT_QUESTION = "Who opened the Zorvath bridge?"
FEW_SHOT_ANSWER = "Ilse Mahr [1]"


@dataclass(frozen=True)
class SourceText:
    number: int  # 1-based, as the model cites it: [1]
    title: str
    text: str


def format_sources(sources: Sequence[SourceText]) -> str:
    return "\n".join(
        f"[{s.number}] {s.title}: {s.text}".strip() if s.title else f"[{s.number}] {s.text}" for s in sources
    )


_SOURCES_HEAD = "Sources:\n"
_QUESTION_HEAD = "\n\nQuestion: "


def _rag_user(question: str, sources: Sequence[SourceText]) -> str:
    return f"{_SOURCES_HEAD}{format_sources(sources)}{_QUESTION_HEAD}{question.strip()}"


def question_in(user_message: str) -> str:
    """The question a user message asks: what follows the sources in a prompt of `rag_messages`, else the whole
    message (a closed-book prompt is the question itself). Routing compares questions, not sources."""
    if user_message.startswith(_SOURCES_HEAD) and _QUESTION_HEAD in user_message:
        return user_message.rsplit(_QUESTION_HEAD, 1)[1].strip()
    return user_message.strip()


def closed_book_messages(question: str) -> list[Message]:
    return [Message("system", CLOSED_BOOK_SYSTEM), Message("user", question.strip())]


def few_shot_messages() -> list[Message]:
    """The worked example as a user turn and an assistant turn."""
    example = [SourceText(i, "", text) for i, text in enumerate(FEW_SHOT_SOURCES, start=1)]
    return [Message("user", _rag_user(FEW_SHOT_QUESTION, example)), Message("assistant", FEW_SHOT_ANSWER)]


def rag_messages(
    question: str, sources: Sequence[SourceText], *, few_shot: bool = True, capable: bool = False
) -> list[Message]:
    """The question with its numbered sources (and, by default, one worked example before it); `capable` asks in
    the capable reader's words (see `ragtune.rag.reader`)."""
    messages = [Message("system", CAPABLE_RAG_SYSTEM if capable else RAG_SYSTEM)]
    if few_shot:
        messages += few_shot_messages()
    messages.append(Message("user", _rag_user(question, sources)))
    return messages
