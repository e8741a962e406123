"""Reading a user's text or JSONL file (line by line), with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragtune.errors import InputFileError


def read_user_text(path: Path) -> str:
    """The text of a user's file, read as UTF-8 (a byte-order mark is dropped); see `decode_user_text`."""
    return decode_user_text(path.read_bytes(), path)


def decode_user_text(data: bytes, path: Path) -> str:
    """`data`, the bytes of file `path`, as UTF-8 text (a byte-order mark is dropped); InputFileError naming the
    file and the first bad byte when it is not UTF-8 (a file saved as Latin-1 or UTF-16 by an editor, or a binary
    file)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start}); re-save the file "
            "as UTF-8"
        ) from exc


def parse_record(line: str, shape: str) -> dict[str, Any]:
    """One JSONL line as an object, or ValueError saying what is wrong with it (`shape` describes the object)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno})") from exc
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
