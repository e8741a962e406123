"""Citations that can be trusted: parse `[n]`, measure how well each source supports each answer sentence, and
attribute every sentence to the source that supports it best (or mark it unsupported).

Small models rarely cite, and when they do the number is often wrong, so a citation is never taken on faith: a
sentence keeps its citation only when the cited source supports it; otherwise it is attributed to the best-supporting
source, or to none. Support is measured from two signals, lexical overlap (do the sentence's content words occur in
the source?) and embedding similarity (does some sentence of the source say the same thing?), combined by a logistic
model whose weights `ragtune calibrate` fits on labelled questions (see `ragtune.calibration`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ragtune.text import content_terms, words

CITATION_RE = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def parse_citations(text: str) -> tuple[str, tuple[int, ...]]:
    """(text without its `[n]` markers, the cited numbers in order of appearance, without repeats)."""
    numbers: list[int] = []
    for match in CITATION_RE.finditer(text):
        for part in match.group(1).split(","):
            n = int(part)
            if n not in numbers:
                numbers.append(n)
    clean = CITATION_RE.sub("", text)
    clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
    return " ".join(clean.split()), tuple(numbers)


def lexical_overlap(claim: Sequence[str], source: Sequence[str]) -> float:
    """Share of the claim's distinct content terms that occur in the source (0 when the claim has none)."""
    wanted = set(claim)
    if not wanted:
        return 0.0
    return len(wanted & set(source)) / len(wanted)


def idf_weights(documents: Sequence[Sequence[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of every term over `documents` (lists of terms)."""
    df: dict[str, int] = {}
    for doc in documents:
        for term in set(doc):
            df[term] = df.get(term, 0) + 1
    n = len(documents)
    return {t: math.log(1.0 + n / (1.0 + c)) for t, c in df.items()}


def weighted_coverage(query: Sequence[str], text: Sequence[str], idf: dict[str, float], default: float) -> float:
    """IDF-weighted share of the query's terms found in `text` (rare terms count more)."""
    wanted = set(query)
    if not wanted:
        return 0.0
    have = set(text)
    total = sum(idf.get(t, default) for t in wanted)
    return sum(idf.get(t, default) for t in wanted & have) / total if total else 0.0


@dataclass(frozen=True)
class SupportModel:
    """support = sigmoid(bias + w_lexical * lexical + w_embedding * embedding): a probability that a source backs a
    sentence, once fitted by `ragtune calibrate`; `threshold` is the decision point on that probability."""

    w_lexical: float
    w_embedding: float
    bias: float
    threshold: float = 0.5

    def score(self, lexical: float, embedding: float) -> float:
        z = self.bias + self.w_lexical * lexical + self.w_embedding * embedding
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Attribution:
    """One answer sentence: the source it is attributed to (None: unsupported), its support, and whether the model
    cited that source itself."""

    text: str
    source_number: int | None
    support: float
    cited: bool
    supports: tuple[float, ...]  # the support of every source, in source order
    lexical: tuple[float, ...]
    embedding: tuple[float, ...]


def claim_text(sentence: str, question: str, min_words: int = 6) -> str:
    """What is checked against the sources: a short answer ("1889") means nothing alone, so it is read together
    with its question; a full sentence stands for itself."""
    return f"{question.strip()} {sentence}".strip() if len(words(sentence)) < min_words and question else sentence


# Words with which a reader talks about answering ("According to the documents, the answer is ..."), not about the
# documents' content: a capable reader's sentence is checked on what it claims, without them.
_ANSWER_TALK = frozenset(
    content_terms(
        "according answer answers based document documents source sources passage passages context provided "
        "state states stated say says said mention mentions mentioned question"
    )
)


def claim_terms(sentence: str, question: str) -> list[str]:
    """What a sentence of a capable reader's answer claims: its content terms, less the question's own and the words
    of talking about answering. Empty: the sentence frames the answer ("The sources address this question.")
    and claims nothing to check."""
    asked = set(content_terms(question))
    return [t for t in content_terms(sentence) if t not in asked and t not in _ANSWER_TALK]


def support_features(
    sentence: str,
    claim_vector: npt.NDArray[np.float32] | None,
    sources_terms: Sequence[Sequence[str]],
    sources_vectors: Sequence[npt.NDArray[np.float32]],
    terms: Sequence[str] = (),
) -> tuple[list[float], list[float]]:
    """(lexical, embedding) support of one sentence by every source.

    lexical: share of the sentence's own content terms (or of `terms`, when given) found in the source (a copied
    span scores 1); embedding: the best cosine between the claim and any sentence of the source (0 without vectors).
    """
    terms = list(terms) or content_terms(sentence) or words(sentence)
    lexical = [lexical_overlap(terms, src) for src in sources_terms]
    embedding: list[float] = []
    for vectors in sources_vectors:
        if claim_vector is None or len(vectors) == 0:
            embedding.append(0.0)
        else:
            embedding.append(float(np.max(vectors @ claim_vector)))
    return lexical, embedding


def attribute(
    sentence: str,
    cited: Sequence[int],
    numbers: Sequence[int],
    lexical: Sequence[float],
    embedding: Sequence[float],
    model: SupportModel,
) -> Attribution:
    """Keep the model's own citation when that source supports the sentence; else the best-supporting source;
    else none (unsupported). `numbers` are the sources' citation numbers, in the order of the feature lists."""
    supports = tuple(model.score(lx, em) for lx, em in zip(lexical, embedding, strict=True))
    by_number = dict(zip(numbers, supports, strict=True))
    good_cited = [n for n in cited if n in by_number and by_number[n] >= model.threshold]
    if good_cited:
        best_cited = max(good_cited, key=lambda n: by_number[n])
        return Attribution(
            sentence, best_cited, by_number[best_cited], True, supports, tuple(lexical), tuple(embedding)
        )
    if supports:
        i = int(np.argmax(supports))
        if supports[i] >= model.threshold:
            return Attribution(sentence, numbers[i], supports[i], False, supports, tuple(lexical), tuple(embedding))
        return Attribution(sentence, None, supports[i], False, supports, tuple(lexical), tuple(embedding))
    return Attribution(sentence, None, 0.0, False, (), (), ())
