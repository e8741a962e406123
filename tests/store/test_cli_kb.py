"""`ragtune ingest` and `ragtune search` on the default (LanceDB) store: summary, per-file errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ragtune.cli import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_ingest_and_search(tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder: Any) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text(
        "# Returns\n\nItems can be returned within 30 days for a refund.", encoding="utf-8"
    )
    (docs / "shipping.txt").write_text("Orders ship within two business days.", encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    code, out, err = _run(capsys, "ingest", str(docs), "--no-progress")
    assert code == 1  # one file failed, the others are in
    assert "broken.pdf" in err and "PDF" in err
    assert "added 2, updated 0, unchanged 0, removed 0, failed 1" in out
    (docs / "broken.pdf").unlink()
    (docs / "shipping.txt").unlink()
    code, out, _ = _run(capsys, "ingest", str(docs), "--prune", "--no-progress")
    assert code == 0 and "added 0, updated 0, unchanged 1, removed 1, failed 0" in out
    code, out, _ = _run(capsys, "search", "can I get my money back?", "--json", "-k", "3")
    assert code == 0
    hits = json.loads(out)
    assert [h["doc_id"] for h in hits] == ["docs/returns.md"]
    assert hits[0]["title"] == "Returns" and hits[0]["heading"] == "Returns" and hits[0]["source"] == "docs/returns.md"
    code, out, _ = _run(capsys, "search", "refund", "--mode", "bm25")
    assert code == 0 and "Returns" in out and "docs/returns.md" in out
    code, _, err = _run(capsys, "--workspace", str(tmp_path / "empty"), "search", "refund")
    assert code == 1 and "ragtune ingest" in err and "point --workspace" in err
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "refund?", "answers": ["30 days"]}\n', encoding="utf-8")
    code, _, err = _run(capsys, "--workspace", str(tmp_path / "empty"), "eval-retrieval", "--questions", str(questions))
    assert code == 1 and "no documents in workspace" in err
    assert not (tmp_path / "empty").exists()  # a mistyped workspace leaves no empty store behind


def test_ingest_of_nothing_fails_before_loading_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the embedder was loaded for a path that does not exist")

    monkeypatch.setattr("ragtune.models.loader.load_embedder", no_model)
    code, _, err = _run(capsys, "ingest", str(tmp_path / "nosuch"), "--no-progress")
    assert code == 1 and "nosuch: no such file or folder; nothing to ingest" in err


def test_a_workspace_refuses_vectors_from_another_embedder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder: Any
) -> None:
    """Ingest with the default embedder, then search and ingest with another model of the same dimension (the
    default with one layer's bias moved, saved as a folder: what a tuned copy looks like to the store)."""
    from sentence_transformers import SentenceTransformer

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "returns.md").write_text("# Returns\n\nItems can be returned within 30 days.", encoding="utf-8")
    workspace = str(tmp_path / "ws")
    code, _, _ = _run(capsys, "--workspace", workspace, "ingest", str(docs), "--no-progress")
    assert code == 0
    other = SentenceTransformer(_default_folder(), device="cpu", local_files_only=True)
    other[0].auto_model.encoder.layer[-1].output.dense.bias.data += 0.05
    folder = tmp_path / "other-embedder"
    other.save(str(folder))
    for command in (["search", "returns"], ["ingest", str(docs), "--no-progress"]):
        code, out, err = _run(capsys, "--workspace", workspace, "--set", f"models.embedder={folder}", *command)
        assert code == 1 and "Traceback" not in err, err
        assert "all-MiniLM-L6-v2" in err and "other-embedder" in err and "store.table" in err
    code, out, _ = _run(capsys, "--workspace", workspace, "search", "returns", "--json")
    assert code == 0 and json.loads(out)[0]["doc_id"] == "docs/returns.md"  # nothing stored was lost


def _default_folder() -> str:
    from ragtune.models.registry import DEFAULT_EMBEDDER, packaged_path

    return str(packaged_path(DEFAULT_EMBEDDER))


def test_a_number_field_filter_takes_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], embedder: Any
) -> None:
    """--filter page=x (or position=0, which was passed on as text) ended in the store's query ValueError."""
    (tmp_path / "a.txt").write_text("Orders ship within two business days.", encoding="utf-8")
    assert _run(capsys, "ingest", "a.txt", "--no-progress")[0] == 0
    code, out, _ = _run(capsys, "search", "shipping", "--json", "--filter", "position=0")
    assert code == 0 and [h["doc_id"] for h in json.loads(out)] == ["a.txt"]
    for bad in ("page=x", "position=first"):
        code, _, err = _run(capsys, "search", "shipping", "--filter", bad)
        field = bad.split("=")[0]
        assert code == 2 and f"{field} is a number" in err
