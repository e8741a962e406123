"""Document -> Chunks, sized in the embedder's own tokens.

A chunk is a span of the document's text, so a citation can point back to exactly what was read. Boundaries are
chosen in order of preference: a heading (a new section starts a new chunk), a paragraph, a sentence, and only for
a sentence longer than a whole chunk, a word. Consecutive chunks share up to `chunk_overlap` tokens of whole
sentences so that a fact straddling a boundary is still found in one piece.

Loaders pass the document's structure in two metadata entries (private: they are not copied onto chunks):
`PAGES_KEY` -> [[char_offset, page_number], ...] and `HEADINGS_KEY` -> [[char_offset, "Heading > Sub"], ...],
both ascending by offset. Each chunk then carries `page` (and `page_end`) and `heading` of where it starts.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragtune.config import CorpusConfig
from ragtune.corpus.document import Chunk, Document
from ragtune.errors import RagtuneError
from ragtune.models.embedder import Embedder

PAGES_KEY = "_pages"
HEADINGS_KEY = "_headings"

# Boundary strength: a break is preferred at the strongest boundary that still leaves a reasonably full chunk.
_SENTENCE, _PARAGRAPH, _HEADING = 1, 2, 3
# A sentence ends at . ! ? (optionally closed by a quote or bracket) followed by space and a likely sentence start;
# single line breaks inside a paragraph (lists, table rows, verse) are boundaries too.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")


class ChunkingError(RagtuneError, ValueError):
    """The chunking settings cannot work (e.g. an overlap as long as the chunk)."""


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    boundary: int  # strength of the boundary *before* this unit


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed for a chunk: its document's title, then the passage.

    The title keeps a passage findable by the topic its document is about even when the passage never names it.
    """
    title = chunk.title
    return f"{title}\n{chunk.text}" if title and not chunk.text.startswith(title) else chunk.text


