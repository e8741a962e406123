"""The Embedder seam: text -> normalized vectors, with separate query and document encoding."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbedderIdentity:
    """Which model wrote a store's vectors. Vectors of two models live in different spaces even at the same
    dimension, so a store records this when it is created and refuses a query or a write from another model."""

    name: str  # as configured (models.embedder), for messages
    fingerprint: str  # sha256 over the weight files; "" when the model has none to hash
    dim: int

    def same_model(self, other: EmbedderIdentity) -> bool:
        """The same weights (or, where either has no fingerprint, the same name) and dimension."""
        if self.dim != other.dim:
            return False
        if self.fingerprint and other.fingerprint:
            return self.fingerprint == other.fingerprint
        return self.name == other.name

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> EmbedderIdentity | None:
        """None for anything that is not a recorded identity (a store written by another tool, a damaged record)."""
        if not isinstance(data, dict):
            return None
        name, fingerprint, dim = data.get("name"), data.get("fingerprint"), data.get("dim")
        if not isinstance(name, str) or not isinstance(fingerprint, str) or not isinstance(dim, int):
            return None
        return cls(name, fingerprint, dim)

    def describe(self) -> str:
        weights = f", weights sha256 {self.fingerprint[:12]}" if self.fingerprint else ""
        return f"'{self.name}' ({self.dim} dimensions{weights})"


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def identity(self) -> EmbedderIdentity:
        """Name, weights fingerprint and dimension: what a store records of the model that wrote its vectors."""
        ...

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
