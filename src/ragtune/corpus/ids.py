"""A file's document id, and the checks that a path in a folder is a file that can be read.

A file's id is its path relative to a root folder (`ragtune ingest` uses the folder holding the workspace, i.e. the
project; the default is the working directory), absolute when outside it. The folders on the way are resolved, so
the same file gets the same id whatever folder the command runs from; the file's own name is kept as it stands in
the folder, so a symbolic link is named (and its problems reported) by where it is, not by where it points, and a
broken link or a link loop cannot make the id itself fail.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from ragtune.corpus.structure import UnreadableFileError


def _real(path: Path) -> Path:
    """`path` absolute with its folders' links resolved but not its own name; as given when that fails."""
    absolute = Path(os.path.abspath(path))
    if absolute.parent == absolute:  # the file system's root
        return absolute
    try:
        return absolute.parent.resolve() / absolute.name
    except (OSError, RuntimeError):  # a loop among the folders on the way: the plain absolute path names it
        return absolute


def document_id_for(path: Path, root: Path | None = None) -> str:
    """Stable id of a file: relative to `root` (default: the working directory) when under it, else absolute.

    Never raises: a link loop or a dangling link still has an id, its path in the folder."""
    located = _real(path)
    base = Path(os.path.abspath(root or Path.cwd()))
    with contextlib.suppress(OSError, RuntimeError):  # the root is a folder: resolved whole, links and all
        base = base.resolve()
    try:
        return located.relative_to(base).as_posix()
    except ValueError:
        return located.as_posix()


def readable_size(path: Path) -> int:
    """The size of the regular file at `path` (following a link), or UnreadableFileError saying what it is instead:
    a link loop, a link to itself, a broken link, a FIFO or device."""
    try:
        info = path.stat()
    except OSError as exc:
        if path.is_symlink():
            raise UnreadableFileError(_link_problem(path, exc)) from exc
        raise
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
        raise UnreadableFileError(f"not a regular file ({kind}); only files with text are read")
    return info.st_size


def _link_problem(path: Path, exc: OSError) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    if exc.errno == errno.ELOOP:
        if Path(os.path.abspath(path.parent / target)) == Path(os.path.abspath(path)):
            return f"symbolic link to itself ({path.name} -> {target}); remove it or point it at a file"
        return f"symbolic link loop ({path.name} -> {target} -> ... never reaches a file); remove or fix the link"
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"broken symbolic link: it points to {target}, which does not exist; fix or remove the link"
    return f"symbolic link to {target} cannot be followed ({exc.strerror or exc})"
