"""The sentence-transformers backend of the `Embedder` seam: batched, unit-length float32 vectors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.errors import ModelNotFoundError
from ragtune.models.embedder import EmbedderIdentity, Vectors


class STEmbedder:
    """all-MiniLM-L6-v2 by default; any sentence-transformers folder works.

    Queries and documents go through `encode_query`/`encode_document`, so a model that was trained with prompts
    (e.g. "query: " / "passage: ") gets them, and one without gets plain text.
    """

    def __init__(
        self, folder: Path, name: str, device: str = "cpu", batch_size: int = 64, fingerprint: str = ""
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            # local_files_only: the folder is local, and nothing may ask the hub behind the user's back.
            self.model: Any = SentenceTransformer(str(folder), device=device, local_files_only=True)
        except Exception as exc:
            raise ModelNotFoundError(
                f"embedder '{name}': cannot load the sentence-transformers folder {folder} "
                f"({type(exc).__name__}: {exc}). Reinstall the model or point models.embedder at a complete folder."
            ) from exc
        self._name = name
        self._fingerprint = fingerprint  # registry.embedder_fingerprint: what a store records of this model
        self.batch_size = batch_size
        dim = self.model.get_embedding_dimension()
        if not dim:
            raise ModelNotFoundError(f"embedder '{name}': {folder} does not say its embedding dimension")
        self._dim = int(dim)
        self._max_tokens = int(self.model.max_seq_length or 512)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def identity(self) -> EmbedderIdentity:
        return EmbedderIdentity(self._name, self._fingerprint, self._dim)

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def tokenize(self, text: str) -> list[str]:
        return list(self.model.tokenizer.tokenize(text))

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _rows(self, vectors: Any) -> Vectors:
        out = np.asarray(vectors, dtype=np.float32)
        return out.reshape(-1, self._dim)

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._rows(
            self.model.encode_document(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        )

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        return self._rows(
            self.model.encode_query(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=False,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
        )
