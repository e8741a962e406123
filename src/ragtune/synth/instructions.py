"""Instructions told from statements: a sentence that instructs ("Train each muscle group once a day ...", "Do not
exceed 4 doses") has no subject, so a question made from it asks as if it stated something ("train 10 times ...,
with how many seconds of rest?"). Moved out of `wellformed` as it stands alone: one word list and one test."""

from __future__ import annotations

import re

from ragtune.synth.questions import AUXILIARIES

# Verbs that open an instruction ("Train each muscle group ...", "See Safety Measurement on ...", "Store the
# samples at ..."): the sentence has no subject, so a question made from it has none either ("According to the
# documents, train 10 times ..., with how many seconds of rest?"). Only words that are verbs in that place; a noun
# among them ("Record", "Visit", "Type") opens a sentence only with a determiner or before its own verb, which
# `is_instruction` checks.
_INSTRUCTION_VERBS = frozenset(
    (
        "add", "adjust", "administer", "allow", "apply", "ask", "attach", "avoid", "call", "centrifuge", "change",
        "check", "choose", "clean", "click", "collect", "complete", "configure", "confirm", "connect", "consider",
        "consult", "contact", "copy", "create", "delete", "dilute", "disable", "discard", "disconnect", "download",
        "enable", "ensure", "enter", "fill", "follow", "give", "hold", "incubate", "inform", "insert", "install",
        "keep", "let", "lift", "make", "measure", "mix", "navigate", "note", "notify", "obtain", "open", "perform",
        "place", "plug", "prepare", "press", "print", "pull", "push", "put", "read", "record", "refer", "remember",
        "remove", "repeat", "replace", "report", "restart", "return", "review", "rinse", "rotate", "run", "save",
        "see", "select", "send", "set", "sign", "slide", "specify", "start", "stop", "store", "submit", "switch",
        "take", "tap", "tighten", "train", "try", "turn", "type", "unplug", "update", "upload", "use", "verify",
        "visit", "wait", "wash",
    )
)  # fmt: skip
# What follows an instruction's verb: its object's determiner, or a particle.
_OBJECT_START = re.compile(
    r"(?:the|a|an|each|every|all|your|this|these|those|any|both|no|its|their|up|out|on|off|for|with|at|to)\b"
)
# Of those verbs, the ones that are also nouns numbered or named ("Type I IFN production ...", "Visit 3 takes ...",
# "Open Day at ..."): before a number or a capital they open a statement or a heading, not an instruction.
_NUMBERED_NOUNS = frozenset(
    ("type", "visit", "set", "run", "record", "report", "note", "stop", "start", "change", "open", "complete",
     "update", "review", "sign", "switch", "call", "return", "copy", "print", "measure", "store", "mix", "place")
)  # fmt: skip


def is_instruction(sentence: str) -> bool:
    """`sentence` instructs ("Train each muscle group once a day ...", "Do not exceed 4 doses", "Please return
    ..."): an instruction verb before its object, and no auxiliary before the first comma ("Visit 3 will be ...",
    "Type 2 diabetes is ..." are statements)."""
    text = sentence.lstrip("\"“‘' ")
    if re.match(r"(?:Do not|Don't|Never|Please)\s+[a-z]", text):
        return True
    words = text.split(maxsplit=2)
    if len(words) < 2 or not words[0][:1].isupper() or words[0].lower() not in _INSTRUCTION_VERBS:
        return False
    verb, after = words[0].lower(), words[1]
    numbered = after[:1].isdigit() or after[:1].isupper()
    if not (_OBJECT_START.match(after) or (numbered and verb not in _NUMBERED_NOUNS)):
        return False
    return not AUXILIARIES.intersection(re.findall(r"[a-z]+", text.split(",")[0].lower()))
