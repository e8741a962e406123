"""The one place for answer text: normalization, whether an answer is correct, words and content terms, sentences,
and what a question asks for (its form and the kind of answer it wants).

Every module that compares an answer with a gold answer or with a source imports these, so that compare's accuracy,
the refusal calibration's labels, citation checks, training-data builders and question synthesis all follow the same
rule. Nothing here imports from the rest of ragtune.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# ---------------------------------------------------------------------------------------------- normalization

_ARTICLES = re.compile(r"\b(a|an|the)\b")
# Punctuation becomes a space (so "e-mail" and "e mail" compare equal), typographic quotes and dashes included.
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation + "‘’“”–—…", " "))


def normalize_answer(text: str) -> str:
    """Lowercase, punctuation and articles removed, whitespace collapsed (the SQuAD script's normalization)."""
    text = text.lower().translate(_PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def contains_answer(text: str, answer: str) -> bool:
    """`answer` appears in `text` as whole normalized words ("4" is not found inside "14")."""
    needle = normalize_answer(answer)
    return bool(needle) and f" {needle} " in f" {normalize_answer(text)} "


# Gold answers that are a decision, not a span: the answer must open with them ("No, because yes..." is a no).
DECISIONS = ("yes", "no", "maybe")


def is_decision(golds: Sequence[str]) -> bool:
    """Whether a question's golds are a decision (any one of them yes / no / maybe): no span to find in retrieved
    chunks, so the retrieval scores ("answer in the chunks") leave such a question out; a reader decides it from
    whatever sources it is shown."""
    return any(normalize_answer(g) in DECISIONS for g in golds)


def decision_of(prediction: str) -> str | None:
    """The decision an answer opens with ("yes", "no" or "maybe"), or None when its first word is none of them."""
    first = normalize_answer(prediction).split(" ", 1)[0]
    return first if first in DECISIONS else None


def answer_correct(prediction: str, golds: Sequence[str]) -> bool:
    """Compare's accuracy rule. A gold answer appears in the prediction as whole normalized words; a decision gold
    (yes / no / maybe) must be the prediction's first word instead, since "yes" inside a "No, ..." is not a yes."""
    decision = decision_of(prediction)
    for gold in golds:
        g = normalize_answer(gold)
        if g in DECISIONS:
            if decision == g:
                return True
        elif contains_answer(prediction, gold):
            return True
    return False


def exact_match(prediction: str, golds: Sequence[str]) -> bool:
    pred = normalize_answer(prediction)
    return any(pred == normalize_answer(g) for g in golds if normalize_answer(g))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best token-overlap F1 against any gold answer (SQuAD's definition)."""
    pred_tokens = normalize_answer(prediction).split()
    return max((overlap_f1(pred_tokens, normalize_answer(g).split()) for g in golds), default=0.0)


def overlap_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """Token-overlap F1 of two token lists (0 when either is empty)."""
    common = sum((Counter(a) & Counter(b)).values())
    if not common:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


# ------------------------------------------------------------------------------------------- words and terms

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Function words carry no evidence of support; kept short on purpose (question words included).
_STOPWORD_TEXT = """a an the of in on at to for by with from and or but nor is are was were be been being am
    do does did done
    what which who whom whose when where why how that this these those it its as into onto than then there their
    they them he she his her him we our you your i me my not no so if about also can could would should will shall
    may might must has have had having such each other some any all one both either neither own same very just
    over under up down out off again further once here s t"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


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


# ------------------------------------------------------------------------------------------------- sentences

# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by space and an upper-case letter or digit:
# cheap, language-agnostic enough for English documents, and it keeps "e.g. foo" and "3.5" together.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
# A list item ("- Colour: slate grey", "* Bring your badge", "2. Restart the hub") starts a block of its own; the
# lines that follow it without a marker are its wrapped continuation. One or two digits only, so a wrapped line that
# starts with a year ("2025. Sales grew") is not taken for an item.
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])\s")


def without_list_marker(answer: str) -> str:
    """An answer copied from a list item without the item's marker ("2. The X variable sets ..." -> "The X variable
    sets ..."); a marker with nothing after it is left as it is."""
    rest = _LIST_ITEM.sub("", answer.lstrip(), count=1).lstrip()
    return rest or answer


_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")  # Markdown's |---|:--:| under a header
# A form field ("Location: Arteaga, Mexico", "Date & Time: 12/06/2007, 1308 CST"): a capitalised label of up to six
# words, then a colon. Reports and forms set one per line without end punctuation.
_FORM_FIELD = re.compile(r"^[A-Z][\w&()/'’.,-]*(?: [\w&()/'’.,-]+){0,5}:(?:\s|$)")


def _is_heading_line(line: str, current: Sequence[str], following: str) -> bool:
    return line.startswith("#") or (
        len(line.split()) <= 8
        and not re.search(r"[.!?:;,\"')\]]$", line)
        and (not current or current[-1].endswith((".", "!", "?")))
        and (not following or not following[0].islower())
    )


def _blocks(text: str) -> list[str]:
    """Paragraphs of `text`; a heading line (Markdown `#`, or a short line without end punctuation followed by a
    line break), a list item and a table row are blocks of their own, while a line wrapped inside a sentence (PDF
    text) is joined to the next. Why items and rows: their lines end without punctuation, so joined they made one
    run-on "sentence" of a whole list ("- Launched: March 2024 - Housing colour: slate grey - Weight: ..."), too long
    to show in full and matched to a question by its average, not by the one item that answers it. A form field
    ("Aircraft: Cessna 210") starts a block too, for the same reason, and its block ends at the next line that
    starts in upper case: joined, a report's form ran into the narrative after it ("... Flight Conducted Under:
    Non-U.S., Non-Commercial On December 6, 2007, at 1308 central standard time, ...")."""
    blocks: list[str] = []
    current: list[str] = []
    in_field = False  # `current` is a form field's block: a line in lower case continues its value, no other
    lines = [raw.strip() for raw in text.splitlines()]
    for i, line in enumerate(lines):
        if not line or _TABLE_RULE.match(line):
            if current:
                blocks.append(" ".join(current))
                current = []
            in_field = False
            continue
        if line.startswith("|") or _LIST_ITEM.match(line):
            if current:
                blocks.append(" ".join(current))
            if line.startswith("|"):  # a table row never wraps
                blocks.append(line.strip("|").strip())
                current = []
            else:
                current = [line]
            in_field = False
            continue
        if in_field and line[0].islower():  # the field's value, wrapped
            current.append(line)
            continue
        field = bool(_FORM_FIELD.match(line))
        # After a field, its block is closed: a short line may be a heading whatever the field ended with.
        if not field and _is_heading_line(
            line, [] if in_field else current, lines[i + 1] if i + 1 < len(lines) else ""
        ):
            if current:
                blocks.append(" ".join(current))
                current = []
            blocks.append(line.lstrip("#").strip())
            in_field = False
        elif field or in_field:
            if current:
                blocks.append(" ".join(current))
            current, in_field = [line], field
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


# ------------------------------------------------------------------------------------------ what is asked for

# "what daily amount", "which top speed", "what is the standard measurement interval": the question word (or "what
# is the") and up to two words before the noun that names what is asked.
_WHAT_NOUN = r"\b(?:what|which)(?: (?:is|was|are|were) the)?(?: \w+){0,2} "
# What a question asks for, by its opening words. A small model choosing where to start copying is often drawn to
# the sentence's subject; asked "how many", the answer starts at a number, and the copy constraint can say so.
_ANSWER_TYPES = (
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|long|old|far|big|large|tall|high|often|fast|heavy|deep|wide)\b|"
            # "what does a Pro plan charge each month", "what do you pay for one station": the verb asks an amount
            r"\bwhat (?:does|do|did|would|will)\b.{0,60}\b(?:cost|charge|pay|earn)\b|"
            + _WHAT_NOUN
            + r"(?:year|decade|century|percentage|percent|share|number|amount|sum|total|age|price|cost|fee|rate|"
            r"salary|budget|discount|temperature|reading|size|weight|speed|capacity|distance|length|height|width|"
            r"depth|duration|interval|frequency|limit|date)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "time",
        re.compile(
            r"^(?:when|since when|until when)\b|" + _WHAT_NOUN + r"(?:hour|day|weekday|month)s?\b", re.IGNORECASE
        ),
    ),
    ("name", re.compile(r"^(?:who|whom|whose)\b|\b(?:by|to|from|with) whom\b", re.IGNORECASE)),
)


def answer_type(question: str) -> str:
    """ "number", "time" or "name" when the question's wording says what kind of answer it wants, else ""."""
    text = question.strip()
    return next((kind for kind, pattern in _ANSWER_TYPES if pattern.search(text)), "")


FormKind = Literal["open", "polar", "choice"]


@dataclass(frozen=True)
class QuestionForm:
    """How a question wants to be answered: `open` (a span: what, who, when, how many), `polar` (yes or no: "Is /
    Does / Can ... ?") or `choice` (one of the `options` it names: "Which is older, A or B?")."""

    kind: FormKind
    options: tuple[str, ...] = ()


# Words that open a yes/no question (an auxiliary or modal verb first).
_POLAR_OPENERS = frozenset(
    "is are was were am do does did can could has have had will would shall should may might must "  # noqa: SIM905
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't hasn't haven't hadn't won't wouldn't "
    "shouldn't".split()
)
_WH = frozenset("what which who whom whose when where why how".split())  # noqa: SIM905
_LEADING_JOINERS = re.compile(r"^(?:and|but|so|or|then|if so|in that case)\s+", re.IGNORECASE)
# A clause with "A or B" in it; options run to the clause's end ("Which band, Letters to Cleo or Screaming Trees,
# had more members?", "Who was born first, A or B?", "...: the Manchester Terrier or the Scotch Collie?").
_CLAUSE_SPLIT = re.compile(r"\s*(?:[,:;?]|\.(?=\s)|--|\s-\s)\s*")
_OR = re.compile(r"\s+or\s+", re.IGNORECASE)
# "Which of A and B ...", "Which is larger, between A and B": two named options joined by "and" (only in a question
# that opens with which or who: "Is there a link between A and B?" is a yes/no question).
_OF_TWO = re.compile(
    r"\b(?:which|who)(?: one)? of (?:the two )?(?P<a>[^,?]+?) and (?P<b>[^,?]+?)"
    r"(?= (?:is|was|are|were|has|had|did|does|do|can|could|will|would)\b|[,?]|$)|"
    r"\bbetween (?P<c>[^,?]+?) and (?P<d>[^,?]+?)(?=[,?]|$)",
    re.IGNORECASE,
)
_MAX_OPTION_WORDS = 8
# "Is signal or thread the default method?", "Is the Pro plan or the Basic plan cheaper?": a yes/no opener whose
# subject is two short options, then a description or a comparative. "Does A or B reduce ..." stays yes/no: there
# the options are the subject of a claim to confirm ("Does surgery or radiation therapy impact survival?" is
# answered yes in PubMedQA).
_COPULA = r"(?:is|are|was|were)"
_SHORT_OPTION = r"(?:(?:the|an?) )?[\w'’.-]+(?: [\w'’.-]+){0,2}?"
_OPTIONS_AS_SUBJECT = re.compile(
    rf"^{_COPULA} (?P<a>{_SHORT_OPTION}) or (?P<b>{_SHORT_OPTION})(?= (?:the|an?) | \w+er\??$| (?:more|less) \w+\??$)",
    re.IGNORECASE,
)
# "Is Rotavirus single or double-stranded?", "Is X an advantage or a disadvantage?": the options end the question.
_OPTIONS_AT_END = re.compile(
    rf"^{_COPULA} .+? (?P<a>(?:(?:the|an?) )?[\w'’-]+) or (?P<b>(?:(?:the|an?) )?[\w'’-]+)\?*$", re.IGNORECASE
)
# "aged 80 or older", "safe or not": a range or a negation, not a second option.
_NOT_AN_OPTION = frozenset(
    "older younger more less fewer greater higher lower later earlier longer shorter above below over under not "  # noqa: SIM905
    "so both neither otherwise else none".split()
)


def _copula_options(clause: str) -> tuple[str, ...]:
    """The two options of a yes/no-looking question that asks which of two ("Is A or B the X?", "Is X A or B?")."""
    for pattern in (_OPTIONS_AS_SUBJECT, _OPTIONS_AT_END):
        match = pattern.match(clause.rstrip())
        if match is not None:
            a, b = match.group("a").strip(), match.group("b").strip()
            if words(b)[-1:] and words(b)[-1] not in _NOT_AN_OPTION and words(a)[-1:]:
                return (a, b)
    return ()


def _first_word(text: str) -> str:
    match = re.match(r"[\w']+", _LEADING_JOINERS.sub("", text.strip(" \"'(")))
    return match.group(0).lower() if match else ""


def _options(text: str) -> tuple[str, ...]:
    parts = [p.strip(" \"'") for p in _OR.split(text)]
    if len(parts) < 2 or any(not p or len(p.split()) > _MAX_OPTION_WORDS for p in parts):
        return ()
    if _first_word(parts[0]) in _WH | _POLAR_OPENERS:  # "Is it red or blue": the clause is the question itself
        return ()
    return tuple(parts)


def question_form(question: str) -> QuestionForm:
    """The form of `question`, by its wording alone (no model): what a user types, in any domain.

    Choice: a clause other than the question's opening one names two or more options joined by "or" ("Which writer
    was from England, Henry Roth or Robert Childers?"), or a which/who question asks "which of A and B". Polar: the
    question does not open with a question word, and one of its clauses opens with an auxiliary verb ("Is it safe?",
    "Laparoscopic surgery in the elderly: is it safe?", "In adults, does X reduce Y?"), or it is a headline
    question with no question word at all ("Aspirin: a risk factor for bleeding?"). Anything else is open, including
    a clause that ends on its question word ("..., is written by whom?")."""
    text = " ".join(question.split())
    clauses = [c for c in _CLAUSE_SPLIT.split(text) if c]
    if not clauses:
        return QuestionForm("open")
    for clause in clauses[1:]:
        if options := _options(clause):
            return QuestionForm("choice", options)
    opener = _first_word(clauses[0])
    match = _OF_TWO.search(text) if opener in ("which", "who") else None
    if match is not None:
        a, b = (match.group("a"), match.group("b")) if match.group("a") else (match.group("c"), match.group("d"))
        if match.end() == len(text.rstrip("?")) and len(b.split()) > len(a.split()):
            # B ran on to the question's end ("...and the Basic plan costs more"): coordinated options are alike,
            # so B is as long as A.
            b = " ".join(b.split()[: len(a.split())])
        if len(a.split()) <= _MAX_OPTION_WORDS and len(b.split()) <= _MAX_OPTION_WORDS:
            return QuestionForm("choice", (a.strip(), b.strip()))
    all_words = words(text)
    if opener in _WH or (all_words and all_words[-1] in _WH):
        return QuestionForm("open")
    if len(clauses) == 1 and (options := _copula_options(clauses[0])):
        return QuestionForm("choice", options)
    if any(_first_word(c) in _POLAR_OPENERS for c in clauses):
        return QuestionForm("polar")
    headline = text.endswith("?") and len(clauses) > 1 and not any(w in _WH for w in all_words)
    return QuestionForm("polar" if headline else "open")
