"""The wording: a question about a fact for training and a reworded twin of it for testing.

Rule-based wording puts a wh-phrase fitted to the answer's kind where the answer stood ("Kettering Yard opened in
which year?"); its twin fronts that phrase over the sentence's auxiliary ("By whom was the pump designed?") or, where
the sentence has none, words the wh-phrase differently and says where it is asked. Yes/no questions state the
sentence (or the sentence with a wrong value, answered "no"); which-of-two questions offer the answer and a value of
the same kind from elsewhere in the corpus. A model can write the wh-questions instead (`model_drafts`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ragtune.models.generator import GenerationParams, Generator, Message
from ragtune.synth.candidates import CONNECTIVES, Fact, verb_form
from ragtune.synth.persons import THING_HEADS, is_person
from ragtune.synth.verbs import base_form

SHAPES = ("wh", "yesno", "choice")
# Auxiliaries a wh-phrase can be fronted over without a verb's other forms ("has" is often the main verb).
_AUX = frozenset(["is", "are", "was", "were", "can", "will", "must", "should", "may", "could", "would"])
_SUBORDINATE = frozenset(["if", "when", "while", "because", "although", "unless", "before", "after", "as", "once"])
_PIED = frozenset(["in", "on", "at", "by", "since", "until", "during"])
_PREPOSITIONS = _PIED | frozenset(
    ["from", "to", "for", "with", "of", "after", "before", "within", "about", "under", "over", "than"]
)
CLAUSE_END = re.compile(r"\s*(?:;|:\s|,\s(?:and|but|while|which|so|or|because|although|as|whereas)\b|\s[(–—]\s?)")
_CONNECTIVE = re.compile(rf"^(?:{CONNECTIVES}),\s+")
_WH_SYNONYM = {
    "which year": "what year",
    "which date": "what date",
    "which month": "what month",
    "what time": "which time",
    "how much": "what amount",
    "what percentage": "which percentage",
    "who": "which person",
    "whom": "which person",
    "what": "what",  # the prefix ("According to the documents") rewords it
}


@dataclass(frozen=True)
class Draft:
    """A fact asked about: the training question, its reworded test twin and the answer both expect."""

    fact: Fact
    shape: str  # wh, yesno or choice
    question: str
    twin: str
    answer: str
    options: tuple[str, ...] = ()  # the two values a which-of-two question offers
    writer: str = "rules"
    mentioned: str = ""  # words the twin takes from another mention in the document (`ragtune.synth.reword`)
    anchor: str = ""  # the document title both wordings name (`anchored`)


_IRREGULAR_PLURALS = {"foot": "feet", "man": "men", "woman": "women", "child": "children", "person": "people"}
_PLURALS = frozenset([*_IRREGULAR_PLURALS.values(), "data", "criteria", "teeth", "mice", "geese", "staff"])


def _plural(unit: str) -> str:
    """ "second" -> "seconds", "battery" -> "batteries" for "how many" after an answer of one; abbreviations ("km"),
    symbols ("V") and several words stay as they are."""
    if unit in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[unit]
    if not (unit.isalpha() and unit.islower() and len(unit) >= 3) or unit.endswith("s") or unit in _PLURALS:
        return unit
    return unit[:-1] + "ies" if unit.endswith("y") and unit[-2] not in "aeiou" else unit + "s"


def _wh(fact: Fact, left: str) -> str:
    prev = left.split()[-1].lower() if left.split() else ""
    kind = fact.kind
    if kind == "year":
        return "which year"
    if kind == "date":
        # A day of the month ("4 March", "March 4th") makes it a date; "March 2025" or "March" is a month.
        return "which date" if re.search(r"(?<!\d)\d{1,2}(?:st|nd|rd|th)?(?!\d)", fact.span) else "which month"
    if kind == "time":
        return "what time"
    if kind == "money":
        return "how much"
    if kind == "percent":
        return "what percentage"
    if kind in ("quantity", "count"):
        unit = "degrees" if "°" in fact.unit else fact.unit
        return f"how many {_plural(unit)}"  # "how many hours", even where the text writes "24 hour"
    if is_person(fact):
        return "whom" if prev in _PREPOSITIONS else "who"
    head = fact.answer.split()[-1].lower()
    # "which company", not "which inc": an abbreviation is no noun to ask with.
    # A plural head ("Ballantine Books", "Chess Records") names one thing: "which books" would ask for several.
    singular = not head.endswith("s") or head.endswith("ss")
    return f"which {head}" if head in THING_HEADS and singular and head not in ("ltd", "inc", "limited") else "what"


# An apposition after a subject span: ", co-founder," in "Adela Fenwright, co-founder, chairs the board". What
# follows it must start with a lower-case word that does not continue a list ("and tea are exported").
_APPOSITION = re.compile(r"^,\s[^,]{1,60}(?:,\s[^,]{1,60})*?,\s(?=[a-z])(?!(?:and|or|but|nor)\b)")


def _split(fact: Fact, article: bool = True) -> tuple[str, str]:
    """The sentence around the span, cut to the clause that holds it; an article before a name goes with the name
    (unless `article` is false: the statement keeps it). An apposition right after a subject span is left out: it
    would stand between the wh-phrase and its verb ("Who, co-founder, chairs the board?")."""
    left, right = fact.sentence[: fact.start], fact.sentence[fact.end :]
    if not left.strip():
        right = _APPOSITION.sub(" ", right, count=1)
    # "Thus, ...", "Notably, ...": a connective ties the sentence to the one before it, which the question lacks.
    left = _CONNECTIVE.sub("", left, count=1)
    for sep in ("; ", ": "):
        if sep in left:
            left = left.rsplit(sep, 1)[1]
    m = CLAUSE_END.search(right)
    if m:
        right = right[: m.start()]
    right = right.rstrip().rstrip(".!,")
    if fact.kind == "name" and article:
        left = re.sub(r"(?:^|\s)(?:[Tt]he|[Aa]n?)\s$", " ", left) if left.strip() else left
        if not left.strip():
            left = ""
    return left, right


def _cap(text: str) -> str:
    first = text.split(" ", 1)[0]
    # "mTORC1", "eLife": a name written with capitals inside keeps its case even at the start of a question.
    return text if any(c.isupper() for c in first[1:]) else text[:1].upper() + text[1:]


def _decap(text: str, fact: Fact) -> str:
    """`text` (which starts where the sentence starts) with its first word in lower case unless that is a name
    ("The pump" -> "the pump", "Quorrin" stays)."""
    first = text.split(" ", 1)[0]
    # An acronym or a word with capitals inside ("PCR", "mTORC1", "DBA/1") keeps its case wherever it stands.
    if fact.first_is_name or any(c.isupper() for c in first[1:]) or re.fullmatch(r"[A-Z]\.", first):
        return text  # a name, an acronym or an initial ("E. coli")
    if not fact.sentence.startswith(first) and re.search(rf"(?<!^)\b{re.escape(first)}\b", fact.sentence):
        return text  # written capitalised inside the sentence: a name
    second = text.split(" ", 2)[1:2]
    if second and second[0][:1].isupper() and first not in _ARTICLES:
        return text  # "North Kansas City": the first word of a name of several
    return text[:1].lower() + text[1:]


_ARTICLES = frozenset(["The", "A", "An", "This", "These", "Those", "In", "On", "At", "By", "For", "From", "To"])


_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")


_ASIDE = re.compile(r"\s*\([^()]*\)")


def _question(text: str) -> str:
    text = _CITATION.sub("", text)  # "[11]" points to a reference list the question does not carry
    # A parenthesis ("(Figure 1)", "(case-fatality rate, 34%)") is an aside a reader's question leaves out.
    text = _ASIDE.sub("", text)
    text = " ".join(text.replace(" ,", ",").split()).rstrip(" .,;:!")
    return _cap(text) + "?"


def in_situ(fact: Fact, wh: str | None = None) -> str:
    left, right = _split(fact)
    wh = wh or _wh(fact, left)
    lead = left.strip().lower()
    if fact.kind in ("date", "year", "time") and (not lead or lead in _PREPOSITIONS) and right.strip(" ,"):
        # "On 4 March the board met" -> "The board met on which date?": the phrase moves to the end, where a
        # question can leave it without inverting the verb.
        rest = right.strip(" ,")
        return _question(f"{rest if fact.first_is_name else rest[:1].upper() + rest[1:]} {lead} {wh}")
    return _question(f"{left}{wh}{right}" if left else f"{wh}{right}")


# Words that open or join another clause: an auxiliary after one of them is not the main clause's.
# The wh-words the synth rules write: where a question's asking starts (wellformed, reword).
WH_WORDS = ("what", "which", "who", "whom", "when", "how")
_CLAUSE_LINKS = frozenset(["and", "or", "but", "that", "which", "who", "whom", "whose", "where", "when", "while"])


def _main_aux(words_: list[str]) -> int:
    """The index of the clause's auxiliary that a question can invert, or -1: the first one after a subject, and
    only where no verb or clause link stands before it ("Antibody depletion confirmed that EAE resistance is ...":
    that "is" belongs to another clause)."""
    lower = [w.lower() for w in words_]
    k = next((i for i, w in enumerate(lower) if w in _AUX and i > 0), -1)
    if k < 0 or _CLAUSE_LINKS.intersection(lower[:k]) or any(w.endswith("ed") for w in lower[:k]):
        return -1
    return k


# Words after a quantity that go with it wherever it moves: "25 years ago", "12 mm Hg lower".
_POSTPOSED = frozenset(["ago", "old", "long", "later", "earlier", "apart", "lower", "higher", "wide", "high", "deep"])


def _fronted(fact: Fact) -> str:
    """The wh-phrase before the sentence's auxiliary: "Its chief engineer is Otto Vance" -> "Who is its chief
    engineer?"; "" where the clause is not plain enough to invert (the twin is then asked in place)."""
    left, right = _split(fact)
    words_ = left.split()
    lower = [w.lower() for w in words_]
    k = _main_aux(words_)
    # Only a plain clause inverts: no subordinate or prepositional opening, no comma, nothing hanging on "of".
    if k < 0 or lower[0] in _SUBORDINATE | _PREPOSITIONS or "," in left or right.startswith(" of"):
        return ""
    # The value must be in the auxiliary's own predicate: no clause link after it ("was applied and the structure
    # was subjected to ... for"), and no noun phrase the value sits in ("Nola is a 2003 film directed by whom":
    # "By whom is Nola a 2003 film directed?" is no English).
    if _CLAUSE_LINKS.intersection(lower):
        return ""
    if lower[k + 1 : k + 2] and lower[k + 1] in ("a", "an", "the"):
        return ""
    # A word that needs what follows it ("more than 40", "every 4 years", "up to 300", "of") would be left hanging.
    if lower[-1] in ("every", "each", "than", "of") or (lower[-1] in _PREPOSITIONS and lower[-2:-1] == ["up"]):
        return ""
    wh = _wh(fact, left)
    subject, rest = " ".join(words_[:k]), words_[k + 1 :]
    # A preposition goes along only from after a verb ("treated for", "designed by"), never from inside a phrase
    # ("exposure to", "relative to": "To what is the band ... relative?").
    if rest and rest[-1].lower() in _PREPOSITIONS and len(rest) > 1 and not verb_form(rest[-2].lower().strip(",")):
        return ""
    if rest and rest[-1].lower() in _PREPOSITIONS:  # pied-piped: "For how many weeks were the mice treated ...?"
        wh = f"{rest[-1].lower()} {wh}"
        rest = rest[:-1]
    postposed = re.match(r"\s+(\w+)\b", right)
    if postposed and postposed.group(1).lower() in _POSTPOSED:  # "How many years ago was NF-κB discovered?"
        wh, right = f"{wh} {postposed.group(1)}", right[postposed.end() :]
    return _question(f"{wh} {words_[k].lower()} {_decap(subject, fact)} {' '.join(rest)}{right}")


