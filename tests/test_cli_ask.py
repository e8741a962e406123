"""`ragtune ask` and `ragtune calibrate` end to end on a small corpus with the real default models (in-process
through typer's runner, so the models load once per test session rather than once per command)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ragtune.calibration import CalibrationError
from ragtune.cli import app
from ragtune.errors import InputFileError, RagtuneError

DOC = (
    "# Bridges of Velmora\n\nThe Arden bridge in Velmora was opened in 1904 by the mayor Tomas Vell. It crosses the "
    "Sarn river and is 240 metres long.\n\nThe Oakleaf bakery was founded by Mira Holt in 1988. It closes on Mondays.\n"
)


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture()
def project(tmp_path: Path, embedder: Any, generator: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with one ingested document; the CLI reuses the session's loaded models."""
    import ragtune.models.loader as loader

    monkeypatch.setattr(loader, "load_embedder", lambda models, batch_size=64: embedder)
    monkeypatch.setattr(loader, "load_generator", lambda models, generation=None, adapter=None: generator)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "velmora.md").write_text(DOC, encoding="utf-8")
    result = _invoke("ingest", str(tmp_path / "docs"), "--no-progress")
    assert result.exit_code == 0, result.output
    return tmp_path


def test_ask_json_questions_file_and_text(project: Path) -> None:
    result = _invoke("ask", "Who founded the Oakleaf bakery?", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"answer", "refused", "sources", "sentences", "tokens_in", "tokens_out", "timings"} <= set(payload)
    assert "Mira Holt" in payload["answer"] and payload["refused"] is False
    source = payload["sources"][0]
    assert {"doc_id", "title", "chunk_id", "score", "text"} <= set(source)
    assert source["doc_id"] == "docs/velmora.md" and "Oakleaf" in source["text"]

    questions = project / "q.jsonl"
    questions.write_text(
        '{"id": "q1", "question": "How long is the Arden bridge?"}\n\n'
        '{"id": "q2", "question": "Which particle mediates the strong nuclear force?"}\n',
        encoding="utf-8",
    )
    result = _invoke("ask", "--questions", str(questions), "--no-progress")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["id"] for line in lines] == ["q1", "q2"]
    assert all({"answer", "refused", "sources"} <= set(line) for line in lines)
    assert lines[1]["refused"] is True

    result = _invoke("ask", "Who opened the Arden bridge?")
    assert result.exit_code == 0 and "Sources:" in result.stdout and "velmora.md" in result.stdout

    result = _invoke("ask", "How long is the Arden bridge?", "--stream")
    assert result.exit_code == 0 and "Sources:" in result.stdout


