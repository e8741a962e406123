"""The embedded default store: one LanceDB folder, no server.

Atomicity comes from Lance itself: every write below is ONE commit (data files first, then a new manifest that
names them, published atomically), so a reader, or a process restarted after a SIGKILL, sees the table exactly as
of the last commit. `replace_documents` uses a single `merge_insert` keyed on the chunk id that at once updates
the chunks a new version shares with the old (same ids), inserts new ones and deletes the old version's leftover
chunks (`when_not_matched_by_source_delete` restricted to the documents being replaced or removed).

Keyword search is Lance's native full-text index (BM25; English stemming, stop words, ASCII folding) over the title
plus the passage. Rows written after the index was last refreshed are searched too (flat), and `optimize()` folds
them into the index.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from ragtune.corpus.chunking import embedding_text
from ragtune.corpus.document import Chunk, Document
from ragtune.models.embedder import EmbedderIdentity
from ragtune.models.registry import atomic_write_text
from ragtune.store.base import (
    CHUNK_COLUMNS,
    COLUMN_FILTER_KEYS,
    DocumentWrite,
    Filters,
    Hit,
    StoredDocument,
    StoreError,
    check_filter_key,
    check_vectors,
    chunk_row,
    matches,
    row_chunk,
)


def _schema(dim: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("doc_id", pa.string(), nullable=False),
            pa.field("doc_hash", pa.string(), nullable=False),
            pa.field("position", pa.int32(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("index_text", pa.string(), nullable=False),  # title + passage: what BM25 reads
            pa.field("title", pa.string()),
            pa.field("source", pa.string()),
            pa.field("page", pa.int32()),
            pa.field("heading", pa.string()),
            pa.field("metadata", pa.string()),  # every chunk metadata field, as JSON
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _sql_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(_sql_literal(v) for v in values)})"


class LanceDBStore:
    """DocumentStore over one LanceDB table in `path` (created on first use)."""

    def __init__(self, path: str | Path, dim: int, table: str = "chunks") -> None:
        import lancedb

        self.path = Path(path)
        self._dim = int(dim)
        self._name = table
        if self.path.exists() and not self.path.is_dir():
            raise StoreError(
                f"{self.path} is a file where the LanceDB store's folder goes; move or remove it, or choose another "
                "workspace (--workspace)"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.path))
            if table in self._db.list_tables().tables:
                self._table = self._db.open_table(table)
            else:
                self._table = self._db.create_table(table, schema=_schema(self._dim), exist_ok=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise StoreError(f"cannot open the LanceDB store at {self.path}: {exc}") from exc
        stored_dim = self._table.schema.field("vector").type.list_size
        if stored_dim != self._dim:
            raise StoreError(
                f"the store at {self.path} (table {table!r}) holds {stored_dim}-dimensional vectors but the embedder "
                f"makes {self._dim}-dimensional ones; use the embedder it was built with, or a new workspace"
            )
        self._ensure_fts_index()

    # -- protocol -----------------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._dim

    def recorded_embedder(self) -> EmbedderIdentity | None:
        try:
            return EmbedderIdentity.from_json(json.loads(self._embedder_file.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None  # none recorded yet (a new table, or one written before stores recorded their model)

    def record_embedder(self, identity: EmbedderIdentity) -> None:
        # Beside the table, written whole or not at all: Lance's own table metadata would need a schema change.
        try:
            atomic_write_text(self._embedder_file, json.dumps(identity.to_json()))
        except OSError as exc:
            raise StoreError(f"cannot record the embedder in {self._embedder_file}: {exc}") from exc

    @property
    def _embedder_file(self) -> Path:
        return self.path / f"{self._name}.embedder.json"

    def _ensure_fts_index(self) -> None:
        if any(ix.index_type == "FTS" for ix in self._table.list_indices()):
            return
        try:
            self._table.create_fts_index(
                "index_text",
                language="English",
                stem=True,
                remove_stop_words=True,
                ascii_folding=True,
                lower_case=True,
            )
        except (OSError, ValueError, RuntimeError) as exc:  # a concurrent opener may have created it first
            if not any(ix.index_type == "FTS" for ix in self._table.list_indices()):
                raise StoreError(f"cannot create the full-text index of {self.path}: {exc}") from exc

    def documents(self) -> dict[str, StoredDocument]:
        self._refresh()
        names = ("doc_id", "doc_hash", "source", "title")
        data = self._table.to_lance().to_table(columns=list(names))
        out: dict[str, StoredDocument] = {}
        counts: dict[str, int] = {}
        columns = [data.column(c).to_pylist() for c in names]
        for doc_id, doc_hash, source, title in zip(*columns, strict=True):
            counts[doc_id] = counts.get(doc_id, 0) + 1
            out[doc_id] = StoredDocument(doc_id, doc_hash, source or "", 0, title or "")
        return {k: dataclasses.replace(v, chunks=counts[k]) for k, v in out.items()}

    def document_hashes(self) -> dict[str, str]:
        return {k: v.content_hash for k, v in self.documents().items()}

    def replace_documents(self, writes: Sequence[DocumentWrite], deletes: Sequence[str] = ()) -> None:
        touched = [w.document.id for w in writes] + [d for d in deletes if d not in {w.document.id for w in writes}]
        if not touched:
            return
        self._refresh()
        if not writes:
            self._table.delete(_in_list("doc_id", touched))
            return
        batch = self._arrow(writes)
        stored = self._table.count_rows(_in_list("doc_id", touched))
        if stored == 0:
            self._table.add(batch)  # nothing to replace: a plain append is one commit too, and cheaper
            return
        (
            self._table.merge_insert("id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(_in_list("doc_id", touched))
            .execute(batch)
        )

    def upsert_document(self, document: Document, chunks: Sequence[Chunk], vectors: npt.NDArray[np.float32]) -> None:
        self.replace_documents([DocumentWrite(document, list(chunks), vectors)])

    def delete_document(self, doc_id: str) -> bool:
        self._refresh()
        if self._table.count_rows(_in_list("doc_id", [doc_id])) == 0:
            return False
        self._table.delete(_in_list("doc_id", [doc_id]))
        return True

    def count(self) -> int:
        self._refresh()
        return int(self._table.count_rows())

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        self._refresh()
        where = _in_list("doc_id", [doc_id]) if doc_id is not None else None
        data = self._table.to_lance().to_table(columns=list(CHUNK_COLUMNS), filter=where)
        chunks = [row_chunk(r) for r in data.to_pylist()]
        return sorted(chunks, key=lambda c: (c.doc_id, c.position))

    def dense_search(self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        self._refresh()
        where = self._where(filters)
        if where == "":
            return []
        query = (
            self._table.search(np.asarray(vector, dtype=np.float32).reshape(-1), vector_column_name="vector")
            .distance_type("cosine")  # type: ignore[attr-defined]
            .select([*CHUNK_COLUMNS, "_distance"])
            .limit(k)
        )
        if where is not None:
            query = query.where(where, prefilter=True)
        rows = query.to_arrow().to_pylist()
        return [Hit(row_chunk(r), 1.0 - float(r["_distance"])) for r in rows]

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0 or not query.strip():
            return []
        self._refresh()
        where = self._where(filters)
        if where == "":
            return []
        search = (
            self._table.search(query, query_type="fts", fts_columns="index_text")
            .select([*CHUNK_COLUMNS, "_score"])
            .limit(k)
        )
        if where is not None:
            search = search.where(where, prefilter=True)
        try:
            rows = search.to_arrow().to_pylist()
        except (ValueError, RuntimeError) as exc:
            if "no tokens" in str(exc).lower() or "empty" in str(exc).lower():
                return []  # a query of stop words only
            raise
        return [Hit(row_chunk(r), float(r["_score"])) for r in rows]

    def optimize(self) -> None:
        # Folds unindexed rows into the full-text index, merges small fragments from many commits and drops
        # versions older than a few minutes (a reader still on one has long finished its query).
        self._refresh()
        self._table.optimize(cleanup_older_than=timedelta(minutes=5))

    def close(self) -> None:
        self._table = None  # type: ignore[assignment]

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock (an flock, released by the OS even when the holder is killed)."""
        handle = (self.path / f".{self._name}.sync.lock").open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    # -- internals ----------------------------------------------------------------------------------------------

    def _refresh(self) -> None:
        if self._table is None:
            raise StoreError(f"the store at {self.path} is closed")
        self._table.checkout_latest()  # see other processes' commits

    def _arrow(self, writes: Sequence[DocumentWrite]) -> pa.Table:
        rows: list[dict[str, Any]] = []
        vectors: list[npt.NDArray[np.float32]] = []
        for w in writes:
            vec = check_vectors(w.vectors, self._dim, f"document {w.document.id!r}")
            vectors.append(vec)
            for chunk in w.chunks:
                row = chunk_row(chunk, w.document.content_hash)
                row["index_text"] = embedding_text(chunk)
                rows.append(row)
        table = pa.Table.from_pylist(rows, schema=_schema(self._dim).remove(11))
        flat = np.concatenate(vectors).reshape(-1) if vectors else np.zeros(0, np.float32)
        column = pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float32()), self._dim)
        return table.append_column(_schema(self._dim).field("vector"), column)

    def _where(self, filters: Filters | None) -> str | None:
        """SQL for the filters: None when there are none, '' when nothing can match."""
        if not filters:
            return None
        clauses = []
        other: dict[str, Any] = {}
        for key, value in filters.items():
            check_filter_key(key)
            if key in COLUMN_FILTER_KEYS:
                clauses.append(f"{key} IS NULL" if value is None else f"{key} = {_sql_literal(value)}")
            else:
                other[key] = value
        if other:
            # Fields without a column of their own live in the JSON metadata: find the matching chunks first.
            data = self._table.to_lance().to_table(
                columns=["id", "doc_id", "metadata"], filter=" AND ".join(clauses) or None
            )
            ids = [
                r["id"]
                for r in data.to_pylist()
                if matches(Chunk(r["id"], r["doc_id"], "", 0, json.loads(r["metadata"] or "{}")), other)
            ]
            if not ids:
                return ""
            clauses.append(_in_list("id", ids))
        return " AND ".join(clauses)
