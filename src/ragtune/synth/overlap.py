"""How close a question's wording is to its evidence sentence and to the training questions: the share of its
content words (not function words, not the answer's) found there. 1.0 for a question that only rearranges the
sentence; people's questions repeat 0.35-0.60 of theirs (measured in `benchmarks/bench_synth.py`: the bundled
sample's hand-written test questions 0.35, SQuAD 2.0 dev 0.60, COVID-QA 0.51)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# The range people's questions fall in (see the module's docstring): what a report puts beside the synthesized one.
PEOPLE_EVIDENCE_OVERLAP = (0.35, 0.60)

# Words a question needs whatever it asks ("what", "the", "according to the documents"): left out of the overlap.
_FUNCTION_WORDS = frozenset(
    (
        "a", "an", "the", "of", "in", "on", "at", "by", "for", "to", "from", "with", "and", "or", "is", "are", "was",
        "were", "be", "been", "do", "does", "did", "what", "which", "who", "whom", "whose", "when", "where", "why",
        "how", "many", "much", "that", "this", "these", "those", "it", "its", "as", "into", "than", "there", "their",
        "they", "according", "documents", "say", "says", "said", "can", "could", "will", "would", "should", "may",
        "might", "must", "has", "have", "had", "not",
    )
)  # fmt: skip


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


# The document title a question is asked within ("In “20080108X00029”, ...", `ragtune.synth.questions.anchored`):
# a name for where to look, not a rewording of the evidence, so it counts neither way.
_TITLE_LEAD = re.compile(r"^(?:In|According to|Does) “[^”]*”,?\s*")


def without_title(question: str) -> str:
    """`question` without the document title it may lead with ("Does “X” say that ..." -> "say that ...")."""
    return _TITLE_LEAD.sub("", question)


def asked_words(question: str, answer: str = "") -> list[str]:
    """The question's content words: neither function words, words of its answer (options name it) nor of the
    document title it leads with."""
    answer_words = set(_words(answer))
    return [w for w in _words(without_title(question)) if w not in _FUNCTION_WORDS and w not in answer_words]


def evidence_overlap(question: str, evidence: str, answer: str = "") -> float | None:
    """The share of the question's content words found in `evidence` (None for a question without any)."""
    asked = asked_words(question, answer)
    if not asked:
        return None
    said = set(_words(evidence))
    return sum(w in said for w in asked) / len(asked)


def nearest_overlap(question: str, others: Sequence[str], answer: str = "") -> float | None:
    """The overlap of `question` with the one of `others` that shares most of its content words (a test question
    against the training questions): how much of it a model trained on those has seen worded so."""
    asked = asked_words(question, answer)
    if not asked or not others:
        return None
    best = max(len(set(asked) & set(_words(o))) for o in others)
    return best / len(set(asked))


def mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 3) if kept else None
