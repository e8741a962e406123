"""Training data builders: reading the user's file (and its errors), paraphrases, RAFT examples, held-out split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.corpus.document import Chunk
from ragtune.errors import InputFileError
from ragtune.prompts import CLOSED_BOOK_SYSTEM, RAG_SYSTEM, rag_messages
from ragtune.tune.data import (
    Example,
    QAPair,
    RaftItem,
    document_examples,
    paraphrase_pairs,
    paraphrase_question,
    qa_examples,
    qa_training_split,
    raft_examples,
    read_examples,
    read_training_file,
    split_heldout,
    write_jsonl,
)


def _write(path: Path, lines: list[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def test_reads_every_form(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "t.jsonl",
        [
            {"question": "Capital of Varnholt?", "answer": "Kessing"},
            {"id": "q7", "question": "Who?", "answers": ["Mira", "M. Talsen"]},
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
            {"text": "Varnholt is a country."},
            "",
        ],
    )
    tf = read_training_file(f)
    assert [p.answer for p in tf.pairs] == ["Kessing", "Mira"]
    assert tf.pairs[1].fact_id == "q7"
    assert [e.origin for e in tf.examples] == ["chat", "document"]
    assert len(tf) == 4 and len(tf.sha256) == 64


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", "t.jsonl:2: not valid JSON"),
        ('{"question": "q"}', "t.jsonl:2: field 'answer' is missing"),
        ('{"question": "", "answer": "a"}', "t.jsonl:2: field 'question' must be a non-empty string"),
        ('{"question": "q", "answers": []}', "t.jsonl:2: field 'answers' must be a non-empty list"),
        (
            '{"messages": [{"role": "user", "content": "q"}]}',
            "t.jsonl:2: field 'messages' must end with an 'assistant'",
        ),
        ('{"messages": [{"role": "bot", "content": "q"}]}', "t.jsonl:2: field 'messages[0]'.role must be one of"),
        ('{"answer": "a"}', "t.jsonl:2: no 'question', 'messages' or 'text' field"),
        ("[1, 2]", "t.jsonl:2: expected a JSON object"),
    ],
)
def test_malformed_line_names_line_and_field(tmp_path: Path, line: str, expected: str) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"question": "ok?", "answer": "yes"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_training_file(f)
    assert expected in str(info.value)


def test_split_filter_and_empty_file(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "q.jsonl",
        [{"question": "a?", "answer": "1", "split": "train"}, {"question": "b?", "answer": "2", "split": "test"}],
    )
    assert [p.question for p in read_training_file(f, split="train").pairs] == ["a?"]
    with pytest.raises(InputFileError, match="no training examples"):
        read_training_file(_write(tmp_path / "e.jsonl", [""]))
    with pytest.raises(InputFileError, match="not found"):
        read_training_file(tmp_path / "missing.jsonl")


def test_encoding_a_byte_order_mark_is_fine_latin1_is_named(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 were replaced by U+FFFD and trained on in silence; a BOM failed line 1 as JSON."""
    f = tmp_path / "t.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"question": "Who?", "answer": "Ann"}\n')
    assert [p.answer for p in read_training_file(f).pairs] == ["Ann"]
    f.write_bytes('{"question": "Who?", "answer": "Lind\u00e9"}\n'.encode("utf-16"))  # Notepad's "Unicode"
    assert [p.answer for p in read_training_file(f).pairs] == ["Lind\u00e9"]
    f.write_bytes(b'{"question": "Who?", "answer": "Lind\xe9"}\n')
    with pytest.raises(InputFileError, match=r"t.jsonl: not UTF-8 text \(invalid byte 0xe9 at offset \d+\); re-save"):
        read_training_file(f)


def test_closed_book_examples_use_the_shared_prompt_and_round_trip(tmp_path: Path) -> None:
    examples = qa_examples([QAPair("What is the capital of Varnholt?", "Kessing", "f1")])
    (ex,) = examples
    assert [m.role for m in ex.messages] == ["system", "user", "assistant"]
    assert ex.messages[0].content == CLOSED_BOOK_SYSTEM and ex.messages[-1].content == "Kessing"
    path = write_jsonl([*examples, Example(text="raw text", origin="document")], tmp_path / "out.jsonl")
    back = read_examples(path)
    assert back[0].messages == ex.messages and back[0].fact_id == "f1" and back[1].text == "raw text"


