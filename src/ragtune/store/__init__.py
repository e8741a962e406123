"""Stores: the DocumentStore seam and its backends (LanceDB embedded, PostgreSQL + pgvector)."""
