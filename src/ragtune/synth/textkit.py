"""The answer-text rules synth shares with the rest of ragtune, imported from one place.

Why one module: the lead is moving these helpers into `ragtune.text`; when that lands, only these imports change.
"""

from __future__ import annotations

from ragtune.citations import STOPWORDS, content_terms, split_sentences, words
from ragtune.evaluate.metrics import answer_correct, normalize_answer

__all__ = ["STOPWORDS", "answer_correct", "content_terms", "normalize_answer", "split_sentences", "words"]
