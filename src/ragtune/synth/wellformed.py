"""Rules of English that a synthesized question must keep, whatever corpus it comes from.

Decided on five corpora at once (real PDFs, SciFact abstracts, COVID-QA articles, HotpotQA's Wikipedia paragraphs,
the bundled sample), against the failures a reading of each found: a wh-phrase spliced into a word ("2010–how many
NHL season") or into a noun phrase ("a low-budget which year science fiction film"), a wh-phrase inside brackets
("(born which date)"), a pronoun or demonstrative that points outside the question ("Composer for his movie is
who?"), a sentence cut at an abbreviation ("By whom is the screenplay ..., loosely based on P?"), a heading run into
a sentence ("BACKGROUND Genetic variation ..."), a question about a definition's subject that names nothing ("Who was
an actor, playwright, poet?"), an instruction asked as if it stated something ("train each muscle group ... for a
total of how many weeks?"), a description of one document's own study that no title names ("compared with what
percentage in the IM group?"). Each rule is about the sentence's form, never about one corpus' words; `problem`
names the first rule a draft breaks, so that synthesis counts the drops per rule.
"""

from __future__ import annotations

import re

from ragtune.synth.candidates import CONNECTIVES, IRREGULAR_PASTS, Fact, verb_form
from ragtune.synth.instructions import is_instruction
from ragtune.synth.overlap import without_title
from ragtune.synth.persons import THING_HEADS
from ragtune.synth.questions import CLAUSE_END, WH_WORDS, Draft

# Where a value may stand as a whole phrase: after a space, at the sentence's start or after an opening quote; and
# before a space, the end, or punctuation that closes a phrase. "2010–11", "R6/2", "3D", "<72 hours", "25-100%" fail.
_BEFORE_OK = frozenset(" (")
_AFTER_OK = frozenset(" ,.;:!?)")
# Words that can follow a whole noun phrase: prepositions, conjunctions, auxiliaries, relatives, adverbs of degree.
# A lower-case word after the value that is none of these (and no verb form) makes the value a modifier of a noun
# ("a 1975 science fiction film", "Kaiser Permanente health care", "all 2025 hospitalized children").
_FOLLOWERS = frozenset(
    (
        "of", "in", "on", "at", "by", "for", "to", "from", "with", "without", "within", "into", "onto", "over", "under",
        "after", "before", "during", "since", "until", "till", "between", "among", "through", "across", "against",
        "about", "around", "near", "per", "than", "as", "via", "versus", "vs", "and", "or", "but", "nor", "so", "yet",
        "while", "whereas", "although", "though", "because", "if", "when", "where", "which", "who", "whom", "whose",
        "that", "what", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did",
        "can", "could", "will", "would", "shall", "should", "may", "might", "must", "not", "also", "only", "still",
        "then", "there", "respectively", "each", "both", "alone", "too", "again", "ago", "later", "earlier", "below",
        "above", "up", "down", "out", "off", "back", "here", "now", "just", "even", "either",
    )
)  # fmt: skip
# A pronoun or demonstrative in a question points to a sentence the question does not carry. "it" in the framing
# "Is it true that" is the framing's own.
_REFERRING = frozenset(
    (
        "he", "she", "him", "his", "her", "hers", "it", "its", "they", "them", "their", "theirs", "this", "these",
        "those", "we", "us", "our", "ours", "i", "me", "my", "mine", "such", "former", "latter",
    )
)  # fmt: skip
# The words a wording adds around the sentence's own (`questions.yes_no`, `twin_question`; after the title that
# `anchored` may lead with).
_FRAMES = re.compile(r"^(?:is it true that|do the documents say that|according to the documents,|say that)\s*", re.I)
# The copula that opens a definition: "X is a Zimbabwean gospel musician". Asking for X needs a name or a number in
# what is said of it, or many things fit ("Who was an actor, playwright, poet?").
_DEFINITION = re.compile(r"^\s*(?:is|are|was|were)\s+(?:a|an|one|the)\b", re.IGNORECASE)
# A name or a number: two capitalised words in a row ("The Doors") or a digit. One capitalised word before a
# lower-case one is mostly an adjective of origin ("an American statistician"), which narrows nothing down.
_ANCHOR = re.compile(r"\d|\b[A-Z][\w-]*\s+[A-Z]|\b[A-Z][\w-]*(?!\s+[a-z])(?=\W*$|\s*[,;.)])")


