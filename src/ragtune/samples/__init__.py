"""The bundled sample knowledge base used by `ragtune compare` and `make demo`.

A fictional company, Quorrin Instruments, described in 45 documents (Markdown, HTML, PDF, text), with questions
split into train and test, unanswerable questions, a version 2 of the documents with changed facts and a
general-knowledge probe. See README.md beside this file for what is in it and how it was made
(tools/build_sample.py writes every file; nothing here needs more than the standard library).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from ragtune.errors import InputFileError, RagtuneError
from ragtune.jsonl import iter_records

__all__ = [
    "ProbeQuestion",
    "SamplePaths",
    "SampleQuestion",
    "general_probe",
    "sample",
    "sample_questions",
]


@dataclass(frozen=True)
class SamplePaths:
    docs_v1: Path  # folder: the knowledge base as first ingested
    docs_v2: Path  # folder: a full copy with changed facts, one document removed and one added
    questions: Path  # JSONL: id, question, answers, split, answerable, changed, fact_id, doc, old_answers
    general_probe: Path  # JSONL: id, question, answers
    readme: Path


@dataclass(frozen=True)
class SampleQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # empty when unanswerable; answers[0] is stated word for word in `doc`
    split: str  # "train" or "test"
    answerable: bool
    changed: bool  # about docs_v2: `answers` is the new value, `old_answers` the docs_v1 one
    fact_id: str | None
    doc: str | None  # file name of the document stating the answer (in docs_v2 when `changed`)
    old_answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeQuestion:
    id: str
    question: str
    answers: tuple[str, ...]


def sample() -> SamplePaths:
    """Where the bundled sample lives inside the installed package; a clear error if the install is incomplete."""
    root = Path(str(files(__name__)))
    paths = SamplePaths(
        docs_v1=root / "docs_v1",
        docs_v2=root / "docs_v2",
        questions=root / "questions.jsonl",
        general_probe=root / "general_probe.jsonl",
        readme=root / "README.md",
    )
    missing = [p for p in (paths.docs_v1, paths.docs_v2) if not p.is_dir()]
    missing += [p for p in (paths.questions, paths.general_probe, paths.readme) if not p.is_file()]
    if missing:
        raise RagtuneError(
            "the bundled sample is incomplete (missing: " + ", ".join(str(p) for p in missing) + "); reinstall "
            "ragtune (pip install --force-reinstall ragtune), or in a checkout run tools/build_sample.py"
        )
    return paths


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    shape = "a JSON object; the packaged sample is damaged, rebuild it with tools/build_sample.py"
    return [(number, row) for _, number, row in iter_records(path, what="bundled sample file", shape=shape)]


def _field(path: Path, number: int, row: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in row or not isinstance(row[name], kind):
        raise InputFileError(f"{path}:{number}: field '{name}' is missing or of the wrong type; rebuild the sample")
    return row[name]


def sample_questions(split: str | None = None, *, changed: bool | None = None) -> list[SampleQuestion]:
    """The sample's questions, optionally only one split and/or only (or no) changed-fact questions."""
    path = sample().questions
    out: list[SampleQuestion] = []
    for number, row in _read_jsonl(path):
        q = SampleQuestion(
            id=_field(path, number, row, "id", str),
            question=_field(path, number, row, "question", str),
            answers=tuple(_field(path, number, row, "answers", list)),
            split=_field(path, number, row, "split", str),
            answerable=_field(path, number, row, "answerable", bool),
            changed=_field(path, number, row, "changed", bool),
            fact_id=_field(path, number, row, "fact_id", (str, type(None))),
            doc=_field(path, number, row, "doc", (str, type(None))),
            old_answers=tuple(row.get("old_answers") or ()),
        )
        if (split is None or q.split == split) and (changed is None or q.changed == changed):
            out.append(q)
    return out


def general_probe() -> list[ProbeQuestion]:
    """The general-knowledge probe: questions the base model answers correctly (for measuring forgetting)."""
    path = sample().general_probe
    return [
        ProbeQuestion(
            id=_field(path, number, row, "id", str),
            question=_field(path, number, row, "question", str),
            answers=tuple(_field(path, number, row, "answers", list)),
        )
        for number, row in _read_jsonl(path)
    ]
