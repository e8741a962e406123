"""Copy-constrained decoding: the answer is a span copied from given texts, or one of a few fixed replies.

Why: a 135M model asked to answer from sources knows *where* the answer is far better than it can phrase it. Left
free it restates the question, copies a heading, or invents a plausible number ("approximately 1.5 meters"). If
every token it may produce continues a span of the sources, the model's own probabilities choose which span and
where it ends, and the answer is checkable by construction. Extractive readers work this way; here the generator
is the reader, so no second model is needed.

How: every suffix of every source that starts at a word is tokenized (as the answer's first word, without a leading
space) and put in a token trie, cut at the answer's token limit. While generating, a row may only take a child of
its trie node or an end-of-turn token. No citation brackets: where a span was copied from says which source backs
it. Fixed replies, when given, are in the trie too.

Where a span starts is what a small model gets wrong most (on SQuAD the answer was shown for 0.87 of questions and
copied for a third of those), so the start gets two priors: the kind of answer the question asks for (a number for
"how many", a name for "who": `answer_type`) and nearness to the question's words in the sentence (a log-prior per
word of distance). Where it ends: only at a word's end once it holds a content word, and, if asked, where the model
would write its citation (the prompt's example answers "Ilse Mahr [1]").
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# A span may start at a word that follows whitespace or punctuation: "(Keystile app)" can be copied as "Keystile".
# Not after an apostrophe: the "s" of "California's" starts nothing.
_WORD_START = re.compile(r"(?:(?<=\s)|^)\S|(?<=[^\w\s'’])\w")


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    can_end: bool = False  # the text up to here is a whole answer: it ends at a word's end and says something


@dataclass
class SpanTrie:
    """Token sequences an answer may follow, as a prefix tree over token ids."""

    root: _Node = field(default_factory=_Node)
    sequences: int = 0
    start_bias: dict[int, float] = field(default_factory=dict)  # first token -> log-prior of starting there

    def add(self, ids: Sequence[int], ends: Sequence[bool] | None = None, bias: float = 0.0) -> None:
        """Add a token sequence; `ends[k]` says whether an answer may end after its first k + 1 tokens (default:
        anywhere); `bias` is added to the model's score of the sequence's first token (the best of the sequences
        that share it)."""
        if ids:
            first = int(ids[0])
            self.start_bias[first] = max(bias, self.start_bias.get(first, -math.inf))
        node = self.root
        for k, t in enumerate(ids):
            node = node.children.setdefault(int(t), _Node())
            node.can_end = node.can_end or (ends is None or ends[k])
        self.sequences += 1


# Words an answer does not start with. Left free, a small model starts nearly every answer with "The", restating
# the question; in a trie that leads into whatever sentence begins with "The" instead of to the answer. Without
# these starts the model's first choice is the answer's own first word (articles are dropped by answer
# normalization anyway).
# Nor with a preposition or a conjunction: "in limestone", "of the Scottish National Party" are the tail of a phrase
# whose head the question asked about; the answer is the word after them ("in 1990" is matched by "1990").
NO_START = frozenset(
    "the a an this that these those it its they their there he she his her we our "  # noqa: SIM905
    "of to for by on at in with from as and or but than".split()
)
# An answer made of these alone says nothing ("By", "in", "On"): it may not end there.
_FUNCTION_WORDS = NO_START | frozenset(
    "by on in at of to for from with as and or but if then than so not no is are was were be been has have had do "  # noqa: SIM905
    "does did will would can could may might must shall should which who whom whose what when where why how i e "
    "eg ie s".split()
)


_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "  # noqa: SIM905
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "trillion dozen dozens hundreds thousands millions billions half twice".split()
)
_TIME_WORDS = frozenset(
    "january february march april may june july august september october november december spring summer autumn "  # noqa: SIM905
    "fall winter monday tuesday wednesday thursday friday saturday sunday".split()
)
# Where a typed answer ends at the latest: a number or a time is the quantity with its unit, and after a clause break
# comes context ("4 years, or sooner if they break", "28 days of paid annual leave, plus public holidays"); a name
# ends before a bracket or a semicolon ("Hollis Breck (Data Protection Officer)"). Not at the comma of "June 4, 1990"
# nor the colon of "7:30". On all 242 answerable SQuAD questions: F1 0.308 -> 0.321, accuracy unchanged.
_QUANTITY_BREAK = re.compile(r"[;(]|[,:] (?!\d{4}\b)")
_CLAUSE_BREAK = {"number": _QUANTITY_BREAK, "time": _QUANTITY_BREAK, "name": re.compile(r"[;(]")}


def _end_points(text: str, offsets: Sequence[tuple[int, int]]) -> list[bool]:
    """Per token of `text`: whether an answer may end after it. Not inside a word or a number ("19" of "1970s"),
    and not before the answer has a word that is not a function word."""
    out, content = [], False
    for start, end in offsets:
        content = content or any(w.lower() not in _FUNCTION_WORDS for w in re.findall(r"\w+", text[start:end]))
        out.append(content and (end >= len(text) or not text[end].isalnum()))
    return out


# A number glued by a hyphen to a code in capitals or digits belongs to a name ("SP-7", "AQ-2", "SK2-114"), not to
# a quantity; "mid-1990s" stays a number.
_CODE_TAIL = re.compile(r"[A-Z0-9]-$")


def _fits_type(word: str, kind: str, before: str = "") -> bool:
    if not kind:
        return True
    lower = word.lower()
    # "S3" or "AQ" is a product's name even with a digit in it; a quantity starts with its digits. A number word
    # after a hyphen is the tail of a compound ("all-in-one", "twenty-one" starts at "twenty").
    numeric = (word[:1].isdigit() and not _CODE_TAIL.search(before)) or (
        lower in _NUMBER_WORDS and not before.endswith("-")
    )
    if kind == "number":
        return numeric
    if kind == "time":
        return numeric or lower in _TIME_WORDS
    return word[:1].isupper()  # "name": a proper noun


_INSIDE_NUMBER = re.compile(r"\d[,.:]\d")


def span_starts(text: str, avoid: Collection[str] = (), kind: str = "") -> list[int]:
    """Character offsets where a copied span may begin: word starts, but not at a word in NO_START or `avoid`
    (lower-case words; the answerer passes the question's content words, which start restatements, not answers),
    and only at words of the answer's `kind` when one is given (see `answer_type`)."""
    out = []
    for m in _WORD_START.finditer(text):
        if _INSIDE_NUMBER.match(text, max(0, m.start() - 2)) and m.start() >= 2:  # "000" of "$2,000", "30" of "7:30"
            continue
        word = re.match(r"\w+", text[m.start() :])
        first = word.group(0) if word is not None else ""
        fits = _fits_type(first, kind, text[max(0, m.start() - 2) : m.start()])
        if first.lower() not in NO_START and first.lower() not in avoid and fits:
            out.append(m.start())
    return out


_PROXIMITY_CAP = 8  # words: farther than this from every question word is simply "far"


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def _stems(word: str) -> set[str]:
    """A word's first five letters, as written and stemmed: "mayors" meets "mayor", "founded" meets "founder",
    "opens" meets "open", "Varne" meets "Varneholm". Crude, and enough for nearness."""
    lower = word.lower()
    return {lower[:5], str(_stemmer().stemWord(lower))[:5]}


def distances_to_anchors(text: str, starts: Sequence[int], anchors: Collection[str]) -> list[int]:
    """Per start offset: words between the word there and the nearest word of `text` that is one of `anchors` (the
    question's words); `_PROXIMITY_CAP` when none is nearer, or when the word there is itself one of them by stem
    ("Varne" asked about "Varneholm"): such a start restates the question, which is what `avoid` keeps out too."""
    stems = {s for a in anchors for s in _stems(a)}
    found = list(re.finditer(r"\w+", text))
    positions = [m.start() for m in found]
    marks = [i for i, m in enumerate(found) if _stems(m.group()) & stems]
    out = []
    for start in starts:
        here = bisect.bisect_left(positions, start)  # the first word at or after the start
        near = min([abs(here - i) for i in marks] + [_PROXIMITY_CAP])
        out.append(_PROXIMITY_CAP if near == 0 else near)
    return out


def build_trie(
    tokenizer: Any,
    texts: Sequence[str],
    replies: Sequence[str],
    max_tokens: int,
    avoid: Collection[str] = (),
    kind: str = "",
    proximity: float = 0.0,
    reply_bias: Sequence[float] = (),
) -> SpanTrie:
    """A trie of every word-initial suffix of `texts` (at most `max_tokens` tokens each) and of `replies`.
    Suffixes start at words of the answer's `kind` where the texts have any (else at any word), and then end at the
    kind's first clause break (`_CLAUSE_BREAK`). With `proximity` > 0 a start loses that much log-probability per
    word it stands away from the nearest of the question's words (`avoid`): an answer is usually written next to
    what the question asks about. `reply_bias` adds a log-prior to each reply's first token."""
    avoid = frozenset(avoid)
    starts = [(t, span_starts(t, avoid, kind)) for t in texts]
    if kind and not any(s for _, s in starts):  # no word of that kind shown: the answer may be worded otherwise
        starts = [(t, span_starts(t, avoid)) for t in texts]
        kind = ""
    if not any(s for _, s in starts) and texts:  # every word was avoided: better a restating span than none
        starts = [(t, span_starts(t)) for t in texts]

    suffixes: list[tuple[str, float]] = []
    for text, offsets in starts:
        far = distances_to_anchors(text, offsets, avoid) if proximity > 0 else [1] * len(offsets)
        suffixes += [(text[i:], -proximity * max(0, d - 1)) for i, d in zip(offsets, far, strict=True)]
    from_sources = len(suffixes)  # the fixed replies after them are never cut
    bias = list(reply_bias) + [0.0] * (len(replies) - len(reply_bias))
    suffixes += [(r, b) for r, b in zip(replies, bias, strict=True) if r]
    trie = SpanTrie()
    if not suffixes:
        return trie
    # Cut long suffixes before tokenizing: a token is rarely shorter than 2 characters, so 8 per token is generous.
    cut = [s[: max_tokens * 8] for s, _ in suffixes]
    encoded = tokenizer(cut, add_special_tokens=False, return_offsets_mapping=True)
    clause_break = _CLAUSE_BREAK.get(kind)
    rows = zip(cut, suffixes, encoded["input_ids"], encoded["offset_mapping"], strict=True)
    for k, (text, (_, b), ids, offsets) in enumerate(rows):
        keep = max_tokens
        if clause_break is not None and k < from_sources and (found := clause_break.search(text, 1)) is not None:
            keep = min(keep, sum(1 for _, end in offsets if end <= found.start()))
        if ids[:keep]:
            trie.add(ids[:keep], _end_points(text, offsets[:keep]), b)
    return trie


class CopyConstraint:
    """A transformers logits processor that keeps each row of a batch on its own trie.

    `prompt_width` is the padded prompt length: tokens after it are the answer. `end_ids` may end the answer at
    any point after its first token. `end_like_ids` are tokens with which the model would close its answer in its
    own format (" [" before a citation: the prompt's example answers "Ilse Mahr [1]"): they cannot be copied, so
    their probability is added to the end token's instead of flowing into the span's continuation. Without this
    the model, having copied the answer, meets its wish to cite blocked and copies on to the end of the sentence.
    """

    def __init__(
        self,
        tries: Sequence[SpanTrie],
        prompt_width: int,
        end_ids: Sequence[int],
        end_like_ids: Sequence[int] = (),
        end_like_rows: Sequence[bool] | None = None,
    ) -> None:
        self.tries = list(tries)
        self.prompt_width = prompt_width
        self.end_ids = sorted(set(end_ids))
        self.end_like_ids = sorted(set(end_like_ids) - set(end_ids))
        # Which rows end where the model would cite (all by default).
        rows = [True] * len(self.tries) if end_like_rows is None else list(end_like_rows)
        self._fold_rows = [i for i, fold in enumerate(rows) if fold]
        self._nodes = [t.root for t in self.tries]
        self._done = [False] * len(self.tries)
        self._seen = 0  # answer tokens already walked

    def _advance(self, new_tokens: Any) -> None:
        for step in range(self._seen, new_tokens.shape[1]):
            column = new_tokens[:, step].tolist()
            for row, token in enumerate(column):
                if self._done[row]:
                    continue
                child = self._nodes[row].children.get(int(token))
                if child is not None:
                    self._nodes[row] = child
                else:  # an end token (or padding after it): the row is finished
                    self._done[row] = True
        self._seen = new_tokens.shape[1]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        self._advance(input_ids[:, self.prompt_width :])
        started = self._seen > 0
        if started and self.end_like_ids and self.end_ids and self._fold_rows:
            end, like, rows = self.end_ids[0], self.end_like_ids, self._fold_rows
            folded = torch.logsumexp(torch.cat([scores[rows][:, [end]], scores[rows][:, like]], dim=1), dim=1)
            scores = scores.clone()
            scores[rows, end] = folded
        blocked = torch.full_like(scores, float("-inf"))
        for row, node in enumerate(self._nodes):
            if self._done[row]:
                blocked[row] = 0.0
                continue
            allowed = list(node.children)
            if started and node.can_end:  # never an empty answer, nor one that ends inside a word
                allowed += self.end_ids
            if not allowed:  # the span ran out of source: the answer must end
                allowed = self.end_ids
            blocked[row, allowed] = 0.0
            if not started and self.tries[row].start_bias:  # where the span starts: the prior, if any
                prior = self.tries[row].start_bias
                firsts = list(node.children)
                blocked[row, firsts] = torch.tensor([prior.get(t, 0.0) for t in firsts], dtype=blocked.dtype)
        return scores + blocked
