"""The bundled sample knowledge base used by `ragtune compare` and `make demo`."""
