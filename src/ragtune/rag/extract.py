"""Span extraction: the short answer inside a model's free output.

Why: small models often restate the question ("The bridge was opened by Ilse Mahr") or wander off. The answer is cut
to the part that does not restate the question and, when it is close to a span of the sources, to that span, so that
what the user reads is short and checkable. Copy-constrained answers are spans already; this serves free answers
(remote servers, `rag.copy_answers = false`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ragtune.text import STOPWORDS, content_terms, normalize_answer, overlap_f1, split_sentences, words

_TOKEN = re.compile(r"\S+")
_CLAUSE = re.compile(r"\s*(?:;|,\s+(?:which|who|whose|where|while|but|and|as|because|although)\b|\s+because\b)\s*")
_COPULAS = frozenset({"is", "are", "was", "were", "has", "have", "had"})
_SNAP_F1 = 0.6  # below this a source span is a different answer, not the same one worded differently
_SNAP_RECALL = 2 / 3
_SNAP_MAX_WORDS = 4
_EDGES = "\"'()[]{}<>.,;:!? "


def _strip_restatement(answer: str, question: str) -> str:
    """The answer without the question it restates in front of it.

    "The waste heat is removed in a condenser." asked "What happens to waste heat in the Rankine cycle?" gives
    "removed in a condenser": everything before the first word the question does not contain goes. What follows
    is kept, question words included ("enforced by the courts of member states" keeps "member states"), because
    cutting inside an answer loses it more often than it sharpens it.
    """
    q_terms = set(content_terms(question))
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(answer)]
    flags = []  # per token: 2 adds something the question does not say, 1 function word, 0 repeats the question
    for _, _, tok in tokens:
        ws = words(tok)
        new = [w for w in ws if w not in STOPWORDS and content_terms(w) and content_terms(w)[0] not in q_terms]
        flags.append(2 if new else (1 if ws and all(w in STOPWORDS for w in ws) else 0))
    # Only a sentence that restates the question (two or more of its words) is cut; "RNA interference pathway"
    # asked about a pathway is an answer, not a restatement.
    if len(tokens) < 5 or flags.count(0) < 2 or 2 not in flags:
        return answer
    first = flags.index(2)
    last = len(flags) - 1
    while last > first and flags[last] == 1:  # no dangling "of the" at the end
        last -= 1
    return answer[tokens[first][0] : tokens[last][1]]


def _drop_restated_tail(answer: str, question: str) -> str:
    """ "RNA interference pathway is present in all eukaryotes" asked what is present in all eukaryotes: the answer
    is what comes before a copula that is followed only by the question's own words."""
    q_terms = set(content_terms(question))
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(answer)]
    for i, (start, _, tok) in enumerate(tokens):
        if i == 0 or tok.lower() not in _COPULAS:
            continue
        tail = [w for _, _, t in tokens[i + 1 :] for w in words(t)]
        if tail and all(w in STOPWORDS or (content_terms(w) or [""])[0] in q_terms for w in tail):
            return answer[:start].rstrip()
    return answer


def _recall(span: Sequence[str], target: Sequence[str]) -> float:
    return sum((Counter(span) & Counter(target)).values()) / len(target)


def _snap(answer: str, excerpts: Sequence[str]) -> str:
    """The span of the excerpts closest to `answer` (token F1 >= 0.5), copied as the source writes it; else the
    answer unchanged. A small model's near-copy ("Sky Active service") becomes the source's words ("Sky Active")."""
    target = normalize_answer(answer).split()
    if not target:
        return answer
    if any(normalize_answer(answer) in normalize_answer(excerpt) for excerpt in excerpts):
        return answer  # already a span of the sources
    if len(target) > _SNAP_MAX_WORDS:
        return answer  # a longer answer that merges several phrases would lose its point when cut to one
    best, best_f1 = answer, _SNAP_F1
    for excerpt in (sentence for e in excerpts for sentence in split_sentences(e)):
        spans = [(m.start(), m.end(), normalize_answer(m.group())) for m in _TOKEN.finditer(excerpt)]
        for i in range(len(spans)):
            norm: list[str] = []
            for j in range(i, min(len(spans), i + len(target) + 3)):
                norm += spans[j][2].split()
                if not norm:
                    continue
                f1 = overlap_f1(norm, target)
                # The span must keep most of the answer's words: a fragment of it is a different, vaguer answer.
                if f1 > best_f1 and _recall(norm, target) >= _SNAP_RECALL:
                    best, best_f1 = excerpt[spans[i][0] : spans[j][1]], f1
    return best


def extract_span(answer: str, question: str, excerpts: Sequence[str] = ()) -> str:
    """The short answer inside a model's output: without the restated question, snapped to a span of the sources
    when one is close, without trailing punctuation."""
    text = answer.strip()
    if not text:
        return text
    sentences = split_sentences(text)
    text = sentences[0] if sentences else text  # a second sentence is the model wandering off
    text = _strip_restatement(text, question)
    text = _CLAUSE.split(text, maxsplit=1)[0]  # "X, which is ..." answers with X
    text = _drop_restated_tail(text, question)
    if excerpts:
        text = _snap(text, excerpts)
    return text.strip(_EDGES) or answer.strip()
