"""The Embedder seam: text -> normalized vectors, with separate query and document encoding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Longest input the model reads; longer text is truncated by the model."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """The model's own word pieces (chunking counts these)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def embed_documents(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Unit-length float32 rows, one per text, batched."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Unit-length float32 rows for queries (some models prefix queries differently from documents)."""
        ...