def public_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Document metadata that chunks inherit (the loaders' private structure entries start with '_')."""
    return {k: v for k, v in metadata.items() if not str(k).startswith("_")}


def _lookup(marks: Sequence[Sequence[Any]], offsets: list[int], at: int) -> Any:
    i = bisect.bisect_right(offsets, at) - 1
    return marks[i][1] if i >= 0 else None


def _segments(text: str, heading_offsets: Sequence[int]) -> list[tuple[int, int, int]]:
    """(start, end, boundary strength before it) for every sentence-sized span of non-blank text."""
    cuts = {0: _HEADING}
    for off in heading_offsets:
        if 0 < off < len(text):
            cuts[off] = _HEADING
    for m in _PARAGRAPH_BREAK.finditer(text):
        cuts.setdefault(m.end(), _PARAGRAPH)
    for m in _SENTENCE_END.finditer(text):
        cuts.setdefault(m.end(), _SENTENCE)
    ordered = sorted(cuts)
    out: list[tuple[int, int, int]] = []
    pending = _SENTENCE
    for i, start in enumerate(ordered):
        end = ordered[i + 1] if i + 1 < len(ordered) else len(text)
        strength = max(pending, cuts[start])
        span = text[start:end]
        stripped = span.strip()
        if not stripped:
            pending = strength  # a blank span keeps the strongest boundary for the next real one
            continue
        lead = len(span) - len(span.lstrip())
        out.append((start + lead, start + lead + len(stripped), strength))
        pending = _SENTENCE
    return out


def _units(text: str, document: Document, embedder: Embedder, budget: int) -> list[_Unit]:
    heading_marks = document.metadata.get(HEADINGS_KEY) or []
    units: list[_Unit] = []
    for start, end, strength in _segments(text, [int(m[0]) for m in heading_marks]):
        n = embedder.count_tokens(text[start:end])
        if n <= budget:
            units.append(_Unit(start, end, n, strength))
            continue
        # A sentence longer than a chunk: cut it at word boundaries into pieces that fit.
        piece_start, piece_tokens, first = start, 0, True
        for word in _WORD.finditer(text, start, end):
            w = embedder.count_tokens(word.group())
            if piece_tokens and piece_tokens + w > budget:
                units.append(_Unit(piece_start, word.start(), piece_tokens, strength if first else 0))
                piece_start, piece_tokens, first = word.start(), 0, False
            piece_tokens += w
        units.append(_Unit(piece_start, end, piece_tokens, strength if first else 0))
    return units


def _pack(units: list[_Unit], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedy packing into [first, last) unit ranges: cut at the strongest boundary that keeps a chunk at least
    half full; start a new chunk at a heading once the current one is a quarter full."""
    ranges: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        total, j = 0, i
        while j < n and (j == i or total + units[j].tokens <= budget):
            if j > i and units[j].boundary >= _HEADING and total >= budget // 4:
                break
            total += units[j].tokens
            j += 1
        if j < n and units[j].boundary < _HEADING:
            # Look back for a stronger boundary than the one we happened to stop at (the latest of the strongest).
            best, best_strength, run = j, units[j].boundary, 0
            for c in range(i + 1, j):
                run += units[c - 1].tokens
                if run >= budget // 2 and units[c].boundary > units[j].boundary and units[c].boundary >= best_strength:
                    best, best_strength = c, units[c].boundary
            j = best
        ranges.append((i, j))
        if j >= n:
            break
        # Overlap: whole trailing units of this chunk, up to `overlap` tokens, open the next one (not across a
        # heading: a new section starts clean).
        back, shared = j, 0
        if units[j].boundary < _HEADING:
            while back - 1 > i and shared + units[back - 1].tokens <= overlap:
                shared += units[back - 1].tokens
                back -= 1
        i = back
    return ranges


def chunk_document(document: Document, embedder: Embedder, config: CorpusConfig) -> list[Chunk]:
    """Split `document` into chunks of at most `config.chunk_tokens` embedder tokens (fewer when the title, which
    is embedded with every chunk, would otherwise push a chunk past what the embedder reads)."""
    if config.chunk_tokens < 16:
        raise ChunkingError(f"corpus.chunk_tokens = {config.chunk_tokens} is too small; use at least 16 (default 200)")
    if not 0 <= config.chunk_overlap < config.chunk_tokens // 2:
        raise ChunkingError(
            f"corpus.chunk_overlap = {config.chunk_overlap} must be between 0 and half of corpus.chunk_tokens "
            f"({config.chunk_tokens}); the default is 32"
        )
    text = document.text
    title = document.title
    # [CLS] and [SEP] plus the title line take room from what the model reads.
    room = embedder.max_tokens - 2 - (embedder.count_tokens(title) + 1 if title else 0)
    budget = max(16, min(config.chunk_tokens, room))
    overlap = min(config.chunk_overlap, budget // 4)
    units = _units(text, document, embedder, budget)
    pages = document.metadata.get(PAGES_KEY) or []
    page_offsets = [int(p[0]) for p in pages]
    headings = document.metadata.get(HEADINGS_KEY) or []
    heading_offsets = [int(h[0]) for h in headings]
    base = public_metadata(document.metadata)
    chunks: list[Chunk] = []
    for position, (first, last) in enumerate(_pack(units, budget, overlap)):
        start, end = units[first].start, units[last - 1].end
        meta: dict[str, Any] = dict(base)
        meta["start_char"], meta["end_char"] = start, end
        meta["tokens"] = sum(u.tokens for u in units[first:last])
        if pages:
            meta["page"] = _lookup(pages, page_offsets, start)
            meta["page_end"] = _lookup(pages, page_offsets, max(start, end - 1))
        if headings:
            heading = _lookup(headings, heading_offsets, start)
            if heading:
                meta["heading"] = heading
        chunks.append(
            Chunk(
                id=f"{document.id}#{position}",
                doc_id=document.id,
                text=text[start:end],
                position=position,
                metadata=meta,
            )
        )
    return chunks
