"""Copy-constrained decoding with the real default model: answers are spans of the given texts, or the reply."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ragtune.models.copying import build_trie, span_starts
from ragtune.models.generator import CopyingGenerator, CopySpec, GenerationParams, Message

SOURCE = "The Zorvath bridge was opened in 1931 by the engineer Ilse Mahr (born in Keelby)."
REPLY = "The documents do not say."


def _conversation(question: str, source: str) -> list[Message]:
    return [
        Message("system", "Answer the question with a few words copied from the source."),
        Message("user", f"Source: {source}\n\nQuestion: {question}"),
    ]


def test_spans_start_at_words_and_after_punctuation_but_not_at_articles() -> None:
    starts = [SOURCE[i:].split()[0] for i in span_starts(SOURCE)]
    assert starts[:3] == ["Zorvath", "bridge", "was"]
    assert "the" not in starts and "The" not in starts  # a restating "The ..." cannot lead into a source sentence
    assert "Keelby)." in starts  # after "(": a name in brackets can be copied without the bracket
    assert "(born" in starts
    # The question's own words start restatements, not answers: the answerer passes them to avoid.
    avoided = [SOURCE[i:].split()[0] for i in span_starts(SOURCE, avoid={"zorvath", "bridge"})]
    assert "Zorvath" not in avoided and "bridge" not in avoided and "Ilse" in avoided


def test_trie_holds_every_word_suffix_cut_at_the_token_limit(generator: Any) -> None:
    tok = generator.tokenizer
    trie = build_trie(tok, [SOURCE], [REPLY], max_tokens=4)
    assert trie.sequences == len(span_starts(SOURCE)) + 1
    # "Ilse Mahr" tokenized as an answer's start is a path from the root.
    node = trie.root
    for t in tok("Ilse Mahr", add_special_tokens=False)["input_ids"]:
        assert t in node.children
        node = node.children[t]
    # No path is longer than the limit.
    depth, frontier = 0, [trie.root]
    while frontier:
        frontier = [c for n in frontier for c in n.children.values()]
        depth += bool(frontier)
    assert depth == 4


def test_generated_answers_are_spans_of_their_own_sources(generator: Any) -> None:
    assert isinstance(generator, CopyingGenerator)
    sources = [SOURCE, "Quorrin's headquarters is Lantern House, 14 Tallow Street, in Marrowgate."]
    questions = ["Who opened the Zorvath bridge?", "On which street is Quorrin's headquarters?"]
    params = GenerationParams(max_new_tokens=12)
    results = generator.generate_copying(
        [_conversation(q, s) for q, s in zip(questions, sources, strict=True)],
        [
            CopySpec((s,), avoid_starts=frozenset(re.findall(r"\w+", q.lower())))
            for q, s in zip(questions, sources, strict=True)
        ],
        params,
    )
    for result, source in zip(results, sources, strict=True):
        answer = result.text.split("[")[0].strip()
        assert answer, result
        assert answer in source or answer == REPLY, (answer, source)
    # The model picks the right span here; free generation of this model often does not.
    assert "Mahr" in results[0].text
    assert "Tallow" in results[1].text


def test_streaming_follows_the_same_constraint(generator: Any) -> None:
    spec = CopySpec((SOURCE,))
    stream = generator.stream_copying(
        _conversation("When was the bridge opened?", SOURCE), spec, GenerationParams(max_new_tokens=8)
    )
    streamed = "".join(stream)
    batched = generator.generate_copying(
        [_conversation("When was the bridge opened?", SOURCE)], [spec], GenerationParams(max_new_tokens=8)
    )[0]
    assert streamed.strip() == batched.text
    # Both report the model's confidence in the same answer.
    assert stream.extra["mean_logprob"] == pytest.approx(batched.extra["mean_logprob"], abs=1e-3)
    assert stream.extra["mean_logprob"] <= 0.0
    assert streamed.split("[")[0].strip() in SOURCE


def test_copy_specs_must_match_conversations(generator: Any) -> None:
    from ragtune.errors import RagtuneError

    with pytest.raises(RagtuneError, match="copy specs"):
        generator.generate_copying([_conversation("q?", SOURCE)], [], GenerationParams())