_NOT_AUX = _AUX | frozenset(["has", "have", "had", "do", "does", "did", "be", "been", "being", "am"])
AUXILIARIES = _NOT_AUX | frozenset(["might", "shall"])  # every auxiliary and form of "be", "have", "do"
_NOT_SUBJECT_END = _PREPOSITIONS | _CLAUSE_LINKS | frozenset(["a", "an", "the", "of", "not", "to"])


def did_fronted(fact: Fact) -> str:
    """The wh-phrase fronted with "did" where the clause has a past-tense verb and no auxiliary: "Square merged with
    Enix on which date to form Square Enix" -> "On which date did Square merge with Enix to form Square Enix?"; ""
    where the clause is not that plain or the verb's base form is not clear (`ragtune.synth.verbs`)."""
    if fact.kind == "name":
        return ""  # "Of what does Lentz serve as chairman?": a name's preposition would be left stranded or odd
    left, right = _split(fact)
    words_ = left.split()
    lower = [w.lower() for w in words_]
    if len(words_) < 2 or lower[0] in _SUBORDINATE | _PREPOSITIONS or "," in left or _NOT_AUX.intersection(lower):
        return ""
    if _CLAUSE_LINKS.intersection(lower) or re.match(r"\s+(?:and|or|to|of|-)\b", right):
        return ""  # "from 45% of cyclists": the value stands inside a noun phrase
    if not (words_[0][:1].isupper() and (fact.first_is_name or lower[0] in ("the", "a", "an"))):
        return ""  # a subject that starts as a name or with an article ("orders placed before ..." is no subject)
    v = next((i for i, w in enumerate(lower) if i > 0 and base_form(w)), -1)
    # The verb follows a subject that ends in a noun ("Square merged"; not "the infected cells"), and nothing after
    # it is another verb ("Patients treated with X survived for how many months": "treated" is no main verb).
    if v < 1 or lower[v - 1] in _NOT_SUBJECT_END or any(verb_form(w) and not w.endswith("s") for w in lower[:v]):
        return ""
    rest = words_[v + 1 :]
    if any(verb_form(w.lower()) and not w.lower().endswith("s") for w in rest):
        return ""
    wh = _wh(fact, left)
    if rest and rest[-1].lower() in _PREPOSITIONS - {"of", "than"}:
        wh, rest = f"{rest[-1].lower()} {wh}", rest[:-1]
    elif rest or not wh.startswith(("how many", "how much")):
        return ""  # only a counted object goes without a preposition ("How many films did X make?")
    postposed = re.match(r"\s+(\w+)\b", right)
    if postposed and postposed.group(1).lower() in _POSTPOSED:
        wh, right = f"{wh} {postposed.group(1)}", right[postposed.end() :]
    subject = _decap(" ".join(words_[:v]), fact)
    return _question(f"{wh} did {subject} {base_form(lower[v])} {' '.join(rest)}{right}")


