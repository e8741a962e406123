"""The DocumentStore suite: every case runs against LanceDB and PostgreSQL + pgvector (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragtune.config import Config
from ragtune.corpus.chunking import chunk_document
from ragtune.corpus.document import Document
from ragtune.models.embedder import EmbedderIdentity
from ragtune.retrieve import Retriever
from ragtune.store import DocumentStore, StoreError
from ragtune.store.base import DocumentWrite
from ragtune.store.sync import ingest, sync_documents
from ragtune.workspace import Workspace

TOPICS = {
    "refunds": (
        "Refund policy",
        "Customers may return a product within 30 days for a full refund. Refunds are paid to the original card. "
        "Opened software cannot be refunded.",
    ),
    "volcano": (
        "Volcanoes",
        "A volcano erupts when magma rises through the crust. Lava flows and ash clouds follow an eruption. "
        "Mount Etna in Sicily is one of the most active volcanoes in Europe.",
    ),
    "bread": (
        "Baking bread",
        "Knead the dough for ten minutes, then let it rise for an hour. Bake the loaf at 220 degrees until the "
        "crust is brown and it sounds hollow.",
    ),
    "chess": (
        "Chess openings",
        "The Sicilian Defence answers 1.e4 with c5. The Queen's Gambit offers a pawn to gain the centre. "
        "Openings decide the shape of the middlegame.",
    ),
}


def _docs(**extra: dict[str, Any]) -> list[Document]:
    return [
        Document(id=k, text=text, metadata={"title": title, "source": f"kb/{k}.md", **extra.get(k, {})})
        for k, (title, text) in TOPICS.items()
    ]


def _small_chunks(config: Config) -> Config:
    config.corpus.chunk_tokens = 24
    config.corpus.chunk_overlap = 4
    return config


def test_sync_roundtrip_and_reopen(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    store = make_store(embedder.identity)
    report = sync_documents(_docs(), store, embedder, store_config, progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (4, 0, 0, 0)
    assert store.count() == report.chunks_written == 4
    again = make_store(embedder.identity)  # a second handle sees the committed state
    assert again.document_hashes() == {d.id: d.content_hash for d in _docs()}
    stored = again.documents()  # what retrieval's title links read: each document's title with its chunk count
    assert {k: (v.title, v.chunks, v.source) for k, v in stored.items()} == {
        k: (title, 1, f"kb/{k}.md") for k, (title, _) in TOPICS.items()
    }
    (chunk,) = again.chunks("volcano")
    assert chunk.id == "volcano#0" and chunk.position == 0
    assert chunk.metadata["title"] == "Volcanoes" and chunk.metadata["source"] == "kb/volcano.md"
    assert chunk.text == TOPICS["volcano"][1]
    assert [c.doc_id for c in again.chunks()] == sorted(TOPICS)


def test_unchanged_changed_deleted(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    config = _small_chunks(store_config)
    store = make_store(embedder.identity)
    sync_documents(_docs(), store, embedder, config, progress=False)
    before = {d: [c.text for c in store.chunks(d)] for d in TOPICS}
    assert all(len(v) >= 2 for v in before.values()), before

    unchanged = sync_documents(_docs(), store, embedder, config, progress=False)
    assert (unchanged.added, unchanged.updated, unchanged.unchanged, unchanged.chunks_written) == (0, 0, 4, 0)
    assert {d: [c.text for c in store.chunks(d)] for d in TOPICS} == before

    docs = _docs()
    docs[0] = Document(id="refunds", text="Refunds are no longer offered.", metadata=docs[0].metadata)
    changed = sync_documents(docs[:3], store, embedder, config, prune=True, progress=False)
    assert (changed.added, changed.updated, changed.unchanged, changed.removed) == (0, 1, 2, 1)
    assert [c.text for c in store.chunks("refunds")] == ["Refunds are no longer offered."]
    assert store.chunks("chess") == []
    assert store.count() == 1 + len(before["volcano"]) + len(before["bread"])
    ids = [c.id for c in store.chunks()]
    assert len(ids) == len(set(ids))
    # The old version's extra chunks are gone from search too, not only from listings.
    hits = store.keyword_search("refund card software", 10)
    assert [h.chunk.id for h in hits] == ["refunds#0"]


def test_replace_documents_and_delete(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    config = _small_chunks(store_config)
    store = make_store(embedder.identity)
    docs = _docs()
    writes = []
    for doc in docs:
        chunks = chunk_document(doc, embedder, config.corpus)
        writes.append(DocumentWrite(doc, chunks, embedder.embed_documents([c.text for c in chunks])))
    store.replace_documents(writes)
    n = store.count()
    # One call replaces one document and removes another.
    new = Document(id="bread", text="Sourdough needs a starter.", metadata={"title": "Bread"})
    store.replace_documents(
        [DocumentWrite(new, [chunk_document(new, embedder, config.corpus)[0]], embedder.embed_documents(["x"]))],
        deletes=["chess"],
    )
    assert [c.text for c in store.chunks("bread")] == ["Sourdough needs a starter."]
    assert store.chunks("chess") == []
    assert store.count() == n - len(writes[2].chunks) - len(writes[3].chunks) + 1
    assert store.delete_document("volcano") is True
    assert store.delete_document("volcano") is False
    assert set(store.document_hashes()) == {"refunds", "bread"}
    with pytest.raises(StoreError, match="dimension"):
        store.upsert_document(new, writes[2].chunks[:1], np.ones((1, 8), dtype=np.float32))


def test_dense_and_keyword_search_with_filters(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    store = make_store(embedder.identity)
    extra = {"volcano": {"team": "geo", "year": 2024}, "chess": {"team": "games", "year": 2023}}
    sync_documents(_docs(**extra), store, embedder, store_config, progress=False)
    query = embedder.embed_queries(["Which mountain in Italy spews lava?"])[0]
    hits = store.dense_search(query, 4)
    assert hits[0].chunk.doc_id == "volcano"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert 0.3 < hits[0].score <= 1.0
    assert [h.chunk.doc_id for h in store.dense_search(query, 4, {"doc_id": "bread"})] == ["bread"]
    assert [h.chunk.doc_id for h in store.dense_search(query, 4, {"team": "games"})] == ["chess"]
    assert [h.chunk.doc_id for h in store.dense_search(query, 4, {"year": 2024})] == ["volcano"]
    assert store.dense_search(query, 4, {"team": "nobody"}) == []
    # Keyword search stems (refunded -> refund) and drops stop words.
    kw = store.keyword_search("refunded", 4)
    assert [h.chunk.doc_id for h in kw] == ["refunds"] and kw[0].score > 0
    assert store.keyword_search("the of and", 4) == []
    assert {h.chunk.doc_id for h in store.keyword_search("crusts", 4)} == {"bread", "volcano"}
    assert [h.chunk.doc_id for h in store.keyword_search("crusts", 4, {"title": "Baking bread"})] == ["bread"]
    assert store.keyword_search('it\'s "quoted" (odd) query: AND OR -x', 4) is not None  # never a syntax error
    # A question naming a document by its title in quotes is searched within it first (`retrieval.named_documents`).
    retriever = Retriever(store, embedder, store_config.retrieval)
    assert retriever.search("Which mountain in Italy spews lava?", k=1)[0].chunk.doc_id == "volcano"
    assert retriever.search("In “Baking bread”, which mountain in Italy spews lava?", k=1)[0].chunk.doc_id == "bread"
    # A title a question mentions links its document in (`retrieval.linked_documents`), here after the first 3 hits,
    # searched within it where the first search did not rank it; the caller's filters still hold.
    linked = retriever.search("Is lava hot? Ask about Chess openings", k=4, filters={"team": "geo"})
    assert [h.chunk.doc_id for h in linked] == ["volcano"]


def test_dimension_mismatch_is_a_clear_error(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    store = make_store(embedder.identity)
    sync_documents(_docs(), store, embedder, store_config, progress=False)
    with pytest.raises(StoreError, match="384"):
        make_store(128)


def test_a_file_where_the_store_folder_goes_is_a_store_error(tmp_path: Path) -> None:
    from ragtune.store.lancedb import LanceDBStore

    (tmp_path / "store").write_text("", encoding="utf-8")
    with pytest.raises(StoreError, match="store is a file where the LanceDB store.s folder goes; move or remove it"):
        LanceDBStore(tmp_path / "store", 384)


def test_a_store_refuses_another_embedder_of_the_same_dimension(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    """A fine-tuned copy keeps the dimension: only the recorded weights fingerprint tells its vectors apart."""
    store = make_store(embedder.identity)
    sync_documents(_docs(), store, embedder, store_config, progress=False)
    assert store.recorded_embedder() == embedder.identity
    tuned = EmbedderIdentity("runs/embedder-1", "f" * 64, embedder.dim)
    with pytest.raises(StoreError) as info:
        make_store(tuned)
    message = str(info.value)
    assert "all-MiniLM-L6-v2" in message and "runs/embedder-1" in message and "store.table" in message
    assert store_config.store.table in message
    again = make_store(embedder.identity)  # nothing stored was lost, and the right model still opens it
    assert again.document_hashes() == {d.id: d.content_hash for d in _docs()}
    stored = again.documents()  # what retrieval's title links read: each document's title with its chunk count
    assert {k: (v.title, v.chunks, v.source) for k, v in stored.items()} == {
        k: (title, 1, f"kb/{k}.md") for k, (title, _) in TOPICS.items()
    }
    assert again.recorded_embedder() == embedder.identity
    # The same weights under another name (a copy of the folder) are the same model.
    make_store(EmbedderIdentity("/copies/minilm", embedder.identity.fingerprint, embedder.dim))


def test_an_empty_or_unrecorded_store_takes_the_embedder_it_is_opened_with(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    first = EmbedderIdentity("first", "a" * 64, embedder.dim)
    make_store(first)
    second = EmbedderIdentity("second", "b" * 64, embedder.dim)
    store = make_store(second)  # nothing stored yet: nothing to mix
    assert store.recorded_embedder() == second
    sync_documents(_docs(), store, embedder, store_config, progress=False)
    # A store written before stores recorded their model has no record: the model that opens it is adopted.
    _forget_embedder(store_config)
    assert store.recorded_embedder() is None
    assert make_store(embedder.identity).recorded_embedder() == embedder.identity
    assert store.count() == 4


def _forget_embedder(config: Config) -> None:
    """Removes the record, as in a store written before stores recorded their model."""
    table = config.store.table
    if config.store.backend == "lancedb":
        (Workspace(config.workspace_path).store_dir / f"{table}.embedder.json").unlink()
        return
    import psycopg

    with psycopg.connect(config.store.pg_dsn, autocommit=True) as conn:
        conn.execute(f"COMMENT ON TABLE {table} IS NULL")


def test_readers_never_see_both_or_neither_version(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any
) -> None:
    config = _small_chunks(store_config)
    store = make_store(embedder.identity)
    reader = make_store(embedder.identity)
    v1 = Document(id="doc", text=TOPICS["volcano"][1], metadata={"title": "v1"})
    v2 = Document(id="doc", text="Short second version.", metadata={"title": "v2"})
    versions = []
    for v in (v1, v2):
        chunks = chunk_document(v, embedder, config.corpus)
        versions.append(DocumentWrite(v, chunks, embedder.embed_documents([c.text for c in chunks])))
    expected = [sorted(c.text for c in w.chunks) for w in versions]
    store.replace_documents([versions[0]])
    seen: list[list[str]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(sorted(c.text for c in reader.chunks("doc")))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for i in range(12):
            store.replace_documents([versions[(i + 1) % 2]])
    finally:
        done.set()
        thread.join()
    assert seen and all(s in expected for s in seen), [s for s in seen if s not in expected][:2]


def test_ingest_reports_bad_files_and_prunes(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nAlpha is the first letter.", encoding="utf-8")
    (folder / "b.txt").write_text("Beta is the second letter.", encoding="utf-8")
    (folder / "bad.txt").write_bytes("caf\xe9".encode("latin-1"))
    store = make_store(embedder.identity)
    report = ingest([folder], store, embedder, store_config, progress=False)
    assert (report.added, len(report.failed)) == (2, 1)
    assert report.failed[0].path.endswith("docs/bad.txt") and "UTF-8" in report.failed[0].reason
    (folder / "b.txt").unlink()
    (folder / "a.md").write_text("# Alpha\n\nAlpha comes first.", encoding="utf-8")
    report = ingest([folder], store, embedder, store_config, prune=True, progress=False)
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    (chunk,) = store.chunks()
    assert chunk.metadata["title"] == "Alpha" and chunk.metadata["heading"] == "Alpha"


def test_an_id_stored_from_another_file_is_not_silently_replaced(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "faq.jsonl").write_text('{"id": "1", "text": "The printer jams on A3 paper."}\n', encoding="utf-8")
    (folder / "policies.jsonl").write_text('{"id": "1", "text": "Bikes park in the yard."}\n', encoding="utf-8")
    store = make_store(embedder.identity)
    assert ingest([folder / "faq.jsonl"], store, embedder, store_config, progress=False).added == 1
    clash = ingest([folder / "policies.jsonl"], store, embedder, store_config, progress=False)
    assert (clash.added, clash.updated) == (0, 0)
    (failure,) = clash.failed
    assert failure.path.endswith("policies.jsonl:1") and "already stored from" in failure.reason
    assert "faq.jsonl" in failure.reason
    (chunk,) = store.chunks()
    assert "printer" in chunk.text  # the first file's document is still there
    # A record that moved between files is accepted when both are ingested together.
    (folder / "faq.jsonl").write_text('{"id": "2", "text": "Toner is in the cupboard."}\n', encoding="utf-8")
    moved = ingest([folder], store, embedder, store_config, progress=False)
    assert (moved.added, moved.updated, len(moved.failed)) == (1, 1, 0)


def test_ingest_of_a_folder_without_documents_says_so(
    make_store: Callable[..., DocumentStore], store_config: Config, embedder: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    store = make_store(embedder.identity)
    (failure,) = ingest([folder], store, embedder, store_config, progress=False).failed
    assert "no documents found" in failure.reason and ".md" in failure.reason
    assert not ingest([folder], store, embedder, store_config, prune=True, progress=False).failed
