"""Facts worth asking about: answer spans found by rules in a document's sentences.

A fact is one sentence and one span of it: a date, a year, a time, an amount of money, a percentage, a quantity
with its unit or counted noun, or a proper name. Rules, not a model: a 135M model does not find spans as reliably,
and every span found here is by construction a span of its evidence sentence.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import zip_longest

from ragtune.corpus.document import Document
from ragtune.synth.textkit import STOPWORDS, split_sentences

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Units a quantity is measured in: the question asks "how many <unit>" and the answer is the number alone.
MEASURE_UNITS = frozenset(
    [
        "mm",
        "cm",
        "m",
        "km",
        "metres",
        "meters",
        "metre",
        "meter",
        "kilometres",
        "kilometers",
        "miles",
        "mile",
        "feet",
        "foot",
        "inches",
        "inch",
        "g",
        "kg",
        "grams",
        "gram",
        "kilograms",
        "kilogram",
        "tonnes",
        "tons",
        "pounds",
        "lb",
        "lbs",
        "ml",
        "l",
        "litres",
        "liters",
        "litre",
        "liter",
        "seconds",
        "second",
        "minutes",
        "minute",
        "hours",
        "hour",
        "days",
        "day",
        "weeks",
        "week",
        "months",
        "month",
        "years",
        "year",
        "v",
        "volts",
        "volt",
        "w",
        "watts",
        "watt",
        "kw",
        "kwh",
        "mah",
        "gb",
        "mb",
        "tb",
        "kb",
        "hz",
        "khz",
        "mhz",
        "ghz",
        "degrees",
        "degree",
        "°c",
        "c",
        "f",
        "times",
        "people",
        "staff",
        "employees",
        "users",
        "devices",
        "sensors",
        "stations",
        "units",
        "pieces",
        "pages",
    ]
)
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "date",
        re.compile(
            rf"\b(?:{_DAY} (?:{_MONTHS})\.?(?:,? \d{{4}})?|(?:{_MONTHS})\.? {_DAY}(?:,? \d{{4}})?"
            rf"|(?:{_MONTHS}) \d{{4}}|(?:January|February|March|April|June|July|August|September|October|November"
            rf"|December))\b"
        ),
    ),
    ("time", re.compile(r"\b(?:[01]?\d|2[0-3]):[0-5]\d(?:\s?[ap]\.?m\.?)?(?!\d)|\b(?:1[0-2]|[1-9])\s?[ap]\.?m\.?")),
    (
        "money",
        re.compile(
            r"[$£€]\s?\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?(?:million|billion|thousand|bn|k)\b)?"
            r"|\b\d[\d,]*(?:\.\d+)?\s(?:euros?|pounds sterling|dollars|EUR|GBP|USD)\b"
        ),
    ),
    ("percent", re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)")),
    ("year", re.compile(r"\b(?:1[6-9]\d\d|20\d\d)\b(?!\s?(?:%|[:.]\d))")),
    ("quantity", re.compile(r"(?<![\w.,-])\d[\d,]*(?:\.\d+)?(?:\s?-\s?|\s)?(?:°C|[A-Za-z°][A-Za-z]*)\b")),
)
# Capitalised words that start sentences or name no particular thing.
_NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "For",
        "From",
        "To",
        "By",
        "With",
        "Each",
        "Every",
        "All",
        "Any",
        "Some",
        "This",
        "That",
        "These",
        "Those",
        "It",
        "Its",
        "If",
        "When",
        "While",
        "After",
        "Before",
        "During",
        "Our",
        "Your",
        "Their",
        "We",
        "You",
        "They",
        "He",
        "She",
        "His",
        "Her",
        "There",
        "Here",
        "Please",
        "Note",
        "Yes",
        "No",
        "Not",
        "Only",
        "Also",
        "Most",
        "Many",
        "One",
        "Two",
        "Three",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "I",
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        # Subordinators and connectives open a clause; they name nothing ("Although CFCs in drugs are safe").
        "Although",
        "Though",
        "Because",
        "Since",
        "Unless",
        "Whereas",
        "However",
        "Thus",
        "Hence",
        "Therefore",
        "Moreover",
        "Furthermore",
        "Notably",
        "Importantly",
        "Here",
        # Adverbs of time and degree that open a sentence: "Today Warsaw is ...", "Over 60 schools converted ...".
        "Today",
        "Now",
        "Currently",
        "Recently",
        "Later",
        "Over",
        "Under",
        "About",
        "Around",
        "Nearly",
        "Almost",
        "Approximately",
    ]
)
# Connectives that open a sentence before a comma ("However, the year averages ...", "Thus, ..."): they tie it to
# the sentence before, which a question lacks. The wording leaves them out (`questions`), the rules read the clause
# after them (`wellformed`). A regular-expression alternation.
CONNECTIVES = (
    r"[A-Z][a-z]+ly|Thus|However|Here|Therefore|Moreover|Furthermore|Hence|Overall|Finally|Together|Indeed|Instead"
    r"|Conversely|Lately|Nevertheless|Meanwhile|Today|Also|Still|In addition|In contrast|By contrast|In conclusion"
    r"|In summary|As a result|Taken together|Then"
)
_NAME = re.compile(r"[A-Z][\w'’&.-]*[\w]|[A-Z]")
_WORD_SPAN = re.compile(r"\S+")


@dataclass(frozen=True)
class Fact:
    """One answer span of one sentence. `answer` is what the question asks for; `unit` the counted noun or unit
    that the question names instead ("12 trams": answer "12", unit "trams")."""

    doc_id: str
    title: str
    sentence: str
    start: int  # offsets of the span that the question replaces, in `sentence`
    end: int
    answer: str
    kind: str  # date, time, money, percent, year, quantity, count, name, field
    unit: str = ""
    first_is_name: bool = False  # the sentence's first word is a name (never written in lower case in its document)
    place: bool = False  # a name the document writes after "in", "at" or "near": a place, never a person
    personal: bool = False  # the document speaks of someone as "he" or "she": its two-word names may be people
    label: str = ""  # kind "field": the form's label the value is entered under ("Aircraft Damage", `fields`)

    @property
    def span(self) -> str:
        return self.sentence[self.start : self.end]


# A number after one of these (or after a capitalised word: "Cloudloft 7") names a thing, it counts nothing.
_IDENTIFIER_BEFORE = frozenset(
    (
        "line", "room", "gate", "number", "no", "platform", "bus", "version", "step", "level", "floor", "page",
        "chapter", "section", "route", "door", "bay", "zone", "building", "model", "release", "item", "table",
        # A member of a numbered series: "type 2 diabetes", "phase 3", "figure 4", "day 7".
        "type", "phase", "stage", "grade", "class", "figure", "fig", "group", "category", "generation", "wave",
        "part", "article", "appendix", "day", "week", "year", "month", "visit", "cohort", "arm",
    )
)  # fmt: skip


def _identifier(sentence: str, start: int) -> bool:
    before = sentence[:start].split()[-1:]
    word = before[0].strip("(\"'") if before else ""
    return bool(word) and (word.lower() in _IDENTIFIER_BEFORE or (word[:1].isupper() and word.isalpha()))


def _quantity(doc: Document, sentence: str, m: re.Match[str]) -> Fact | None:
    if _identifier(sentence, m.start()):
        return None
    text = m.group(0)
    number = re.match(r"\d[\d,]*(?:\.\d+)?", text)
    assert number is not None
    unit = text[number.end() :].strip(" -")
    if not unit or unit.lower() in STOPWORDS or unit.lower() in {"per", "x", "st", "nd", "rd", "th"}:
        return None
    end = m.end()
    following = re.match(r" ([a-z]+)\b", sentence[end:])
    if following and following.group(1) in MEASURE_UNITS and unit.islower():  # "10 business days"
        unit, end = f"{unit} {following.group(1)}", end + following.end()
    head = unit.split()[-1]
    # Only a known unit makes a quantity: "11 NHL" (in "2010–11 NHL season") or "3D" is a name, not a measure.
    kind = "quantity" if head.lower() in MEASURE_UNITS or "°" in unit else "count"
    plural = head.endswith("s") and not head.endswith(("ss", "is", "us"))  # "analysis", "virus": no plurals
    if kind == "count" and not (head.islower() and plural and len(head) > 3):
        return None  # "3 Brindle", "2 of", "2 business": not a counted noun
    return Fact(doc.id, doc.title, sentence, m.start(), end, number.group(0), kind, unit)


def _names(doc: Document, sentence: str, taken: list[tuple[int, int]], lower_words: set[str]) -> list[Fact]:
    """Runs of capitalised words ("Adela Fenwright", "Kettering Yard", "Brindle SP-7"), not the sentence's first
    word alone (capitalised anyway) and not common words."""
    out: list[Fact] = []
    tokens = list(_WORD_SPAN.finditer(sentence))
    i = 0
    while i < len(tokens):
        tok = tokens[i].group(0).strip(",;:()\"'.")
        if not _NAME.fullmatch(tok) or tok in _NOT_NAMES or (i == 0 and tok.lower() in lower_words):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and not tokens[j].group(0).endswith((",", ";", ":", ".", ")")):
            nxt = tokens[j + 1].group(0).strip(",;:()\"'.")
            if _NAME.fullmatch(nxt) or re.fullmatch(r"[A-Z0-9][\w-]*\d[\w-]*", nxt):
                j += 1
            else:
                break
        words_ = [tokens[k].group(0).strip(",;:()\"'.") for k in range(i, j + 1)]
        start = tokens[i].start() + (len(tokens[i].group(0)) - len(tokens[i].group(0).lstrip("(\"'")))
        end = tokens[j].start() + len(tokens[j].group(0).rstrip(",;:()\"'."))
        at_start = i == 0
        # "the Zorvat pump": one capitalised word used as a modifier names no thing a question can ask for.
        # One capitalised word right before a lower-case one ("Brindle probe data", "Tidewell loggers") modifies it;
        # one whose lower-case form the document uses ("Add", "Read") is a label or a sentence's first word.
        modifier = len(words_) == 1 and j + 1 < len(tokens) and tokens[j + 1].group(0)[:1].islower()
        common = len(words_) == 1 and words_[0].lower() in lower_words
        possessive = words_[-1].endswith(("'s", "’s"))  # "Vineeth Sreenivasan's movie": asked as "whose", no span
        if (
            not possessive
            and not (at_start and len(words_) < 2)
            and not modifier
            and not common
            and not any(a < end and start < b for a, b in taken)
        ):
            span = sentence[start:end]
            out.append(Fact(doc.id, doc.title, sentence, start, end, span, "name"))
        i = j + 1
    return out


_PRONOUNS = frozenset(["it", "them", "they", "he", "she", "him", "this", "these"])


def sentence_facts(doc: Document, sentence: str, lower_words: set[str] | None = None) -> list[Fact]:
    """Every fact the rules find in one sentence, numbers before names, spans never overlapping. `lower_words`: the
    words the document writes in lower case (a capitalised one of them is no name)."""
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(sentence):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            if kind == "date" and re.search(r"\b(?:each|every)\s$", sentence[: m.start()].lower()):
                continue  # "each January": a recurring month, not a date to ask for
            if kind == "year" and sentence[: m.start()].rstrip().lower().endswith((" the", " a", "the", "a")):
                continue  # "the 2026 price list": a year as a modifier
            if kind == "quantity":
                fact = _quantity(doc, sentence, m)
            else:
                fact = Fact(doc.id, doc.title, sentence, m.start(), m.end(), m.group(0).strip(), kind)
            if fact is not None:
                facts.append(fact)
                taken.append((m.start(), m.end()))
    facts += _names(doc, sentence, taken, lower_words or set())
    # A value that occurs twice in the sentence makes a question about it ambiguous; a pronoun before the value
    # ("Change it from the front panel or in Cloudloft") points to a sentence the question does not carry.
    return [
        f
        for f in facts
        if sentence.count(f.span) == 1 and not _PRONOUNS.intersection(sentence[: f.start].lower().split())
    ]


# A sentence that starts with a pronoun needs the one before it: a question made from it alone is about nobody.
_PRONOUN_START = frozenset(
    ["it", "its", "they", "their", "them", "he", "she", "his", "her", "this", "these", "those", "that", "there", "such"]
)


# A supposition or a courtesy states no fact of the documents: "Let's say your computer has 4 cores." (a README),
# "Let us denote the clinically diagnosed cases as Qj." (COVID-QA), "Thank you for choosing the Brindle SP-7."
# ("Thanks to X, Y" states a cause and stays.)
_NO_FACT_START = re.compile(r"(?:let's|let’s|let us|suppose|imagine|say|assume|thank you)\b", re.IGNORECASE)


def usable_sentence(sentence: str, max_words: int) -> bool:
    """A statement of reasonable length that stands alone: not a heading, a table row, a list of keywords, a
    supposition or a courtesy."""
    parts = sentence.split()
    return (
        5 <= len(parts) <= max_words
        and parts[0].lower().strip(",") not in _PRONOUN_START
        and not _NO_FACT_START.match(sentence)
        and not re.match(r"[-*•+]|\d{1,2}[.)]", parts[0])  # a list item: often a fragment
        and " | " not in sentence
        and sentence.rstrip().endswith((".", "!"))
        and "?" not in sentence
        # Page headers run into a sentence (PDF text) are mostly capitalised words.
        and sum(w[:1].isupper() for w in parts) <= len(parts) / 2
    )


# A heading run into the sentence that follows it ("BACKGROUND Genetic variation in ...", PDF and abstract text).
_HEADING = re.compile(r"^(?=[A-Z]{4,})(?:[A-Z]{2,}:?\s+)+(?=[A-Z][a-z]|\d)")
# A capitalised article, pronoun or conjunction after a word with no punctuation: a title run into the sentence
# ("Publisher Summary The ...", "Statistical analysis Unless otherwise specified, ...").
_RUN_IN = re.compile(
    r"[a-z0-9] The [a-z]|\b[a-z]+ (?:Unless|If|When|While|Whereas|Although|Because|This|These|Those|There|We|It|All"
    r"|Each|Every|Our)\s"
)
# Words a name may follow in running text: after them a capitalised word is a name ("written by Ted Dewan").
_BEFORE_NAMES = STOPWORDS | frozenset(
    ["without", "within", "during", "since", "until", "between", "among", "through", "across", "against", "around",
     "per", "via", "called", "named", "titled"]
)  # fmt: skip
_PREPOSITIONS = frozenset(
    ["of", "in", "on", "at", "by", "for", "to", "from", "with", "without", "within", "into", "over", "under", "after",
     "before"]
)  # fmt: skip


def heading_run_in(sentence: str, prose_words: set[str]) -> bool:
    """A heading or a table's labels run into the sentence, in title case: three capitalised words the document
    also writes in lower case before a lower-case one ("Risk Factors Transfusion of blood products ..."), or one
    such word between a lower-case content word and a preposition ("... blood products Administration of ..."). A name's
    words are not written in lower case in prose (`prose_words`), a term's are but a verb follows the term
    ("Electrical Muscle Stimulation is known ...")."""
    tokens = sentence.split()
    words = [re.sub(r"^\W+|\W+$", "", t) for t in tokens]

    def common(word: str) -> bool:
        return bool(re.fullmatch(r"[A-Z][a-z]+", word)) and word.lower() in prose_words

    if len(words) > 3 and all(common(w) for w in words[:3]) and words[3][:1].islower():
        return not verb_form(words[3])
    for i in range(1, len(words) - 1):
        previous, word, following = words[i - 1], words[i], words[i + 1]
        if tokens[i - 1][-1:] in ",;:)" or not (previous.isalpha() and previous.islower()):
            continue
        # "products Administration of": the run-in label heads a phrase of its own; "product Quorrin ever sold" is a
        # name (that is also a word) with its clause
        bare = tokens[i] == word
        if bare and previous not in _BEFORE_NAMES and common(word) and following in _PREPOSITIONS:
            return True
    return False


# A single initial ("P.") or a cut before a lower-case word: where a sentence splitter broke at an abbreviation.
_INITIAL_END = re.compile(r"(?:^|\s)(?:[A-Z]\.)*[A-Z][a-z]{0,2}\.$")
# Common irregular pasts, only those that are no present form too ("cut", "read", "set" are).
IRREGULAR_PASTS = (
    "began", "became", "brought", "built", "bought", "came", "chose", "drew", "drove", "fell", "felt", "fought",
    "found", "flew", "gave", "got", "grew", "held", "kept", "knew", "led", "left", "lost", "made", "meant", "met",
    "paid", "ran", "rose", "said", "sang", "sat", "saw", "shot", "showed", "sold", "sent", "spent", "spoke", "stood",
    "struck", "swam", "taught", "told", "thought", "took", "underwent", "went", "won", "wrote",
)  # fmt: skip
# A finite verb: an auxiliary, a common irregular past, or a lower-case word in "-ed" or "-s". Without one the
# "sentence" is a title or a list ("The type II prokaryotic CRISPR/Cas system.").
_FINITE = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|do|does|did|can|could|will|would|may|might|must|should|shall"
    rf"|cut|hit|put|read|set|shown|split|upset|{'|'.join(IRREGULAR_PASTS)})\b"
    r"|\b[a-z]{2,}(?:ed|s)\b"
)


def verb_form(word: str) -> bool:
    """`word` may be a finite verb (by its form alone: an auxiliary, a common irregular past, "-ed", "-s")."""
    return bool(_FINITE.fullmatch(word)) and not (len(word) > 3 and word.endswith(("ss", "is", "us")))


def whole_sentence(sentence: str, previous: str = "", following: str = "") -> bool:
    """A sentence as English writes one, not a piece of one: it starts with a capital letter (or a number followed
    by a word: "12 trams arrived"), its brackets close, it neither ends at an initial nor follows a piece that
    did, the piece after it does not continue it in lower case, and no title runs into it. Why: a question made
    from a piece starts mid-clause ("Deadwyler, III) is a religious studies scholar and what religious leader?")."""
    # A relative clause is no main clause: "Originally a five-piece group with Taehyun, who later departed ..." has
    # no verb of its own.
    main = re.sub(r",\s+(?:who|whom|whose|which)\b[^,]*(?:,|$)", " ", sentence)
    number_first = re.match(r"\d[\d,.]* ([a-z]+)\b", sentence)
    starts = bool(re.match(r"[\"“‘']?[A-Z]", sentence)) or bool(number_first and number_first.group(1) not in STOPWORDS)
    closed = sentence.count("(") == sentence.count(")") and sentence.count("[") == sentence.count("]")
    cut = bool(_INITIAL_END.search(sentence))
    after_cut = bool(_INITIAL_END.search(previous))
    continued = bool(re.match(r"[a-z,;)]", following))
    whole = starts and closed and not cut and not after_cut and not continued and bool(_FINITE.search(main))
    return whole and not _RUN_IN.search(sentence)


def document_facts(doc: Document, max_words: int = 25) -> list[Fact]:
    lower_words = set(re.findall(r"\b[a-z][\w-]*", doc.text))
    # Lower-case words of the prose, not of an address or a symbol ("quorrin" in "support@quorrin.com", "ski/sno").
    prose_words = set(re.findall(r"(?<![\w@./-])[a-z][a-z-]*(?![\w@./-])", doc.text))
    # Capitalised where no sentence starts: a name wherever it stands.
    inner_caps = set(re.findall(r"(?<=[a-z,;] )[A-Z][\w-]*", doc.text))
    personal = bool(re.search(r"\b(?:[Hh]e|[Ss]he|[Hh]is|[Hh]im)\b", doc.text))
    sentences = split_sentences(doc.text)
    out: list[Fact] = []
    for i, s in enumerate(sentences):
        s = _HEADING.sub("", s)
        previous = sentences[i - 1] if i else ""
        following = sentences[i + 1] if i + 1 < len(sentences) else ""
        if (
            usable_sentence(s, max_words)
            and whole_sentence(s, previous, following)
            and not heading_run_in(s, prose_words)
        ):
            first, _, rest = s.partition(" ")
            first = re.sub(r"\W+$", "", first)
            name = first not in _NOT_NAMES and first.lower() not in lower_words
            name = name and (first in inner_caps or rest[:1].isupper() or first in doc.title.split())
            for f in sentence_facts(doc, s, lower_words):
                place = f.kind == "name" and bool(
                    re.search(rf"\b(?:in|at|near) (?:the )?{re.escape(f.span)}\b", doc.text)
                )
                out.append(replace(f, first_is_name=name, place=place, personal=personal))
    return out


# A sentence written in this many documents or more is a template's (a disclaimer, a footer, a form's fixed text):
# it says nothing about one document, and on 20 NTSB reports three such sentences gave most of the facts found.
BOILERPLATE_DOCUMENTS = 3


def _sentence_key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def repeated_sentences(facts_per_document: Sequence[Sequence[Fact]]) -> set[str]:
    """The sentences (as `_sentence_key` writes them) that hold facts in `BOILERPLATE_DOCUMENTS` documents or more."""
    documents: Counter[str] = Counter()
    for doc_facts in facts_per_document:
        documents.update({_sentence_key(f.sentence) for f in doc_facts})
    return {key for key, n in documents.items() if n >= BOILERPLATE_DOCUMENTS}


def sample_facts(
    docs: Sequence[Document], seed: int, max_words: int = 25, more: Sequence[Sequence[Fact]] = ()
) -> list[Fact]:
    """All facts in a seeded order that visits the documents in turn (coverage before depth) and asks about one fact
    per sentence before a second one of the same sentence; numbers, dates and times first within a sentence.
    `more`: further facts of each document, in the order of `docs` (a form's fields, `ragtune.synth.fields`)."""
    rng = random.Random(seed)
    extras = more or [()] * len(docs)
    found = [document_facts(doc, max_words) + list(extra) for doc, extra in zip(docs, extras, strict=True)]
    boilerplate = repeated_sentences(found)
    per_doc: list[list[list[Fact]]] = []
    for doc_facts in found:
        by_sentence: dict[str, list[Fact]] = {}
        for f in doc_facts:
            if _sentence_key(f.sentence) not in boilerplate:
                by_sentence.setdefault(f.sentence, []).append(f)
        groups = list(by_sentence.values())
        rng.shuffle(groups)
        # A form's fields and the prose take turns, so that a report's twenty fields do not crowd out its story.
        prose = [g for g in groups if g[0].kind != "field"]
        fields = [g for g in groups if g[0].kind == "field"]
        per_doc.append([g for pair in zip_longest(prose, fields) for g in pair if g is not None])
    rng.shuffle(per_doc)
    first: list[Fact] = []
    rest: list[Fact] = []
    depth = 0
    while any(depth < len(groups) for groups in per_doc):
        for groups in per_doc:
            if depth < len(groups):
                facts = groups[depth]
                pick = rng.choice([f for f in facts if f.kind != "name"] or facts)
                first.append(pick)
                rest.extend(f for f in facts if f is not pick)
        depth += 1
    return first + rest