def twin_question(fact: Fact) -> str:
    """A second wording of the same question, for the test split."""
    fronted = _fronted(fact)
    if fronted:
        return fronted
    left, _ = _split(fact)
    wh = _wh(fact, left)
    if wh.startswith("how many "):
        other = "what number of " + wh.removeprefix("how many ")
    elif wh.startswith("which ") and wh not in _WH_SYNONYM:
        other = "what " + wh.removeprefix("which ")
    else:
        other = _WH_SYNONYM.get(wh, "which name" if wh == "what" else wh)
    body = in_situ(fact, other)
    # The body starts with the wh-phrase or with a word of the sentence, which keeps its case unless it is the
    # sentence's capitalised first word and no name.
    return f"According to the documents, {_decap(body, fact) if left.strip() else body[:1].lower() + body[1:]}"


def _statement(fact: Fact, value: str) -> str:
    left, right = _split(fact, article=False)
    return " ".join(f"{left}{value}{right}".split()).rstrip(" .,;:!")


def yes_no(fact: Fact, wrong: str = "") -> Draft:
    """ "Is it true that ...?" about the sentence ("yes"), or about it with `wrong` in place of the value ("no")."""
    statement = _decap(_statement(fact, wrong or fact.span), fact)
    words_ = _split(fact, article=False)[0].split()
    k = _main_aux(words_)
    if k >= 0:
        s_words = statement.split()
        question = _question(f"{words_[k].lower()} {' '.join(s_words[:k])} {' '.join(s_words[k + 1 :])}")
    else:
        question = _question(f"is it true that {statement}")
    twin = _question(f"do the documents say that {statement}")
    return Draft(fact, "yesno", question, twin, "no" if wrong else "yes")