# Nouns in "-ly" ("the family Caryophyllaceae", "the supply of ..."): not adverbs.
_LY_NOUNS = frozenset(
    ["family", "assembly", "supply", "reply", "rally", "ally", "anomaly", "monopoly", "butterfly", "lily", "italy",
     "july", "homily", "folly", "belly", "jelly", "bully"]
)  # fmt: skip


def is_adverb(word: str) -> bool:
    """An adverb in "-ly" ("famously", "only"), not a noun that ends so ("family", "assembly")."""
    return word.endswith("ly") and word not in _LY_NOUNS


def span_is_whole(fact: Fact) -> bool:
    """The value is a phrase of its own: not glued to another word, number or symbol, nor quoted as a title (`In
    "what", surgeon Strange ...`), nor the last digits of a number written with spaces between its thousands ("45
    079 patients": "45 how many patients?"); a bracket around it is for `outside_brackets` to judge."""
    before = fact.sentence[fact.start - 1] if fact.start > 0 else " "
    after = fact.sentence[fact.end] if fact.end < len(fact.sentence) else " "
    thousands = re.search(r"(?<![\d.,])\d{1,3}\s$", fact.sentence[: fact.start]) and re.match(r"\d{3}\b", fact.span)
    return before in _BEFORE_OK and after in _AFTER_OK and not thousands


def _depth(text: str) -> int:
    return max(text.count("(") - text.count(")"), text.count("[") - text.count("]"))


# An aside set off by commas that describes what comes before it: an apposition ("Hollywood, a district within Los
# Angeles, is ...") or a relative clause ("Nova Scotia, which had been captured from France in 1713, still ...").
_ASIDE_OPENING = re.compile(r",\s+(?:a|an|the|one|which|who|whom|whose|where|when)\s[^,]*$")


def outside_asides(fact: Fact) -> bool:
    """Not inside an aside set off by commas: asked in place the wh-phrase stands inside it ("Hollywood, a district
    within what, is also a name ...?"), and fronted it would tear the aside from what it describes."""
    return not (_ASIDE_OPENING.search(fact.sentence[: fact.start]) and fact.sentence[fact.end :].startswith(","))


def outside_brackets(fact: Fact) -> bool:
    """Not within a parenthesis or brackets: English asks nothing from inside "(born ...)" or "(OR = 0.63)"."""
    return _depth(fact.sentence[: fact.start]) <= 0


def not_a_modifier(fact: Fact) -> bool:
    """The value is a noun phrase of its own, not a modifier inside a longer one. Counts and quantities carry their
    noun with them ("12 trams"), so only what follows that noun matters, and it may be anything."""
    if fact.kind in ("count", "quantity"):
        # "a 12-week program": a compound adjective; "the 2015 fiscal year": a number naming which one
        # "a 90 degree crosswind": after "a" a number only ever modifies the noun after its unit
        article = re.search(r"\b(?:the|[Aa]n?)\s+$", fact.sentence[: fact.start])
        return not re.match(r"[\d.,]+-[a-z]", fact.span) and not article
    if re.match(r",\s+(?:a|an|the|one)\s", fact.sentence[fact.end :]):
        return False  # "follows Hellboy, a demon who ...": the apposition says what the answer is
    if re.search(r",\s+(?:\w+\s+){0,2}$", fact.sentence[: fact.start]) and fact.sentence[fact.end :].startswith(","):
        return False  # "The theatre, during World War II, was ...": an aside set off by commas
    if fact.kind != "name" and re.match(r" [A-Z]", fact.sentence[fact.end :]):
        before = fact.sentence[: fact.start].split()
        if before and before[-1].lower() not in _FOLLOWERS:
            return False  # "and 2010 Deutsche Tourenwagen Masters champion Paul di Resta": a year before a title
    after = re.match(r"\s+([a-z][a-z-]*)", fact.sentence[fact.end :])
    if after is None:
        return True
    word = after.group(1)
    # After a name a verb may follow ("Ilsa Marrow designed ..."); after a number, a date or an amount a word in
    # "-ed" is an adjective far more often ("all 2025 hospitalized children").
    return word in _FOLLOWERS or is_adverb(word) or (fact.kind == "name" and verb_form(word))


