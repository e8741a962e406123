"""Question files: JSONL (one question per line) or SQuAD JSON, read into `Question`s with errors that name the line.

JSONL fields: `question` (required), `answer` (a string) or `answers` (a list), optional `id`, `split`
("train" or "test"), `answerable` (default true), and for the freshness test `changed` (the fact changes in the
updated documents), `fact_id` and `answers_v2` (also read as `new_answers` or `updated_answers`: the answers that
are right after the update; or, the other way round, `answers` right after the update and `old_answers` before
it, as the bundled sample writes them). SQuAD JSON (`{"data": [{"paragraphs": [{"context", "qas": [...]}]}]}`,
as COVID-QA ships) is read too; its `is_impossible` questions become unanswerable ones.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ragtune.corpus.document import Document
from ragtune.errors import InputFileError
from ragtune.jsonl import decode_text, load_json_line, read_user_text

SPLITS = ("train", "test")
_NEW_ANSWER_FIELDS = ("answers_v2", "new_answers", "updated_answers")
_OLD_ANSWER_FIELDS = ("old_answers", "answers_v1")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # empty only for unanswerable questions
    split: str = ""  # "train", "test" or "" (not yet split; see split_questions)
    answerable: bool = True
    changed: bool = False  # its fact changes in the updated documents
    fact_id: str = ""
    answers_v2: tuple[str, ...] = ()  # right answers after the update (changed questions only)
    doc_id: str = ""  # the document that holds the answer, when the file says (SQuAD)
    line: int = 0  # where it was read, for messages

    def gold(self, updated: bool = False) -> tuple[str, ...]:
        return self.answers_v2 if updated and self.answers_v2 else self.answers


@dataclass(frozen=True)
class QuestionSet:
    """All questions of a file, split into train and test (unanswerable ones are test-only)."""

    train: tuple[Question, ...]
    test: tuple[Question, ...]
    source: str
    split_note: str = ""  # how the split was made, for the report
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> tuple[Question, ...]:
        """Questions on facts the update changes (from both splits: all of them measure freshness)."""
        return tuple(q for q in (*self.train, *self.test) if q.changed and q.answers_v2)


def _fail(path: Path, line: int, message: str) -> InputFileError:
    where = f"{path}, line {line}" if line else str(path)
    return InputFileError(f"{where}: {message}")


def _text_list(value: Any, path: Path, line: int, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise _fail(path, line, f"field '{name}' must be a string or a list of strings, got {value!r}")
    out = tuple(str(v).strip() for v in value)
    if any(not v for v in out):
        raise _fail(path, line, f"field '{name}' holds an empty answer; give the answer text or drop the entry")
    return out


def _as_bool(value: Any, path: Path, line: int, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "yes", "no", "1", "0"}:
        return value.lower() in {"true", "yes", "1"}
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _fail(path, line, f"field '{name}' must be true or false, got {value!r}")


def _from_record(record: Any, path: Path, line: int) -> Question:
    if not isinstance(record, dict):
        raise _fail(path, line, f"expected a JSON object, got {type(record).__name__}")
    text = record.get("question")
    if not isinstance(text, str) or not text.strip():
        raise _fail(path, line, "missing field 'question' (a non-empty string)")
    answerable = _as_bool(record.get("answerable", True), path, line, "answerable")
    if "answers" in record:
        answers = _text_list(record["answers"], path, line, "answers")
    elif "answer" in record:
        answers = _text_list(record["answer"], path, line, "answer")
    elif answerable:
        raise _fail(path, line, "missing field 'answer' or 'answers' (or set \"answerable\": false)")
    else:
        answers = ()
    if answerable and not answers:
        raise _fail(path, line, "empty answer list for an answerable question")
    split = str(record.get("split", "") or "").strip().lower()
    if split and split not in SPLITS:
        raise _fail(path, line, f"field 'split' must be 'train' or 'test', got {split!r}")
    new_answers: tuple[str, ...] = ()
    for name in _NEW_ANSWER_FIELDS:
        if name in record and record[name] not in (None, [], ""):
            new_answers = _text_list(record[name], path, line, name)
            break
    changed = _as_bool(record.get("changed", False), path, line, "changed")
    if changed and not new_answers:
        # The other convention: `answers` is right for the updated documents, `old_answers` for the first ones.
        for name in _OLD_ANSWER_FIELDS:
            if name in record and record[name] not in (None, [], ""):
                new_answers, answers = answers, _text_list(record[name], path, line, name)
                break
        else:
            raise _fail(
                path, line, "a changed question needs 'answers_v2' (or 'old_answers'): the value before or after"
            )
    raw_id = record.get("id")
    qid = str(raw_id).strip() if raw_id not in (None, "") else f"line-{line}"
    return Question(
        id=qid,
        question=text.strip(),
        answers=answers,
        split=split,
        answerable=answerable,
        changed=changed,
        fact_id=str(record.get("fact_id", "") or ""),
        answers_v2=new_answers,
        doc_id=str(record.get("doc_id", record.get("doc", "")) or ""),
        line=line,
    )


def _check_ids(questions: Sequence[Question], path: Path) -> None:
    seen: dict[str, int] = {}
    for q in questions:
        if q.id in seen:
            raise _fail(path, q.line, f"duplicate id {q.id!r} (first used on line {seen[q.id]}); ids must be unique")
        seen[q.id] = q.line


def _load_jsonl(path: Path, text: str) -> list[Question]:
    out: list[Question] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = load_json_line(raw)
        except ValueError as exc:
            raise _fail(path, number, str(exc)) from exc
        out.append(_from_record(record, path, number))
    return out


def _squad_articles(data: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise InputFileError(
            f"{path}: a .json question file must be SQuAD format ({{'data': [{{'paragraphs': [...]}}]}}); "
            "for one question per line use .jsonl"
        )
    return _objects(data["data"], path, "'data'")


def _objects(value: Any, path: Path, where: str) -> list[dict[str, Any]]:
    """`value` as a list of JSON objects (missing or null is an empty list), or InputFileError naming `where`."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputFileError(
            f"{path}: {where} must be a list of JSON objects, got {json.dumps(value)[:80]}; SQuAD format is "
            "{'data': [{'paragraphs': [{'context': ..., 'qas': [{'question': ..., 'answers': [{'text': ...}]}]}]}]}"
        )
    return value


