"""Whether a name in a sentence is a person's (asked with "who"/"whom") or a place's, a company's or a thing's (asked
with "what"/"which"): by the cues English gives around a name, never by a list of names. Used by the wording
(`questions`), the rules (`wellformed`) and the unanswerable swaps (`unanswerable`), which must agree on it.
"""

from __future__ import annotations

import re

from ragtune.synth.candidates import Fact

_PERSON_CUES = frozenset(
    [
        "by",
        "with",
        "engineer",
        "director",
        "manager",
        "head",
        "chief",
        "ceo",
        "founder",
        "founded",
        "co-founded",
        "chair",
        "chairs",
        "officer",
        "contact",
        "led",
        "leads",
        "named",
        "president",
        "coordinator",
        "lead",
        "author",
        "chef",
        "captain",
        "dean",
        "professor",
        "mayor",
        "minister",
        "editor",
        "secretary",
        "treasurer",
        "supervisor",
        "co-founder",
        "born",
    ]
)
# Nouns of what people are: "X is an American singer-songwriter" makes X a person.
_ROLES = frozenset(
    (
        "actor", "actress", "singer", "singer-songwriter", "songwriter", "composer", "musician", "producer", "writer",
        "novelist", "poet", "author", "politician", "player", "footballer", "artist", "painter", "scientist",
        "businessman", "businesswoman", "journalist", "filmmaker", "director", "rapper", "dancer", "comedian",
        "guitarist", "drummer", "coach", "manager", "engineer", "psychologist",
    )
)  # fmt: skip
# Verbs whose "by" names a person: "designed by Ilsa Marrow", "directed and produced by John McTiernan".
_AUTHORSHIP = re.compile(
    r"\b(?:designed|written|directed|produced|composed|founded|co-founded|created|painted|invented|led|owned|edited"
    r"|illustrated|sung|performed|played|authored|built|run|chaired|coached|managed|discovered|bred|exhibited"
    r"|is|are|was|were)\s+(?:and\s+\w+\s+)?by\s+$"
)
# Verbs of what only a person does, said of the name right before them.
_PERSONAL_VERBS = frozenset(["argued", "believed", "thought", "wrote", "married", "died", "recalled", "insisted"])
# Titles that open a person's name.
_TITLES = frozenset(
    [
        "King",
        "Queen",
        "Prince",
        "Princess",
        "Sir",
        "Lord",
        "Lady",
        "Emir",
        "Sultan",
        "General",
        "Colonel",
        "Captain",
        "President",
        "Senator",
        "Governor",
        "Saint",
        "Pope",
        "Bishop",
        "Professor",
        "Dr",
        "Mr",
        "Mrs",
        "Ms",
    ]
)
# Last words that make a capitalised run a place, a company or a thing rather than a person.
THING_HEADS = frozenset(
    [
        # documents, instruments and works: "the signed Informed Consent Form", "the Beck Depression Scale"
        "form",
        "agreement",
        "report",
        "protocol",
        "guide",
        "manual",
        "act",
        "treaty",
        "statement",
        "scale",
        "questionnaire",
        "index",
        "survey",
        "trial",
        "study",
        "project",
        "prize",
        "album",
        "film",
        "novel",
        "company",
        "hosting",
        "couriers",
        "express",
        "services",
        "systems",
        "solutions",
        "partners",
        "trust",
        "foundation",
        "council",
        "authority",
        "board",
        "shop",
        "store",
        "market",
        "centre",
        "works",
        "yard",
        "line",
        "house",
        "street",
        "road",
        "lane",
        "park",
        "hall",
        "centre",
        "center",
        "building",
        "station",
        "room",
        "works",
        "instruments",
        "lab",
        "laboratory",
        "group",
        "bank",
        "ltd",
        "inc",
        "limited",
        "school",
        "college",
        "university",
        "hub",
        "office",
        "depot",
        "bridge",
        "river",
        "city",
        "town",
        "village",
        "county",
        "river",
        "plan",
        "policy",
        "scheme",
        "programme",
        "program",
        "app",
        "portal",
        "tool",
        "system",
        # Organisations, works and places that a title-case name of two or three words often is.
        "records",
        "books",
        "press",
        "studios",
        "pictures",
        "films",
        "entertainment",
        "media",
        "airlines",
        "club",
        "team",
        "band",
        "festival",
        "award",
        "cup",
        "series",
        "league",
        "church",
        "hospital",
        "museum",
        "institute",
        "society",
        "association",
        "corporation",
        "party",
        "state",
        "province",
        "island",
        "lake",
        "mountain",
        "valley",
    ]
)


