"""Stores: the DocumentStore seam and its backends (LanceDB embedded, PostgreSQL + pgvector)."""

from __future__ import annotations

from ragtune.config import Config, StoreConfig, choices_of
from ragtune.models.embedder import EmbedderIdentity
from ragtune.store.base import DocumentStore, DocumentWrite, Hit, StoredDocument, StoreError, claim_for
from ragtune.workspace import Workspace

__all__ = ["DocumentStore", "DocumentWrite", "Hit", "StoreError", "StoredDocument", "open_store"]

BACKENDS = choices_of(StoreConfig, "backend")


def open_store(config: Config, embedder: EmbedderIdentity, *, must_exist: bool = False) -> DocumentStore:
    """The store that `config.store.backend` names, holding the vectors of `embedder` (created when new).

    LanceDB lives in the workspace (`Workspace(config.workspace_path).store_dir`); PostgreSQL is reached through
    `config.store.pg_dsn`. Either way `config.store.table` names the table, so one workspace or database can hold
    several corpora (the BEIR evaluation uses its own table). A table written by another embedder is refused
    (`claim_for`), with what to do. `must_exist`: a command that only reads the documents (search, eval-retrieval,
    tune on the corpus) gets a StoreError when the workspace holds no store, instead of making an empty one there
    (a mistyped --workspace would leave a stray folder behind).
    """
    if must_exist:
        _check_store_exists(config)
    store = _open_backend(config, embedder.dim)
    where = (
        f"the store at {Workspace(config.workspace_path).store_dir} (table {config.store.table!r})"
        if config.store.backend.lower() == "lancedb"
        else f"PostgreSQL table {config.store.table!r}"
    )
    try:
        claim_for(store, embedder, where)
    except BaseException:
        store.close()
        raise
    return store


def _check_store_exists(config: Config) -> None:
    """StoreError when the LanceDB store of `config`'s workspace has not been made yet (nothing was ingested
    there). PostgreSQL tables are checked by their emptiness instead: a DSN names the database exactly."""
    if config.store.backend.lower() != "lancedb":
        return
    store_dir = Workspace(config.workspace_path).store_dir
    if not store_dir.is_dir():
        raise StoreError(
            f"no documents in workspace {str(config.workspace_path)!r} ({store_dir} not found): add documents with "
            "`ragtune ingest PATH`, or point --workspace (or `workspace` in ragtune.toml) at the one that has them"
        )


def _open_backend(config: Config, dim: int) -> DocumentStore:
    backend = config.store.backend.lower()
    if backend == "lancedb":
        from ragtune.store.lancedb import LanceDBStore

        return LanceDBStore(Workspace(config.workspace_path).store_dir, dim, config.store.table)
    if backend == "pgvector":
        if not config.store.pg_dsn:
            raise StoreError(
                "store.backend = 'pgvector' needs store.pg_dsn, e.g. --set store.pg_dsn=postgresql://user@host/db "
                "(or RAGTUNE_STORE__PG_DSN)"
            )
        from ragtune.store.pgvector import PgVectorStore

        return PgVectorStore(config.store.pg_dsn, dim, config.store.table)
    raise StoreError(f"store.backend = {config.store.backend!r} is not a store; choose one of {', '.join(BACKENDS)}")
