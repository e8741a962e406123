"""Changed facts between two versions of the documents: align their sentences, keep pairs that differ in one short
stretch, and ask about a fact of the old sentence whose answer span holds that stretch; the new sentence's span at
the same place is the answer after the update."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.corpus.document import Document
from ragtune.synth.candidates import Fact, document_facts
from ragtune.synth.textkit import normalize_answer, split_sentences

_MAX_CHANGED_WORDS = 4
_MIN_SIMILARITY = 0.6


@dataclass(frozen=True)
class ChangedFact:
    fact: Fact  # in the first version
    new_answer: str  # the same span in the updated sentence
    new_sentence: str


@dataclass(frozen=True)
class SentenceEdit:
    doc_id: str
    old: str
    new: str
    start: int  # the changed stretch of `old` (whole words), and the length it has in `new`
    end: int
    new_end: int


def _edit(doc_id: str, old: str, new: str) -> SentenceEdit | None:
    """The one stretch in which two sentences differ, widened to whole words; None if they differ too much."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    s = 0
    while s < min(len(old), len(new)) - p and old[-1 - s] == new[-1 - s]:
        s += 1
    # Widen to whole words: never split a run of letters and digits ("1|5" -> "15"); "$6." -> "$7." stays "6".
    while p > 0 and old[p - 1].isalnum() and old[p].isalnum():
        p -= 1
    while s > 0 and old[len(old) - s - 1].isalnum() and old[len(old) - s].isalnum():
        s -= 1
    end, new_end = len(old) - s, len(new) - s
    if end <= p or len(old[p:end].split()) > _MAX_CHANGED_WORDS or len(new[p:new_end].split()) > _MAX_CHANGED_WORDS:
        return None
    return SentenceEdit(doc_id, old, new, p, end, new_end)


def sentence_edits(old_doc: Document, new_doc: Document) -> list[SentenceEdit]:
    """Aligned sentence pairs of two versions of one document that differ in one short stretch."""
    a, b = split_sentences(old_doc.text), split_sentences(new_doc.text)
    matcher = difflib.SequenceMatcher(a=[normalize_answer(x) for x in a], b=[normalize_answer(x) for x in b])
    edits: list[SentenceEdit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace":
            continue
        # Within a replaced block each old sentence pairs with its most similar new one (sentences may have been
        # added or rewritten around it), if that is similar enough to be an edit of it.
        for old in a[i1:i2]:
            scored = [(difflib.SequenceMatcher(a=old.split(), b=new.split()).ratio(), new) for new in b[j1:j2]]
            score, new = max(scored, default=(0.0, ""))
            edit = _edit(old_doc.id, old, new) if score >= _MIN_SIMILARITY else None
            if edit is not None:
                edits.append(edit)
    return edits


def changed_facts(docs_v1: Sequence[Document], docs_v2: Sequence[Document], max_words: int = 25) -> list[ChangedFact]:
    """Facts of the first version whose value the second one changes (documents matched by id)."""
    new_by_id = {d.id: d for d in docs_v2}
    out: list[ChangedFact] = []
    for doc in docs_v1:
        new_doc = new_by_id.get(doc.id)
        if new_doc is None or new_doc.content_hash == doc.content_hash:
            continue
        facts = document_facts(doc, max_words)
        for e in sentence_edits(doc, new_doc):
            for f in facts:
                if f.sentence != e.old or not (f.start <= e.start and e.end <= f.end):
                    continue
                new_span = e.new[f.start : f.end + (e.new_end - e.end)]
                # The answer is the span or its number: the same part of the new span.
                offset = f.span.find(f.answer)
                new_answer = new_span[offset : offset + len(f.answer) + len(new_span) - len(f.span)].strip()
                differs = normalize_answer(new_answer) != normalize_answer(f.answer)
                if offset >= 0 and re.search(r"\w", new_answer) and differs:
                    out.append(ChangedFact(f, new_answer, e.new))
                break
    return out