def test_ask_errors(project: Path) -> None:
    bad = project / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "Who?"}\n{"id": "q2"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", "--questions", str(bad)])
    # `ragtune` turns a RagtuneError into exit code 1 (cli.main); here it arrives as the exception itself.
    assert isinstance(result.exception, InputFileError) and "bad.jsonl:2: field 'question'" in str(result.exception)
    result = CliRunner().invoke(app, ["ask", "Who?", "--strategy", "finetune"])
    assert isinstance(result.exception, RagtuneError) and "needs an adapter" in str(result.exception)
    elsewhere = project / "typo-workspace"
    result = CliRunner().invoke(app, ["--workspace", str(elsewhere), "ask", "Who?"])
    assert isinstance(result.exception, RagtuneError) and "no documents in workspace" in str(result.exception)
    assert not elsewhere.exists()  # was: an empty store made there, and every answer a refusal
    result = CliRunner().invoke(app, ["ask", "Who?", "--strategy", "sideways"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["ask"])
    assert result.exit_code == 2
    result = CliRunner().invoke(app, ["ask", "  "])
    assert result.exit_code == 2 and "the question is empty" in result.output
    dup = project / "dup.jsonl"
    dup.write_text('{"id": "a", "question": "Who?"}\n{"id": "a", "question": "When?"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["ask", "--questions", str(dup)])
    assert isinstance(result.exception, InputFileError)
    assert "dup.jsonl:2: duplicate id 'a' (first used on line 1)" in str(result.exception)


def test_base_strategy_answers_closed_book(project: Path) -> None:
    result = _invoke("ask", "What is the capital of France?", "--strategy", "base", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["sources"] == [] and payload["refused"] is False and payload["strategy"] == "base"


def test_calibrate_checks_its_file_before_loading_any_model(tmp_path: Path) -> None:
    bad = tmp_path / "labelled.jsonl"
    bad.write_text(
        '{"id": "1", "question": "Who?", "answers": ["Ann"]}\n{"id": "2", "question": "Why?", "answers": 3}\n'
    )
    result = CliRunner().invoke(app, ["calibrate", str(bad)])
    assert isinstance(result.exception, InputFileError) and "labelled.jsonl:2: field 'answers'" in str(result.exception)
    result = CliRunner().invoke(app, ["calibrate", str(bad), "--strategy", "base"])
    assert result.exit_code == 2  # only strategies that read sources refuse
    result = CliRunner().invoke(app, ["calibrate", str(bad), "--max-false-refusal", "1.5"])
    assert result.exit_code == 2 and "[0, 1)" in result.output
    few = tmp_path / "few.jsonl"
    few.write_text("".join(f'{{"id": "{i}", "question": "Q{i}?", "answers": ["A"]}}\n' for i in range(6)))
    result = CliRunner().invoke(app, ["calibrate", str(few)])
    assert isinstance(result.exception, CalibrationError)
    assert "few.jsonl: 6 answerable and 0 unanswerable questions" in str(result.exception)
    assert '"answerable": false' in str(result.exception)  # says how to label one
    assert not (tmp_path / ".ragtune" / "calibration.json").exists()
    eight = tmp_path / "eight.jsonl"
    eight.write_text(
        "".join(
            json.dumps({"id": str(i), "question": f"Q{i}?", "answers": ["A"] if i % 2 else []}) + "\n"
            for i in range(16)
        )
    )
    result = CliRunner().invoke(app, ["calibrate", str(eight), "--held-out"])
    assert isinstance(result.exception, CalibrationError)
    assert "8 answerable and 8 unanswerable questions; calibration needs at least 10 of each (--held-out" in str(
        result.exception
    )


LABELLED = [
    ("When was the Arden bridge opened?", ["1904"]),
    ("Who opened the Arden bridge?", ["Tomas Vell"]),
    ("Which river does the Arden bridge cross?", ["Sarn"]),
    ("How long is the Arden bridge?", ["240 metres", "240"]),
    ("Who founded the Oakleaf bakery?", ["Mira Holt"]),
    ("In what year was the Oakleaf bakery founded?", ["1988"]),
    ("On which day is the Oakleaf bakery closed?", ["Monday", "Mondays"]),
    ("In which year did the Arden bridge open?", ["1904"]),
    ("What is the length of the Arden bridge in metres?", ["240"]),
    ("Which mayor opened the bridge in Velmora?", ["Tomas Vell"]),
    ("Who designed the Arden bridge?", []),
    ("How many people live in Velmora?", []),
    ("What does a loaf cost at the Oakleaf bakery?", []),
    ("Who is the current mayor of Velmora?", []),
    ("How wide is the Sarn river?", []),
    ("What colour is the Arden bridge painted?", []),
    ("How many bakers work at Oakleaf?", []),
    ("When was the Arden bridge last repaired?", []),
    ("What time does the Oakleaf bakery open?", []),
    ("Which school did Mira Holt attend?", []),
]


def test_calibrate_held_out_fits_on_one_half_and_keeps_the_share_on_the_other(project: Path) -> None:
    labelled = project / "labelled.jsonl"
    labelled.write_text(
        "".join(
            json.dumps({"id": str(i), "question": q, "answers": a, "answerable": bool(a)}) + "\n"
            for i, (q, a) in enumerate(LABELLED)
        )
    )
    result = _invoke("calibrate", str(labelled), "--held-out", "--max-false-refusal", "0.2", "--no-progress", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    held_out = payload["fitted_on"]["held_out"]
    assert held_out["target_false_refusal"] == 0.2 and held_out["groups"] == 2
    assert len(held_out["tried"]) == 21  # 0%, 1%, ..., 20%
    assert held_out["held_out_false_refusal"] <= 0.2 or held_out["fit_share"] == 0.0
    assert payload["fitted_on"]["max_false_refusal"] == held_out["fit_share"]
    stored = json.loads(Path(payload["path"]).read_text())
    assert stored["fitted_on"]["held_out"]["fit_share"] == held_out["fit_share"]
    result = _invoke("calibrate", str(labelled), "--held-out", "--max-false-refusal", "0.2", "--no-progress")
    assert result.exit_code == 0 and "held out: fitted to refuse" in result.output, result.output


def test_library_warnings_stay_out_of_the_terminal(tmp_path: Path) -> None:
    """A real `ragtune ask` in its own process: transformers' deprecation warnings and weight-loading bar, which
    every generation printed, are not in its output; RAGTUNE_LIBRARY_WARNINGS=1 brings them back."""
    import os
    import subprocess
    import sys

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "velmora.md").write_text(DOC, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("TRANSFORMERS_VERBOSITY", "HF_HUB_DISABLE_PROGRESS_BARS")}

    def ragtune(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ragtune", *args],
            cwd=tmp_path, capture_output=True, text=True, env={**env, **extra}, timeout=600,
        )  # fmt: skip

    assert ragtune("ingest", "docs", "--no-progress").returncode == 0
    quiet = ragtune("ask", "Who founded the Oakleaf bakery?")
    assert quiet.returncode == 0, quiet.stderr
    assert "Mira Holt" in quiet.stdout
    assert "Warning" not in quiet.stderr and "Loading weights" not in quiet.stderr, quiet.stderr
    loud = ragtune("ask", "Who founded the Oakleaf bakery?", RAGTUNE_LIBRARY_WARNINGS="1")
    assert loud.returncode == 0 and "Loading weights" in loud.stderr, loud.stderr
