"""What a reader's raw output becomes before support and refusal: a `Draft` (the answer's text, its sentences and
what each cites, and whether the model refused), and the capable reader's way of reading its whole answer.

The small reader's drafts are made in `answerer` (a copied span, shaped by the question's form); a capable reader's
whole answer is kept word for word here (`capable_draft`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.citations import claim_terms, parse_citations
from ragtune.prompts import REFUSAL
from ragtune.rag import forms
from ragtune.text import QuestionForm, normalize_answer, split_sentences

# Phrases with which a model says it cannot answer; such an answer becomes the refusal.
REFUSAL_PATTERNS = re.compile(
    r"(do(?:es)? not (?:say|mention|contain|provide|specify|state)|not (?:mentioned|stated|specified|provided|given)"
    r"|no information|cannot (?:be )?(?:answer|determine)|can't (?:answer|determine)|unknown|not enough information)",
    re.IGNORECASE,
)
_DONT_KNOW = re.compile(r"\b(?:i|we) (?:do not|don't|cannot|can't) (?:know|tell|find)\b", re.IGNORECASE)
ANSWER_PREFIX = re.compile(r"^\s*(?:answer\s*:|the answer is\s*:?|a\s*:)\s*", re.IGNORECASE)
_LABEL = re.compile(r"^\s*(?:answer|a)\s*:\s*", re.IGNORECASE)  # a capable reader's "Answer:" label, nothing more


@dataclass(frozen=True)
class Draft:
    """A generated answer, cleaned, before support and refusal."""

    text: str
    cited: tuple[int, ...]
    model_refused: bool
    sentences: tuple[str, ...]
    sentence_cited: tuple[tuple[int, ...], ...] = ()  # per sentence, the numbers it cites itself (capable reader)

    def cited_by(self, n: int) -> tuple[int, ...]:
        """What sentence `n` cites: its own markers where the reader wrote them per sentence, else the answer's."""
        own = self.sentence_cited[n] if n < len(self.sentence_cited) else ()
        return own or self.cited


def refused_in_words(text: str, cited: Sequence[int]) -> bool:
    """Whether a capable reader's answer is its refusal: the refusal itself, or an answer that cites nothing and
    opens by saying the sources do not hold the answer ("The sources do not mention ...", "I don't know.")."""
    if normalize_answer(text) == normalize_answer(REFUSAL):
        return True
    first = (split_sentences(text) or [text])[0]
    return not cited and bool(REFUSAL_PATTERNS.search(first) or _DONT_KNOW.search(first))


def capable_draft(raw: str, form: QuestionForm, question: str) -> Draft:
    """A capable reader's whole answer: every word kept as the text, and each sentence that claims something
    (`citations.claim_terms`) with the [n] markers it wrote, checked against the sources at attribution; its own
    refusal read from its words; a yes/no or choice answer opened with its decision or option where it gives it
    later (`forms.lead_with_form`)."""
    text = _LABEL.sub("", raw.strip())
    parsed = [parse_citations(s) for s in split_sentences(text) or [text]]
    parsed = [(t, c) for t, c in parsed if t]
    cited = tuple(dict.fromkeys(n for _, c in parsed for n in c))
    whole = " ".join(t for t, _ in parsed)
    if not whole or refused_in_words(whole, cited):
        return Draft("", cited, True, ())
    if form.kind != "open":
        opened = forms.lead_with_form(form, whole)
        if opened != whole:  # the decision or option opens the answer as a sentence of its own
            head = opened[: len(opened) - len(whole)].rstrip(": ")
            parsed = [(head, ()), *parsed]
            whole = opened
    claims = [(t, c) for t, c in parsed if claim_terms(t, question)] or parsed[:1]
    return Draft(whole, cited, False, tuple(t for t, _ in claims), tuple(c for _, c in claims))
