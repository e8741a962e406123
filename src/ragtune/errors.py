"""Exceptions a user can act on. The CLI prints their message and exits with code 1 (2 for usage errors)."""

from __future__ import annotations


class RagtuneError(Exception):
    """Base of every error ragtune raises on purpose; the message says what went wrong and what to do."""


class ModelNotFoundError(RagtuneError):
    """A model could not be found or loaded: the message names the model, where it looked and how to get it."""


class BackendUnavailableError(RagtuneError):
    """A server or optional extra that a setting asks for cannot be reached or is not installed."""


class InputFileError(RagtuneError):
    """A user file (documents, questions, training data) is malformed; the message names the file, line and field."""
