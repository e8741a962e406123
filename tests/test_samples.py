"""The bundled sample: its files are complete, readable, and mean what the questions claim.

Fast checks on the shipped files (no model), plus one slow check that the base model really answers the
general-knowledge probe, which is the probe's whole point.
"""

from __future__ import annotations

import importlib.util
import json
import re
import string
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ragtune.samples import SamplePaths, general_probe, sample, sample_questions

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "tools" / "build_sample.py"
FORMATS = (".md", ".html", ".pdf", ".txt")
DOMAIN_NAMES = ("Quorrin", "Cloudloft", "Lantern House", "Marrowgate", "Greyquay", "Sallowbeck", "Pennyfold")
# A test question shares at most this share of its words with its training twin (token Jaccard similarity).
MAX_TWIN_JACCARD = 0.4


@pytest.fixture(scope="module")
def paths() -> SamplePaths:
    return sample()


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _contains(text: str, phrase: str) -> bool:
    """Whole-word, case- and whitespace-insensitive: '18' is not found in '2018', nor 'green' in 'greenhouse'."""
    needle = _squash(phrase)
    pattern = re.escape(needle)
    if needle[:1].isalnum():
        pattern = r"(?<!\w)" + pattern
    if needle[-1:].isalnum():
        pattern += r"(?!\w)"
    return re.search(pattern, _squash(text)) is not None


