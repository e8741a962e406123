"""Questions the corpus does not answer: a real question's wording with its subject swapped for a name from another
document ("Which year did Kettering Yard open?" -> "... did the Zorvat pump open?"), kept only when retrieval over
the corpus finds no sentence that holds the new name together with what the question asks about."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ragtune.retrieve import Retriever
from ragtune.synth.candidates import Fact
from ragtune.synth.persons import THING_HEADS, is_person
from ragtune.synth.questions import Draft
from ragtune.synth.textkit import content_terms, split_sentences
from ragtune.synth.wellformed import name_stands_alone, outside_quotes


@dataclass(frozen=True)
class Unanswerable:
    question: str
    doc_id: str  # the document whose question was reworded
    name: str  # the name put in


def _kind(name: Fact) -> str:
    """What a name certainly is: "person", "place", the head of an organisation or work's name ("records"), or ""
    when its form and document do not say."""
    # "in the Orange Bowl" -> "in the Syracuse": a name with an article takes one with an article.
    article = "the " if re.search(r"\bthe\s+$", name.sentence[: name.start], re.IGNORECASE) else ""
    if is_person(name, cued=True):
        return "person"
    if name.place:
        return article + "place"
    head = name.span.split()[-1].lower()
    return article + head if head in THING_HEADS else ""


def _swaps(drafts: Sequence[Draft], names: Sequence[Fact], rng: random.Random) -> list[Unanswerable]:
    out: list[Unanswerable] = []
    for d in drafts:
        if d.shape != "wh":
            continue
        # A name in the question that is not its answer: what the question is about.
        subject = next((n for n in names if n.sentence == d.fact.sentence and n.span in d.question), None)
        if subject is None or not name_stands_alone(subject) or not outside_quotes(subject):
            continue  # "CO" of "CO 2" is no subject to swap: the result reads as garbled, not as unanswerable
        # A person for a person, a place for a place, a "... Records" for a "... Records": "a waltz composed by
        # Latin America" or "released by Gerrish Township" gives itself away. A subject of no certain type is
        # not swapped.
        kind = _kind(subject)
        if not kind:
            continue
        others = [n for n in names if n.doc_id != d.fact.doc_id and name_stands_alone(n) and _kind(n) == kind]
        if not others:
            continue
        other = rng.choice(others)
        if other.span.lower() in d.question.lower():
            continue
        out.append(Unanswerable(d.question.replace(subject.span, other.span, 1), d.fact.doc_id, other.span))
    return out


def supported(candidate: Unanswerable, sentences: Sequence[str]) -> bool:
    """Some sentence holds the name put in and at least half of what else the question asks about."""
    name_terms = set(content_terms(candidate.name))
    asked = set(content_terms(candidate.question)) - name_terms
    need = max(1, (len(asked) + 1) // 2)
    return any(name_terms <= (terms := set(content_terms(s))) and len(asked & terms) >= need for s in sentences)


def unanswerable_questions(
    drafts: Sequence[Draft], names: Sequence[Fact], retriever: Retriever, count: int, seed: int, k: int = 8
) -> list[Unanswerable]:
    """Up to `count` questions about name/attribute combinations that retrieval finds nowhere in the corpus."""
    rng = random.Random(seed)
    candidates = _swaps(drafts, names, rng)
    rng.shuffle(candidates)
    kept: list[Unanswerable] = []
    seen: set[str] = set()
    for start in range(0, len(candidates), 32):
        batch = [c for c in candidates[start : start + 32] if c.question.lower() not in seen]
        hits = retriever.search_many([c.question for c in batch], k=k)
        for c, found in zip(batch, hits, strict=True):
            sentences = [s for h in found for s in split_sentences(h.chunk.text)]
            if not supported(c, sentences) and re.search(r"\w", c.question):
                kept.append(c)
                seen.add(c.question.lower())
            if len(kept) >= count:
                return kept
    return kept
