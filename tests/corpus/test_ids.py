"""Document ids and file checks: links, FIFOs and unreadable folders are each one failure line named by their path
in the folder, and everything readable is still loaded."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ragtune.config import CorpusConfig
from ragtune.corpus.ids import document_id_for
from ragtune.corpus.loaders import load_paths

SRC = Path(__file__).resolve().parents[2] / "src"


def _folder_with_good_file(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Good\n\nReadable text.", encoding="utf-8")
    return docs


def test_link_loop_self_link_and_dangling_link_are_each_one_line(tmp_path: Path) -> None:
    docs = _folder_with_good_file(tmp_path)
    os.symlink("d.txt", docs / "c.txt")
    os.symlink("c.txt", docs / "d.txt")
    os.symlink("self.md", docs / "self.md")
    os.symlink("gone/missing.txt", docs / "dangling.txt")
    os.symlink("good.md", docs / "alias.md")  # a working link is read, under its own name
    result = load_paths([docs], CorpusConfig())
    assert sorted(d.id for d in result.documents) == ["docs/alias.md", "docs/good.md"]
    reasons = {f.path: f.reason for f in result.failures}
    assert set(reasons) == {"docs/c.txt", "docs/d.txt", "docs/self.md", "docs/dangling.txt"}
    assert "symbolic link loop" in reasons["docs/c.txt"] and "symbolic link loop" in reasons["docs/d.txt"]
    assert "symbolic link to itself" in reasons["docs/self.md"]
    assert "broken symbolic link" in reasons["docs/dangling.txt"] and "gone/missing.txt" in reasons["docs/dangling.txt"]


def test_a_broken_link_given_by_name_is_reported_by_its_name(tmp_path: Path) -> None:
    os.symlink("nowhere.md", tmp_path / "link.md")
    (failure,) = load_paths([tmp_path / "link.md"], CorpusConfig()).failures
    assert failure.path == "link.md" and "broken symbolic link" in failure.reason


def test_ids_never_raise_and_keep_the_name_in_the_folder(tmp_path: Path) -> None:
    os.symlink("loop.txt", tmp_path / "loop.txt")
    assert document_id_for(tmp_path / "loop.txt") == "loop.txt"
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "linked")
    assert document_id_for(tmp_path / "linked" / "a.md") == "real/a.md"  # folders on the way are resolved
    assert document_id_for(Path("/elsewhere/b.md"), tmp_path) == "/elsewhere/b.md"


def test_a_folder_link_loop_is_read_once_and_reported(tmp_path: Path) -> None:
    docs = _folder_with_good_file(tmp_path)
    os.symlink("..", docs / "up")  # docs/up -> tmp_path, which holds docs again
    result = load_paths([docs], CorpusConfig())
    assert [d.id for d in result.documents] == ["docs/good.md"]
    assert [f.path for f in result.failures] == ["docs/up/docs"]
    assert "already read as docs" in result.failures[0].reason


def test_a_fifo_named_txt_is_a_failure_not_a_hang(tmp_path: Path) -> None:
    docs = _folder_with_good_file(tmp_path)
    os.mkfifo(docs / "pipe.txt")
    result = load_paths([docs], CorpusConfig())
    assert [d.id for d in result.documents] == ["docs/good.md"]
    (failure,) = result.failures
    assert failure.path == "docs/pipe.txt" and "not a regular file" in failure.reason


_UNREADABLE_SCRIPT = """
import json, os, sys
from pathlib import Path
from ragtune.config import CorpusConfig
from ragtune.corpus.loaders import load_paths
import encodings.utf_8_sig, tqdm.auto  # imported now: the Python install may be closed to "nobody"
if os.geteuid() == 0:  # root reads anything: become 'nobody', whom chmod 000 does stop
    os.setgid(65534)
    os.setuid(65534)
result = load_paths([Path(sys.argv[1]) / "docs"], CorpusConfig(), root=Path(sys.argv[1]))
print(json.dumps({"docs": [d.id for d in result.documents], "failures": [[f.path, f.reason] for f in result.failures]}))
"""


def test_unreadable_folder_and_file_are_reported_and_the_rest_loaded() -> None:
    """chmod 000 stops every user but root; run as root (as the tests are), the loading process first becomes
    user 'nobody' so that the permissions are as real as a user's."""
    import json
    import shutil

    base = Path(tempfile.mkdtemp(prefix="ragtune-perm-"))
    try:
        docs = _folder_with_good_file(base)
        (docs / "secret").mkdir()
        (docs / "secret" / "a.txt").write_text("hidden", encoding="utf-8")
        (docs / "locked.txt").write_text("locked", encoding="utf-8")
        for folder in (base, docs):
            os.chmod(folder, 0o755)
        os.chmod(docs / "good.md", 0o644)
        os.chmod(docs / "secret", 0)
        os.chmod(docs / "locked.txt", 0)
        done = subprocess.run(
            [sys.executable, "-c", _UNREADABLE_SCRIPT, str(base)],
            env={**os.environ, "PYTHONPATH": str(SRC)},
            cwd=base,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        out = json.loads(done.stdout)
        assert out["docs"] == ["docs/good.md"], out
        reasons = dict(out["failures"])
        assert set(reasons) == {"docs/secret", "docs/locked.txt"}
        assert "folder cannot be read" in reasons["docs/secret"] and "permission" in reasons["docs/secret"].lower()
        assert "cannot read" in reasons["docs/locked.txt"]
    finally:
        for path in (base / "docs" / "secret", base / "docs" / "locked.txt"):
            if path.exists():
                os.chmod(path, 0o700)
        shutil.rmtree(base, ignore_errors=True)