_DETERMINERS = frozenset(["the", "a", "an", "all", "some", "any", "no", "every", "each", "many", "several", "both"])


def name_stands_alone(fact: Fact) -> bool:
    """A name is the whole noun phrase: not after a noun or adjective it is in apposition to ("singer-songwriter PJ
    Morton", "the transgenic IL-10": the wh-word would land inside the phrase), not the first of a coordination
    ("what and H4 become ..."), not continued by a number or an "of" ("Figure 2", "King Edgar of England")."""
    if fact.kind != "name":
        return True
    left, right = fact.sentence[: fact.start], fact.sentence[fact.end :]
    if re.search(r"[A-Z][\w-]*,\s*$", left) or re.match(r",\s+[A-Z]", right):
        return False  # "Billings, Montana", "University of California, Riverside", "applying X, YF, ...": one part
    previous = re.findall(r"([A-Za-z-]+)\W*$", left)
    if re.search(r"[A-Z][\w'-]*\s+(?:of\s+(?:the\s+)?)?$|-\s+(?:and|or)\s+$", left):  # ("SARS- and MERS-")
        return False  # "North Kansas City", "the Organization of Eastern Caribbean States": it starts before
    if re.search(r"[A-Z][\w'-]*\s+(?:and|&)\s+$", left) and fact.span.split()[-1].lower() in THING_HEADS:
        return False  # "the Royal Devon and Exeter Hospital": one institution's name, not a pair
    if re.search(r"\bby\s+[A-Z][\w'-]*\s+and\s+$", left) and len(fact.span.split()) == 1:
        return False  # "described by Braun and Clarke": a surname beside another, a person's or a firm's, unknown
    if re.match(r"\s+[A-Z]", right):
        return False  # "retain the Latin Ren-": the name goes on in a word that is not one of its own
    if previous and previous[0].islower():
        word = previous[0]
        if not (
            word in _FOLLOWERS or word in _DETERMINERS or verb_form(word) or word.endswith("ing") or is_adverb(word)
        ):
            return False
        if re.search(r"\b(?:the|a|an|this|each)\s+[a-z]+ed\s+$", left):
            return False  # "a copy of the signed Informed Consent Form": after an article "-ed" is an adjective
    if previous and previous[0] in _DETERMINERS and re.match(r"\s+[a-z]", right):
        follower = right.split()[0]
        if follower not in _FOLLOWERS:
            return False  # "all Terbium HTRF assays": the name modifies the noun after it
    return not re.match(r"\s*&|\s+(?:\d|of\b|and\b|or\b)", right)


def not_a_first_conjunct(fact: Fact) -> bool:
    """Not the first of two values joined by "and"/"or" ("released in March and January 2009", "what and H4 become
    ..."): a question asks for the pair or for the last one, not for the first with the second left standing."""
    return not re.match(r"\s+(?:and|or)\s+[A-Z0-9]|\s*and/or\b", fact.sentence[fact.end :])


def not_the_end_of_a_range(fact: Fact) -> bool:
    """Not the second of two numbers joined by "to" or "or" ("climbed to an altitude of 30 to 50 feet", "up to 10 or
    15 centimeters") or by "between ... and" ("aged between 18 and 60 years"): "30 to how many feet?" asks for half
    of one value. After "from" ("from 1895 to 1896") the two read as two ends, each asked alone."""
    before = fact.sentence[: fact.start]
    return not re.search(r"(?<!from )\b\d[\d,.]*\s+(?:to|or)\s+$|\bbetween\s+\S*\d[\d,.]*\s+and\s+$", before)


def not_beside_a_symbol(fact: Fact) -> bool:
    """The words on either side of the value are words, not symbols of notation ("presented as means ± SD", "P ≤
    0.05 is considered significant", "from October 2023 – April 2024"): a wh-word beside one ("means ± what?",
    "what ≤ 0.05") asks inside a formula. The sentence's own punctuation after the value is no notation."""
    previous = fact.sentence[: fact.start].split()
    following = fact.sentence[fact.end :].split()
    if previous and not re.search(r"[\w%)\]]", previous[-1]):
        return False
    return not (following and re.fullmatch(r"[±=<>≤≥≈×÷+]+", following[0]))


