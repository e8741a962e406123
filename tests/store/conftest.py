"""The two store backends as one parametrized fixture, so every store test runs against both.

PostgreSQL is a real server: pgserver's PostgreSQL 16 with pgvector, started once per session in a temporary
folder (on a unix socket). When it cannot start, the pgvector cases skip with the reason; LanceDB always runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.models.embedder import EmbedderIdentity
from ragtune.store import DocumentStore, open_store

BACKENDS = ["lancedb", "pgvector"]


@pytest.fixture(scope="session")
def pg_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        import pgserver
        import psycopg
    except ImportError as exc:
        pytest.skip(f"pgvector backend not tested: the [pg] extra is not installed ({exc})")
    folder = tmp_path_factory.mktemp("pgdata")
    try:
        server: Any = pgserver.get_server(Path(folder), cleanup_mode="stop")
        dsn = server.get_uri()
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as exc:  # any failure to start is a reason to skip, stated plainly
        pytest.skip(f"pgvector backend not tested: pgserver could not start PostgreSQL in {folder}: {exc}")
    yield dsn
    server.cleanup()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """A Config pointing at a fresh store of `backend` (its own workspace folder or PostgreSQL table)."""
    config = Config(workspace=str(tmp_path / "ws"))
    config.store.backend = backend
    config.store.table = f"t_{uuid.uuid4().hex[:12]}"
    if backend == "pgvector":
        config.store.pg_dsn = request.getfixturevalue("pg_dsn")
    return config


@pytest.fixture
def make_store(store_config: Config) -> Iterator[Callable[..., DocumentStore]]:
    opened: list[DocumentStore] = []

    def make(embedder: EmbedderIdentity | int = 384, config: Config | None = None) -> DocumentStore:
        """A store for `embedder`'s vectors; a bare dimension stands for vectors the test writes itself."""
        identity = embedder if isinstance(embedder, EmbedderIdentity) else EmbedderIdentity("test rows", "", embedder)
        store = open_store(config or store_config, identity)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
