"""SIGKILL at any point of an ingest leaves a store that opens, holds no duplicate and no half-written document,
and a re-run finishes the job. A real `ingest` runs in a subprocess and is killed (a) at chosen stages through the
RAGTUNE_SYNC_CRASH_AT hook and (b) after a random delay. Both backends."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ragtune.config import Config
from ragtune.corpus.chunking import chunk_document
from ragtune.corpus.loaders import load_paths
from ragtune.store import DocumentStore
from ragtune.store.sync import CRASH_ENV, ingest

# One helper process loads the embedder once and forks a fresh ingest process per scenario (loading the model
# dominates a process's start-up); the test SIGKILLs that forked process, never the helper.
HELPER = """
import json, os, sys
from ragtune.config import Config, ModelsConfig
from ragtune.models.loader import load_embedder
from ragtune.store.sync import CRASH_ENV
embedder = load_embedder(ModelsConfig())
print("READY", flush=True)
for line in sys.stdin:
    spec = json.loads(line)
    pid = os.fork()
    if pid == 0:
        if spec["crash"]:
            os.environ[CRASH_ENV] = spec["crash"]
        from ragtune.store import open_store
        from ragtune.store.sync import ingest
        config = Config(workspace=spec["workspace"])
        for key, value in spec["store"].items():
            setattr(config.store, key, value)
        config.corpus.chunk_tokens, config.corpus.chunk_overlap = 24, 4
        store = open_store(config, embedder.identity)
        print("STARTED", os.getpid(), flush=True)
        report = ingest([spec["folder"]], store, embedder, config, prune=True, progress=False)
        print("DONE", report.summary(), flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("EXIT", os.waitstatus_to_exitcode(status), flush=True)
"""


@pytest.fixture(scope="module")
def helper() -> Iterator[subprocess.Popen[str]]:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    proc = subprocess.Popen(
        [sys.executable, "-c", HELPER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def _run(helper: subprocess.Popen[str], spec: dict[str, Any], kill_after: float | None) -> int:
    """Start one ingest in a forked process; SIGKILL it after `kill_after` seconds (None: let the hook fire)."""
    assert helper.stdin is not None and helper.stdout is not None
    helper.stdin.write(json.dumps(spec) + "\n")
    helper.stdin.flush()
    line = helper.stdout.readline().split()
    assert line[:1] == ["STARTED"], line
    if kill_after is not None:
        time.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):  # it may have finished already: that is fine too
            os.kill(int(line[1]), signal.SIGKILL)
    while True:
        line = helper.stdout.readline().split()
        if line[:1] == ["EXIT"]:
            return int(line[1])
        assert line, "the helper process died"


SENTENCES = [
    "The pump moves water from the well to the tank.",
    "A valve stops the flow when the tank is full.",
    "Filters must be cleaned every three months.",
    "The warranty covers parts but not labour.",
    "Service visits are booked through the portal.",
]


def _write_version(folder: Path, version: int) -> None:
    """v1: docs 0-7. v2: docs 0-2 changed, 3-5 unchanged, 6-7 deleted, 8-9 new."""
    for p in folder.glob("*.md"):
        p.unlink()
    ids = range(8) if version == 1 else [*range(6), 8, 9]
    for i in ids:
        tag = "second" if version == 2 and i < 3 else "first"
        body = " ".join(f"Doc {i} ({tag} edition), part {j}: {SENTENCES[(i + j) % 5]}" for j in range(2 + i % 2))
        (folder / f"doc{i:02d}.md").write_text(f"# Manual {i}\n\n{body}\n", encoding="utf-8")


def _expected(folder: Path, config: Config, embedder: Any) -> dict[str, tuple[str, list[str]]]:
    docs = load_paths([folder], config.corpus, root=config.workspace_path.resolve().parent).documents
    return {d.id: (d.content_hash, [c.text for c in chunk_document(d, embedder, config.corpus)]) for d in docs}


def _check_consistent(store: DocumentStore, versions: list[dict[str, tuple[str, list[str]]]]) -> None:
    chunks = store.chunks()
    ids = [c.id for c in chunks]
    assert len(ids) == len(set(ids)), "duplicate chunks"
    assert store.count() == len(chunks)
    hashes = store.document_hashes()
    for doc_id, digest in hashes.items():
        texts = [c.text for c in store.chunks(doc_id)]
        allowed = [v[doc_id] for v in versions if doc_id in v]
        assert (digest, texts) in allowed, f"{doc_id}: a half-written or mixed version is visible"
    assert sum(len(store.chunks(d)) for d in hashes) == len(chunks)


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_a_consistent_store(
    make_store: Callable[..., DocumentStore],
    store_config: Config,
    embedder: Any,
    tmp_path: Path,
    helper: subprocess.Popen[str],
) -> None:
    config = store_config
    config.corpus.chunk_tokens, config.corpus.chunk_overlap = 24, 4
    config.store.commit_chunks = 4  # several commits per run, so kills land between them
    folder = tmp_path / "docs"
    folder.mkdir()
    _write_version(folder, 2)
    v2 = _expected(folder, config, embedder)
    _write_version(folder, 1)
    v1 = _expected(folder, config, embedder)
    rng = random.Random(int(os.environ.get("RAGTUNE_CRASH_SEED", time.time_ns() % 10_000)))
    delay = rng.uniform(0.05, 1.5)
    # Between two commits, after the last commit and prune but before index upkeep, and wherever chance lands.
    scenarios = ["written:1", "before_optimize", f"random {delay:.2f}s"]
    for n, scenario in enumerate(scenarios):
        config.store.table = f"{config.store.table.split('_crash')[0]}_crash{n}"
        if config.store.backend == "lancedb":
            config.workspace = str(tmp_path / f"ws{n}")
        store = make_store(embedder.identity, config)
        _write_version(folder, 1)
        ingest([folder], store, embedder, config, progress=False)
        _write_version(folder, 2)
        spec = {
            "workspace": config.workspace,
            "folder": str(folder),
            "crash": None if scenario.startswith("random") else scenario,
            "store": {
                "backend": config.store.backend,
                "table": config.store.table,
                "pg_dsn": config.store.pg_dsn,
                "commit_chunks": config.store.commit_chunks,
            },
        }
        code = _run(helper, spec, delay if scenario.startswith("random") else None)
        if not scenario.startswith("random"):
            assert code == -signal.SIGKILL, f"{scenario}: the crash hook did not fire"
        # The store opens, and every document is wholly v1 or wholly v2.
        after = make_store(embedder.identity, config)
        _check_consistent(after, [v1, v2])
        # A re-run completes the job: exactly v2, nothing left over.
        report = ingest([folder], after, embedder, config, prune=True, progress=False)
        assert not report.failed, scenario
        assert after.document_hashes() == {d: h for d, (h, _) in v2.items()}, scenario
        _check_consistent(after, [v2])
