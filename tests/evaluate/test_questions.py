from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.errors import InputFileError
from ragtune.evaluate.questions import load_questions, split_advice, split_questions, squad_documents


def write(path: Path, *records: object) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_jsonl_fields_and_defaults(tmp_path: Path) -> None:
    f = write(
        tmp_path / "qa.jsonl",
        {"id": "a", "question": "Who?", "answer": "Ann", "split": "train"},
        {"question": "When?", "answers": ["1990", "in 1990"], "split": "test", "changed": True, "answers_v2": "1991"},
        {"id": "u", "question": "Why?", "answerable": False, "split": "test"},
    )
    qs = load_questions(f)
    assert [q.id for q in qs] == ["a", "line-2", "u"]
    assert qs[0].answers == ("Ann",) and qs[0].split == "train" and qs[0].answerable
    assert qs[1].answers == ("1990", "in 1990") and qs[1].changed and qs[1].answers_v2 == ("1991",)
    assert qs[1].gold(updated=True) == ("1991",)
    assert not qs[2].answerable and qs[2].answers == ()


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([{"question": "ok", "answer": "x"}, {"answer": "x"}], "line 2: missing field 'question'"),
        ([{"question": "q"}], "line 1: missing field 'answer' or 'answers'"),
        (
            [{"id": 1, "question": "q", "answer": "x"}, {"id": 1, "question": "r", "answer": "y"}],
            "line 2: duplicate id '1'",
        ),
        (
            [{"question": "q", "answer": "x"}, {"question": "q2", "answer": "  "}],
            "line 2: field 'answer' holds an empty answer",
        ),
        ([{"question": "q", "answers": []}], "line 1: empty answer list"),
        ([{"question": "q", "answer": "x", "split": "dev"}], "line 1: field 'split'"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path: Path, records: list[object], message: str) -> None:
    f = write(tmp_path / "bad.jsonl", *records)
    with pytest.raises(InputFileError, match=message) as info:
        load_questions(f)
    assert str(f) in str(info.value)


def test_invalid_json_line_named(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"question": "q", "answer": "a"}\n\n{"question": oops}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="line 3: not valid JSON"):
        load_questions(f)
    with pytest.raises(InputFileError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")


def test_squad_json_and_its_documents(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "title": "Rome",
                "paragraphs": [
                    {
                        "context": "Rome is the capital of Italy.",
                        "qas": [
                            {
                                "id": "q1",
                                "question": "Capital of Italy?",
                                "answers": [{"text": "Rome", "answer_start": 0}],
                            },
                            {"id": "q2", "question": "Capital of Mars?", "answers": [], "is_impossible": True},
                        ],
                    }
                ],
            }
        ]
    }
    f = tmp_path / "squad.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    qs = load_questions(f)
    assert [(q.id, q.answers, q.answerable, q.doc_id) for q in qs] == [
        ("q1", ("Rome",), True, "Rome"),
        ("q2", (), False, "Rome"),
    ]
    docs = squad_documents(f)
    assert [d.id for d in docs] == ["Rome"] and "capital of Italy" in docs[0].text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"data": [["not an article"]]}, "'data' must be a list of JSON objects"),
        ({"data": [{"paragraphs": "text"}]}, "article 0: 'paragraphs' must be a list of JSON objects"),
        ({"data": [{"paragraphs": [5]}]}, "article 0: 'paragraphs' must be a list"),
        ({"data": [{"paragraphs": [{"context": "c", "qas": ["q"]}]}]}, "paragraph 0: 'qas' must be a list"),
        (
            {"data": [{"paragraphs": [{"context": "c", "qas": [{"id": "q1", "question": "q?", "answers": 5}]}]}]},
            "question q1: 'answers' must be a list of JSON objects",
        ),
    ],
)
def test_squad_of_the_wrong_shape_names_the_place(tmp_path: Path, data: object, message: str) -> None:
    """A .json file that is almost SQuAD: an error naming the article, paragraph or question, not AttributeError."""
    f = tmp_path / "squad.json"
    f.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputFileError, match=message) as info:
        load_questions(f)
    assert str(f) in str(info.value)
    if "'data'" in message or "'paragraphs'" in message:  # the documents come from the same paragraphs
        with pytest.raises(InputFileError, match=message):
            squad_documents(f)


