"""Facts of forms: a value entered under a label that the corpus' documents share ("Aircraft Damage: Substantial").

Reports filed on one form (accident reports, filings, protocols' cover pages) hold most of what is particular to
each document in fields, not sentences: twenty NTSB reports gave the sentence rules six facts. A label is known by
being shared: the words before a colon that at least `FORM_DOCUMENTS` documents write. That also splits a line
where a PDF ran two columns into one ("Aircraft: Piper PA-22-150 Aircraft Damage: Substantial"): the longest
shared label before each colon starts the next field. A field is asked within its document, by the document's
title ("In “20071229X02007”, what is listed under Rated Power?"); without a usable title it is not asked.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from ragtune.corpus.document import Document
from ragtune.synth.candidates import Fact
from ragtune.synth.questions import Draft, usable_title

# A label is shared by this many documents or more (as `candidates.BOILERPLATE_DOCUMENTS` counts a template's
# sentence): one document's "Note:" or "Results:" is prose, not a form.
FORM_DOCUMENTS = 3
# A label word: capitalised ("Aircraft", "IFR", "Rating(s)", "Model/Series", "Wt."), or a joining word.
_LABEL_WORD = re.compile(r"(?:[A-Z][\w'’./-]*(?:\([\w/]+\))?,?|\([A-Z]+\)|of|and|or|&|in|per|for|to|the|at|from)$")
_JOINING = frozenset(("of", "and", "or", "&", "in", "per", "for", "to", "the", "at", "from"))
MAX_LABEL_WORDS = 5
MAX_VALUE_WORDS = 8  # a longer entry is prose run on from the form, or a sentence the sentence rules read
# A template's blank ("MM/DD/YYYY", "XXX") and entries that tell nothing particular to one document.
_PLACEHOLDER = re.compile(r"(?:([A-Za-z_])\1+[\s/.:-]*)+")
_EMPTY_VALUES = frozenset(("n/a", "na", "none", "unknown", "not applicable", "-", "/", "yes", "no"))


@dataclass(frozen=True)
class _Colon:
    end: int  # where the label ends in the line (the colon's offset)
    words: tuple[tuple[int, str], ...]  # the label-shaped words before it, (offset, word), nearest last


def _colons(line: str) -> list[_Colon]:
    """Each colon of `line` with the label-shaped words that run up to it (at most `MAX_LABEL_WORDS`)."""
    out: list[_Colon] = []
    for match in re.finditer(r":(?=\s|$)", line):
        tokens = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", line[: match.start()])]
        run: list[tuple[int, str]] = []
        for offset, token in reversed(tokens):
            if ":" in token or not _LABEL_WORD.match(token) or len(run) == MAX_LABEL_WORDS:
                break
            run.insert(0, (offset, token))
        while run and run[0][1] in _JOINING:
            run.pop(0)  # a label starts with a capitalised word
        if run:
            out.append(_Colon(match.start(), tuple(run)))
    return out


def _suffixes(colon: _Colon) -> list[str]:
    """The label candidates of a colon, shortest first: "Damage", "Aircraft Damage", "SNJ-7 Aircraft Damage"."""
    words = [w for _, w in colon.words]
    if words[-1] in _JOINING:
        return []  # "Available from:" runs on into what follows; it labels nothing
    return [" ".join(words[i:]) for i in range(len(words) - 1, -1, -1) if words[i] not in _JOINING]


def _lines(doc: Document) -> list[str]:
    return [line.strip() for line in doc.text.splitlines() if ":" in line]


def shared_labels(docs: Sequence[Document]) -> Counter[str]:
    """Label candidates and how many documents write each before a colon; those under `FORM_DOCUMENTS` left out."""
    documents: Counter[str] = Counter()
    for doc in docs:
        documents.update({s for line in _lines(doc) for colon in _colons(line) for s in _suffixes(colon)})
    return Counter({label: n for label, n in documents.items() if n >= FORM_DOCUMENTS})


def _stem(word: str) -> str:
    return word.lower().rstrip(",").removesuffix("s")


# A label is extended by the word before it while most documents that write it write that word before it too.
_EXTEND_SHARE = 0.8


def _label(colon: _Colon, labels: Counter[str]) -> tuple[int, str] | None:
    """The label that ends at `colon` and where it starts: the shared candidate extended word by word while most
    documents that write it write the longer one too. "Type" grows to "Runway Surface Type" (17 of the 20 reports
    that write "Type:"), while "Aircraft Damage" stops before "None" (a value that only some reports write there)."""
    best: tuple[int, str] | None = None
    count = 0
    words = colon.words
    for i in range(len(words) - 1, -1, -1):
        if words[i][1] in _JOINING:
            continue
        label = " ".join(w for _, w in words[i:])
        n = labels.get(label, 0)
        if n < FORM_DOCUMENTS or (best is not None and n < _EXTEND_SHARE * count):
            break
        if best is not None and _stem(words[i][1]) in {_stem(w) for _, w in words[i + 1 :]}:
            break  # "Conditions Condition of Light": the end of a value most reports enter alike, not the label
        best, count = (words[i][0], label), n
    return best


class _Form:
    """What the corpus' documents share: their labels and the pairs of words inside labels."""

    def __init__(self, labels: Counter[str]) -> None:
        self.labels = labels
        parts = [label.replace(",", "").split() for label in labels]
        self.pairs = {(a, b) for words in parts for a, b in pairwise(words)}

    def value_span(self, value: str) -> tuple[int, int] | None:
        """The value's span within `value` (offsets), or None when it is empty, says nothing particular, or ends in
        the words of a label that a PDF ran into it ("David w. Shuckhart Operating Certificate(s)")."""
        stripped = value.strip().rstrip(",;")
        if not re.search(r"[A-Za-z0-9]", stripped) or stripped.lower() in _EMPTY_VALUES:
            return None
        if _PLACEHOLDER.fullmatch(stripped):
            return None  # a template's blank: "MM/DD/YYYY", "XXX"
        if re.search(r":(?:\s|$)", stripped):
            return None  # a label no other document shares runs on in it: where this value ends is unknown
        words = stripped.replace(",", "").split()
        if len(words) > MAX_VALUE_WORDS or (len(words) > 1 and (words[-2], words[-1]) in self.pairs):
            return None
        if all(any(w in label.split() for label in self.labels) for w in words):
            return None  # "Visibility": a label whose colon the PDF lost
        start = value.index(stripped)
        return start, start + len(stripped)


