"""The DocumentStore seam. Every backend implements this protocol and passes tests/store/test_store_suite.py.

The one write operation that matters is `replace_documents`: it puts new versions of some documents in place and
removes others in ONE transaction of the backend (a LanceDB commit, a PostgreSQL transaction). A reader therefore
sees each document either entirely in its old version or entirely in its new one, never both, never neither, and a
process killed at any moment leaves the last committed state. Sync (ragtune.store.sync) is built on that alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ragtune.corpus.document import Chunk, Document
from ragtune.errors import RagtuneError
from ragtune.models.embedder import EmbedderIdentity

Filters = Mapping[str, Any]  # metadata field -> required value (equality), e.g. {"doc_id": "a"} or {"title": "X"}


class StoreError(RagtuneError):
    """The store cannot be opened or used as asked (wrong embedder dimension, server unreachable, bad filter)."""


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float


@dataclass(frozen=True)
class DocumentWrite:
    """A document version to store: its chunks and one unit-length vector per chunk (same order)."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        if len(self.chunks) != len(self.vectors):
            raise StoreError(
                f"document {self.document.id!r}: {len(self.chunks)} chunks but {len(self.vectors)} vectors"
            )
        if any(c.doc_id != self.document.id for c in self.chunks):
            raise StoreError(f"document {self.document.id!r}: a chunk belongs to another document")


@dataclass(frozen=True)
class StoredDocument:
    """What the store knows about one fully stored document."""

    doc_id: str
    content_hash: str
    source: str
    chunks: int
    title: str = ""  # the document's title, as its chunks carry it (retrieval links a mention of it to the document)


@runtime_checkable
class DocumentStore(Protocol):
    @property
    def dim(self) -> int:
        """Length of the stored vectors."""
        ...

    def recorded_embedder(self) -> EmbedderIdentity | None:
        """The model that wrote the vectors, as recorded when the table was created (None before anything was)."""
        ...

    def record_embedder(self, identity: EmbedderIdentity) -> None:
        """Records the model that writes the vectors from now on (`claim_for` decides when that is allowed)."""
        ...

    def documents(self) -> dict[str, StoredDocument]:
        """doc_id -> what is stored about it, for every stored document."""
        ...

    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of every fully stored document (what sync compares against)."""
        ...

    def replace_documents(self, writes: Sequence[DocumentWrite], deletes: Sequence[str] = ()) -> None:
        """In one transaction: every document in `writes` replaces its previous version (if any), and every doc id
        in `deletes` is removed with all its chunks."""
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

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        """The stored chunks of one document in order (or of all documents, by document then position)."""
        ...

    def dense_search(self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None) -> list[Hit]:
        """Top-k chunks by cosine similarity (score = cosine, higher is better)."""
        ...

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """Top-k chunks by the backend's full-text ranking (BM25 on LanceDB, ts_rank on PostgreSQL)."""
        ...

    def optimize(self) -> None:
        """Housekeeping after a batch of writes (index refresh, compaction); never changes what is visible."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive writer lock held by a sync, so two ingests never interleave; released if the holder dies."""
        ...

    def close(self) -> None: ...


# Helpers shared by the backends (row <-> Chunk), so both store and return exactly the same chunks.


# The columns every backend stores for a chunk (what chunk_row writes and row_chunk reads back), and those a metadata
# filter may test directly as a column rather than inside the JSON metadata.
CHUNK_COLUMNS = ("id", "doc_id", "doc_hash", "position", "text", "title", "source", "page", "heading", "metadata")
COLUMN_FILTER_KEYS = frozenset({"doc_id", "doc_hash", "title", "source", "page", "heading", "position", "id"})


def chunk_row(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    """The flat record a backend stores for one chunk (without its vector)."""
    meta = dict(chunk.metadata)
    page = meta.get("page")
    return {
        "id": chunk.id,
        "doc_id": chunk.doc_id,
        "doc_hash": content_hash,
        "position": int(chunk.position),
        "text": chunk.text,
        "title": str(meta.get("title") or ""),
        "source": str(meta.get("source") or ""),
        "page": int(page) if isinstance(page, int) else None,
        "heading": str(meta.get("heading") or ""),
        "metadata": json.dumps(meta, ensure_ascii=False, sort_keys=True, default=str),
    }


def row_chunk(row: Mapping[str, Any]) -> Chunk:
    meta = row["metadata"]
    metadata = json.loads(meta) if isinstance(meta, str) else dict(meta or {})
    return Chunk(
        id=str(row["id"]),
        doc_id=str(row["doc_id"]),
        text=str(row["text"]),
        position=int(row["position"]),
        metadata=metadata,
    )


def claim_for(store: DocumentStore, embedder: EmbedderIdentity, where: str) -> None:
    """Checks that `embedder` wrote the store's vectors, or records it when nothing stored says otherwise.

    A query embedded by one model and compared with vectors of another finds nonsense without any error, and a
    sync would mix the two in one index; the dimension alone does not tell them apart (a fine-tuned copy keeps it).
    An empty table, or one written before stores recorded their model, takes the current embedder as its own.
    """
    recorded = store.recorded_embedder()
    if recorded is not None and recorded.same_model(embedder):
        return
    if recorded is not None and store.count() > 0:
        raise StoreError(
            f"{where} holds vectors written by the embedder {recorded.describe()}, but models.embedder is "
            f"{embedder.describe()}: their vectors cannot be compared. Set models.embedder back to the one that wrote "
            "the store, or ingest with the new one into another table or workspace (--set store.table=NAME or "
            "--set workspace=DIR); the stored documents are left as they are"
        )
    store.record_embedder(embedder)


def check_vectors(vectors: npt.NDArray[np.float32], dim: int, where: str) -> npt.NDArray[np.float32]:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim != 2 or array.shape[1] != dim:
        raise StoreError(
            f"{where}: vectors of shape {array.shape} do not fit this store (dimension {dim}); the store was built "
            "with another embedder: ingest into a new workspace or table"
        )
    return array


def check_filter_key(key: str) -> str:
    if not key.replace("_", "").isalnum():
        raise StoreError(f"filter field {key!r}: only letters, digits and '_' are allowed")
    return key


def matches(chunk: Chunk, filters: Filters | None) -> bool:
    """Equality filter on doc_id or any metadata field (used where a backend cannot push the filter down)."""
    if not filters:
        return True
    for key, value in filters.items():
        have = chunk.doc_id if key == "doc_id" else chunk.metadata.get(key)
        if have != value:
            return False
    return True
