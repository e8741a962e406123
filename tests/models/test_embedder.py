"""The sentence-transformers embedder on the real all-MiniLM-L6-v2."""

from __future__ import annotations

from typing import Any

import numpy as np

from ragtune.models.embedder import Embedder


def test_shape_norm_and_protocol(embedder: Any) -> None:
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dim, embedder.max_tokens) == ("all-MiniLM-L6-v2", 384, 256)
    docs = embedder.embed_documents(["The pump is recalibrated every 90 days.", "Lunch is served at noon."] * 5)
    assert docs.shape == (10, 384) and docs.dtype == np.float32
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert embedder.embed_documents([]).shape == (0, 384)
    assert embedder.embed_queries([]).shape == (0, 384)


def test_related_text_is_closer(embedder: Any) -> None:
    (query,) = embedder.embed_queries(["How often must the pump be calibrated?"])
    docs = embedder.embed_documents(["The pump is recalibrated every 90 days.", "Lunch is served at noon."])
    scores = docs @ query
    assert scores[0] > scores[1] + 0.2


def test_batching_does_not_change_vectors(embedder: Any) -> None:
    texts = [f"Document number {i} talks about topic {i % 3}." for i in range(20)]
    together = embedder.embed_documents(texts)
    alone = np.vstack([embedder.embed_documents([t]) for t in texts[:3]])
    assert np.allclose(together[:3], alone, atol=1e-5)


def test_tokens_are_the_models_word_pieces(embedder: Any) -> None:
    pieces = embedder.tokenize("Recalibration every day")
    assert pieces[0] == "rec" and pieces[-2:] == ["every", "day"] and any(p.startswith("##") for p in pieces)
    assert embedder.count_tokens("Recalibration every day") == len(pieces)


def test_store_embed_batch_size_reaches_the_encoder() -> None:
    """`store.embed_batch_size` is what every command's embedder encodes per batch (it was once read by nothing)."""
    from ragtune.config import Config
    from ragtune.models.loader import load_embedder

    config = Config()
    config.store.embed_batch_size = 3
    small = load_embedder(config.models, config.store.embed_batch_size)
    assert getattr(small, "batch_size", None) == 3
    texts = [f"Section {i} of the manual covers valve {i % 4}." for i in range(7)]
    default = load_embedder(config.models)
    assert np.allclose(small.embed_documents(texts), default.embed_documents(texts), atol=1e-5)
