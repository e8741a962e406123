"""Chunking with the real embedder's tokenizer: sizes, overlap, boundaries, metadata."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ragtune.config import CorpusConfig
from ragtune.corpus.chunking import HEADINGS_KEY, PAGES_KEY, ChunkingError, chunk_document, embedding_text
from ragtune.corpus.document import Document

SENTENCES = [f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(60)]


def test_chunks_fit_the_budget_overlap_and_cover_the_text(embedder: Any) -> None:
    doc = Document(id="d", text=" ".join(SENTENCES), metadata={"title": "Topics", "source": "t.txt"})
    config = CorpusConfig(chunk_tokens=60, chunk_overlap=16)
    chunks = chunk_document(doc, embedder, config)
    assert len(chunks) > 5
    assert [c.id for c in chunks] == [f"d#{i}" for i in range(len(chunks))]
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert embedder.count_tokens(c.text) <= 60
        assert c.text == doc.text[c.metadata["start_char"] : c.metadata["end_char"]]
        assert c.metadata["title"] == "Topics" and c.metadata["source"] == "t.txt"
        assert c.text.startswith("Sentence") and c.text.endswith(".")  # whole sentences
    for a, b in itertools.pairwise(chunks):
        assert b.metadata["start_char"] < a.metadata["end_char"], "consecutive chunks share an overlap"
        shared = doc.text[b.metadata["start_char"] : a.metadata["end_char"]]
        assert 0 < embedder.count_tokens(shared) <= 16
    covered = set()
    for c in chunks:
        covered.update(range(c.metadata["start_char"], c.metadata["end_char"]))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_headings_start_chunks_and_are_kept(embedder: Any) -> None:
    body1 = " ".join(SENTENCES[:6])
    body2 = " ".join(SENTENCES[6:12])
    text = f"# Guide\n\n{body1}\n\n## Setup\n\n{body2}"
    marks = [[0, "Guide"], [text.index("## Setup"), "Guide > Setup"]]
    doc = Document(id="g", text=text, metadata={"title": "Guide", HEADINGS_KEY: marks})
    chunks = chunk_document(doc, embedder, CorpusConfig(chunk_tokens=200, chunk_overlap=20))
    assert [c.text.split("\n")[0] for c in chunks] == ["# Guide", "## Setup"]
    assert [c.metadata["heading"] for c in chunks] == ["Guide", "Guide > Setup"]
    assert HEADINGS_KEY not in chunks[0].metadata


def test_pages_and_long_sentences(embedder: Any) -> None:
    page1 = "Intro page. " * 3
    page2 = "word " * 400  # one 'sentence' longer than a chunk: cut at words
    text = page1.strip() + "\n\n" + page2.strip()
    doc = Document(id="p", text=text, metadata={PAGES_KEY: [[0, 1], [len(page1.strip()) + 2, 2]]})
    chunks = chunk_document(doc, embedder, CorpusConfig(chunk_tokens=100, chunk_overlap=10))
    assert chunks[0].metadata["page"] == 1 and chunks[-1].metadata["page"] == 2
    assert all(embedder.count_tokens(c.text) <= 100 for c in chunks)
    assert sum(c.text.count("word") for c in chunks) >= 400


def test_title_is_embedded_and_budget_leaves_room_for_it(embedder: Any) -> None:
    title = "A rather long title " * 10
    doc = Document(id="t", text=" ".join(SENTENCES), metadata={"title": title.strip()})
    chunks = chunk_document(doc, embedder, CorpusConfig(chunk_tokens=250, chunk_overlap=20))
    for c in chunks:
        assert embedding_text(c).startswith(title.strip())
        assert embedder.count_tokens(embedding_text(c)) <= embedder.max_tokens - 2


def test_bad_settings(embedder: Any) -> None:
    doc = Document(id="x", text="Some text.")
    with pytest.raises(ChunkingError, match="chunk_overlap"):
        chunk_document(doc, embedder, CorpusConfig(chunk_tokens=100, chunk_overlap=80))
    with pytest.raises(ChunkingError, match="chunk_tokens"):
        chunk_document(doc, embedder, CorpusConfig(chunk_tokens=4, chunk_overlap=0))
