"""The base form of a past-tense verb ("merged" -> "merge", "founded" -> "found", "won" -> "win"), by the spelling
rules of English, for a question that asks with "did" ("On which date did Square merge with Enix?"). Where the
spelling leaves two bases open ("visited"/"united", "hoped"/"developed", "called"/"controlled") it gives none, and
the question is not asked that way: a wrong base ("focuse") would be worse than the sentence's own word."""

from __future__ import annotations

import re

# Common irregular pasts (and regular ones the rules below would get wrong).
_IRREGULAR = {
    "began": "begin", "became": "become", "won": "win", "wrote": "write", "took": "take", "gave": "give",
    "grew": "grow", "rose": "rise", "sang": "sing", "fought": "fight", "underwent": "undergo", "came": "come",
    "went": "go", "drew": "draw", "fell": "fall", "flew": "fly", "knew": "know", "saw": "see", "chose": "choose",
    "drove": "drive", "spoke": "speak", "ran": "run", "built": "build", "held": "hold", "led": "lead", "made": "make",
    "sold": "sell", "spent": "spend", "brought": "bring", "bought": "buy", "taught": "teach", "lost": "lose",
    "paid": "pay", "sent": "send", "struck": "strike", "told": "tell", "kept": "keep", "met": "meet",
    "died": "die", "created": "create", "recreated": "recreate", "wasted": "waste", "tasted": "taste",
}  # fmt: skip

# Endings whose base is not clear from the spelling: "called"/"controlled", "added"/"nodded", "visited"/"united",
# "developed"/"hoped", "loaded"/"graded", "flooded"/"eroded", "targeted"/"completed", "focused"/"caused",
# "monitored"/"explored", "tuned", "mentioned"/"cloned" (only "-ioned" is clear).
_UNCLEAR = re.compile(r"(?:lled|dded|ited|oped|aded|oded|eted|uned|used|ored|[^i]oned)$")
# Endings that cut "d" (the base ends in "e"): created, voted, executed, analyzed, released, closed, licensed,
# produced, moved, changed, merged, judged, described, enabled, compiled, measured, compared, acquired, named,
# defined, invoked, included, decided.
_CUT_D = re.compile(
    r"(?:(?<![eo])ated|[^o]oted|uted|[iy][zs]ed|eased|aised|osed|[nrlp]sed|[cv]ed|(?:an|r|d|l)ged|ibed|[bcpgktdfz]led"
    r"|[^aeiou][iuoy]led|[^o]ured|[^e]ared|[^a]ired|[^aeiou][aeiou]med|[^aeo]ined|[^aeiou][aeiou]ked"
    r"|[^aeiou][ui]ded)$"
)
# Endings that cut "ed": started, founded, launched; claimed, revealed, treated; showed, played, fixed; opened,
# entered, traveled, mentioned.
_CUT_ED = re.compile(r"(?:[^aeiouy]{2}|[aeiou]{2}[^aeiouwyx]|[aeiou][wyx]|er|en|el|ion)ed$")


def base_form(past: str) -> str | None:
    """The base form of `past` (a past-tense form, any case), or None where it is not clear or no past form."""
    word = past.lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if not re.fullmatch(r"[a-z]{3,}ed", word):
        return None
    if re.search(r"[^aeiou]ied$", word):
        return word[:-3] + "y"  # studied, married
    if word.endswith("eed"):
        return word[:-1]  # agreed
    if _UNCLEAR.search(word):
        return None
    if re.search(r"(?:ss|zz|ff)ed$", word):
        return word[:-2]  # passed, buzzed, staffed
    if re.search(r"([bgmnprt])\1ed$", word):
        return word[:-3]  # stopped, planned, admitted, occurred
    if _CUT_D.search(word):
        return word[:-1]
    if _CUT_ED.search(word):
        return word[:-2]
    return None
