"""Files -> Documents, or a per-file reason why not.

One bad file never stops the others: `load_paths` returns every document it could read plus a `LoadFailure`
(path and reason) for each file it could not. Titles, headings and page numbers are kept so that a citation can say
where a passage came from.

Document ids (`ragtune.corpus.ids`): a file's id is its path relative to a root folder, as it stands in the
folder. A JSONL record's id is its own `id`/`_id` field (BEIR qrels refer to those), or `FILE:LINE` when it has none.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragtune.config import CorpusConfig
from ragtune.corpus.chunking import HEADINGS_KEY, PAGES_KEY
from ragtune.corpus.document import Document
from ragtune.corpus.ids import document_id_for, readable_size
from ragtune.corpus.markdown import read_markdown
from ragtune.corpus.pdf import read_pdf
from ragtune.corpus.structure import HeadingPath, UnreadableFileError
from ragtune.jsonl import UTF16_BOMS, decode_text, parse_record

# A table row is one block, its cells joined by " | " as in the DOCX loader: a cell alone ("forest green") means
# nothing without its row ("Housing colour").
_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "blockquote", "tr", "td", "th", "dt", "dd")
_HTML_DROP = ("script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form")


@dataclass(frozen=True)
class LoadFailure:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return decode_text(
            data,
            binary_advice="if it is a PDF or Word document, give it its real extension (.pdf, .docx), else convert "
            "it to UTF-8 text",
        )
    except ValueError as exc:
        raise UnreadableFileError(str(exc)) from exc


def _require_text(text: str) -> str:
    if not text.strip():
        raise UnreadableFileError("empty: no text to index")
    return text


def _assemble(blocks: Iterable[tuple[str, str | None]]) -> tuple[str, list[list[Any]]]:
    """Join (text, heading-or-None) blocks into one text; headings become [offset, 'H1 > H2'] marks."""
    parts: list[str] = []
    marks: list[list[Any]] = []
    offset = 0
    for text, heading in blocks:
        text = text.strip()
        if not text:
            continue
        if heading is not None:
            marks.append([offset, heading])
        parts.append(text)
        offset += len(text) + 2
    return "\n\n".join(parts), marks


def _load_text(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    text = _require_text(_decode(data))
    return text, {"title": path.stem}


def _load_markdown(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    markdown = read_markdown(_require_text(_decode(data)))
    text, marks = _assemble(markdown.blocks)
    meta: dict[str, Any] = {"title": markdown.title or path.stem}
    if marks:
        meta[HEADINGS_KEY] = marks
    return _require_text(text), meta


def _load_html(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    if b"\x00" in data[:8192] and not data.startswith(UTF16_BOMS):
        raise UnreadableFileError("binary file (contains NUL bytes), not HTML")
    soup = BeautifulSoup(data, "lxml")  # detects the encoding from the BOM / <meta charset>
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    headings = HeadingPath()
    blocks: list[tuple[str, str | None]] = []
    for el in soup.find_all(list(_HTML_BLOCKS)):
        if el.find_parent(list(_HTML_BLOCKS)) is not None:
            continue  # its text is part of the enclosing block already
        name = el.name or ""
        if name[0] == "h" and name[1:].isdigit():
            heading_text = el.get_text(" ", strip=True)
            if not title and name == "h1":
                title = heading_text
            blocks.append((heading_text, headings.push(int(name[1:]), heading_text)))
        elif name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            line = " | ".join(c for c in cells if c)
            if line:
                blocks.append((line, None))
        else:
            blocks.append((el.get_text("\n" if name == "pre" else " ", strip=name != "pre"), None))
    text, marks = _assemble(blocks)
    if not text.strip():  # no block structure: take all visible text
        root = soup.body or soup
        text = root.get_text("\n", strip=True)
    meta: dict[str, Any] = {"title": title or path.stem}
    if marks:
        meta[HEADINGS_KEY] = marks
    return _require_text(text), meta


def _load_pdf(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    pdf = read_pdf(data)
    meta: dict[str, Any] = {"title": pdf.title or path.stem, "pages": pdf.n_pages, PAGES_KEY: pdf.pages}
    if pdf.headings:
        meta[HEADINGS_KEY] = pdf.headings
    return pdf.text, meta


def _load_docx(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    from io import BytesIO
    from zipfile import BadZipFile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        doc = docx.Document(BytesIO(data))
    except (BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise UnreadableFileError(f"corrupt or not a .docx file ({type(exc).__name__}: {exc})") from exc
    headings = HeadingPath()
    blocks: list[tuple[str, str | None]] = []
    title = (doc.core_properties.title or "").strip()
    for para in doc.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        text = para.text.strip()
        if not text:
            continue
        if style == "Title":
            title = title or text
            blocks.append((text, headings.push(0, text)))
        elif style.startswith("Heading") and style[7:].strip().isdigit():
            level = int(style[7:].strip())
            if level == 1 and not title:
                title = text
            blocks.append((text, headings.push(level, text)))
        else:
            blocks.append((text, None))
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            line = " | ".join(dict.fromkeys(c for c in cells if c))  # merged cells repeat their text
            if line:
                blocks.append((line, None))
    text, marks = _assemble(blocks)
    meta: dict[str, Any] = {"title": title or path.stem}
    if marks:
        meta[HEADINGS_KEY] = marks
    return _require_text(text), meta


def _load_jsonl(path: Path, data: bytes, source: str) -> tuple[list[Document], list[LoadFailure]]:
    """One document per line; a bad line is reported (with its line number) and the others are kept."""
    text = _decode(data)
    documents: list[Document] = []
    failures: list[LoadFailure] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}:{line_no}"
        try:
            record = parse_record(line, "a JSON object with a 'text' field")
        except ValueError as exc:  # a bad line is reported; the file's other documents are kept
            failures.append(LoadFailure(where, str(exc)))
            continue
        body = record.get("text", record.get("contents"))
        if not isinstance(body, str) or not body.strip():
            failures.append(LoadFailure(where, "missing or empty 'text' field (a string is required)"))
            continue
        raw_id = record.get("id", record.get("_id"))
        doc_id = str(raw_id) if raw_id not in (None, "") else where
        meta: dict[str, Any] = {
            k: v for k, v in record.items() if k not in {"text", "contents", "id", "_id"} and not str(k).startswith("_")
        }
        meta["title"] = str(record.get("title") or "")
        meta["source"] = source
        meta["line"] = line_no
        documents.append(Document(id=doc_id, text=body, metadata=meta))
    if not documents and not failures:
        failures.append(LoadFailure(source, "empty: no JSON lines"))
    return documents, failures


_LOADERS = {
    ".txt": _load_text,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
SUPPORTED = (*_LOADERS, ".jsonl")


def load_file(path: Path, config: CorpusConfig, root: Path | None = None) -> tuple[list[Document], list[LoadFailure]]:
    """The documents in one file, and per-file (or per-line) failures; never raises for a bad file.

    Whatever goes wrong with one file (a link that leads nowhere, a FIFO, a permission, any exception of a parser
    library) is that file's failure line, named by its path in the folder: the other files are still read."""
    source = document_id_for(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return [], [LoadFailure(source, f"unsupported file type '{suffix}'; supported: {', '.join(SUPPORTED)}")]
    try:
        size = readable_size(path)
        if size > config.max_file_mb * 1024 * 1024:
            raise UnreadableFileError(
                f"too large ({size / 1024 / 1024:.1f} MB > corpus.max_file_mb = {config.max_file_mb:g}); "
                "split it or raise the limit"
            )
        if size == 0:
            raise UnreadableFileError("empty file (0 bytes)")
        data = path.read_bytes()
        if suffix == ".jsonl":
            return _load_jsonl(path, data, source)
        text, meta = _LOADERS[suffix](path, data)
    except UnreadableFileError as exc:
        return [], [LoadFailure(source, str(exc))]
    except OSError as exc:
        return [], [LoadFailure(source, f"cannot read ({exc.strerror or exc}); check its permissions")]
    except Exception as exc:  # a parser library's own surprise (RecursionError, MemoryError...) is this file's
        return [], [LoadFailure(source, f"cannot be read ({type(exc).__name__}: {exc})")]
    meta["source"] = source
    meta["type"] = suffix.lstrip(".")
    return [Document(id=source, text=text, metadata=meta)], []


def discover(
    paths: Sequence[str | Path], config: CorpusConfig, root: Path | None = None
) -> tuple[list[Path], list[LoadFailure]]:
    """Files to load: explicit files as given, folders walked recursively for `config.extensions` (hidden files
    and folders such as .git or the .ragtune workspace are skipped). Links to folders are followed, each folder
    read once; a folder that cannot be listed, or one reached again through a link, is a failure line."""
    wanted = {e.lower() if e.startswith(".") else "." + e.lower() for e in config.extensions}
    files: list[Path] = []
    failures: list[LoadFailure] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            files.extend(_walk(path, wanted, root, failures))
        elif path.is_file() or path.is_symlink():  # a broken link given by name: load_file says what is wrong
            files.append(path)
        else:
            failures.append(LoadFailure(str(raw), "no such file or folder"))
    unique = list(dict.fromkeys(files))
    return unique, failures


def _walk(folder: Path, wanted: set[str], root: Path | None, failures: list[LoadFailure]) -> list[Path]:
    top = document_id_for(folder, root)

    def where(walked: str) -> str:  # a folder as the user sees it: through the links that led to it
        relative = os.path.relpath(walked, folder)
        return top if relative == "." else f"{top}/{Path(relative).as_posix()}"

    def unreadable(exc: OSError) -> None:
        place = where(exc.filename) if exc.filename else top
        failures.append(LoadFailure(place, f"folder cannot be read ({exc.strerror or exc}); check its permissions"))

    files: list[Path] = []
    seen: dict[tuple[int, int], str] = {}
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=True):
        try:
            info = os.stat(dirpath)
        except OSError as exc:
            unreadable(exc)
            dirnames[:] = []
            continue
        key = (info.st_dev, info.st_ino)
        if key in seen:  # a link back up the tree (or a second link to one folder): read it once
            failures.append(
                LoadFailure(
                    where(dirpath), f"folder already read as {seen[key]} (a link loop, or a second link to it); skipped"
                )
            )
            dirnames[:] = []
            continue
        seen[key] = where(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        here = Path(dirpath)
        files.extend(here / n for n in sorted(filenames) if not n.startswith(".") and Path(n).suffix.lower() in wanted)
    return files


def load_paths(
    paths: Sequence[str | Path], config: CorpusConfig, *, root: Path | None = None, progress: bool = False
) -> LoadResult:
    """Every document under `paths` (files or folders); unreadable files and duplicate ids become failures.

    File ids and sources are relative to `root` (default: the working directory), see the module docstring."""
    from tqdm.auto import tqdm

    files, failures = discover(paths, config, root)
    documents: list[Document] = []
    seen: dict[str, str] = {}
    for path in tqdm(files, desc="reading", unit="file", disable=not progress or len(files) < 20):
        docs, fails = load_file(path, config, root)
        failures.extend(fails)
        for doc in docs:
            where = str(doc.metadata.get("source", doc.id))
            if doc.id in seen:
                failures.append(
                    LoadFailure(
                        f"{where}:{doc.metadata['line']}" if "line" in doc.metadata else where,
                        f"duplicate document id '{doc.id}' (first seen in {seen[doc.id]}); ids must be unique",
                    )
                )
                continue
            seen[doc.id] = where
            documents.append(doc)
    return LoadResult(documents=documents, failures=failures)