# An alias set off as an aside: "Villard, also known as Villard Books, is ...".
_ALIAS = re.compile(r"[,(]\s*(?:also\s+|better\s+|formerly\s+)?(?:known|called|referred\s+to)\s+as\s+$")


def not_an_alias(fact: Fact) -> bool:
    """Not the other name in an aside: asked in place, the wh-word stands inside it ("Villard, also known as what, is
    a publishing imprint of Random House?")."""
    return not _ALIAS.search(fact.sentence[: fact.start])


def not_an_opening_adverbial(fact: Fact) -> bool:
    """A value that opens the sentence as an adverbial ("3 days later, the liquid was collected") is asked in place
    without inversion ("How many days later, the liquid was collected?"), which English does not allow."""
    return bool(fact.sentence[: fact.start].strip()) or not re.match(r"(?:\s+\w+)?,", fact.sentence[fact.end :])


def _asked_part(question: str) -> str:
    return _FRAMES.sub("", without_title(question.strip()))


def no_dangling_reference(draft: Draft) -> bool:
    """Neither wording holds a pronoun or demonstrative ("his", "it", "these", "we"): the question is read without
    the sentences around its evidence, so it can point to nothing outside itself."""
    for question in (draft.question, draft.twin):
        asked = _asked_part(question).lower()
        if _REFERRING.intersection(re.findall(r"[a-z]+", asked)):
            return False
        if re.search(r"\bas (?:described|mentioned|shown|noted|discussed) (?:above|below|earlier|previously)\b", asked):
            return False  # points to another part of the document
        if re.match(r"one (?:is|was|were|are|has|had)\b", asked):
            return False  # "one was found in which month": "one" of something said before
    return True


def subject_is_specified(draft: Draft) -> bool:
    """A question asking for the subject of a definition ("X is a/an/the ...") says something particular about it:
    a name or a number besides the answer, in the question as worded (the sentence may lose it to a clause cut:
    "Which city is the central business district?")."""
    fact = draft.fact
    if draft.shape == "yesno" or re.sub(r"^(?:[Tt]he|[Aa]n?)\s+", "", fact.sentence[: fact.start]).strip():
        return True
    if not _DEFINITION.match(fact.sentence[fact.end :]):
        return True
    asked = re.sub(r"^\W*\w+(?:\s+[a-z]+)?\s+(?:is|are|was|were)\b", "", draft.question)  # "Which city is"
    return bool(_ANCHOR.search(asked.replace(fact.span, " ")))


def not_in_opening(draft: Draft) -> bool:
    """Not inside an opening phrase set off by a comma ("From mid-1942 until the end of the war in 1945, there
    were ..."): asked in place it leaves a statement after the wh-phrase. A date right after the sentence's first
    preposition is moved to the question's end instead, which is fine."""
    fact = draft.fact
    opening = _OPENING.match(fact.sentence)
    if opening is None or fact.end > opening.end():
        return True
    asked = _asked_part(draft.question)  # not the "In “title”, " that `anchored` leads with
    return asked.rstrip("?").split(",")[-1].strip().lower().startswith(("what", "which", "how")) or "," not in asked


_WH = frozenset(WH_WORDS)


def options_read_as_options(draft: Draft) -> bool:
    """A which-of-two question's options follow its wh-phrase: the wh-word opens the question ("In which year was
    it founded, A or B?") or closes the stem before the options ("... was founded in which year, A or B?"), never
    stands mid-clause with the options tacked onto a statement."""
    if len(draft.options) != 2:
        return True
    if any(re.search(r"[()\[\]]", option) for option in draft.options):
        return False  # "China), Figure or Sangon Biotech (Shanghai": a value cut out of a bracket
    for question in (draft.question, draft.twin):
        stem = _asked_part(question).rsplit(",", 1)[0].lower()
        words_ = re.findall(r"[a-z0-9]+", stem)
        if not _WH.intersection(words_[:2] + words_[-3:]):
            return False
    return True


def balanced(question: str) -> bool:
    """Brackets and quotes close in the question as they open: a question cut inside one is a fragment."""
    pairs = (("(", ")"), ("[", "]"), ("“", "”"))
    return all(question.count(a) == question.count(b) for a, b in pairs) and question.count('"') % 2 == 0


