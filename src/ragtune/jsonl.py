"""A user's files: reading a text or JSONL file (line by line), with errors that name the file and the line, and
checking a path that a command will write under."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragtune.errors import InputFileError


def read_user_text(path: Path) -> str:
    """The text of a user's file (UTF-8, or UTF-16 with a byte-order mark); see `decode_user_text`."""
    return decode_user_text(path.read_bytes(), path)


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # what Windows editors write for "Unicode" text


def decode_text(data: bytes, *, binary_advice: str = "convert it to UTF-8 text") -> str:
    """`data` as text: UTF-8 (a byte-order mark is dropped), or UTF-16 when it starts with that byte-order mark
    (Windows Notepad's "Unicode"). ValueError saying why and what to do otherwise: text in another encoding
    (Latin-1), or a binary file, for which `binary_advice` says what to do. The one decoder of every user file:
    documents, questions, training data, qrels."""
    if data.startswith(UTF16_BOMS):  # UTF-16 text is full of NUL bytes, yet text: read it as such
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ValueError(f"starts as UTF-16 text but is not ({exc.reason}); re-save it as UTF-8") from exc
    if b"\x00" in data[:8192]:
        raise ValueError(f"binary file (contains NUL bytes), not text; {binary_advice}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save the file as UTF-8"
        ) from exc


def decode_user_text(data: bytes, path: Path) -> str:
    """`data`, the bytes of file `path`, as text (`decode_text`); InputFileError naming the file and the reason
    when it is not text ragtune can read (a file saved as Latin-1 by an editor, or a binary file)."""
    try:
        return decode_text(data)
    except ValueError as exc:
        raise InputFileError(f"{path}: {exc}") from exc


def _no_value(name: str) -> None:
    return None


def load_json_line(line: str) -> Any:
    """One JSONL line's value, or ValueError saying where it is not JSON. NaN and Infinity, which JSON has not but
    Python's writers emit for a missing value (a pandas export), are read as null: stored as they are, they made
    metadata that a strict JSON reader (the HTTP API's clients) refuses."""
    try:
        return json.loads(line, parse_constant=_no_value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc


def parse_record(line: str, shape: str) -> dict[str, Any]:
    """One JSONL line as an object, or ValueError saying what is wrong with it (`shape` describes the object)."""
    record = load_json_line(line)
    if not isinstance(record, dict):
        raise ValueError(f"expected {shape}")
    return record


def iter_records(path: Path, *, what: str, shape: str) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(`file:line`, line number, object) for each non-blank line; `what` names the file in the not-found error and
    `shape` describes the expected object in the wrong-type error."""
    if not path.is_file():
        raise InputFileError(f"{path}: {what} not found")
    for line_no, line in enumerate(read_user_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            record = parse_record(line, shape)
        except ValueError as exc:
            raise InputFileError(f"{where}: {exc}") from exc
        yield where, line_no, record


def file_in_the_way(path: Path) -> Path | None:
    """The file standing where `path` or one of its folders goes, if any: the nearest of `path` and its parents
    that exists must be a folder (the missing ones are made on first use). None when the path can be written."""
    for folder in (path, *path.parents):
        if folder.exists():
            return None if folder.is_dir() else folder
    return None
