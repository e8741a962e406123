"""ragtune: RAG, fine-tuning or both? Build all of them on your documents, measure them side by side, recommend one
and serve it."""

from __future__ import annotations

__version__ = "0.1.0"
