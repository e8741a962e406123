"""Incremental sync: make the store hold exactly the given documents, touching only what changed.

Every document carries a content hash. Sync compares it with what the store holds and
- skips an unchanged document (re-ingesting an unchanged corpus embeds and writes nothing),
- embeds a new or changed document and stores it with `DocumentStore.replace_documents`, which swaps the whole
  document (all chunks, old version out, new version in) in ONE backend transaction,
- with `prune`, removes stored documents that are no longer among the inputs, or whose file is gone (in the final
  transaction, so nothing disappears before its replacement, if any, is in place).

Work is committed in groups of documents (about `store.commit_chunks` chunks, never splitting a document), large
enough that the embedder's length-sorted batching stays efficient and commits stay few. A process killed at any
moment loses at most the group in flight: the store opens, holds no duplicate and no half document, and running
the same sync again finds the committed documents unchanged and finishes the rest.

Tests prove this by killing a real ingest with SIGKILL at chosen stages: the environment variable
`RAGTUNE_SYNC_CRASH_AT=STAGE[:N]` (stages: `embedded`, `written`, `before_prune`, `before_optimize`; N counts the
groups) makes the process kill itself there. It exists for that test only and is inert unless set.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ragtune.config import Config
from ragtune.corpus.chunking import chunk_document, embedding_text
from ragtune.corpus.document import Chunk, Document
from ragtune.corpus.ids import document_id_for
from ragtune.corpus.loaders import SUPPORTED, LoadFailure, load_paths
from ragtune.models.embedder import Embedder
from ragtune.store.base import DocumentStore, DocumentWrite, StoredDocument, StoreError

CRASH_ENV = "RAGTUNE_SYNC_CRASH_AT"


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: list[LoadFailure] = field(default_factory=list)
    seconds: float = 0.0
    chunks_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, removed {self.removed}, "
            f"failed {len(self.failed)} ({self.chunks_written} chunks written in {self.seconds:.1f} s)"
        )


def _crash_point(stage: str, n: int = 0) -> None:
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name == stage and (not count or int(count) == n):
        os.kill(os.getpid(), signal.SIGKILL)


def _in_scope(source: str, scopes: Sequence[str] | None) -> bool:
    if scopes is None:
        return True
    return any(source == s or source.startswith(s.rstrip("/") + "/") for s in scopes)


def _gone(source: str, root: Path | None) -> bool:
    return root is not None and bool(source) and not (root / source).exists()


@dataclass
class _Changes:
    """What the chunking pass found: the documents to write (with their chunks) and how the rest were counted."""

    pending: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    failed: list[LoadFailure] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0


def sync_documents(
    documents: Sequence[Document],
    store: DocumentStore,
    embedder: Embedder,
    config: Config,
    *,
    prune: bool = False,
    progress: bool = True,
    prune_scope: Sequence[str] | None = None,
    keep_sources: Sequence[str] = (),
    source_root: Path | None = None,
) -> SyncReport:
    """Bring `store` in line with `documents`; see the module docstring.

    `prune_scope` limits pruning to documents whose source is one of these paths or lies under one (None: every
    stored document is in scope); with `source_root`, a document whose source file no longer exists under it is
    pruned too, wherever it was. Documents whose source is in `keep_sources` (files that failed to load this time)
    or under one of them (a folder that could not be read) are never pruned.
    """
    start = time.perf_counter()
    _check_dimensions(store, embedder)
    with store.lock():
        stored = store.documents()
        changes = _chunk_changes(documents, stored, embedder, config, progress=progress)
        removals: list[str] = []
        if prune:
            removals = _removals(stored, {d.id for d in documents}, prune_scope, keep_sources, source_root)
        groups = _commit_groups(changes.pending, config.store.commit_chunks)
        written = _embed_and_write(groups, store, embedder, progress=progress)
        _crash_point("before_prune")
        if removals:
            store.replace_documents([], deletes=removals)
        if changes.pending or removals:
            _crash_point("before_optimize")
            store.optimize()
    return SyncReport(
        added=changes.added,
        updated=changes.updated,
        unchanged=changes.unchanged,
        removed=len(removals),
        failed=changes.failed,
        seconds=time.perf_counter() - start,
        chunks_written=written,
    )


def _check_dimensions(store: DocumentStore, embedder: Embedder) -> None:
    if embedder.dim != store.dim:
        raise StoreError(
            f"the embedder {embedder.name!r} makes {embedder.dim}-dimensional vectors but the store holds "
            f"{store.dim}-dimensional ones; use the embedder the store was built with, or a new workspace"
        )


def _chunk_changes(
    documents: Sequence[Document],
    stored: dict[str, StoredDocument],
    embedder: Embedder,
    config: Config,
    *,
    progress: bool,
) -> _Changes:
    """Chunk every new or changed document; unchanged ones are only counted, and nothing is embedded yet."""
    from tqdm.auto import tqdm

    changes = _Changes()
    sources_now = {str(d.metadata.get("source") or "") for d in documents}
    for doc in tqdm(documents, desc="chunking", unit="doc", disable=not progress or len(documents) < 200):
        before = stored.get(doc.id)
        source = str(doc.metadata.get("source") or "")
        if before is not None and before.source and source and before.source not in sources_now:
            # Another file's document has this id (two JSONL files both with id "1", or a record whose id is a
            # file's path): replacing it would silently drop that document. A record that moved between files
            # is accepted when both files are synced together.
            changes.failed.append(_id_taken(doc, source, before.source))
            continue
        if before is not None and before.content_hash == doc.content_hash:
            changes.unchanged += 1
            continue
        chunks = chunk_document(doc, embedder, config.corpus)
        if not chunks:
            changes.failed.append(
                LoadFailure(str(doc.metadata.get("source", doc.id)), f"document {doc.id!r} has no text")
            )
            continue
        changes.pending.append((doc, chunks))
        if before is None:
            changes.added += 1
        else:
            changes.updated += 1
    return changes


def _id_taken(doc: Document, source: str, stored_source: str) -> LoadFailure:
    where = f"{source}:{doc.metadata['line']}" if "line" in doc.metadata else source
    return LoadFailure(
        where,
        f"document id {doc.id!r} is already stored from {stored_source}; ids must be unique across "
        f"files: give this record another id (or, if it moved there, ingest {stored_source} and "
        f"{source} together)",
    )


def _removals(
    stored: dict[str, StoredDocument],
    current: set[str],
    prune_scope: Sequence[str] | None,
    keep_sources: Sequence[str],
    source_root: Path | None,
) -> list[str]:
    """Stored doc ids that prune removes: gone from the inputs, in scope (or their file gone), and not kept."""
    kept = set(keep_sources)
    return [
        doc_id
        for doc_id, info in stored.items()
        if doc_id not in current
        and (_in_scope(info.source or doc_id, prune_scope) or _gone(info.source, source_root))
        and not any(_in_scope(info.source, [k]) or k.startswith(info.source + ":") for k in kept)
    ]


def _commit_groups(
    pending: list[tuple[Document, list[Chunk]]], commit_chunks: int
) -> list[list[tuple[Document, list[Chunk]]]]:
    """`pending` in groups of about `commit_chunks` chunks, never splitting a document; a group may be empty."""
    # Documents with chunks of similar length go together, so that the embedder's batches in each group pad as
    # little as one length-sorted pass over everything would (commit order does not matter).
    pending.sort(key=lambda item: max(len(c.text) for c in item[1]))
    group_size = max(1, commit_chunks)
    groups: list[list[tuple[Document, list[Chunk]]]] = [[]]
    size = 0
    for item in pending:
        if size and size + len(item[1]) > group_size:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += len(item[1])
    return groups


def _embed_and_write(
    groups: list[list[tuple[Document, list[Chunk]]]],
    store: DocumentStore,
    embedder: Embedder,
    *,
    progress: bool,
) -> int:
    """Embed and commit the groups one by one (one transaction each); returns the number of chunks written."""
    from tqdm.auto import tqdm

    total = sum(len(chunks) for group in groups for _, chunks in group)
    written = 0
    with tqdm(total=total, unit="chunk", desc="embedding", disable=not progress or total == 0) as bar:
        for n, group in enumerate(g for g in groups if g):
            texts = [embedding_text(c) for _, chunks in group for c in chunks]
            vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
            _crash_point("embedded", n)
            writes: list[DocumentWrite] = []
            offset = 0
            for doc, chunks in group:
                writes.append(DocumentWrite(doc, chunks, vectors[offset : offset + len(chunks)]))
                offset += len(chunks)
            store.replace_documents(writes)
            written += len(texts)
            bar.update(len(texts))
            _crash_point("written", n)
    return written


def ingest(
    paths: Sequence[str | Path],
    store: DocumentStore,
    embedder: Embedder,
    config: Config,
    *,
    prune: bool = False,
    progress: bool = True,
) -> SyncReport:
    """Load `paths` (files or folders) and sync them into `store`; unreadable files are reported in `failed`.

    Ids are file paths relative to the folder that holds the workspace. With `prune`, stored documents that came
    from under `paths` but are no longer there, and documents whose file no longer exists, are removed; documents
    from other folders, and from files that failed to load this time, are kept.
    """
    start = time.perf_counter()
    root = config.workspace_path.expanduser().resolve().parent  # the project folder: ids do not depend on the cwd
    loaded = load_paths(paths, config.corpus, root=root, progress=progress)
    if not loaded.documents and not loaded.failures and not prune:  # with prune, an emptied folder is a request
        loaded = replace(
            loaded,
            failures=[
                LoadFailure(
                    ", ".join(str(p) for p in paths),
                    f"no documents found: no files of a supported type ({', '.join(SUPPORTED)})",
                )
            ],
        )
    scopes = [document_id_for(Path(p).expanduser(), root) for p in paths]
    keep = [f.path for f in loaded.failures]
    report = sync_documents(
        loaded.documents,
        store,
        embedder,
        config,
        prune=prune,
        progress=progress,
        prune_scope=scopes,
        keep_sources=keep,
        source_root=root,
    )
    return replace(report, failed=loaded.failures + report.failed, seconds=time.perf_counter() - start)