# Longer titles (a paper's) would outweigh the question they lead.
ANCHOR_MAX_WORDS = 12


def usable_title(title: str) -> str:
    """`title` as a question can name its document by it, or "" where it cannot: none, longer than
    `ANCHOR_MAX_WORDS`, or holding the quotes it would stand in."""
    title = " ".join(title.split())
    if not title or len(title.split()) > ANCHOR_MAX_WORDS or "“" in title or "”" in title:
        return ""
    return title


def anchored(draft: Draft) -> Draft:
    """Both wordings asked about the draft's document by its title: "In “20080108X00029”, the airplane's total time
    in service was estimated to be how many hours?". Why: a subject that is a description ("the airplane", "the
    study") names nothing particular in a question read alone, but it does within one document; reports, protocols
    and filings write most of their facts so, and the title is indexed with every chunk, so the question stays
    findable. Unchanged when the document has no usable title."""
    title = usable_title(draft.fact.title)
    if not title:
        return draft
    name = f"“{title}”"

    def lead(question: str) -> str:
        for frame, framed in (
            ("According to the documents, ", f"According to {name}, "),
            ("Do the documents say ", f"Does {name} say "),
        ):
            if question.startswith(frame):
                return framed + question[len(frame) :]
        first = question.split(" ", 1)[0]
        keep = any(c.isupper() for c in first[1:]) or draft.fact.first_is_name  # an acronym or a name
        return f"In {name}, {question if keep else question[:1].lower() + question[1:]}"

    return replace(draft, question=lead(draft.question), twin=lead(draft.twin), anchor=title)


