"""Upload rules: the type comes from the real extension whatever the name's length; titles lose control
characters; ids from names stay safe and at most 128 characters."""

from __future__ import annotations

import pytest

from ragtune.corpus.uploads import (
    MAX_NAME_CHARS,
    UnsupportedTypeError,
    check_doc_id,
    clean_title,
    id_from_filename,
    upload_type,
)

ALLOWED = [".txt", ".md", ".pdf"]


def test_a_long_name_keeps_its_type_and_a_safe_id() -> None:
    name = "Quarterly report of the northern region " * 5 + "final.md"
    assert len(name) > 128
    assert upload_type(name, ALLOWED) == ".md"
    doc_id = id_from_filename(name)
    assert len(doc_id) == MAX_NAME_CHARS and doc_id.endswith(".md") and doc_id.startswith("Quarterly report")
    check_doc_id(doc_id)
    assert upload_type("x" * 300 + ".PDF", ALLOWED) == ".pdf"
    assert id_from_filename("y" * 300).startswith("y") and len(id_from_filename("y" * 300)) == 128


def test_the_type_is_refused_by_its_real_extension() -> None:
    with pytest.raises(UnsupportedTypeError, match=r"file type \.exe is not accepted; upload one of \.md, \.pdf"):
        upload_type("a" * 200 + ".exe", ALLOWED)
    with pytest.raises(UnsupportedTypeError, match=r"file type \(none\)"):
        upload_type("README", ALLOWED)
    assert upload_type("C:\\Users\\me\\notes.txt", ALLOWED) == ".txt"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Annual\x00 report", "Annual report"),
        ("Line one\nline two\t end", "Line one line two end"),
        ("\x1b[31mred\x1b[0m", "[31mred[0m"),
        ("evil\u202etxt.exe", "eviltxt.exe"),
        ("  Café menu  ", "Café menu"),
        ("\x00\x01", ""),
    ],
)
def test_titles_lose_control_and_format_characters(raw: str, clean: str) -> None:
    assert clean_title(raw) == clean


def test_a_nul_in_a_name_reaches_neither_the_id_nor_the_type() -> None:
    assert id_from_filename("minutes\x00.md") == "minutes_.md"
    assert upload_type("minutes\x00.md", ALLOWED) == ".md"
