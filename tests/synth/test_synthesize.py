"""Synthesis end to end with the real default models: the file compare reads, its split wording, changed facts,
unanswerable questions, no overwrite without --force, and compare without --questions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import load_config
from ragtune.evaluate.questions import load_questions, split_questions

DOCS = {
    "zorvat.md": "# The Zorvat pump\n\nThe Zorvat pump was designed by Ilsa Marrow. A Zorvat pump moves 40 litres "
    "per minute. Each Zorvat pump is painted teal and weighs 12 kilograms.",
    "kettering.txt": "Kettering Yard is the depot of the Pellam Tram Company. Kettering Yard opened in 1931 and "
    "holds 12 trams. The night shift at Kettering Yard starts at 22:00.",
    "pellam.md": "# Pellam Tram Company\n\nThe Pellam Tram Company runs the Blue Line. The chief engineer of the "
    "company is Otto Vance. A day ticket on the Blue Line costs $6.",
}


def _corpus(root: Path) -> tuple[Path, Path]:
    v1, v2 = root / "docs_v1", root / "docs_v2"
    for folder, docs in ((v1, DOCS), (v2, DOCS | {"pellam.md": DOCS["pellam.md"].replace("$6", "$7")})):
        folder.mkdir()
        for name, text in docs.items():
            (folder / name).write_text(text, encoding="utf-8")
    return v1, v2


def ragtune(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ragtune", *args], cwd=cwd, capture_output=True, text=True)


def test_no_overwrite_without_force(tmp_path: Path) -> None:
    v1, _ = _corpus(tmp_path)
    out = tmp_path / "qa.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    failed = ragtune("synth", "--docs", str(v1), "--out", str(out), cwd=tmp_path)
    assert failed.returncode == 1 and "already exists; pass --force" in failed.stderr
    assert "Traceback" not in failed.stderr and out.read_text(encoding="utf-8") == "keep me\n"
    missing = ragtune("synth", "--docs", str(tmp_path / "nope"), "--out", str(tmp_path / "x.jsonl"), cwd=tmp_path)
    assert missing.returncode == 1 and f"--docs {tmp_path / 'nope'}: no such file or folder" in missing.stderr
    relative = ragtune("synth", "--docs", "nope", "--updated-docs", str(v1), cwd=tmp_path)  # names where it looked
    assert f"--docs nope: no such file or folder (looked for in {tmp_path})" in relative.stderr
    assert "Traceback" not in missing.stderr + relative.stderr


def test_an_out_path_that_cannot_be_written_fails_before_any_model(tmp_path: Path) -> None:
    """--out under a file was a FileExistsError traceback after all the synthesis work; a folder asked for --force."""
    from ragtune.errors import InputFileError
    from ragtune.synth.runner import check_out_path

    notes = tmp_path / "notes.txt"
    notes.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=rf"{notes} is a file, not a folder; choose another --out"):
        check_out_path(notes / "sub" / "qa.jsonl", force=False)
    for force in (False, True):
        with pytest.raises(InputFileError, match="is a folder; --out names the question file"):
            check_out_path(tmp_path, force=force)
    check_out_path(tmp_path / "new" / "qa.jsonl", force=False)
    assert notes.read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.slow
def test_synthesized_file_loads_and_splits_as_compare_reads_it(tmp_path: Path) -> None:
    v1, v2 = _corpus(tmp_path)
    out = tmp_path / "qa.jsonl"
    done = ragtune(
        "synth", "--docs", str(v1), "--updated-docs", str(v2), "--count", "6", "--out", str(out), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    # both wording distances: to the evidence and to the nearest training question (issue #29)
    assert "wording: test questions repeat" in done.stdout and "nearest training question" in done.stdout
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    for r in records:
        assert {"id", "question", "split", "answerable", "doc_id", "evidence"} <= set(r)
        if r["answerable"] and r.get("shape") != "yesno":
            assert r["answer"] in r["evidence"]  # a span of the sentence, as in the document
    questions = load_questions(out)  # the format compare reads, unchanged
    qset = split_questions(questions)
    assert qset.train and qset.test and qset.split_note == "the file's own train/test split"
    train_wording = {q.question.lower() for q in qset.train}
    assert all(q.question.lower() not in train_wording for q in qset.test)
    changed = [r for r in records if r.get("changed")]
    assert [(r["old_answers"], r["answers_v2"]) for r in changed] == [(["$6"], ["$7"])]
    assert qset.changed and qset.changed[0].answers_v2 == ("$7",) and qset.changed[0].answers == ("$6",)
    again = ragtune("synth", "--docs", str(v1), "--count", "6", "--out", str(out), "--force", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


@pytest.mark.slow
def test_library_call_counts_and_unanswerable(tmp_path: Path, embedder: Any, generator: Any) -> None:
    from ragtune.evaluate.experiment import load_documents
    from ragtune.retrieve import Retriever
    from ragtune.store import open_store
    from ragtune.store.sync import sync_documents
    from ragtune.synth import synthesize

    v1, _ = _corpus(tmp_path)
    config = load_config(environ={}, overrides={"workspace": str(tmp_path / "ws"), "synth.unanswerable_share": "1"})
    docs = load_documents([v1], config)
    store = open_store(config, embedder.identity)
    sync_documents(docs, store, embedder, config, progress=False)
    result = synthesize(docs, config.synth, generator, Retriever(store, embedder, config.retrieval))
    store.close()
    s = result.summary()
    assert s["facts"] == result.stats.facts > 0 and s["train"] >= s["facts"]
    assert sum(result.stats.dropped.values()) + result.stats.facts == result.stats.drafted
    for q in result.questions:
        if not q.answerable:  # the name put in is nowhere said to have what is asked
            assert q.answer == "" and q.shape == "unanswerable"


@pytest.mark.slow
def test_compare_without_questions_synthesizes_them(tmp_path: Path) -> None:
    v1, v2 = _corpus(tmp_path)
    settings = [
        "compare.time_budget_min=0.1",
        "compare.learning_curve=1.0",
        "compare.latency_sample=1",
        "compare.bootstrap=100",
        "tune.paraphrases=0",
        "generation.max_new_tokens=16",
        "synth.count=8",
    ]
    args = ["compare", "--docs", str(v1), "--updated-docs", str(v2), "--out", str(tmp_path / "r"), "--no-progress"]
    for s in settings:
        args += ["--set", s]
    done = ragtune(*args, "-w", str(tmp_path / "ws"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "chunk/s" not in done.stderr + done.stdout  # --no-progress holds for the synthesis's index too
    results = json.loads((tmp_path / "r" / "results.json").read_text(encoding="utf-8"))
    synth = results["data"]["synthesized"]
    assert synth["synthesized"] is True and synth["facts"] > 0 and synth["examples"]
    assert results["data"]["questions"]["file"] == str(tmp_path / "r" / "questions.synth.jsonl")
    assert set(results["strategies"]) == {"base", "rag", "finetune", "hybrid"}
    assert "Questions synthesized from the documents" in (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    # The unanswerable check searched the comparison's own index, built before the questions were written (the
    # comparison then read it from its cache): the documents were embedded once, not once for each.
    (index,) = [p for p in (tmp_path / "ws").rglob("index-*") if p.is_dir()]
    built = min(f.stat().st_mtime for f in index.rglob("*") if f.is_file())
    assert built < (tmp_path / "r" / "questions.synth.jsonl").stat().st_mtime
    assert results["costs"]["index_build_seconds"] > 0


def test_report_pdfs_on_one_form_are_asked_by_their_fields(tmp_path: Path, shared_data: Path) -> None:
    """Five NTSB reports filed on one form: what each report holds in its fields is asked within it, by the label
    the reports share; before fields were read, all 20 reports gave 6 facts (their narratives' few short sentences)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    for pdf in sorted((shared_data / "real-pdfs" / "ntsb").glob("*.pdf"))[:5]:
        (reports / pdf.name).symlink_to(pdf)
    out = tmp_path / "q.jsonl"
    args = ["synth", "--docs", str(reports), "--count", "20", "--out", str(out), "--set", "synth.round_trip=false"]
    done = ragtune(*args, "-w", str(tmp_path / "ws"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    train = [q for q in lines if q["split"] == "train"]
    assert len(train) == 20
    fields = [q for q in train if re.fullmatch(r"In “\w+”, what is listed under [^?]+\?", q["question"])]
    assert len(fields) >= 10
    for q in fields:
        label = q["question"].split(" under ", 1)[1].rstrip("?")
        assert f"{label}: {q['answer']}" in q["evidence"]


@pytest.mark.slow
def test_synth_model_words_the_questions_on_a_server(tmp_path: Path, generator: Any) -> None:
    """`--synth-model URL#MODEL` against a real OpenAI-compatible server (the test server, answering with the real
    default generator): the wh-questions and their test twins are written there, and the same filters judge them."""
    from ragtune.evaluate.experiment import load_documents
    from ragtune.synth.runner import run_synth
    from ragtune.text import normalize_answer
    from tests.models.openai_server import RunningServer, ServerState, build_app

    v1, _ = _corpus(tmp_path)
    overrides = {"workspace": str(tmp_path / "ws"), "synth.count": "6", "synth.yes_no_share": "0"}
    config = load_config(environ={}, overrides=overrides | {"synth.choice_share": "0"})
    docs = load_documents([v1], config)
    state = ServerState()
    with RunningServer(build_app(generator, "writer-test", state)) as server:
        result = run_synth(docs, config, synth_model=f"{server.url}#writer-test", echo=lambda line: None)
        url = server.url
    stats = result.stats
    assert stats.writer == f"writer-test @ {url}"
    # One request per question to write and one per twin to reword, every one naming the model asked for.
    assert len(state.bodies) == 2 * stats.drafted and {b["model"] for b in state.bodies} == {"writer-test"}
    sentences = " ".join(m["content"] for b in state.bodies for m in b["messages"])
    assert all(q.evidence in sentences for q in result.questions if q.answerable)
    assert stats.drafted == stats.facts + sum(stats.dropped.values())
    for q in result.questions:
        if q.answerable:
            assert q.answer in q.evidence and normalize_answer(q.answer) not in normalize_answer(q.question)


@pytest.mark.slow
def test_compare_from_report_pdfs_stops_before_training_when_few_questions_can_be_written(
    tmp_path: Path, shared_data: Path
) -> None:
    """Two real NTSB accident reports: their narratives are a few long sentences, and a fact of a short one is
    often one the filters drop (a value inside a name, a modifier); two reports share no form with a third, so
    their fields are not asked (`ragtune.synth.fields`). The rules write a handful of questions; the comparison
    says so and what to bring instead, and trains nothing."""
    reports = tmp_path / "reports"
    reports.mkdir()
    for pdf in sorted((shared_data / "real-pdfs" / "ntsb").glob("*.pdf"))[:2]:
        (reports / pdf.name).symlink_to(pdf)
    args = ["compare", "--docs", str(reports), "--quick", "--out", str(tmp_path / "r"), "--no-progress"]
    done = ragtune(*args, "-w", str(tmp_path / "ws"), "--set", "synth.count=40", cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "could be written from these documents" in done.stderr and "--questions qa.jsonl" in done.stderr
    assert "most drafts were dropped as" in done.stderr  # and by what
    assert (tmp_path / "r" / "questions.synth.jsonl").is_file()  # what was written stays to read
    assert not list((tmp_path / "ws").rglob("adapter_model.safetensors"))
