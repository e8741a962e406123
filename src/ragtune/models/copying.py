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
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

# A span may start at a word that follows whitespace or punctuation: "(Keystile app)" can be copied as "Keystile".
_WORD_START = re.compile(r"(?:(?<=\s)|^)\S|(?<=[^\w\s])\w")


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)


@dataclass
class SpanTrie:
    """Token sequences an answer may follow, as a prefix tree over token ids."""

    root: _Node = field(default_factory=_Node)
    sequences: int = 0

    def add(self, ids: Sequence[int]) -> None:
        node = self.root
        for t in ids:
            node = node.children.setdefault(int(t), _Node())
        self.sequences += 1


# Words an answer does not start with. Left free, a small model starts nearly every answer with "The", restating
# the question; in a trie that leads into whatever sentence begins with "The" instead of to the answer. Without
# these starts the model's first choice is the answer's own first word (articles are dropped by answer
# normalization anyway).
NO_START = frozenset("the a an this that these those it its they their there he she his her we our".split())  # noqa: SIM905


def span_starts(text: str, avoid: Collection[str] = ()) -> list[int]:
    """Character offsets where a copied span may begin: word starts, but not at a word in NO_START or `avoid`
    (lower-case words; the answerer passes the question's content words, which start restatements, not answers)."""
    out = []
    for m in _WORD_START.finditer(text):
        word = re.match(r"\w+", text[m.start() :])
        first = word.group(0).lower() if word is not None else ""
        if first not in NO_START and first not in avoid:
            out.append(m.start())
    return out


def build_trie(
    tokenizer: Any, texts: Sequence[str], replies: Sequence[str], max_tokens: int, avoid: Collection[str] = ()
) -> SpanTrie:
    """A trie of every word-initial suffix of `texts` (at most `max_tokens` tokens each) and of `replies`."""
    avoid = frozenset(avoid)
    suffixes = [t[i:] for t in texts for i in span_starts(t, avoid)] + [r for r in replies if r]
    if not any(suffixes) and texts:  # every word was avoided: better a restating span than none
        suffixes = [t[i:] for t in texts for i in span_starts(t)]
    trie = SpanTrie()
    if not suffixes:
        return trie
    # Cut long suffixes before tokenizing: a token is rarely shorter than 2 characters, so 8 per token is generous.
    encoded = tokenizer([s[: max_tokens * 8] for s in suffixes], add_special_tokens=False)["input_ids"]
    for ids in encoded:
        if ids:
            trie.add(ids[:max_tokens])
    return trie


class CopyConstraint:
    """A transformers logits processor that keeps each row of a batch on its own trie.

    `prompt_width` is the padded prompt length: tokens after it are the answer. `end_ids` may end the answer at
    any point after its first token.
    """

    def __init__(self, tries: Sequence[SpanTrie], prompt_width: int, end_ids: Sequence[int]) -> None:
        self.tries = list(tries)
        self.prompt_width = prompt_width
        self.end_ids = sorted(set(end_ids))
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
        blocked = torch.full_like(scores, float("-inf"))
        for row, node in enumerate(self._nodes):
            if self._done[row]:
                blocked[row] = 0.0
                continue
            allowed = list(node.children)
            if started:  # never an empty answer: ending only after a first token
                allowed += self.end_ids
            if not allowed:  # the span ran out of source: the answer must end
                allowed = self.end_ids
            blocked[row, allowed] = 0.0
        return scores + blocked
