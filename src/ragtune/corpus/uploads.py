"""The rules for documents that arrive by name rather than from a folder: safe ids, an uploaded file's type and id
from its name, and clean titles. The server applies them; a library user can too."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath

from ragtune.errors import RagtuneError

# A document id is one or more path-like segments of safe characters. A segment never starts with a dot, so '..'
# and hidden names are impossible, and there is no leading slash, backslash, colon or control character: an id can
# never name a place outside the store, whatever a backend does with it.
_ID_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9_.\- :+@=,]{0,127}"
DOC_ID_PATTERN = re.compile(rf"^{_ID_SEGMENT}(/{_ID_SEGMENT}){{0,7}}$")
MAX_ID_CHARS = 256
MAX_NAME_CHARS = 128  # an id made from a file name: one segment


class InvalidDocumentError(RagtuneError):
    """An uploaded document is unusable: bad id, unreadable or empty."""


class UnsupportedTypeError(InvalidDocumentError):
    """An uploaded file's type is not on the allow-list (corpus.extensions)."""


def check_doc_id(doc_id: str) -> str:
    """`doc_id` when it is a safe document id, else InvalidDocumentError saying what is allowed."""
    if not doc_id or len(doc_id) > MAX_ID_CHARS or not DOC_ID_PATTERN.fullmatch(doc_id) or doc_id != doc_id.strip():
        raise InvalidDocumentError(
            f"invalid document id {doc_id!r}: use letters, digits, spaces and _ . - : + @ = , optionally in "
            "'/'-separated parts; a part must start with a letter, digit or '_'; at most 256 characters"
        )
    return doc_id


def base_name(filename: str) -> str:
    """The last part of an uploaded file's name (browsers may send a whole Windows or POSIX path)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1]


def id_from_filename(filename: str) -> str:
    """A document id from an uploaded file's name: its last path part, unsafe characters replaced by '_', at most
    128 characters; a long name is shortened in its stem, so its extension (its type) survives."""
    safe = re.sub(r"[^A-Za-z0-9_.\- ]", "_", base_name(filename)).strip().lstrip(".-") or "upload"
    if len(safe) <= MAX_NAME_CHARS:
        return safe
    suffix = PurePosixPath(safe).suffix
    if len(suffix) >= MAX_NAME_CHARS // 2:  # not an extension, just a dot in a long name
        suffix = ""
    return safe[: MAX_NAME_CHARS - len(suffix)].rstrip() + suffix


def upload_type(filename: str, allowed: Iterable[str]) -> str:
    """The type (lower-case extension with its dot) of an uploaded file, from its real name whatever its length,
    or UnsupportedTypeError listing the accepted ones."""
    accepted = {e.lower() if e.startswith(".") else "." + e.lower() for e in allowed}
    suffix = PurePosixPath(base_name(clean_title(filename))).suffix.lower()
    if suffix not in accepted:
        raise UnsupportedTypeError(
            f"{filename!r}: file type {suffix or '(none)'} is not accepted; upload one of {', '.join(sorted(accepted))}"
        )
    return suffix


def clean_title(text: str) -> str:
    """`text` without control or format characters (NUL, escape sequences, bidirectional overrides), its runs of
    whitespace made one space: a title is shown in lists, citations and terminals."""
    kept = "".join(
        " " if ch.isspace() else ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf") or ch.isspace()
    )
    return " ".join(kept.split())
