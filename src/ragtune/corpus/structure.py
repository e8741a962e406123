"""What every format's loader shares: the per-file error and the heading path ('Chapter > Section > Sub')."""

from __future__ import annotations

from ragtune.errors import RagtuneError


class UnreadableFileError(RagtuneError):
    """One file cannot be turned into documents; the message says why (load_paths turns it into a LoadFailure)."""


class HeadingPath:
    """Tracks 'Chapter > Section > Subsection' as headings of different levels go by."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> str:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))
        return " > ".join(t for _, t in self._stack)
