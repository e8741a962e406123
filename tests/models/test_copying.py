"""Copy-constrained decoding with the real default model: answers are spans of the given texts, or the reply."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ragtune.models.copying import (
    CopyConstraint,
    SpanTrie,
    build_trie,
    distances_to_anchors,
    span_starts,
)
from ragtune.models.generator import CopyingGenerator, CopySpec, GenerationParams, Message
from ragtune.text import answer_type

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


def test_spans_start_neither_at_a_preposition_nor_inside_a_possessive() -> None:
    text = "Granite is found in limestone regions of California's north, by the coast."
    starts = [text[i:].split()[0] for i in span_starts(text)]
    assert "limestone" in starts and "north," in starts and "coast." in starts
    assert not {"in", "of", "by"} & set(starts)  # the tail of a phrase, not an answer's start
    assert text.index("s north") not in span_starts(text)  # the "s" of "California's"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many rail tracks does the bridge carry?", "number"),
        ("Out of the box, a Brindle SP-7 measures once every how many minutes?", "number"),
        ("In what year was the bridge opened?", "number"),
        ("What daily amount for meals does the firm pay?", "number"),
        ("What top speed applies to trams on the bridge?", "number"),
        ("What is the standard measurement interval of the bridge's sensors?", "number"),  # "what is the" + 2 words
        ("What was the first day of tolls on the bridge?", "time"),
        ("Which company sets the price of a ticket?", ""),  # the measure is not what the question asks for
        ("What colour is the bridge painted?", ""),
        ("When was the bridge opened?", "time"),
        ("At what hour does the bridge close?", "time"),
        ("Which day in May is the bridge closed?", "time"),
        ("What time period does the bridge's history cover?", ""),
        ("Who opened the Zorvath bridge?", "name"),
        ("By whom was the bridge opened?", "name"),
        ("What does the bridge span?", ""),
        ("What does a crossing of the bridge cost at night?", "number"),
        ("What do cyclists pay to cross?", "number"),
        ("What did the engineers charge the town for repairs?", "number"),
    ],
)
def test_answer_type_from_the_questions_wording(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_typed_starts_keep_spans_of_the_asked_kind_or_all_when_none_fits() -> None:
    first = [SOURCE[i:].split()[0] for i in span_starts(SOURCE, kind="number")]
    assert first == ["1931"]
    names = [SOURCE[i:].split()[0] for i in span_starts(SOURCE, kind="name")]
    assert "Ilse" in names and "Zorvath" in names and "opened" not in names
    months = "Founded in March, the club meets every winter."
    assert [months[i:].split()[0] for i in span_starts(months, kind="time")] == ["March,", "winter."]
    # The digits of a product's name are not a quantity; a number after a lower-case prefix still is.
    codes = "The Brindle SP-7 and the Skellet S3 read every 15 minutes, as they have since the mid-1990s."
    assert [codes[i:].split()[0] for i in span_starts(codes, kind="number")] == ["15", "1990s."]
    # Nor does a span start inside a number: "000" of "$2,000", "3" of "6.3", "30" of "7:30".
    inside = "It costs $2,000 a year, version 6.3, opens at 7:30 daily."
    assert [inside[i:].split()[0] for i in span_starts(inside, kind="number")] == ["2,000", "6.3,", "7:30"]
    # A number word at the tail of a compound is not a quantity; a compound number starts at its head.
    compound = "An all-in-one station that twenty-one schools use."
    assert [compound[i:].split()[0] for i in span_starts(compound, kind="number")] == ["twenty-one"]


def test_answers_end_only_at_a_words_end_after_a_content_word(generator: Any) -> None:
    tok = generator.tokenizer
    trie = build_trie(tok, ["When the 1970s came, the group had left."], [], max_tokens=12)
    path = tok("When the 1970s", add_special_tokens=False)["input_ids"]
    node, ends = trie.root, []
    for t in path:
        node = node.children[t]
        ends.append(node.can_end)
    text = [tok.decode(path[: k + 1]) for k in range(len(path))]
    can_end = {t for t, e in zip(text, ends, strict=True) if e}
    assert "When the 1970s" in can_end
    assert "When" not in can_end and "When the" not in can_end  # function words alone say nothing
    assert not any(t.endswith(("19", "197")) for t in can_end)  # never inside a number


def _longest_paths(tok: Any, trie: Any) -> set[str]:
    """Every whole path of the trie, decoded: the longest answers it allows."""
    out, stack = set(), [(trie.root, [])]
    while stack:
        node, path = stack.pop()
        if not node.children:
            out.add(tok.decode(path))
        stack += [(child, [*path, t]) for t, child in node.children.items()]
    return out


def test_a_typed_answer_ends_at_its_clause_break(generator: Any) -> None:
    tok = generator.tokenizer
    text = "Probes last 4 years, or sooner if they break; the lab opens at 7:30 (Mondays 9:00) since June 4, 1990."
    paths = _longest_paths(tok, build_trie(tok, [text], [], max_tokens=30, kind="number"))
    assert "4 years" in paths  # not "4 years, or sooner ..."
    assert "7:30" in paths  # the colon of a time is no break; the bracket after it is
    assert "4, 1990." in paths  # nor is the comma before a year
    untyped = _longest_paths(tok, build_trie(tok, [text], [], max_tokens=30))
    assert any(p.startswith("4 years, or sooner") for p in untyped)  # other answers run on as before
    names = "Ask Hollis Breck (our officer), or Ivo; he helps."
    named = _longest_paths(tok, build_trie(tok, [names], [], max_tokens=30, kind="name"))
    assert "Hollis Breck" in named and "Ivo" in named


def test_the_wish_to_cite_ends_a_span_only_for_rows_that_ask() -> None:
    import torch

    tries = [SpanTrie(), SpanTrie()]
    for trie in tries:
        trie.add([5, 6, 7])
    end, cite = 0, 9
    constraint = CopyConstraint(tries, prompt_width=2, end_ids=[end], end_like_ids=[cite], end_like_rows=[True, False])
    scores = torch.full((2, 10), -10.0)
    scores[:, cite] = 5.0  # after "5" the model wants to cite
    scores[:, 6] = 1.0
    input_ids = torch.tensor([[1, 2, 5], [1, 2, 5]])
    out = constraint(input_ids, scores)
    assert int(out[0].argmax()) == end  # the citation's probability went to the end
    assert int(out[1].argmax()) == 6  # the other row goes on copying
    assert out[0, cite] == float("-inf") and out[1, cite] == float("-inf")


def test_starts_near_the_questions_words_get_the_higher_prior(generator: Any) -> None:
    text = "In Poland, the mayors of bigger cities are called presidents by law."
    anchors = {"mayor", "warsaw", "called"}
    starts = [text.index(w) for w in ("presidents", "Poland", "law")]
    # right after "called"; "mayors" meets "mayor"; three words from "called"
    assert distances_to_anchors(text, starts, anchors) == [1, 2, 3]
    assert distances_to_anchors(text, starts[-1:], {"nowhere"}) == [8]  # no question word: far
    # A start at a question word (by stem) restates the question: far too.
    assert distances_to_anchors(text, [text.index("mayors")], anchors) == [8]
    # Stems meet where the first five letters do not: "opens" is next to the asked "open".
    hours = "The canteen opens at 8:00. The bar stays open until 16:30."
    assert distances_to_anchors(hours, [hours.index("8:00")], {"open"}) == [2]
    tok = generator.tokenizer
    trie = build_trie(tok, [text], [], max_tokens=6, avoid=anchors, proximity=0.5)
    first = {w: tok(w, add_special_tokens=False)["input_ids"][0] for w in ("presidents", "Poland", "law")}
    assert trie.start_bias[first["presidents"]] == 0.0
    assert trie.start_bias[first["Poland"]] == -0.5
    assert trie.start_bias[first["law"]] == -1.0
    assert not build_trie(tok, [text], [], max_tokens=6, avoid=anchors).start_bias.get(first["law"])


def test_the_start_prior_shifts_only_the_first_token() -> None:
    import torch

    trie = SpanTrie()
    trie.add([5, 6], bias=0.0)
    trie.add([7, 8], bias=-3.0)
    constraint = CopyConstraint([trie], prompt_width=1, end_ids=[0])
    scores = torch.zeros((1, 10))
    scores[0, 7] = 2.0  # the model prefers 7 by 2, the prior takes 3 away
    first = constraint(torch.tensor([[1]]), scores.clone())
    assert int(first[0].argmax()) == 5
    later = constraint(torch.tensor([[1, 7]]), scores.clone())
    assert float(later[0, 8]) == 0.0  # no prior after the start


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
