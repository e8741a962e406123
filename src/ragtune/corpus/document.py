"""The data that flows from files to the store: Documents and their Chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def content_hash(text: str, metadata: Mapping[str, Any] | None = None) -> str:
    """Stable hash of what a document says (its text and the metadata that citations show)."""
    h = hashlib.sha256(text.encode("utf-8"))
    if metadata:
        for key in sorted(metadata):
            h.update(f"\x00{key}\x00{metadata[key]!r}".encode())
    return h.hexdigest()


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    metadata: Mapping[str, Any] = field(default_factory=dict)  # title, source path, pages, headings, user fields
    content_hash: str = ""

    def __post_init__(self) -> None:
        if not self.content_hash:
            object.__setattr__(self, "content_hash", content_hash(self.text, self.metadata))

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", "") or "")


@dataclass(frozen=True)
class Chunk:
    id: str  # f"{doc_id}#{position}"
    doc_id: str
    text: str
    position: int  # 0-based order within the document
    metadata: Mapping[str, Any] = field(default_factory=dict)  # title, page, heading, source, start/end char

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", "") or "")