@cache
def _text(path: Path) -> str:
    """What a reader of the file sees: PDF text layer, HTML text without tags, Markdown and text as they are."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() for page in PdfReader(path).pages)
    if path.suffix == ".html":
        from bs4 import BeautifulSoup

        return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml").get_text(" ")
    return path.read_text(encoding="utf-8")


def _corpus(folder: Path) -> dict[str, str]:
    return {p.name: _text(p) for p in sorted(folder.iterdir())}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _jaccard(a: str, b: str) -> float:
    return len(_tokens(a) & _tokens(b)) / len(_tokens(a) | _tokens(b))


def _normalize(text: str) -> str:
    """SQuAD-style answer normalization: lower case, no punctuation or articles, single spaces."""
    text = "".join(" " if ch in string.punctuation else ch for ch in text.lower())
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _gold_in_answer(answer: str, golds: tuple[str, ...]) -> bool:
    return any(f" {_normalize(g)} " in f" {_normalize(answer)} " for g in golds)


def _build_module() -> ModuleType:
    if not BUILD_SCRIPT.is_file():
        pytest.skip("tools/build_sample.py is not beside this checkout")
    spec = importlib.util.spec_from_file_location("build_sample", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_sample"] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def test_sample_paths_point_into_the_package(paths: SamplePaths) -> None:
    package = Path(importlib.util.find_spec("ragtune.samples").origin or "").parent  # type: ignore[union-attr]
    for p in (paths.docs_v1, paths.docs_v2, paths.questions, paths.general_probe, paths.readme):
        assert p.exists() and package in p.parents
    assert "Quorrin Instruments" in paths.readme.read_text(encoding="utf-8")


def test_documents_are_many_and_in_mixed_formats(paths: SamplePaths) -> None:
    from pypdf import PdfReader

    v1 = sorted(paths.docs_v1.iterdir())
    by_format = Counter(p.suffix for p in v1)
    assert len(v1) >= 40
    assert set(by_format) == set(FORMATS) and min(by_format.values()) >= 8, by_format
    multipage = [p.name for p in v1 if p.suffix == ".pdf" and len(PdfReader(p).pages) >= 2]
    assert len(multipage) >= 3, multipage
    for p in v1:
        text = _text(p)
        assert len(text.split()) >= 60, f"{p.name} is too thin to read like a real document"
        assert any(name in text for name in DOMAIN_NAMES), f"{p.name} is not about the sample's company"


def test_question_file_schema_counts_and_ids(paths: SamplePaths) -> None:
    rows = _jsonl(paths.questions)
    fields = {"id", "question", "answers", "split", "answerable", "changed", "fact_id", "doc", "old_answers"}
    for r in rows:
        assert set(r) == fields, r
        assert r["split"] in ("train", "test") and isinstance(r["answerable"], bool) and isinstance(r["changed"], bool)
        assert r["question"].strip().endswith("?")
        assert r["answerable"] == bool(r["answers"]), r["id"]
        assert all(isinstance(a, str) and a.strip() for a in r["answers"]), r["id"]
        assert all(1 <= len(a.split()) <= 4 for a in r["answers"]), f"{r['id']}: answers must be short"
        if not r["answerable"]:
            assert r["fact_id"] is None and r["doc"] is None and not r["changed"]
        else:
            assert r["doc"] and ((paths.docs_v1 / r["doc"]).is_file() or (paths.docs_v2 / r["doc"]).is_file())
    assert len({r["id"] for r in rows}) == len(rows), "question ids must be unique"
    assert len({_squash(r["question"]) for r in rows}) == len(rows), "no question is asked twice"

    plain = [r for r in rows if r["answerable"] and not r["changed"]]
    assert len(plain) >= 200
    per_fact = Counter((r["fact_id"], r["split"]) for r in plain)
    assert set(per_fact.values()) == {1}
    assert (
        {f for f, _ in per_fact} == {f for f, s in per_fact if s == "train"} == {f for f, s in per_fact if s == "test"}
    )
    assert sum(1 for r in rows if not r["answerable"]) >= 40
    assert {r["split"] for r in rows if not r["answerable"]} == {"train", "test"}
    changed = [r for r in rows if r["changed"]]
    assert len({r["fact_id"] for r in changed}) >= 25
    assert all(
        r["split"] == "test" and r["old_answers"] and r["fact_id"] in {p["fact_id"] for p in plain} for r in changed
    )


def test_loader_api_matches_the_file(paths: SamplePaths) -> None:
    rows = _jsonl(paths.questions)
    assert [q.id for q in sample_questions()] == [r["id"] for r in rows]
    train = sample_questions("train")
    assert train and all(q.split == "train" for q in train)
    fresh = sample_questions(changed=True)
    assert fresh and all(q.changed and q.old_answers for q in fresh)
    probe = general_probe()
    assert len(probe) == len(_jsonl(paths.general_probe)) >= 50


def test_every_answer_is_stated_in_its_document(paths: SamplePaths) -> None:
    """answers[0] is stated word for word (v1 for the train/test twins); the others are accepted variants."""
    v1 = _corpus(paths.docs_v1)
    for q in sample_questions(changed=False):
        if q.answerable:
            assert q.doc is not None
            assert _contains(v1[q.doc], q.answers[0]), f"{q.id}: '{q.answers[0]}' not in {q.doc}"


def test_changed_facts_changed_in_version_2(paths: SamplePaths) -> None:
    v1, v2 = _corpus(paths.docs_v1), _corpus(paths.docs_v2)
    for q in sample_questions(changed=True):
        assert q.doc is not None
        assert _contains(v2[q.doc], q.answers[0]), f"{q.id}: new value '{q.answers[0]}' not in v2 {q.doc}"
        assert _contains(v1[q.doc], q.old_answers[0]), f"{q.id}: old value '{q.old_answers[0]}' not in v1 {q.doc}"
        assert not _contains(v2[q.doc], q.old_answers[0]), f"{q.id}: old value still in v2 {q.doc}"
        assert not _contains(v1[q.doc], q.answers[0]), f"{q.id}: new value already in v1 {q.doc}"
    # Facts that did not change are still stated in version 2 wherever their document survived.
    for q in sample_questions("test", changed=False):
        if q.answerable and q.doc in v2 and q.fact_id not in {c.fact_id for c in sample_questions(changed=True)}:
            assert _contains(v2[q.doc], q.answers[0]), q.id
    files_v1 = {p.name: p.read_bytes() for p in paths.docs_v1.iterdir()}
    files_v2 = {p.name: p.read_bytes() for p in paths.docs_v2.iterdir()}
    assert len(files_v2) >= 40
    assert set(files_v1) - set(files_v2) and set(files_v2) - set(files_v1), "one document removed, one added"
    common = set(files_v1) & set(files_v2)
    unchanged = {n for n in common if files_v1[n] == files_v2[n]}
    assert len(unchanged) >= 10 and len(common - unchanged) >= 10


def test_unanswerable_questions_find_no_answer(paths: SamplePaths) -> None:
    rows = {r["id"]: r for r in _jsonl(paths.questions)}
    build = _build_module()
    corpora = (_corpus(paths.docs_v1), _corpus(paths.docs_v2))
    checked = 0
    for u in build.UNANSWERABLE:
        assert rows[u.id]["answerable"] is False and rows[u.id]["answers"] == []
        assert rows[u.id]["question"] == u.question
        for corpus in corpora:
            texts = {u.scope: corpus[u.scope]} if u.scope else corpus
            for name, text in texts.items():
                for term in u.absent:
                    assert not _contains(text, term), f"{u.id}: '{term}' occurs in {name}"
        checked += 1
    assert checked == sum(1 for r in rows.values() if not r["answerable"]) >= 40


def test_test_questions_are_worded_differently_from_training_ones() -> None:
    train = {q.fact_id: q for q in sample_questions("train") if q.answerable}
    train_texts = {_squash(q.question) for q in sample_questions("train")}
    for q in sample_questions("test"):
        assert _squash(q.question) not in train_texts, q.id
        if q.fact_id is not None:
            similarity = _jaccard(q.question, train[q.fact_id].question)
            assert similarity <= MAX_TWIN_JACCARD, f"{q.id} is too close to its training twin ({similarity:.2f})"


def test_general_probe_is_well_formed(paths: SamplePaths) -> None:
    rows = _jsonl(paths.general_probe)
    assert len(rows) >= 50
    assert all(set(r) == {"id", "question", "answers"} and r["answers"] and r["question"].strip() for r in rows)
    assert len({r["id"] for r in rows}) == len(rows)
    domain = {"quorrin", "skellet", "brindle", "tidewell", "cloudloft", "marrowgate"}
    assert not any(_tokens(r["question"]) & domain for r in rows), "the probe is general knowledge, not the sample"


def test_build_script_reproduces_the_shipped_files() -> None:
    pytest.importorskip("fpdf", reason="fpdf2 (dev extra) builds the PDFs")
    if not BUILD_SCRIPT.is_file():
        pytest.skip("tools/build_sample.py is not beside this checkout")
    done = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--check"], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_knowledge_base_loaders_read_every_file(paths: SamplePaths) -> None:
    from ragtune.config import CorpusConfig
    from ragtune.corpus.loaders import load_paths

    for folder in (paths.docs_v1, paths.docs_v2):
        result = load_paths([folder], CorpusConfig())
        assert not result.failures, [str(f) for f in result.failures]
        assert len(result.documents) == len(list(folder.iterdir()))
    # The answers survive the loaders' own text extraction (page headers, HTML chrome and all).
    loaded = {
        Path(str(d.metadata["source"])).name: d.text for d in load_paths([paths.docs_v1], CorpusConfig()).documents
    }
    for q in sample_questions(changed=False):
        if q.answerable and q.doc is not None:
            assert _contains(loaded[q.doc], q.answers[0]), f"{q.id}: '{q.answers[0]}' lost by the loader ({q.doc})"


@pytest.mark.slow
def test_base_model_answers_the_general_probe(request: pytest.FixtureRequest) -> None:
    """The probe only measures forgetting if the untuned model knows its answers: ask it, as compare does."""
    from ragtune.models.generator import GenerationParams
    from ragtune.prompts import closed_book_messages

    generator = request.getfixturevalue("generator")
    probe = general_probe()
    results = generator.generate([closed_book_messages(q.question) for q in probe], GenerationParams(max_new_tokens=24))
    correct = [_gold_in_answer(r.text, q.answers) for q, r in zip(probe, results, strict=True)]
    wrong = [f"{q.question} -> {r.text!r}" for q, r, ok in zip(probe, results, correct, strict=True) if not ok]
    assert sum(correct) / len(probe) >= 0.95, wrong