def is_person(fact: Fact, cued: bool = False) -> bool:
    """Whether a name is a person's (asked with "who"). `cued`: only on a cue in its sentence (a role word, "by",
    a title), not on the document's "he"/"she" alone."""
    before = fact.sentence[: fact.start].lower().split()[-3:]
    after = fact.sentence[fact.end :].split()[:1]
    parts = fact.answer.split()
    if (parts and parts[-1].lower() in THING_HEADS) or (before and before[-1] in ("the", "a", "an")):
        return False
    if after and after[0].strip(".,;:") in THING_HEADS:  # "Marrowgate Central station": the name of a place
        return False
    if fact.place:  # the document writes "in San Francisco": a place, whatever its form
        return False
    # A person's name is written in title case ("Ilsa Marrow", not "FL" or "SK2-114"); a cue before it or in an
    # apposition after it ("Adela Fenwright, co-founder,") makes it one, and so do two or three such words in a
    # document that speaks of someone as "he" or "she" (otherwise "Capitol Records" would be "who").
    if len(parts) > 1 and parts[0] in _TITLES:  # "Emir Ahmed Ali", "King Edgar": a title makes a person
        return all(p[:1].isupper() for p in parts[1:])
    # (Mixed case as in "McTiernan" or "DiCaprio" is title case too.)
    titled = bool(parts) and all(re.fullmatch(r"[^\W\d_a-z][^\W\d_A-Z]*(?:[A-Z'][^\W\d_A-Z]+)?", p) for p in parts)
    # "starring Nicolas Cage and Meg Ryan": a cue a few words back covers the names listed after it.
    wider = fact.sentence[: fact.start].lower().split()[-5:]
    # "by" is a cue after a verb of authorship ("designed by", "written by"), not after one of method ("confirmed by
    # Western Blot", "predicted by SOSUI").
    cue = any(w.strip(",") in _PERSON_CUES - {"by", "with"} for w in before)
    cue = cue or bool(_AUTHORSHIP.search(fact.sentence[: fact.start]))
    cue = cue or any(w in ("starring", "featuring") for w in wider)
    # "Simon Kuznets argued that ...": what only a person does, right after the name.
    cue = cue or bool(after and after[0].strip(".,;:") in _PERSONAL_VERBS)
    apposition = re.match(r"\s*[,(]\s*(\S+(?:\s+\S+)?)", fact.sentence[fact.end :])
    # "Tom Rothrock is an international record producer": the predicate names a person's role.
    role = re.match(r"\s+(?:is|was)\s+(?:an?|the)\s+((?:[\w-]+\s+){0,5}[\w-]+)", fact.sentence[fact.end :])
    cue = cue or bool(role and _ROLES.intersection(role.group(1).lower().split()))
    cue = cue or bool(apposition and any(w.strip(",()").lower() in _PERSON_CUES for w in apposition.group(1).split()))
    # One word ("SecureMac", "Coppola") is a person only with a role word before it; two or three with any cue.
    if len(parts) < 2:
        return titled and any(w.strip(",") in _PERSON_CUES - {"by", "with"} for w in before)
    return titled and (cue or (len(parts) in (2, 3) and fact.personal and not cued))
