"""PostgreSQL + pgvector: the store for users who outgrow one machine (the [pg] extra).

Atomicity is PostgreSQL's: `replace_documents` deletes the old versions and inserts the new ones inside one
transaction, so other sessions see either the old or the new state (READ COMMITTED) and a client killed mid-way
leaves nothing behind (the server rolls the open transaction back when the connection drops).

Dense search uses an HNSW index (cosine); with filters it scans exactly instead, because pgvector < 0.8 filters
only the index's candidates and could return fewer than k rows. Keyword search is PostgreSQL full-text search
('english' configuration: stemming and stop words) ranked with ts_rank; the query's lexemes are OR-ed, since a
natural-language question rarely has every one of its words in the passage that answers it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from ragtune.corpus.chunking import embedding_text
from ragtune.corpus.document import Chunk, Document
from ragtune.errors import BackendUnavailableError
from ragtune.models.embedder import EmbedderIdentity
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
    row_chunk,
)

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")
_OR_QUERY = (
    "(SELECT string_agg(quote_literal(l), ' | ') FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS l)"
    "::tsquery"
)


class PgVectorStore:
    """DocumentStore over one PostgreSQL table (`table`) with the pgvector extension."""

    def __init__(self, dsn: str, dim: int, table: str = "chunks") -> None:
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError as exc:  # pragma: no cover - the [pg] extra is part of the dev install
            raise BackendUnavailableError("the pgvector store needs the [pg] extra: pip install 'ragtune[pg]'") from exc
        if not _IDENT.match(table):
            raise StoreError(f"store.table = {table!r}: use letters, digits and '_' only (a PostgreSQL table name)")
        self._dim = int(dim)
        self._t = table
        try:
            self._conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.OperationalError as exc:
            raise BackendUnavailableError(
                f"cannot connect to PostgreSQL ({_redact(dsn)}): {str(exc).strip()}; check store.pg_dsn and that the "
                "server is running"
            ) from exc
        try:
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error as exc:
            raise BackendUnavailableError(
                f"the pgvector extension is not available on this server ({str(exc).strip()}); install pgvector"
            ) from exc
        register_vector(self._conn)
        self._create()

    def _create(self) -> None:
        t, dim = self._t, self._dim
        with self._conn.transaction():
            # Serialise concurrent creators (CREATE ... IF NOT EXISTS alone can still collide).
            self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"ragtune-create-{t}",))
            self._conn.execute(
                f"""CREATE TABLE IF NOT EXISTS {t} (
                    id text PRIMARY KEY,
                    doc_id text NOT NULL,
                    doc_hash text NOT NULL,
                    position integer NOT NULL,
                    text text NOT NULL,
                    index_text text NOT NULL,
                    title text,
                    source text,
                    page integer,
                    heading text,
                    metadata jsonb NOT NULL,
                    embedding vector({dim}) NOT NULL,
                    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', index_text)) STORED
                )"""
            )
            self._conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_doc_id ON {t} (doc_id)")
            self._conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_tsv ON {t} USING gin (tsv)")
            self._conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_hnsw ON {t} USING hnsw (embedding vector_cosine_ops)")
        row = self._conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embedding'", (t,)
        ).fetchone()
        stored = int(row[0]) if row else dim
        if stored != dim:
            raise StoreError(
                f"PostgreSQL table {t!r} holds {stored}-dimensional vectors but the embedder makes {dim}-dimensional "
                "ones; use the embedder it was built with, or another store.table"
            )

    # -- protocol -----------------------------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._dim

    def recorded_embedder(self) -> EmbedderIdentity | None:
        # The table's own comment: it travels with the table through pg_dump and needs no second table.
        row = self._conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (self._t,)).fetchone()
        try:
            return EmbedderIdentity.from_json(json.loads(row[0])) if row and row[0] else None
        except ValueError:
            return None  # a comment someone else wrote

    def record_embedder(self, identity: EmbedderIdentity) -> None:
        comment = json.dumps(identity.to_json()).replace("'", "''")
        self._conn.execute(f"COMMENT ON TABLE {self._t} IS '{comment}'")  # COMMENT takes no bound parameters

    def documents(self) -> dict[str, StoredDocument]:
        rows = self._conn.execute(
            f"SELECT doc_id, doc_hash, coalesce(source, ''), count(*), coalesce(max(title), '') FROM {self._t} "
            "GROUP BY doc_id, doc_hash, source"
        ).fetchall()
        return {r[0]: StoredDocument(r[0], r[1], r[2], int(r[3]), r[4]) for r in rows}

    def document_hashes(self) -> dict[str, str]:
        return {k: v.content_hash for k, v in self.documents().items()}

    def replace_documents(self, writes: Sequence[DocumentWrite], deletes: Sequence[str] = ()) -> None:
        touched = list(dict.fromkeys([w.document.id for w in writes] + list(deletes)))
        if not touched:
            return
        rows: list[tuple[Any, ...]] = []
        for w in writes:
            vectors = check_vectors(w.vectors, self._dim, f"document {w.document.id!r}")
            for chunk, vector in zip(w.chunks, vectors, strict=False):
                r = chunk_row(chunk, w.document.content_hash)
                rows.append(
                    (
                        r["id"],
                        r["doc_id"],
                        r["doc_hash"],
                        r["position"],
                        r["text"],
                        embedding_text(chunk),
                        r["title"],
                        r["source"],
                        r["page"],
                        r["heading"],
                        r["metadata"],
                        vector,
                    )
                )
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self._t} WHERE doc_id = ANY(%s)", (touched,))
            if rows:
                cur.executemany(
                    f"INSERT INTO {self._t} (id, doc_id, doc_hash, position, text, index_text, title, source, page, "
                    "heading, metadata, embedding) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)",
                    rows,
                )

    def upsert_document(self, document: Document, chunks: Sequence[Chunk], vectors: npt.NDArray[np.float32]) -> None:
        self.replace_documents([DocumentWrite(document, list(chunks), vectors)])

    def delete_document(self, doc_id: str) -> bool:
        cur = self._conn.execute(f"DELETE FROM {self._t} WHERE doc_id = %s", (doc_id,))
        return cur.rowcount > 0

    def count(self) -> int:
        row = self._conn.execute(f"SELECT count(*) FROM {self._t}").fetchone()
        return int(row[0]) if row else 0

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        cols = ", ".join(CHUNK_COLUMNS)
        if doc_id is None:
            cur = self._conn.execute(f"SELECT {cols} FROM {self._t} ORDER BY doc_id, position")
        else:
            cur = self._conn.execute(f"SELECT {cols} FROM {self._t} WHERE doc_id = %s ORDER BY position", (doc_id,))
        return [row_chunk(dict(zip(CHUNK_COLUMNS, r, strict=False))) for r in cur.fetchall()]

    def dense_search(self, vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        where, params = self._where(filters)
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        cols = ", ".join(CHUNK_COLUMNS)
        with self._conn.transaction(), self._conn.cursor() as cur:
            if filters:
                cur.execute("SET LOCAL enable_indexscan = off")  # exact: see the module docstring
            else:
                cur.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(40, 2 * k))}")
            cur.execute(
                f"SELECT {cols}, embedding <=> %s AS distance FROM {self._t} {where} ORDER BY distance, id LIMIT %s",
                [vec, *params, k],
            )
            rows = cur.fetchall()
        return [Hit(row_chunk(dict(zip(CHUNK_COLUMNS, r, strict=False))), 1.0 - float(r[-1])) for r in rows]

    def keyword_search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0 or not query.strip():
            return []
        where, params = self._where(filters)
        extra = where.replace("WHERE", "AND", 1)
        cols = ", ".join(f"c.{c}" for c in CHUNK_COLUMNS)
        rows = self._conn.execute(
            f"SELECT {cols}, ts_rank(c.tsv, q.q) AS score FROM {self._t} AS c, (SELECT {_OR_QUERY} AS q) AS q "
            f"WHERE c.tsv @@ q.q {extra} ORDER BY score DESC, c.id LIMIT %s",
            [query.replace("\\", " "), *params, k],
        ).fetchall()
        return [Hit(row_chunk(dict(zip(CHUNK_COLUMNS, r, strict=False))), float(r[-1])) for r in rows]

    def optimize(self) -> None:
        self._conn.execute(f"ANALYZE {self._t}")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive writer lock: a session advisory lock, released by the server if this client dies."""
        self._conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"ragtune-sync-{self._t}",))
        try:
            yield
        finally:
            if not self._conn.closed:
                self._conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"ragtune-sync-{self._t}",))

    # -- internals ----------------------------------------------------------------------------------------------

    def _where(self, filters: Filters | None) -> tuple[str, list[Any]]:
        if not filters:
            return "", []
        clauses: list[str] = []
        params: list[Any] = []
        for key, value in filters.items():
            check_filter_key(key)
            if key in COLUMN_FILTER_KEYS:
                if value is None:
                    clauses.append(f"{key} IS NULL")
                else:
                    clauses.append(f"{key} = %s")
                    params.append(value)
            else:
                clauses.append("metadata @> %s::jsonb")
                params.append(json.dumps({key: value}))
        return "WHERE " + " AND ".join(clauses), params


def _redact(dsn: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", dsn)
