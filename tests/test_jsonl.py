from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import InputFileError
from ragtune.jsonl import file_in_the_way, iter_records


def test_records_name_the_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text('{"question": "a"}\n\n[1]\n', encoding="utf-8")
    records = iter_records(f, what="question file", shape="an object")
    assert next(records) == (f"{f}:1", 1, {"question": "a"})
    with pytest.raises(InputFileError, match=rf"{f}:3: expected an object"):
        next(records)


def test_a_byte_order_mark_is_not_a_json_error(tmp_path: Path) -> None:
    """Windows editors write one at the start of a UTF-8 file; the first line used to fail as invalid JSON."""
    f = tmp_path / "q.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"question": "a"}\n')
    assert [record for _, _, record in iter_records(f, what="question file", shape="an object")] == [{"question": "a"}]


def test_a_file_not_in_utf8_names_the_file(tmp_path: Path) -> None:
    """A file saved as Latin-1: an error naming the file and the byte, not UnicodeDecodeError."""
    f = tmp_path / "q.jsonl"
    f.write_bytes(b'{"question": "caf\xe9"}\n')
    with pytest.raises(InputFileError, match=rf"{f}: not UTF-8 text \(invalid byte 0xe9 at offset \d+\); re-save"):
        list(iter_records(f, what="question file", shape="an object"))


def test_utf16_with_a_byte_order_mark_is_read_like_the_documents(tmp_path: Path) -> None:
    """Notepad's "Unicode" (UTF-16 with a byte-order mark): the loaders read such documents, so question and
    training files read the same way (one decoder); a binary file is named as one."""
    f = tmp_path / "q.jsonl"
    f.write_bytes('{"question": "Caf\u00e9?"}\n'.encode("utf-16"))
    assert [r for _, _, r in iter_records(f, what="question file", shape="an object")] == [{"question": "Caf\u00e9?"}]
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputFileError, match=rf"{f}: binary file \(contains NUL bytes\), not text"):
        list(iter_records(f, what="question file", shape="an object"))


def test_file_in_the_way_names_the_nearest_existing_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("x", encoding="utf-8")
    assert file_in_the_way(tmp_path / "notes" / "a" / "b") == tmp_path / "notes"
    assert file_in_the_way(tmp_path / "notes") == tmp_path / "notes"
    assert file_in_the_way(tmp_path / "new" / "ws") is None and file_in_the_way(tmp_path) is None