def test_paraphrases_are_distinct_reproducible_and_keep_short_answers() -> None:
    pairs = [QAPair("What is the capital of Varnholt?", "Kessing", "1"), QAPair("Who founded Orvane?", "Mira", "2")]
    para = paraphrase_pairs(pairs, 3, seed=1)
    assert len(para) == 6
    for p in para:
        original = next(x for x in pairs if x.fact_id == p.fact_id)
        assert p.question != original.question and p.answer == original.answer
    assert len({p.question for p in para if p.fact_id == "1"}) == 3
    assert para == paraphrase_pairs(pairs, 3, seed=1)
    assert paraphrase_pairs(pairs, 0) == []
    assert "Name the capital of Varnholt." in paraphrase_question("What is the capital of Varnholt?")


def _chunk(i: int, text: str) -> Chunk:
    return Chunk(id=f"d{i}#0", doc_id=f"d{i}", text=text, position=0, metadata={"title": f"Doc {i}"})


def test_raft_oracle_share_citation_and_refusal() -> None:
    pool = [_chunk(i, f"Filler text number {i} about something else.") for i in range(100, 130)]
    items = [
        RaftItem(QAPair(f"What is code {i}?", f"C{i}", str(i)), _chunk(i, f"The code {i} is C{i}."), tuple(pool[:2]))
        for i in range(50)
    ]
    examples = raft_examples(items, pool, distractors=3, oracle_share=0.8, seed=3)
    with_oracle = [e for e in examples if e.origin == "raft"]
    assert len(with_oracle) == 40 and len(examples) == 50  # exactly the configured share
    for item, ex in zip(items, examples, strict=True):
        system, *_, user, answer = ex.messages
        assert system.content == RAG_SYSTEM
        assert ex.messages[:-2] == tuple(rag_messages(item.pair.question, [])[:-1])  # instruction + worked example
        assert user.content.endswith(f"Question: {item.pair.question}")
        assert user.content.count("\n[") == (4 if ex.origin == "raft" else 3)
        assert pool[0].text in user.content and pool[1].text in user.content  # hard distractors come first
        if ex.origin == "raft":
            # the oracle is among the sources, and the answer cites its number as the RAG prompt asks
            number = int(answer.content.rsplit("[", 1)[1].rstrip("]"))
            assert f"[{number}] Doc {int(item.pair.fact_id)}: {item.oracle.text}" in user.content
            assert answer.content == f"{item.pair.answer} [{number}]"
        else:
            assert item.oracle.text not in user.content
            assert answer.content == "The documents do not say."
    shares = {
        s: sum(e.origin == "raft" for e in raft_examples(items, pool, oracle_share=s, seed=0)) for s in (0.0, 0.5, 1.0)
    }
    assert shares == {0.0: 0, 0.5: 25, 1.0: 50}
    memorise = raft_examples(items, pool, oracle_share=0.0, no_oracle="answer")
    assert all(e.messages[-1].content == it.pair.answer for e, it in zip(memorise, items, strict=True))


def test_heldout_rewordings_keep_every_fact_in_training() -> None:
    pairs = [QAPair(f"What is item {i}?", f"v{i}", str(i)) for i in range(10)]
    train, held = qa_training_split(pairs, 2, 0.2, seed=0)
    assert len(train) == 30 and len(held) == 2  # every fact and 2 rewordings each; 20% of facts get a held-out one
    assert {e.messages[1].content for e in train if e.origin == "qa"} == {p.question for p in pairs}
    trained_questions = {e.messages[1].content for e in train}
    assert all(e.origin == "heldout-paraphrase" and e.messages[1].content not in trained_questions for e in held)
    assert qa_training_split(pairs, 0, 0.0)[1] == []
    rest_train, rest_held = split_heldout(qa_examples(pairs), 0.3, seed=1)
    assert len(rest_held) == 3 and len(rest_train) == 7


def test_document_examples_cut_long_text_at_sentences() -> None:
    text = " ".join(f"Sentence number {i} says a thing." for i in range(200))
    examples = document_examples([("Manual", text)], max_chars=500)
    assert len(examples) > 5
    assert all(e.text.startswith("Manual\n") and len(e.text) <= 500 + len("Manual\n") for e in examples)
    assert all(e.text.rstrip().endswith(".") for e in examples[:-1])