def _paragraphs(path: Path, data: Any) -> Iterator[tuple[int, int, dict[str, Any], dict[str, Any]]]:
    """(article number, paragraph number, article, paragraph) of a SQuAD file, each checked to be an object."""
    for a, article in enumerate(_squad_articles(data, path)):
        for p, paragraph in enumerate(_objects(article.get("paragraphs"), path, f"article {a}: 'paragraphs'")):
            yield a, p, article, paragraph


def _article_id(article: Mapping[str, Any], paragraph: Mapping[str, Any], a: int, p: int) -> str:
    if paragraph.get("document_id") not in (None, ""):
        return f"doc-{paragraph['document_id']}"
    title = str(article.get("title", "") or "")
    return f"{title or f'article-{a}'}#{p}" if p else (title or f"article-{a}")


def _load_squad(path: Path, data: Any) -> list[Question]:
    out: list[Question] = []
    n = 0
    for a, p, article, paragraph in _paragraphs(path, data):
        doc_id = _article_id(article, paragraph, a, p)
        for qa in _objects(paragraph.get("qas"), path, f"article {a}, paragraph {p}: 'qas'"):
            n += 1
            where = f"article {a}, paragraph {p}, question {qa.get('id', n)}"
            text = qa.get("question")
            if not isinstance(text, str) or not text.strip():
                raise InputFileError(f"{path}: {where}: missing field 'question'")
            impossible = bool(qa.get("is_impossible", False))
            answers = tuple(
                dict.fromkeys(
                    str(x.get("text", "")).strip() for x in _objects(qa.get("answers"), path, f"{where}: 'answers'")
                )
            )
            if "" in answers:
                raise InputFileError(f"{path}: {where}: empty answer text")
            if not impossible and not answers:
                raise InputFileError(f"{path}: {where}: no answers and not marked is_impossible")
            out.append(
                Question(
                    id=str(qa.get("id", n)),
                    question=text.strip(),
                    answers=answers,
                    answerable=not impossible,
                    doc_id=doc_id,
                    line=n,  # SQuAD has no lines; the question's position stands in
                )
            )
    return out


