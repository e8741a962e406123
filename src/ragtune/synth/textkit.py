"""The answer-text rules synth shares with the rest of ragtune, imported from one place (`ragtune.text`)."""

from __future__ import annotations

from ragtune.text import (
    STOPWORDS,
    answer_correct,
    answer_type,
    content_terms,
    normalize_answer,
    split_sentences,
    words,
)

__all__ = [
    "STOPWORDS",
    "answer_correct",
    "answer_type",
    "content_terms",
    "normalize_answer",
    "split_sentences",
    "words",
]
