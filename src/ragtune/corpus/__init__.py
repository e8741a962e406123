"""Corpus: files -> Documents (loaders) -> Chunks (chunking)."""
