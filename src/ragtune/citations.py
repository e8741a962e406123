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
import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

CITATION_RE = re.compile(r"\s*\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by space and an upper-case letter or digit:
# cheap, language-agnostic enough for English documents, and it keeps "e.g. foo" and "3.5" together.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PUNCT = set(string.punctuation)

# Function words carry no evidence of support; kept short on purpose (question words included).
_STOPWORD_TEXT = """a an the of in on at to for by with from and or but nor is are was were be been being am
    do does did done
    what which who whom whose when where why how that this these those it its as into onto than then there their
    they them he she his her him we our you your i me my not no so if about also can could would should will shall
    may might must has have had having such each other some any all one both either neither own same very just
    over under up down out off again further once here s t"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


# A list item ("- Colour: slate grey", "* Bring your badge", "2. Restart the hub") starts a block of its own; the
# lines that follow it without a marker are its wrapped continuation. One or two digits only, so a wrapped line that
# starts with a year ("2025. Sales grew") is not taken for an item.
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])\s")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")  # Markdown's |---|:--:| under a header


def _blocks(text: str) -> list[str]:
    """Paragraphs of `text`; a heading line (Markdown `#`, or a short line without end punctuation followed by a
    line break), a list item and a table row are blocks of their own, while a line wrapped inside a sentence (PDF
    text) is joined to the next. Why items and rows: their lines end without punctuation, so joined they made one
    run-on "sentence" of a whole list ("- Launched: March 2024 - Housing colour: slate grey - Weight: ..."), too long
    to show in full and matched to a question by its average, not by the one item that answers it."""
    blocks: list[str] = []
    current: list[str] = []
    lines = [raw.strip() for raw in text.splitlines()]
    for i, line in enumerate(lines):
        if not line or _TABLE_RULE.match(line):
            if current:
                blocks.append(" ".join(current))
                current = []
            continue
        if line.startswith("|") or _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
            if line.startswith("|"):  # a table row never wraps
                blocks.append(line.strip("|").strip())
                current = []
            else:
                current = [line]
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        heading = line.startswith("#") or (
            len(line.split()) <= 8
            and not re.search(r"[.!?:;,\"')\]]$", line)
            and (not current or current[-1].endswith((".", "!", "?")))
            and (not following or not following[0].islower())
        )
        if heading:
            if current:
                blocks.append(" ".join(current))
                current = []
            blocks.append(line.lstrip("#").strip())
        else:
            current.append(line)
    if current:
        blocks.append(" ".join(current))
    return [b for b in blocks if b]


def split_sentences(text: str) -> list[str]:
    """Sentences of `text` (paragraph breaks and headings also end one); whitespace inside is collapsed."""
    out: list[str] = []
    for block in _blocks(text):
        block = " ".join(block.split())
        # "2. Restart the hub." would split after the item's number, which looks like a sentence's end.
        marker = m.group(0) if (m := _LIST_ITEM.match(block)) else ""
        pieces = [s.strip() for s in _SENTENCE_END.split(block[len(marker) :]) if s.strip()]
        if marker and pieces:
            pieces[0] = marker + pieces[0]
        out.extend(pieces)
    return out


@lru_cache(maxsize=1)
def _stemmer() -> object:
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed content words of `text` (stop words dropped), the unit of lexical overlap."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return list(_stemmer().stemWords(kept)) if kept else []  # type: ignore[attr-defined]


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(c for c in text.lower() if c not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


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


def support_features(
    sentence: str,
    claim_vector: npt.NDArray[np.float32] | None,
    sources_terms: Sequence[Sequence[str]],
    sources_vectors: Sequence[npt.NDArray[np.float32]],
) -> tuple[list[float], list[float]]:
    """(lexical, embedding) support of one sentence by every source.

    lexical: share of the sentence's own content terms found in the source (a copied span scores 1);
    embedding: the best cosine between the claim and any sentence of the source (0 without vectors).
    """
    terms = content_terms(sentence) or words(sentence)
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
