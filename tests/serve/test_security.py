"""Binding and naming rules that need no model: loopback without a key only, and document ids that stay put."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragtune.corpus.uploads import InvalidDocumentError, check_doc_id, id_from_filename
from ragtune.serve.security import BindError, check_bind, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.1", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_needs_no_key(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, "")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org", "10.0.0.1"])
def test_anything_else_needs_a_key(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(BindError, match="--api-key"):
        check_bind(host, "")
    check_bind(host, "a-key")


@pytest.mark.parametrize("good", ["a", "doc-1", "policy/2024/leave.md", "faq:12", "My notes.txt", "_x", "a+b@c=d,e"])
def test_valid_document_ids(good: str) -> None:
    assert check_doc_id(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../x",
        "a/../b",
        "/etc/passwd",
        ".hidden",
        "a/.git",
        "a\\b",
        "C:\\x",
        "x#1",
        "a\x00b",
        "a\nb",
        " a",
        "a/",
        "a//b",
        "-rf",
        "x" * 300,
    ],
)
def test_invalid_document_ids(bad: str) -> None:
    with pytest.raises(InvalidDocumentError, match="invalid document id"):
        check_doc_id(bad)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("notes.md", "notes.md"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("..", "upload"),
        ("..\\..\\x.md", "x.md"),
        ("weird<name>|?.txt", "weird_name___.txt"),
    ],
)
def test_upload_names_become_safe_ids(filename: str, expected: str) -> None:
    assert id_from_filename(filename) == expected
    check_doc_id(id_from_filename(filename))


def test_cli_refuses_a_public_address_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAGTUNE_")}
    result = subprocess.run(
        [sys.executable, "-m", "ragtune", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "refusing to listen on 0.0.0.0 without an API key" in result.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "ragtune", "serve", "--port", "70000"], cwd=tmp_path, env=env, capture_output=True
    )
    assert usage.returncode == 2