def field_facts(doc: Document, form: _Form) -> list[Fact]:
    """The fields of `doc` under shared labels, each a Fact of kind "field" whose sentence is its line. A value at
    a line's end is kept only when the next line starts a field of its own: otherwise it may run on."""
    labels = form.labels
    title = usable_title(doc.title)
    if not title:
        return []
    lines = _lines(doc)
    raw = doc.text.splitlines()
    following = {line.strip(): raw[i + 1].strip() if i + 1 < len(raw) else "" for i, line in enumerate(raw)}
    out: list[Fact] = []
    for line in lines:
        found = [(colon.end, at) for colon in _colons(line) if (at := _label(colon, labels))]
        for n, (end, (start, label)) in enumerate(found):
            if n and start < found[n - 1][0] + 1:
                continue  # overlaps the previous field's colon
            value_end = found[n + 1][1][0] if n + 1 < len(found) else len(line)
            if n + 1 == len(found) and not _starts_a_field(following.get(line, ""), labels):
                continue
            span = form.value_span(line[end + 1 : value_end])
            if span is None:
                continue
            a, b = end + 1 + span[0], end + 1 + span[1]
            out.append(Fact(doc.id, title, line, a, b, line[a:b], "field", label=label))
    return out


def _starts_a_field(line: str, labels: Counter[str]) -> bool:
    """The line is empty or opens with a shared label: the line before it ended its last value."""
    if not line:
        return True
    colons = _colons(line)
    if not colons:
        return False
    first = _label(colons[0], labels)
    return first is not None and first[0] == 0


