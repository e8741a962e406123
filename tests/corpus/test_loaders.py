"""Loaders: every supported format keeps titles, headings and pages; every kind of bad file is reported by path."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from ragtune.config import CorpusConfig
from ragtune.corpus.chunking import HEADINGS_KEY, PAGES_KEY
from ragtune.corpus.loaders import load_paths


def _pdf(path: Path, pages: list[str], password: str | None = None, title: str = "") -> Path:
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))
    return path


README = """---
layout: page
title: "Thread-pool Controls"
---

Thread-pool Controls [![Build Status](https://github.com/joblib/threadpoolctl/badge.svg)](https://github.com/joblib)
====================

Python helpers to **limit** the number of threads used in the `threadpool`-backed libraries
([BLAS](https://www.netlib.org/blas/) and OpenMP).

<p align="center"><img src="logo.png"> A logo</p>

## Install

- from PyPI: `pip install threadpoolctl`
- from *conda-forge*

1. Import it.
2. Call `threadpool_limits(limits=1)`.

| Library | Default |
|---|---|
| OpenBLAS | all cores |
"""


def test_markdown_is_read_as_the_text_a_reader_sees(tmp_path: Path) -> None:
    """A README as PyPI shows it: front matter, a setext title with a badge, links, emphasis, code, raw HTML, lists
    and a table. What is indexed is their text: no badge in the title, no URL, no `**` or backticks."""
    (tmp_path / "threadpoolctl.md").write_text(README, encoding="utf-8")
    (doc,) = load_paths([tmp_path / "threadpoolctl.md"], CorpusConfig()).documents
    assert doc.title == "Thread-pool Controls"
    assert [m[1] for m in doc.metadata[HEADINGS_KEY]] == ["Thread-pool Controls", "Thread-pool Controls > Install"]
    assert doc.text.split("\n\n") == [
        "Thread-pool Controls",
        "Python helpers to limit the number of threads used in the threadpool-backed libraries\n(BLAS and OpenMP).",
        "A logo",
        "Install",
        "- from PyPI: pip install threadpoolctl",
        "- from conda-forge",
        "1. Import it.",
        "2. Call threadpool_limits(limits=1).",
        "Library | Default",
        "OpenBLAS | all cores",
    ]


def test_text_markdown_html(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("First paragraph.\n\nSecond paragraph.", encoding="utf-8")
    (tmp_path / "guide.md").write_text(
        "# User Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n### Linux\n\nUse apt.\n", encoding="utf-8"
    )
    (tmp_path / "page.html").write_text(
        "<html><head><title>Help Page</title><script>var x = 'hidden';</script></head><body>"
        "<nav>menu</nav><h1>Help</h1><p>Call <b>support</b> any time.</p><h2>Hours</h2><ul><li>Mon-Fri</li></ul>"
        "</body></html>",
        encoding="utf-8",
    )
    result = load_paths([tmp_path], CorpusConfig())
    assert not result.failures
    docs = {d.id: d for d in result.documents}
    assert set(docs) == {"guide.md", "notes.txt", "page.html"}  # relative to the working directory (tmp_path)
    assert docs["notes.txt"].title == "notes" and docs["notes.txt"].metadata["type"] == "txt"
    guide = docs["guide.md"]
    assert guide.title == "User Guide"
    marks = guide.metadata[HEADINGS_KEY]
    assert [m[1] for m in marks] == ["User Guide", "User Guide > Install", "User Guide > Install > Linux"]
    assert guide.text[marks[2][0] :] == "Linux\n\nUse apt."  # the heading's words, not its "###"
    page = docs["page.html"]
    assert page.title == "Help Page"
    assert "hidden" not in page.text and "menu" not in page.text
    assert "Call support any time." in page.text and "Mon-Fri" in page.text
    assert [m[1] for m in page.metadata[HEADINGS_KEY]] == ["Help", "Help > Hours"]
    assert page.metadata["source"] == "page.html"


def test_utf16_text_and_html_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    # What Windows Notepad saves as "Unicode": full of NUL bytes, yet text.
    (tmp_path / "notes.txt").write_bytes("Caf\u00e9 hours: 9 to 5.".encode("utf-16"))
    (tmp_path / "big.md").write_bytes(b"\xfe\xff" + "# Title\n\nBody text.".encode("utf-16-be"))
    page = "<html><head><title>Hours</title></head><body><p>Open at 9.</p></body></html>"
    (tmp_path / "page.html").write_bytes(page.encode("utf-16"))
    (tmp_path / "broken.txt").write_bytes(b"\xff\xfeA\x00\x00\xd8")  # a lone surrogate half
    result = load_paths([tmp_path], CorpusConfig())
    docs = {d.id: d for d in result.documents}
    assert docs["notes.txt"].text == "Caf\u00e9 hours: 9 to 5." and docs["big.md"].title == "Title"
    assert "Open at 9." in docs["page.html"].text and docs["page.html"].title == "Hours"
    assert [f.path.endswith("broken.txt") for f in result.failures] == [True]
    assert "UTF-16" in result.failures[0].reason


def test_html_table_row_stays_one_line(tmp_path: Path) -> None:
    # A cell alone ("forest green") means nothing without its row; the DOCX loader joins cells the same way.
    (tmp_path / "spec.html").write_text(
        "<html><body><h1>Gauge</h1><table><tr><th>Property</th><th>Value</th></tr>"
        "<tr><td>Housing colour</td><td><p>forest green</p></td></tr><tr><td></td><td>spare</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    (doc,) = load_paths([tmp_path], CorpusConfig()).documents
    assert doc.text.splitlines()[2:] == ["Property | Value", "", "Housing colour | forest green", "", "spare"]


def test_multipage_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = _pdf(
        tmp_path / "report.pdf",
        ["Annual report. Revenue grew by ten percent.", "Risks include currency movements.", "Outlook is stable."],
        title="Annual Report 2024",
    )
    (doc,) = load_paths([path], CorpusConfig()).documents
    assert doc.title == "Annual Report 2024" and doc.metadata["pages"] == 3
    pages = doc.metadata[PAGES_KEY]
    assert [p[1] for p in pages] == [1, 2, 3]
    assert doc.text[pages[1][0] :].startswith("Risks include currency")


def test_docx_headings_and_tables(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("Employee Handbook", level=0)
    d.add_heading("Leave", level=1)
    d.add_paragraph("Staff get 25 days of paid leave.")
    d.add_heading("Sick leave", level=2)
    d.add_paragraph("Report sickness before 9am.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Grade", "Days"
    d.save(str(tmp_path / "handbook.docx"))
    (doc,) = load_paths([tmp_path / "handbook.docx"], CorpusConfig()).documents
    assert doc.title == "Employee Handbook"
    assert "Staff get 25 days of paid leave." in doc.text and "Grade | Days" in doc.text
    headings = [m[1] for m in doc.metadata[HEADINGS_KEY]]
    assert headings[-1] == "Employee Handbook > Leave > Sick leave"


def test_jsonl_records_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    path.write_text(
        '{"id": "q1", "title": "Refunds", "text": "Refunds take 5 days.", "team": "billing"}\n'
        '{"_id": 7, "text": "Shipping is free.", "weight": NaN, "max": Infinity}\n'  # a pandas export's missing value
        "not json\n"
        '{"title": "no text"}\n'
        '{"text": "No id here."}\n'
        '{"id": "q1", "text": "Duplicate id."}\n',
        encoding="utf-8",
    )
    result = load_paths([path], CorpusConfig())
    docs = {d.id: d for d in result.documents}
    assert set(docs) == {"q1", "7", "faq.jsonl:5"}
    assert docs["q1"].title == "Refunds" and docs["q1"].metadata["team"] == "billing"
    assert docs["q1"].metadata["source"] == "faq.jsonl" and docs["q1"].metadata["line"] == 1
    assert docs["7"].metadata["weight"] is None and docs["7"].metadata["max"] is None  # strict JSON when stored
    json.dumps(docs["7"].metadata, allow_nan=False)
    reasons = {f.path: f.reason for f in result.failures}
    assert set(reasons) == {"faq.jsonl:3", "faq.jsonl:4", "faq.jsonl:6"}
    assert "not valid JSON" in reasons["faq.jsonl:3"] and "'text'" in reasons["faq.jsonl:4"]
    assert "duplicate document id 'q1'" in reasons["faq.jsonl:6"]


def test_reads_beir_corpus(shared_data: Path) -> None:
    result = load_paths([shared_data / "scifact" / "corpus.jsonl"], CorpusConfig())
    assert len(result.documents) == 5183 and not result.failures
    doc = next(d for d in result.documents if d.id == "4983")
    assert doc.title.startswith("Microstructural development of human newborn cerebral white matter")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("latin1.txt", "caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8"),
        ("binary.txt", b"\x00\x01\x02\x03" * 100, "give it its real extension (.pdf, .docx)"),
        ("corrupt.pdf", b"%PDF-1.4\n garbage that is not a pdf", "PDF"),
        ("corrupt.docx", b"PK\x03\x04 not really a zip", "docx"),
        ("data.xyz", b"hello", "unsupported file type"),
    ],
)
def test_bad_files_are_reported_and_the_rest_loaded(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / "good.txt").write_text("A readable file.", encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    result = load_paths([tmp_path / "good.txt", tmp_path / name], CorpusConfig())
    assert [d.id for d in result.documents] == ["good.txt"]
    (failure,) = result.failures
    assert failure.path == name and reason in failure.reason, failure


def test_a_damaged_pdf_is_one_failure_not_a_stream_of_library_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "damaged.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n")  # no xref, no %%EOF
    with caplog.at_level(logging.WARNING):
        result = load_paths([tmp_path / "damaged.pdf"], CorpusConfig())
    assert len(result.failures) == 1
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert logging.getLogger("pypdf").level == logging.NOTSET  # left as it was


def test_encrypted_oversized_and_missing(tmp_path: Path) -> None:
    _pdf(tmp_path / "locked.pdf", ["Secret plans."], password="s3cret")
    _pdf(tmp_path / "open.pdf", ["Permissions only."], password="")  # empty user password: opens
    (tmp_path / "big.txt").write_text("x" * 3000, encoding="utf-8")
    config = CorpusConfig(max_file_mb=0.002)
    result = load_paths([tmp_path / "locked.pdf", tmp_path / "open.pdf", tmp_path / "big.txt", "nope/"], config)
    reasons = {f.path: f.reason for f in result.failures}
    assert "encrypted" in reasons["locked.pdf"] and "password" in reasons["locked.pdf"]
    assert "too large" in reasons["big.txt"] and "max_file_mb" in reasons["big.txt"]
    assert reasons["nope/"] == "no such file or folder"
    assert [d.text for d in result.documents] == ["Permissions only."]


def test_folder_walk_skips_hidden_and_other_types(tmp_path: Path) -> None:
    (tmp_path / "docs" / ".git").mkdir(parents=True)
    (tmp_path / "docs" / ".git" / "x.md").write_text("hidden", encoding="utf-8")
    (tmp_path / "docs" / "sub").mkdir()
    (tmp_path / "docs" / "sub" / "a.md").write_text("# A\n\nText.", encoding="utf-8")
    (tmp_path / "docs" / "image.png").write_bytes(b"\x89PNG")
    result = load_paths([tmp_path / "docs"], CorpusConfig())
    assert [d.id for d in result.documents] == ["docs/sub/a.md"] and not result.failures
