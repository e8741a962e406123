"""PDF reading: a file that makes one parser raise is read by the other or is one failure line; pages, bookmarks
as headings and table rows in reading order are kept."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from pypdf.errors import LimitReachedError

from ragtune.config import CorpusConfig
from ragtune.corpus.chunking import HEADINGS_KEY, PAGES_KEY
from ragtune.corpus.loaders import load_paths
from ragtune.corpus.pdf import clean_page_text, headings_from_bookmarks, read_pdf

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "ragtune" / "samples"


def raw_pdf(text: str, page_extra: bytes = b"") -> bytes:
    """A one-page PDF written byte by byte (with a correct cross-reference table), `page_extra` added to the page."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R " + page_extra + b">>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_that_makes_pypdf_raise_is_read(tmp_path: Path) -> None:
    # An array past pypdf's element limit, as in the SEC filings where `reader.pages` raised and ended the ingest.
    data = raw_pdf("Quarterly revenue was 12 million dollars.", b"/Junk [" + b"0 " * 100_001 + b"] ")
    with pytest.raises(LimitReachedError):
        _ = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]
    (tmp_path / "filing.pdf").write_bytes(data)
    (tmp_path / "notes.txt").write_text("Readable too.", encoding="utf-8")
    result = load_paths([tmp_path], CorpusConfig())
    assert not result.failures
    docs = {d.id: d for d in result.documents}
    assert docs["filing.pdf"].text == "Quarterly revenue was 12 million dollars."
    assert docs["filing.pdf"].metadata[PAGES_KEY] == [[0, 1]] and docs["notes.txt"].text == "Readable too."


def test_a_pdf_neither_parser_reads_is_one_line_naming_both(tmp_path: Path) -> None:
    (tmp_path / "torn.pdf").write_bytes(raw_pdf("Half a file.")[:200])
    (tmp_path / "ok.txt").write_text("Fine.", encoding="utf-8")
    result = load_paths([tmp_path], CorpusConfig())
    assert [d.id for d in result.documents] == ["ok.txt"]
    (failure,) = result.failures
    assert failure.path == "torn.pdf" and "corrupt or unsupported PDF" in failure.reason
    assert "pdfium:" in failure.reason and "pypdf:" in failure.reason and "\n" not in failure.reason


def test_a_file_named_pdf_that_is_not_one_says_what_it_looks_like(tmp_path: Path) -> None:
    (tmp_path / "notes.pdf").write_text("Meeting notes: the launch moved to May.\n", encoding="utf-8")
    (tmp_path / "image.pdf").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    failures = {f.path: f.reason for f in load_paths([tmp_path], CorpusConfig()).failures}
    assert failures["notes.pdf"].startswith("not a PDF: it has no %PDF header and looks like text; give it its real")
    assert "looks like another format" in failures["image.pdf"] and "pdfium" not in failures["image.pdf"]


def test_a_pdf_without_text_says_so(tmp_path: Path) -> None:
    (tmp_path / "scan.pdf").write_bytes(raw_pdf(""))
    (failure,) = load_paths([tmp_path / "scan.pdf"], CorpusConfig()).failures
    assert "no extractable text in 1 page(s)" in failure.reason


def test_bookmarks_become_headings_at_their_text_and_tables_stay_in_rows() -> None:
    (doc,) = load_paths([SAMPLES / "docs_v1" / "annual-report-2025.pdf"], CorpusConfig()).documents
    marks = doc.metadata[HEADINGS_KEY]
    assert [m[1] for m in marks][:2] == ["A word from the Chief Executive", "Key figures"]
    for offset, heading in marks:
        assert doc.text[offset:].startswith(heading)
    assert [m[0] for m in marks] == sorted(m[0] for m in marks)
    prices = read_pdf((SAMPLES / "docs_v1" / "price-list-2026.pdf").read_bytes())
    assert "Skellet S3 weather station $349\nSkellet S3 mounting kit $45" in prices.text
    assert prices.title == "Quorrin Price List 2026" and prices.n_pages == 1


def test_headings_nest_by_level_and_fall_back_to_the_page_start() -> None:
    text = "Intro\n\nPart A\nbody\n\nPage two text"
    marks = headings_from_bookmarks(
        text, [0, 15], [(0, "Part  A", 0), (1, "Not written anywhere", 1), (0, "Missing page", 7)]
    )
    assert marks == [[7, "Part A"], [15, "Part A > Not written anywhere"]]


def test_page_text_is_cleaned() -> None:
    assert clean_page_text("hy\x02\nphen\r\nnext\x00 line\r\n") == "hyphen\nnext line"