# An opening phrase of lower-case words after its first, set off by a comma ("Shot in 3-D, ", "In 2014, "): the
# clause's subject follows it.
_OPENING = re.compile(
    r"^(?:(?!(?:The|A|An)\b)[A-Z][a-z]+(?:\s+[a-z0-9][\w-]*)+"
    r"|(?:[A-Z][a-z]+(?:ed|ing)|Born|Built|Made|Shot|Set|Founded|In|On|At|By|From|After|Before|During|Since|Unlike"
    rf"|{CONNECTIVES})\b"
    r"[^,]*),\s+"
)


_DESCRIBED = ("the", "this", "these", "those", "other", "another", "such", "both")


def _clause_words(sentence: str, verb_ends_opening: bool = False) -> list[str]:
    """The words of `sentence` after an opening phrase set off by a comma ("Shot in 3-D, the film ..."), where its
    clause's subject starts. `verb_ends_opening`: a verb before the comma makes that part the clause itself
    ("Participants in the control group were divided ..., each ...")."""
    opening = _OPENING.match(sentence)
    if opening and verb_ends_opening and any(verb_form(w.lower()) for w in re.findall(r"[A-Za-z]+", opening[0])[1:]):
        opening = None
    return sentence[opening.end() if opening else 0 :].split()


def subject_is_named(fact: Fact) -> bool:
    """The clause's subject names what it is about: not a description with nothing particular in it ("The film
    premiered at ...", "Shot in 3-D, the film grossed ...", "The location of the layout in the basement of X"),
    which in a paragraph points back to a name the sentence before gave and in a question read alone points to
    nothing. The subject runs from its "the"/"this" (after an opening phrase set off by a comma) to its first
    verb; a capitalised word in it other than the answer's is a name (a number is not)."""
    words_ = _clause_words(fact.sentence)
    if len(words_) < 2 or words_[0].lower() not in _DESCRIBED or not words_[1][:1].islower():
        return True
    answer = set(fact.span.split())
    placed = False  # after "on", "in", "at": "the flagship store on West Main Street" is still no particular store
    for w in words_[1:]:
        if verb_form(w.strip(",;:").lower()):
            return False
        if w.lower() in ("on", "in", "at", "near", "from", "of"):
            placed = w.lower() != "of"  # "the genome of the SAIBK strain" names one; "the store on X Street" not
        if w[:1].isupper() and w.strip(",;:") not in answer and not placed:
            return True
    return True


def subject_is_bare(fact: Fact) -> bool:
    """The clause's subject is a common noun phrase without an article and without a name or number besides the
    answer ("Participants in the control group were divided ...", "Interior illustrations are by ..."): a
    description too, which `anchored` asks within its document. Unlike a "the" description it often names a kind
    that needs no document ("Mutations in more than 80 genes cause CMT"), so without a title it is kept as it is."""
    if fact.first_is_name:
        return False
    words_ = _clause_words(fact.sentence, verb_ends_opening=True)
    opened = len(words_) < len(fact.sentence.split())
    if len(words_) < 2:
        return False
    first = words_[0].strip(",;:")
    if first.lower() in _DESCRIBED or any(c.isupper() or c.isdigit() for c in first[1:]):
        return False  # "The film ..." is `subject_is_named`'s; "PFTs", "mTORC1" are names
    if not (first[:1].isupper() or opened) or first[:1].isdigit():
        return False
    answer = set(fact.span.split())
    for w in words_[1:]:
        if verb_form(w.strip(",;:").lower()):
            return True
        if (w[:1].isupper() or w[:1].isdigit()) and w.strip(",;:") not in answer:
            return False  # a name or a number makes the subject particular
    return False


# Finite forms that place a statement in the past; with "-ed" words and the irregular pasts `candidates` knows.
_PAST = frozenset(("was", "were", "had", "did")) | frozenset(IRREGULAR_PASTS)
# After a participle these start its own phrase ("Children referred with ... were identified"): not the main verb.
_PARTICIPLE_NEXT = frozenset(("by", "with", "in", "at", "from", "for", "to", "on", "as", "during", "after", "before"))


