"""Serving: an OpenAI-compatible API with sources, live document updates and a web page."""
