"""PDF reading on real documents: ragtune's reader (PDFium, pypdf as fallback) against pypdf alone, same process.

- ../shared/data/real-pdfs (40 real PDFs, 348 pages: NTSB reports with forms and tables, clinical protocols) and
  the bundled sample's PDFs: pages/s, files that fail, and characters extracted (whitespace not counted: the two
  libraries lay out spaces and line ends differently), each against pypdf's `extract_text` over the same files.
- Ingest of the 40 real PDFs into a fresh LanceDB store (`ragtune.store.sync.ingest`: discover, parse, chunk,
  embed, write, index) against parsing them plus the embedder's own batched encode of exactly the same chunks.

`--quick` uses the first 10 PDFs of each set.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, Section, timed
from ragtune.errors import RagtuneError

ROOT = Path(__file__).resolve().parents[1]
REAL_PDFS = ROOT.parent / "shared" / "data" / "real-pdfs"
SAMPLES = ROOT / "src" / "ragtune" / "samples"
_SPACE = re.compile(r"\s+")


def _visible(text: str) -> int:
    return len(_SPACE.sub("", text))


NO_TEXT = "no extractable text"


def _pypdf(files: list[Path]) -> tuple[int, int, int, int]:
    """pages, failed files, files without text, visible characters of pypdf alone (warnings silenced, as ragtune
    does)."""
    from pypdf import PdfReader

    log = logging.getLogger("pypdf")
    level = log.level
    log.setLevel(logging.ERROR)
    pages = failed = empty = chars = 0
    try:
        for path in files:
            try:
                found = 0
                for page in PdfReader(path).pages:
                    found += _visible(page.extract_text() or "")
                    pages += 1
            except Exception:  # the baseline's failures are counted, not raised
                failed += 1
                continue
            chars += found
            empty += found == 0
    finally:
        log.setLevel(level)
    return pages, failed, empty, chars


def _ragtune(files: list[Path]) -> tuple[int, int, int, int, list[str]]:
    """The same for ragtune's reader, and the reasons of the files it cannot read."""
    from ragtune.corpus.pdf import read_pdf
    from ragtune.corpus.structure import UnreadableFileError

    pages = failed = empty = chars = 0
    reasons: list[str] = []
    for path in files:
        try:
            pdf = read_pdf(path.read_bytes())
        except UnreadableFileError as exc:
            reasons.append(f"{path.name}: {exc}")
            if str(exc).startswith(NO_TEXT):
                empty += 1
            else:
                failed += 1
            continue
        pages += pdf.n_pages
        chars += _visible(pdf.text)
    return pages, failed, empty, chars, reasons


def _compare(section: Section, label: str, files: list[Path], speed_target: float | None) -> None:
    (r_pages, r_failed, r_empty, r_chars, reasons), r_s = timed(lambda: _ragtune(files))
    (b_pages, b_failed, b_empty, b_chars), b_s = timed(lambda: _pypdf(files))
    r_pages += r_empty  # an image-only file's pages were parsed too (PDFium and pypdf both find no text there)
    section.rows.append(
        Row(
            name=f"{label}: {len(files)} PDFs, {r_pages} pages",
            value=r_pages / r_s,
            unit="pages/s",
            baseline=b_pages / b_s,
            baseline_name="pypdf",
            target=f">= {speed_target:g}x" if speed_target else "",
            passed=(r_pages / r_s >= speed_target * b_pages / b_s) if speed_target else None,
        )
    )
    section.rows.append(
        Row(
            name=f"{label}: files that fail (the parser raises)",
            value=r_failed,
            unit="files",
            baseline=b_failed,
            baseline_name="pypdf",
            higher_is_better=False,
            target="0",
            passed=r_failed == 0,
        )
    )
    section.rows.append(
        Row(
            name=f"{label}: files without any text (image-only pages: OCR needed; reported, not stored)",
            value=r_empty,
            unit="files",
            baseline=b_empty,
            baseline_name="pypdf",
            higher_is_better=False,
            target="<= pypdf",
            passed=r_empty <= b_empty,
        )
    )
    section.rows.append(
        Row(
            name=f"{label}: characters extracted (not counting whitespace)",
            value=r_chars,
            unit="chars",
            baseline=b_chars,
            baseline_name="pypdf",
            target=">= 1.0x",
            passed=r_chars >= b_chars,
        )
    )
    section.notes.extend(reasons)


def _ingest(section: Section, files: list[Path]) -> None:
    from ragtune.config import Config, ModelsConfig
    from ragtune.corpus.chunking import chunk_document, embedding_text
    from ragtune.corpus.loaders import load_paths
    from ragtune.corpus.pdf import read_pdf
    from ragtune.models.loader import load_embedder
    from ragtune.store import open_store
    from ragtune.store.sync import ingest

    embedder = load_embedder(ModelsConfig())
    embedder.embed_documents(["warm-up"])  # first-call overheads belong to neither side
    config = Config(workspace=str(Path(tempfile.mkdtemp(prefix="ragtune-bench-pdf-")) / ".ragtune"))
    root = config.workspace_path.resolve().parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in files:  # links: the files stay where they are, the ingest sees one folder
            (folder / f"{path.parent.name}-{path.name}").symlink_to(path)
        _, parse_s = timed(lambda: [_read_or_none(read_pdf, p) for p in files])
        documents = load_paths([folder], config.corpus, root=root).documents
        chunks = [c for d in documents for c in chunk_document(d, embedder, config.corpus)]
        texts = [embedding_text(c) for c in chunks]
        _, encode_s = timed(lambda: embedder.embed_documents(texts))
        store = open_store(config, embedder.identity)
        report, ingest_s = timed(lambda: ingest([folder], store, embedder, config, progress=False))
        store.close()
    baseline = parse_s + encode_s
    section.rows.append(
        Row(
            name=f"ingest {len(files)} PDFs -> {report.chunks_written} chunks, {len(report.failed)} failed",
            value=ingest_s,
            unit="s",
            baseline=baseline,
            baseline_name=f"parse {parse_s:.1f} s + embedder encode {encode_s:.1f} s of the same chunks",
            higher_is_better=False,
            target="<= 1.15x",
            passed=ingest_s <= 1.15 * baseline and all(NO_TEXT in f.reason for f in report.failed),
        )
    )


def _read_or_none(read: Callable[[bytes], Any], path: Path) -> Any:
    try:
        return read(path.read_bytes())
    except RagtuneError:  # an image-only file: ingest reports it too, after parsing it
        return None


def run(quick: bool = False) -> Section:
    section = Section(title="PDF reading (PDFium with pypdf fallback vs pypdf; real PDFs and the sample's)")
    limit = 10 if quick else None
    samples = sorted(SAMPLES.glob("docs_v*/*.pdf"))[:limit]
    if REAL_PDFS.is_dir():
        real = sorted(REAL_PDFS.rglob("*.pdf"))[:limit]
        _compare(section, "real-pdfs", real, speed_target=5.0)
    else:
        real = []
        section.notes.append(f"real PDFs skipped: {REAL_PDFS} not found")
    _compare(section, "sample PDFs", samples, speed_target=None)
    if real:
        _ingest(section, real)
    return section