def reports_one_event(fact: Fact) -> bool:
    """A bare subject's main verb is in the past ("Mean age was ...", "All patients were assessed ...", "A total of
    145 members received ..."): the sentence reports what happened once, in one study or one story, so its subject
    is that document's own ("the patients of this trial"), which a question read alone cannot place. In the present
    it states what holds in general ("Cigarette smoking is the main risk factor for ...", "Genetic variants in CCR5
    have been shown to ..."). A participle with a phrase of its own ("Children referred with ...") is passed over."""
    words_ = [w.strip(",;:").lower() for w in _clause_words(fact.sentence, verb_ends_opening=True)]
    for w, following in zip(words_[1:], [*words_[2:], ""], strict=True):
        if not verb_form(w):
            continue
        if w.endswith("ed") and following in _PARTICIPLE_NEXT:
            continue
        return w in _PAST or w.endswith("ed")
    return False


def names_something(draft: Draft) -> bool:
    """The question, its options left out, holds a name or a number that pins its statement down: a capitalised word
    after its first, an acronym or symbol with a capital inside ("TPT", "IgG", "mTORC1"), or a number of two digits
    or more ("115 full siblings of 57 adoptees"). A single digit does not ("1 of how many groups")."""
    asked = _asked_part(draft.question)
    for option in draft.options:
        asked = asked.replace(option, " ")
    words_ = re.findall(r"[\w'’-]+", asked)
    return bool(re.search(r"\d\S*\d", asked)) or any(
        (w[:1].isupper() and i > 0) or any(c.isupper() for c in w[1:]) for i, w in enumerate(words_)
    )


# What one study has: its design and material, its groups, its people. After "the" each points into one document
# ("the study", "the inclusion criteria", "the IC group", "the patients"); a question read alone cannot tell whose.
# A list, and short, because only a noun that almost never names a kind after "the" may be on it: "the development
# of", "the immune system", "the spread of a pandemic" name kinds, and no rule of form tells them from "the survey".
_STUDY_NOUNS = (
    "study", "studies", "trial", "trials", "survey", "surveys", "cohort", "cohorts", "sample", "samples", "criteria",
    "results", "findings", "analysis", "analyses", "period", "questionnaire", "scenarios", "group", "groups", "arm",
    "arms", "patients", "participants", "subjects", "respondents", "members", "students", "cases", "controls",
    "investigators", "children", "infants", "neonates", "mothers", "fathers", "families", "women", "men", "adults",
)  # fmt: skip
# A group's or an arm's label is the study's own ("the IC group", "Group B"): a capital before it names nothing.
_LABELLED = frozenset(("group", "groups", "arm", "arms"))
# The people of a study and what it measured, written without an article ("A total of how many members received
# ...?", "Data for how many students showed ...?").
_POPULATION = r"\b(?<![Tt]he )(?:patients|participants|subjects|respondents|members|students|[Dd]ata)\b"
# A count after "the" points back to a set counted before ("the three patients", "the 512 suspected cases"); a year
# there names which ("the 2006 election").
_COUNT = (
    r"(?!1[5-9]\d\d\b|20\d\d\b)(?:\d[\d,.]*|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
    r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred)"
)
_OWN = re.compile(
    rf"\b[Tt]he\s+(?P<mods>(?:[\w/+-]+\s+){{0,3}}?)(?P<head>{'|'.join(_STUDY_NOUNS)})(?![\w'’-])"
    rf"|\b[Tt]he\s+{_COUNT}\s+(?=[a-z])"
    r"|\b[Tt]he\s+(?P<back>same|remaining|aforementioned|above-mentioned)\s+(?=[a-z])"
    r"|\b(?:[Gg]roup|[Aa]rm)\s+(?:[A-Z]|\d+)\b"  # "Group B exhibited ...", "Group 2 consisted of ..."
    r"|\b(?P<xref>(?:Figures?|Figs?\.|Tables?|Appendix|Supplementary)\s*[A-Z]?\d+|Appendix\s+[A-Z]\b)"
)
# Where the phrase after a description ends: a wh-word, a relative, a finite verb or a participle ("the survey first
# screened by ..."); before it a name says which ("the classification criteria for SLE", "the group Ippu-Do").
_PHRASE_END = re.compile(
    r"(?:what|which|how|who|whom|whose|when|where|that|is|are|was|were|has|have|had|do|does|did|will|would|can"
    r"|could|may|might|should|must|\w+ed)",
    re.IGNORECASE,
)


def _named(words: list[str]) -> bool:
    return any(w[:1] in '"“' or w[:1].isupper() or any(c.isupper() for c in w[1:]) for w in words if w)