def load_questions(path: str | Path) -> list[Question]:
    """Every question in a JSONL or SQuAD JSON file; InputFileError names the line (or question) at fault."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: question file not found")
    text = read_user_text(path)
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or (stripped.startswith("{") and '"data"' in stripped[:200] and "\n" in text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if path.suffix.lower() == ".json":
                raise InputFileError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
            questions = _load_jsonl(path, text)
        else:
            questions = _load_squad(path, data)
    else:
        questions = _load_jsonl(path, text)
    if not questions:
        raise InputFileError(f"{path}: no questions found")
    _check_ids(questions, path)
    return questions


def squad_documents(path: str | Path) -> list[Document]:
    """The contexts of a SQuAD JSON file as Documents (one per paragraph; ids match Question.doc_id)."""
    path = Path(path)
    data = json.loads(read_user_text(path))
    docs: list[Document] = []
    for a, p, article, paragraph in _paragraphs(path, data):
        context = str(paragraph.get("context", ""))
        doc_id = _article_id(article, paragraph, a, p)
        title = str(article.get("title", "") or "") or context.strip().split("\n", 1)[0][:200]
        docs.append(Document(id=doc_id, text=context, metadata={"title": title, "source": str(path)}))
    return docs


def is_squad_file(path: str | Path) -> bool:
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".json":
        return False
    try:
        data = json.loads(decode_text(path.read_bytes()))
    except ValueError:  # not text, or not JSON
        return False
    return isinstance(data, dict) and isinstance(data.get("data"), list)


def _stable_key(seed: int, qid: str) -> str:
    return hashlib.sha256(f"{seed}\x00{qid}".encode()).hexdigest()


def split_questions(
    questions: Sequence[Question],
    *,
    test_share: float = 0.3,
    max_questions: int = 0,
    seed: int = 0,
    source: str = "",
) -> QuestionSet:
    """Keeps the file's own split where it has one; otherwise a seeded split by question id (same seed, same split).

    `max_questions` > 0 first takes a seeded subset (a random sample by id, not the file's first lines). Questions
    that cannot be answered and questions without a split go to the test set only when the file gives no split.
    """
    pool = list(questions)
    notes: list[str] = []
    if max_questions and len(pool) > max_questions:
        pool = sorted(pool, key=lambda q: _stable_key(seed, q.id))[:max_questions]
        pool.sort(key=lambda q: q.line)
        notes.append(f"a seeded random subset of {max_questions} of the file's {len(questions)} questions")
    given = [q for q in pool if q.split]
    if given and len(given) == len(pool):
        train = tuple(q for q in pool if q.split == "train")
        test = tuple(q for q in pool if q.split == "test")
        notes.append("the file's own train/test split")
    else:
        rng = random.Random(seed)
        unsplit = [q for q in pool if not q.split]
        order = sorted(unsplit, key=lambda q: _stable_key(seed, q.id))
        rng.shuffle(order)  # the sort makes the shuffle independent of file order
        answerable = [q for q in order if q.answerable]
        n_test = round(len(answerable) * test_share)
        test_ids = {q.id for q in answerable[:n_test]} | {q.id for q in order if not q.answerable}
        train = tuple(
            q if q.split else replace(q, split="train")
            for q in pool
            if (q.split == "train") or (not q.split and q.id not in test_ids)
        )
        test = tuple(q if q.split else replace(q, split="test") for q in pool if q.split == "test" or q.id in test_ids)
        notes.append(
            f"a seeded split of questions without one: {round(test_share * 100)}% of answerable ones to test, "
            "unanswerable ones to test"
        )
    return QuestionSet(train=train, test=test, source=source, split_note="; ".join(notes))


def split_advice(questions: Sequence[Question], path: object, test_share: float) -> str:
    """Why a file gives few test questions when it left the split to compare (most of them went to training), to
    append to the warning that says so; "" when every line has its own split."""
    if all(q.split for q in questions):
        return ""
    return (
        f'. {path} gives no "split", so {round(test_share * 100)}% of its answerable questions test and the rest '
        f'train the tuned strategies (compare.test_share {test_share:g}): mark lines "split": "test" or "train" to '
        "choose"
    )