def which_of_two(fact: Fact, other: str, swap: bool) -> Draft:
    """The wh-question with two values offered: the answer and `other`, a value of the same kind."""
    first, second = (other, fact.span) if swap else (fact.span, other)
    question = in_situ(fact).rstrip("?") + f", {first} or {second}?"
    twin = twin_question(fact).rstrip("?") + f", {second} or {first}?"
    return Draft(fact, "choice", question, twin, fact.span, (fact.span, other))


def wh_draft(fact: Fact) -> Draft:
    return Draft(fact, "wh", in_situ(fact), twin_question(fact), fact.answer)


# ---------------------------------------------------------------------------------------------- model-written

_WRITE_SYSTEM = "Write one short question that the sentence answers with the given answer. Do not repeat the answer."
_WRITE_EXAMPLE = (
    "Sentence: The Zorvath bridge was opened in 1931 by the engineer Ilse Mahr.\nAnswer: Ilse Mahr",
    "Who opened the Zorvath bridge?",
)
_REWORD_SYSTEM = "Ask the same question again in different words."
_REWORD_EXAMPLE = ("Who opened the Zorvath bridge?", "The Zorvath bridge was opened by which engineer?")


def _clean(text: str) -> str:
    line = text.strip().split("\n", 1)[0].strip().strip("\"'")
    line = re.sub(r"^(?:question|q)\s*[:.]\s*", "", line, flags=re.IGNORECASE)
    if "?" in line:
        line = line[: line.index("?") + 1]
    return line if line.endswith("?") or not line else line.rstrip(".") + "?"


def _ask(generator: Generator, system: str, example: tuple[str, str], prompts: Sequence[str]) -> list[str]:
    conversations = [
        [Message("system", system), Message("user", example[0]), Message("assistant", example[1]), Message("user", p)]
        for p in prompts
    ]
    params = GenerationParams(max_new_tokens=40, temperature=0.0, stop=("\n",))
    return [_clean(r.text) for r in generator.generate(conversations, params)] if conversations else []


def model_drafts(facts: Sequence[Fact], generator: Generator) -> list[Draft]:
    """Wh-questions written by `generator` (the configured model or a stronger one behind a server), and their twins
    reworded by it; filters decide which survive."""
    questions = _ask(
        generator, _WRITE_SYSTEM, _WRITE_EXAMPLE, [f"Sentence: {f.sentence}\nAnswer: {f.span}" for f in facts]
    )
    twins = _ask(generator, _REWORD_SYSTEM, _REWORD_EXAMPLE, questions)
    return [
        replace(wh_draft(f), question=q, twin=t, writer=generator.name)
        for f, q, t in zip(facts, questions, twins, strict=True)
    ]
