"""Test wordings further from their evidence, with the meaning kept (issue #29): the twin names its subject by another
mention of it in the same document, and leaves out asides that do not identify the fact.

- **Another mention**: an abbreviation the document defines ("angiotensin-converting enzyme 2 (ACE2)") stands for
  its long form and the long form for it; a surname the sentence uses alone ("Lentz also serves as ...") is given
  the full name the document writes elsewhere ("Carl Lentz"). The words come from the document, not a lexicon, so
  the question still names exactly what its evidence names.
- **Asides left out**: a comma phrase after the asked value that opens with a participle or "one of" (", held a
  week after the Daytona 500", ", beginning in 1977") and an apposition between a subject and its verb (", the
  Gibraltar campion,") say more about something the question already names; the clause that holds the value stays.

A rewording that would put the answer into the question, or leave nothing to ask, is not made (the twin stays as
drafted). Measured in `docs/benchmarks.md` (Synthesized questions on other text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ragtune.corpus.document import Document
from ragtune.synth.questions import WH_WORDS, Draft, did_fronted
from ragtune.text import answer_correct

# "(ACE2)", "(SARS-CoV-2)", "(MERS-CoV)", "(HDI)": an abbreviation defined in brackets right after its long form.
_DEFINED = re.compile(r"([^()\n.;:]{3,120}?)\s\(([A-Za-z][A-Za-z0-9-]{1,11})\)")
_TITLE_WORD = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
# Words of a long form that may stand between the abbreviation's letters ("Human immunodeficiency virus": HIV).
_SMALL = frozenset(["of", "the", "and", "for", "in", "on", "to", "a", "an", "with", "by"])


@dataclass(frozen=True)
class Mentions:
    """Other mentions of what one document names: its defined abbreviations as (short, long) pairs and the full
    names of the surnames it uses alone (surname -> "First Surname")."""

    abbreviations: tuple[tuple[str, str], ...] = ()
    full_names: tuple[tuple[str, str], ...] = ()


def long_form(before: str, short: str) -> str:
    """The words before "(SHORT)" that SHORT abbreviates (Schwartz and Hearst 2003): SHORT's letters matched from its
    end backwards in the text, its first letter at the start of a word; "" when they do not match."""
    letters = [c.lower() for c in short if c.isalnum()]
    if len(letters) < 2 or not any(c.isupper() for c in short) or not letters[0].isalpha():
        return ""
    words_ = before.split()[-(min(len(letters) + 5, 2 * len(letters))) :]
    text = " ".join(words_)
    i = len(text) - 1
    for n, c in enumerate(reversed(letters)):
        first = n == len(letters) - 1
        while i >= 0 and (text[i].lower() != c or (first and i > 0 and text[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return ""
        i -= 1
    start = text.rfind(" ", 0, i + 2) + 1
    out = text[start:].strip(" ,")
    # The word before may be part of it too ("Eastern equine encephalitis virus (EEEV)" matched from "equine"):
    # where its first letter could start the abbreviation, where the long form starts is not clear.
    before_words = text[:start].split()
    if before_words and before_words[-1][:1].lower() == letters[0]:
        return ""
    # The long form is more than the abbreviation's letters run together ("the ACE2" is no definition) and starts
    # with a word, not a number or a bracket.
    first_word = out.split()[0].lower() if out.split() else ""
    if len(out.split()) < 2 or not out[:1].isalpha() or first_word in _SMALL:
        return ""
    return out


def _sentence_case(long: str, before: str) -> str:
    """ "Mammalian target of rapamycin" written at a sentence's start is "mammalian target of rapamycin" inside a
    question; a name ("Human Development Index", "MERS coronavirus") keeps its capitals."""
    first, *rest = long.split()
    # At the start of a sentence, of a line or after a label ("BACKGROUND: Mother-to-child transmission").
    at_start = not before.strip() or before.rstrip()[-1] in ".!?:" or "\n" in before[-3:]
    plain = first[1:] == first[1:].lower() and all(w == w.lower() for w in rest)
    return long[:1].lower() + long[1:] if at_start and plain and rest else long


def document_mentions(doc: Document) -> Mentions:
    """The other mentions that `doc` itself provides (see the module's docstring)."""
    text = doc.text
    pairs: dict[str, str] = {}
    for m in _DEFINED.finditer(text):
        short = m.group(2)
        long = long_form(m.group(1), short)
        if long and short not in pairs and long.lower() not in (v.lower() for v in pairs.values()):
            pairs[short] = _sentence_case(long, text[: m.start(1) + len(m.group(1)) - len(long)])
    lower_words = set(re.findall(r"\b[a-z][\w-]*", text))
    full: dict[str, str] = {}
    if not re.search(r"\b(?:[Hh]e|[Ss]he|[Hh]is|[Hh]er|[Hh]im)\b", text):  # no person spoken of: no person's name
        return Mentions(tuple(pairs.items()), ())
    for m in re.finditer(rf"\b({_TITLE_WORD}) ({_TITLE_WORD})\b(?! [A-Z])", text):
        first, last = m.group(1), m.group(2)
        # A first name is never written in lower case in the document ("During Lentz's" is no name) and the pair
        # is not preceded by another capitalised word ("Carl Lentz", not "Hillsong Carl Lentz").
        if first.lower() in lower_words or re.search(r"[A-Z][\w-]*\s$", text[: m.start()]):
            continue
        if re.search(r"\b(?:in|at|near|of|from)\s$", text[: m.start()]):  # "in Shandong China": a place
            continue
        if last not in full:
            full[last] = f"{first} {last}"
        elif full[last] != f"{first} {last}":
            full[last] = ""  # two people share the surname: neither full name is the one meant
    # "Francis Ford Coppola" and "Christopher Coppola": a surname after two different capitalised words (not one that
    # ends the sentence before it, "Madonna. Morton") is ambiguous.
    before_last = {last: set(re.findall(rf"\b([A-Z][\w-]*|[A-Z]\.)\s{re.escape(last)}\b", text)) for last in full}
    named = tuple((k, v) for k, v in full.items() if v and len(before_last[k]) == 1)
    return Mentions(tuple(pairs.items()), named)


def _swap_abbreviations(text: str, pairs: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
    used: list[str] = []
    for short, long in pairs:
        at_long = re.search(rf"(?<![\w-]){re.escape(long)}(?![\w-])", text, re.IGNORECASE)
        if at_long:
            text = text[: at_long.start()] + short + text[at_long.end() :]
            used.append(short)
            continue
        at_short = re.search(rf"(?<![\w(-]){re.escape(short)}(?![\w)-])", text)
        if at_short:
            # At the question's start the long form keeps the case its document gives it after the first letter.
            written = long[:1].upper() + long[1:] if at_short.start() == 0 else long
            text = text[: at_short.start()] + written + text[at_short.end() :]
            used.append(long)
    return text, used


def _full_names(text: str, names: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
    used: list[str] = []
    for last, full in names:
        # The surname alone: not after or before another capitalised word ("Chuck Berry", "Berry Gordy").
        m = re.search(rf"(?<![A-Z][\w.-]\s)(?<![A-Z][\w.-][\w.-]\s)\b{re.escape(last)}\b(?!\s[A-Z])(?!['’]s\b)", text)
        if m and not re.search(rf"\b[A-Z][\w.-]*\s{re.escape(last)}\b", text):
            text = text[: m.start()] + full + text[m.end() :]
            used.append(full)
    return text, used


# After the asked value: ", held a week after ...", ", beginning in 1977", ", one of the largest ...". A participle
# is a word in -ed or -ing that is not a noun the sentence needs ("a building, ..." does not match).
_TRAILING_ASIDE = re.compile(r",\s(?:[a-z]+(?:ed|ing)|one of|known as|also known as)\b[^,?]*(?=\?$)")
# Between a name and its verb: "Silene tomentosa, the Gibraltar campion, is ...".
_SUBJECT_APPOSITION = re.compile(
    r"^((?:According to the documents, )?[A-Z][^,]{1,60}?),\s(?:the|a|an)\s[^,]{1,50},\s(?=(?:is|was|are|were)\s)"
)


def _trim(text: str, wh_at: int) -> str:
    """`text` without the asides of the module's docstring; a trailing aside only after the wh-phrase (`wh_at`)."""
    m = _TRAILING_ASIDE.search(text)
    # Not the rest of a list of verbs ("who was bred, owned and exhibited by Nagle").
    listed = m is not None and re.search(r"\b[a-z]+(?:ed|ing)$", text[: m.start()])
    if m and m.start() > wh_at and not listed:
        text = text[: m.start()] + text[m.end() :]
    return _SUBJECT_APPOSITION.sub(r"\1 ", text, count=1)


_IN_PLACE = "According to the documents, "  # the twin as `twin_question` words it where nothing is fronted
_WH_AT = re.compile(r"\b(?:" + "|".join(f"[{w[0].upper()}{w[0]}]{w[1:]}" for w in WH_WORDS) + r")\b")


def reword_twin(draft: Draft, mentions: Mentions) -> Draft:
    """`draft` with its twin worded further from the evidence (see the module's docstring); the training question,
    the answer and the options are left as they are."""
    twin = draft.twin
    tail = ""
    if draft.shape == "choice" and draft.options:
        cut = twin.rfind(", ", 0, twin.rfind(" or "))
        twin, tail = (twin[:cut], twin[cut:]) if cut > 0 else (twin, "")
    if draft.shape != "yesno" and twin.startswith(_IN_PLACE):
        twin = did_fronted(draft.fact) or twin  # "On which date did Square merge ...?" for "Square merged on ..."
    body = twin.rstrip("?")
    body, abbreviations = _swap_abbreviations(body, mentions.abbreviations)
    body, names = _full_names(body, mentions.full_names)
    wh = _WH_AT.search(body)
    if draft.shape != "yesno":
        body = _trim(body + "?", wh.start() if wh else len(body)).rstrip("?")
    new = body + (tail if tail else "?")
    if new == draft.twin or (draft.shape != "yesno" and answer_correct(body, [draft.answer])):
        return draft
    return replace(draft, twin=new, mentioned=" ".join(abbreviations + names))
