from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.errors import RagtuneError
from ragtune.models.adapters import MANIFEST_NAME, read_manifest


@pytest.mark.parametrize("content", [b"\x80\x81 not text", b"[1, 2]", b'{"kind": "finetune"}', b"{oops"])
def test_a_damaged_manifest_names_the_file(tmp_path: Path, content: bytes) -> None:
    """A manifest that is not one (bytes that are not UTF-8 were a UnicodeDecodeError): what to do, no traceback."""
    (tmp_path / MANIFEST_NAME).write_bytes(content)
    with pytest.raises(RagtuneError, match=rf"{MANIFEST_NAME}: unreadable adapter manifest .*retrain the adapter"):
        read_manifest(tmp_path)


def test_a_folder_without_a_manifest_is_not_an_adapter(tmp_path: Path) -> None:
    with pytest.raises(RagtuneError, match="not a ragtune adapter"):
        read_manifest(tmp_path)