def test_question_file_not_utf8(tmp_path: Path) -> None:
    """A question file an editor saved as Latin-1: the file and the byte are named, not UnicodeDecodeError."""
    f = tmp_path / "qa.jsonl"
    f.write_bytes(b'{"question": "Who built it?", "answer": "Lind\xe9"}\n')
    with pytest.raises(InputFileError, match=r"not UTF-8 text \(invalid byte 0xe9 at offset \d+\); re-save") as info:
        load_questions(f)
    assert str(f) in str(info.value)


def test_seeded_split_is_stable_and_keeps_given_split(tmp_path: Path) -> None:
    f = write(tmp_path / "qa.jsonl", *[{"id": str(i), "question": f"q{i}", "answer": f"a{i}"} for i in range(100)])
    qs = load_questions(f)
    s1 = split_questions(qs, test_share=0.3, seed=5)
    s2 = split_questions(list(reversed(qs)), test_share=0.3, seed=5)
    assert len(s1.test) == 30 and len(s1.train) == 70
    assert {q.id for q in s1.test} == {q.id for q in s2.test}  # file order does not matter
    assert {q.id for q in split_questions(qs, seed=6).test} != {q.id for q in s1.test}
    sub = split_questions(qs, max_questions=40, seed=5)
    assert len(sub.train) + len(sub.test) == 40 and "subset of 40" in sub.split_note
    given = write(
        tmp_path / "g.jsonl",
        {"question": "a", "answer": "b", "split": "train"},
        {"question": "c", "answer": "d", "split": "test"},
    )
    gs = split_questions(load_questions(given))
    assert [q.question for q in gs.train] == ["a"] and "own" in gs.split_note
    # compare's few-test-questions warning says why, where the file left the split to it.
    assert split_advice(load_questions(given), given, 0.3) == ""
    advice = split_advice(qs, f, 0.3)
    assert f'{f} gives no "split"' in advice and "30% of its answerable questions test" in advice
    assert '"split": "test"' in advice and "compare.test_share 0.3" in advice


def test_covidqa_loads_directly(shared_data: Path) -> None:
    path = shared_data / "covidqa" / "200423_covidQA.json"
    qs = load_questions(path)
    assert len(qs) == 1380 and all(q.answers for q in qs)
    assert len(squad_documents(path)) == 98


def test_changed_questions_in_either_convention(tmp_path: Path) -> None:
    f = write(
        tmp_path / "qa.jsonl",
        {"id": "a", "question": "Battery?", "answers": ["18 months"], "changed": True, "old_answers": ["14 months"]},
        {"id": "b", "question": "Interval?", "answers": ["15 minutes"], "changed": True, "answers_v2": ["20 minutes"]},
        {"id": "c", "question": "Price?", "answers": ["9"], "changed": True},
    )
    with pytest.raises(InputFileError, match="line 3: a changed question needs"):
        load_questions(f)
    f = write(tmp_path / "ok.jsonl", *[json.loads(x) for x in f.read_text().splitlines()[:2]])
    a, b = load_questions(f)
    assert (a.answers, a.answers_v2) == (("14 months",), ("18 months",))
    assert (b.answers, b.answers_v2) == (("15 minutes",), ("20 minutes",))


def test_bundled_sample_questions_load() -> None:
    from importlib.resources import files

    qs = load_questions(Path(str(files("ragtune.samples") / "questions.jsonl")))
    changed = [q for q in qs if q.changed]
    assert len(changed) >= 25 and all(q.answers_v2 and q.answers != q.answers_v2 for q in changed)
    s = split_questions(qs)
    assert len(s.changed) == len(changed) and "own" in s.split_note