def _phrase_after(text: str) -> list[str]:
    """The words that continue a description (at most six), up to where its phrase ends."""
    out = []
    for w in text.split()[:6]:
        word = w.strip(",;:?.")
        if _PHRASE_END.fullmatch(word):
            break
        out.append(word)
        if w.endswith((",", ";", ":", "?")):
            break
    return out


def own_description(question: str) -> str:
    """The description in `question` that points into one document with nothing naming which, or "": a cross
    reference ("Figure 4"), a group's label ("Group B"), "the same/remaining ..." ("the same buffer"), a count
    after "the" ("the three patients"), or "the" before a noun of `_STUDY_NOUNS` ("the survey", "the IC group").
    A name in the description or in the phrase after it says which ("the Framingham study", "the 2007-2012
    period", "the patients with COPD", "the classification criteria for SLE")."""
    asked = _asked_part(question)
    for m in _OWN.finditer(asked):
        if m["xref"]:
            return m[0]
        after = asked[m.end() :]
        if m["head"]:
            mods = m["mods"].split()
            if any(w.lower() in _FOLLOWERS or w.lower() in _WH for w in mods):
                continue  # "the majority of TB patients": the phrase's head is another noun
            if m["head"] in ("study", "studies") and after.startswith(" of "):
                continue  # "the study of languages": a field
            if m["head"] not in _LABELLED and any(
                w[:1].isupper() or any(c.isdigit() for c in w) for w in mods if not re.fullmatch(_COUNT, w)
            ):
                continue  # "the Phenomenology study", "the 2007-2012 period"
        if m["back"] and re.match(r"(?:\S+\s+){1,4}as\b|time\b", after):
            continue  # "the same methodology as developed by Baran": a comparison; "at the same time": an idiom
        following = _phrase_after(after)
        if not _named(following):
            return " ".join([m[0].strip(), *following])
    return ""


def one_population(draft: Draft) -> bool:
    """The question speaks of people without an article ("patients", "members") in the past tense and names nothing
    else (`names_something`): one study's population in what happened to it once ("A total of how many members
    received second-line treatment?"). In the present such a plural states what holds in general ("..., occurring
    in about what percentage of patients?")."""
    asked = _asked_part(draft.question)
    if not re.search(_POPULATION, asked) or names_something(draft):
        return False
    words_ = re.findall(r"[a-z]+", asked.lower())
    present = {"is", "are", "has", "have", "do", "does", "can", "may", "will"}.intersection(words_)
    return bool(_PAST.intersection(words_)) or (not present and any(w.endswith("ed") and verb_form(w) for w in words_))


def outside_quotes(fact: Fact) -> bool:
    """Not within a quotation or a quoted title (`"While what was the birthplace of jazz, ..."`)."""
    before = fact.sentence[: fact.start]
    return before.count('"') % 2 == 0 and before.count("“") <= before.count("”")


def counts_something(fact: Fact) -> bool:
    """A count or quantity follows a word that can precede an amount (a preposition, a verb, a determiner, an
    adverb), not a noun it numbers: "T helper 1 cells", "type 2 diabetes" name a kind, they count nothing."""
    if fact.kind not in ("count", "quantity"):
        return True
    previous = re.findall(r"([A-Za-z-]+)\W*$", fact.sentence[: fact.start])
    if not previous or not previous[0].islower():
        return True
    word = previous[0]
    return (
        word in _FOLLOWERS or word in _DETERMINERS or verb_form(word) or word.endswith(("ing", "ed")) or is_adverb(word)
    )


def clause_kept_whole(fact: Fact) -> bool:
    """Where the question is cut at a clause boundary after the value, what it keeps is a clause: it does not end
    inside a list ("were 48.5, 54.7, and what percentage for breast, cervical, gastric?") and the value's own
    clause keeps its verb ("Some 1745 citations were screened, and how many studies?")."""
    right = fact.sentence[fact.end :]
    cut = CLAUSE_END.search(right)
    if cut is None:
        return True
    kept = right[: cut.start()]
    if "," in kept:
        return False
    joined = re.split(r",\s+(?:and|but|or)\s+|;\s+", fact.sentence[: fact.start])
    own = joined[-1] + kept
    return len(joined) == 1 or bool(
        re.search(r"\b\w+\b", own) and any(verb_form(w) for w in re.findall(r"[a-z]+", own))
    )