def form_facts(docs: Sequence[Document]) -> list[list[Fact]]:
    """The field facts of each of `docs` (in order), under the labels the documents share. A value that
    `FORM_DOCUMENTS` documents or more enter under the same label ("Aircraft Damage: Substantial") is the form's
    common case, not one document's fact, and is not asked."""
    labels = shared_labels(docs)
    if not labels:
        return [[] for _ in docs]
    form = _Form(labels)
    found = [field_facts(doc, form) for doc in docs]
    tails = _template_tails(found)
    found = [[g for f in facts if (g := _without_tail(f, tails)) is not None] for facts in found]
    # What is left must start as an entry does, not with the separator of an empty field ("/ Turbulence Type").
    found = [[f for f in facts if re.match(r"[\w$(“\"]", f.answer)] for facts in found]
    entered = Counter(pair for facts in found for pair in {(f.label, f.answer.lower()) for f in facts})
    return [[f for f in facts if entered[(f.label, f.answer.lower())] < FORM_DOCUMENTS] for facts in found]


def _tails(value: str) -> list[str]:
    """The last one and two words of `value` when they are label-shaped and something comes before them."""
    words = value.split()
    return [
        " ".join(words[-n:])
        for n in (1, 2)
        if len(words) > n and all(_LABEL_WORD.match(w) and w not in _JOINING for w in words[-n:])
    ]


def _template_tails(found: Sequence[Sequence[Fact]]) -> set[tuple[str, str]]:
    """(label, words) that a PDF ran onto values from the template: label-shaped words that end the values of one
    label in `FORM_DOCUMENTS` documents or more and stand alone as the whole entry where the field was left empty
    ("Wind Direction: 10° Turbulence Severity" beside "Wind Direction: Turbulence Severity"; "Operator: ...
    Operating Certificate(s)"). "Municipal Airport" ends many airports' names but is never one alone."""
    documents: Counter[tuple[str, str]] = Counter()
    alone: set[tuple[str, str]] = set()
    for facts in found:
        entries = {(f.label, f.answer.lstrip("/ ")) for f in facts}  # "/ Turbulence Type": speed and gusts empty
        documents.update({(f.label, tail) for f in facts for tail in _tails(f.answer)} | entries)
        alone |= entries
    return {key for key, n in documents.items() if n >= FORM_DOCUMENTS and key in alone}


def _without_tail(fact: Fact, tails: set[tuple[str, str]]) -> Fact | None:
    """`fact` with a template's tail cut from its value (longest first), or None when nothing particular is left."""
    if (fact.label, fact.answer.lstrip("/ ")) in tails:
        return None  # the template's words alone: the field was left empty
    for tail in sorted(_tails(fact.answer), key=len, reverse=True):
        if (fact.label, tail) in tails:
            kept = fact.answer[: len(fact.answer) - len(tail)].rstrip(" ,;/-")
            if not re.search(r"[A-Za-z0-9]", kept):
                return None
            return replace(fact, end=fact.start + len(kept), answer=kept)
    return fact


def field_draft(fact: Fact) -> Draft:
    """A field asked by its label within its document: "In “T”, what is listed under Rated Power?"; the twin: "What
    does “T” list under Rated Power?"."""
    name = f"“{fact.title}”"
    # Asked for what stands under the label, not as "what is the <label>": that reads wrong for a person ("what is
    # the Investigator In Charge?"), a plural or a "Model/Series", and a label with a comma ("Observation Facility,
    # Elevation"), the four failures a strict reading of 40 NTSB fields found.
    question = f"In {name}, what is listed under {fact.label}?"
    twin = f"What does {name} list under {fact.label}?"
    return Draft(fact, "wh", question, twin, fact.answer, anchor=fact.title)
