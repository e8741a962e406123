"""The DocumentStore seam. Every backend implements this protocol and passes tests/store/test_store_suite.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ragtune.corpus.document import Chunk, Document

Filters = Mapping[str, Any]  # metadata field -> required value (equality), e.g. {"doc_id": "a"} or {"title": "X"}


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


@runtime_checkable
class DocumentStore(Protocol):
    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of every fully stored document (what sync compares against)."""
        ...

    def upsert_document(self, document: Document, chunks: Sequence[Chunk], vectors: npt.NDArray[np.float32]) -> None:
        """Store `document` with its chunks, replacing any previous version atomically."""
        ...

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and all of its chunks; False when it was not there."""
        ...

    def count(self) -> int:
        """Chunks stored."""
        ...

    def dense_search(self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None) -> list[Hit]: ...

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...

    def close(self) -> None: ...