def no_label_before(fact: Fact) -> bool:
    """No colon before the value: what precedes one is a label or a heading ("Role of the Funder/Sponsor: Pfizer
    Inc reviewed ..."), and a question cut after it starts where its sentence does not."""
    return ":" not in fact.sentence[: fact.start].replace("://", "")


def no_relative_clause_after(draft: Draft) -> bool:
    """The wh-phrase is not followed by a relative clause the question keeps ("the song was written by whom who have
    written most of the music ...?", "the team is led by whom, who joined ... in 2012?"): a relative clause
    describes a known referent, and the asked one is unknown. A question cut before the clause is fine."""
    fact = draft.fact
    relative = re.match(r",?\s+(?:who|whom|whose|which|that)\s+(\S+)", fact.sentence[fact.end :])
    return relative is None or relative.group(0).strip(", ") not in draft.question


def problem(draft: Draft) -> str:
    """The first rule `draft` breaks, or "" when it keeps them all. Yes/no questions state the whole sentence and
    put no wh-phrase in it: only the instruction, reference and bracket rules apply to them."""
    fact = draft.fact
    if fact.kind == "field":
        return ""  # a form's entry, asked by its label (`ragtune.synth.fields`): no sentence to keep the rules of
    if is_instruction(fact.sentence):
        return "an instruction, not a statement"
    if draft.shape == "yesno" and not outside_brackets(fact):
        # The question leaves asides out: a "no" question whose changed value sat in one states the evidence.
        return "value inside brackets"
    if draft.shape != "yesno":
        if not outside_quotes(fact):
            return "value inside a quotation"
        if re.search(r"\b(?:which|whom|whose)\s+(?:\S+\s+)?$", fact.sentence[: fact.start]):
            return "value inside a relative clause"  # "sedans of which what number of examples had been registered"
        if not not_in_opening(draft):
            return "value inside an opening phrase"
        if not no_label_before(fact):
            return "question starts after a label"
        if not span_is_whole(fact):
            return "value glued to another word"
        if not outside_brackets(fact):
            return "value inside brackets"
        if not outside_asides(fact):
            return "value inside an aside"
        if not counts_something(fact):
            return "number of an identifier asked as a count"
        if not clause_kept_whole(fact):
            return "question cut inside its clause"
        if not not_a_modifier(fact):
            return "value modifies a noun"
        if not name_stands_alone(fact):
            return "name inside a longer phrase"
        if not not_a_first_conjunct(fact):
            return "first of two joined values"
        if not not_the_end_of_a_range(fact):
            return "second number of a range"
        if not not_beside_a_symbol(fact):
            return "value beside a symbol"
        if not not_an_alias(fact):
            return "alias inside an aside"
        if not no_relative_clause_after(draft):
            return "wh-phrase before a relative clause"
        if not not_an_opening_adverbial(fact):
            return "value opens the sentence as an adverbial"
        if not subject_is_specified(draft):
            return "subject of a definition asked without a name"
    if not no_dangling_reference(draft):
        return "pronoun without antecedent"
    if not subject_is_named(fact) and not draft.anchor:  # within its named document a description is particular
        return "subject names nothing particular"
    if subject_is_bare(fact) and not draft.anchor and reports_one_event(fact) and not names_something(draft):
        return "one document's event, and nothing named"  # "Mean age was how many years?"
    # "the survey", "the IC group", "Figure 4", "participants": one document's own study, which without a title
    # (`anchored`) nothing in the question names; a description of a kind ("the development of") is no such noun.
    if not draft.anchor and (own_description(draft.question) or own_description(draft.twin) or one_population(draft)):
        return "one document's own study, and nothing named"
    if not (balanced(draft.question) and balanced(draft.twin)):
        return "unbalanced brackets"
    if not any(verb_form(w) for w in re.findall(r"[a-z]+", _asked_part(draft.question).lower())[1:]):
        return "no verb in the question"  # "Change in ... scores over how many months?": a title or a fragment
    if min(len(q.split()) for q in (draft.question, _asked_part(draft.twin))) < 4:
        return "too short to ask anything particular"  # "What?", "Conflict of what?": a heading, not a sentence
    return ""
