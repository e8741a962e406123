"""Models: resolution of model names to local files, and the Embedder and Generator seams with their backends."""
