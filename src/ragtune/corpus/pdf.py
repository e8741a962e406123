"""A PDF's bytes -> its text, page by page, with its bookmarks as headings.

PDFium (pypdfium2, Apache-2.0/BSD-3) reads first: on the 40 real PDFs of ../shared/data/real-pdfs it parsed 348
pages about 19x faster than pypdf, kept the spaces between words that pypdf glues together in some files, and never
raised (`python -m benchmarks pdf`). pypdf reads a file PDFium cannot open or finds no text in, so a file either
library can read is read. Whatever either library raises becomes an UnreadableFileError naming the cause: a parser's
surprise (pypdf's LimitReachedError on real SEC filings, say) is that one file's failure, never the run's end.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from io import BytesIO

from ragtune.corpus.structure import HeadingPath, UnreadableFileError
from ragtune.jsonl import decode_text

# PDFium ends lines with \r\n and marks a hyphen it added at a line break with \x02; other control characters in
# extracted text are noise from broken font maps (tabs and newlines stay).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_MAX_BOOKMARKS = 2000  # a table of contents longer than this is a generated index, not headings


@dataclass(frozen=True)
class PdfText:
    """A PDF's text: pages joined by blank lines, `pages` = [[offset, page number]], `headings` = [[offset, path]]
    (both ascending by offset, the chunker's structure marks), the title from its info dictionary, its page count."""

    text: str
    pages: list[list[int]] = field(default_factory=list)
    headings: list[list[object]] = field(default_factory=list)
    title: str = ""
    n_pages: int = 0
    parser: str = "pdfium"


def _looks_like_text(data: bytes) -> bool:
    """Whether the one decoder of user files (`jsonl.decode_text`) reads it as text; only on the not-a-PDF path."""
    try:
        decode_text(data)
    except ValueError:
        return False
    return True


def read_pdf(data: bytes) -> PdfText:
    """The text of a PDF, or UnreadableFileError saying why there is none (encrypted, damaged, scanned, or not a
    PDF at all)."""
    if b"%PDF-" not in data[:1024]:  # where every PDF reader looks for the header
        named = "text" if _looks_like_text(data) else "another format"
        raise UnreadableFileError(
            f"not a PDF: it has no %PDF header and looks like {named}; give it its real extension "
            "(.txt, .md, .html, .docx) or export it as PDF again"
        )
    first: PdfText | None = None
    pdfium_error = ""
    try:
        first = _read_pdfium(data)
    except UnreadableFileError:
        raise  # a password is needed: pypdf cannot do better
    except Exception as exc:  # any surprise of the native parser: try the other one before giving up
        pdfium_error = f"{type(exc).__name__}: {exc}"
    if first is not None and first.text:
        return first
    try:
        second = _read_pypdf(data)
    except UnreadableFileError:
        raise
    except Exception as exc:  # pypdf raises many types (LimitReachedError, RecursionError, ...): all are this file's
        causes = f"pdfium: {pdfium_error}; pypdf: " if pdfium_error else ""
        raise UnreadableFileError(f"corrupt or unsupported PDF ({causes}{type(exc).__name__}: {exc})") from exc
    if second.text:
        return second
    n_pages = first.n_pages if first is not None else second.n_pages
    raise UnreadableFileError(f"no extractable text in {n_pages} page(s) (a scanned image? run OCR first)")


def clean_page_text(text: str) -> str:
    """Extracted page text with \\r\\n as \\n, PDFium's line-break hyphens joined and control noise removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02\n", "").replace("\x02", "-")
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


def _join(page_texts: list[str]) -> tuple[str, list[list[int]], list[int]]:
    """Pages joined by blank lines; page marks; and each page's offset (-1 for a page without text)."""
    parts: list[str] = []
    marks: list[list[int]] = []
    starts: list[int] = []
    offset = 0
    for number, page_text in enumerate(page_texts, start=1):
        if not page_text:
            starts.append(-1)
            continue
        marks.append([offset, number])
        starts.append(offset)
        parts.append(page_text)
        offset += len(page_text) + 2
    return "\n\n".join(parts), marks, starts


def _read_pdfium(data: bytes) -> PdfText:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableFileError("encrypted PDF that needs a password; save an unprotected copy") from exc
        raise
    try:
        page_texts: list[str] = []
        for index in range(len(doc)):
            page = doc[index]
            try:
                textpage = page.get_textpage()
                try:
                    page_texts.append(clean_page_text(textpage.get_text_bounded()))
                finally:
                    textpage.close()
            finally:
                page.close()
        text, pages, starts = _join(page_texts)
        bookmarks: list[tuple[int, str, int | None]] = []
        for i, mark in enumerate(doc.get_toc()):
            if i >= _MAX_BOOKMARKS:
                break
            dest = mark.get_dest()
            target = dest.get_index() if dest is not None else None
            bookmarks.append((int(mark.level), str(mark.get_title() or ""), target))
        title = str(doc.get_metadata_dict().get("Title") or "").strip()
    finally:
        doc.close()
    return PdfText(text, pages, headings_from_bookmarks(text, starts, bookmarks), title, len(page_texts))


def headings_from_bookmarks(
    text: str, page_starts: list[int], bookmarks: list[tuple[int, str, int | None]]
) -> list[list[object]]:
    """[[offset, 'Part > Section'], ...] from (level, title, page index) bookmarks: each heading sits where its
    title is written on its page (searched after the previous heading of that page), or at the page's start."""
    marks: list[list[object]] = []
    path = HeadingPath()
    last = 0
    for level, raw_title, index in bookmarks:
        title = " ".join(clean_page_text(raw_title).split())
        if not title or index is None or not 0 <= index < len(page_starts) or page_starts[index] < 0:
            continue
        start = page_starts[index]
        end = next((s for s in page_starts[index + 1 :] if s >= 0), len(text))
        pattern = r"\s+".join(re.escape(word) for word in title.split())
        found = re.compile(pattern, re.IGNORECASE).search(text, max(start, last), end)
        at = found.start() if found else max(start, last)
        if at < last:  # bookmarks out of page order: keep the marks ascending, as the chunker needs
            continue
        marks.append([at, path.push(level, title)])
        last = at
    return marks


def _read_pypdf(data: bytes) -> PdfText:
    # pypdf logs a warning for each flaw of a damaged file; the failure we report says it once, with the file name.
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        return _read_pypdf_quietly(data)
    finally:
        pypdf_log.setLevel(level)


def _read_pypdf_quietly(data: bytes) -> PdfText:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    reader = PdfReader(BytesIO(data))
    if reader.is_encrypted:
        # Many PDFs are "encrypted" with an empty user password (permissions only); those open fine.
        try:
            if not reader.decrypt(""):
                raise UnreadableFileError("encrypted PDF that needs a password; save an unprotected copy")
        except (FileNotDecryptedError, NotImplementedError) as exc:
            raise UnreadableFileError(f"encrypted PDF that cannot be opened ({exc}); save an unprotected copy") from exc
    page_texts = [clean_page_text(page.extract_text() or "") for page in reader.pages]
    text, pages, _ = _join(page_texts)
    try:
        info = reader.metadata
        title = str(info.get("/Title") or "").strip() if info is not None else ""
    except Exception:  # a broken info dictionary must not lose the text
        title = ""
    return PdfText(text, pages, [], title, len(page_texts), parser="pypdf")
