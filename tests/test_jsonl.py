from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import InputFileError
from ragtune.jsonl import iter_records


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


@pytest.mark.parametrize(
    ("data", "byte"),
    [(b'{"question": "caf\xe9"}\n', "0xe9"), ('{"question": "x"}\n'.encode("utf-16"), "0xff")],
)
def test_a_file_not_in_utf8_names_the_file(tmp_path: Path, data: bytes, byte: str) -> None:
    """A file saved as Latin-1 or UTF-16: an error naming the file and the byte, not UnicodeDecodeError."""
    f = tmp_path / "q.jsonl"
    f.write_bytes(data)
    with pytest.raises(InputFileError, match=rf"{f}: not UTF-8 text \(invalid byte {byte} at offset \d+\); re-save"):
        list(iter_records(f, what="question file", shape="an object"))
