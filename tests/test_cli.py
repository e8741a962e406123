from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ragtune.config import Config, load_config


def ragtune(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ragtune", *args], cwd=cwd, capture_output=True, text=True)


def test_help_and_exit_codes(tmp_path: Path) -> None:
    ok = ragtune("--help", cwd=tmp_path)
    assert ok.returncode == 0 and "init" in ok.stdout
    usage = ragtune("no-such-command", cwd=tmp_path)
    assert usage.returncode == 2
    failure = ragtune("--set", "nonsense=1", "init", cwd=tmp_path)
    assert failure.returncode == 1 and "is not a setting" in failure.stderr


def test_global_options_may_follow_the_command(tmp_path: Path) -> None:
    from ragtune.cli import hoist_global_options

    assert hoist_global_options(["compare", "--quick", "--set", "compare.seed=3", "--config=x.toml", "-w", "ws"]) == [
        "--set",
        "compare.seed=3",
        "--config=x.toml",
        "-w",
        "ws",
        "compare",
        "--quick",
    ]
    assert hoist_global_options(["ask", "--", "--set"]) == ["ask", "--", "--set"]  # after --: the question's text
    failure = ragtune("init", "--set", "nonsense=1", cwd=tmp_path)  # read as a setting, not "No such option"
    assert failure.returncode == 1 and "is not a setting" in failure.stderr


def test_init_writes_a_loadable_commented_file(tmp_path: Path) -> None:
    result = ragtune("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load_config(tmp_path / "ragtune.toml", environ={}) == Config()
    again = ragtune("init", cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr


def test_error_messages_print_brackets_as_they_are(tmp_path: Path) -> None:
    # Rich would read "[retrival]" or "[/b]" in a message as markup: dropped, or a crash instead of the error.
    (tmp_path / "ragtune.toml").write_text("[retrival]\ntop_k = 3\n")
    section = ragtune("init", "--force", "--set", "nonsense=1", cwd=tmp_path)
    assert section.returncode == 1 and "unknown section '[retrival]'" in section.stderr
    (tmp_path / "ragtune.toml").unlink()
    missing = ragtune("ask", "--questions", "[/b] old.jsonl", cwd=tmp_path)
    assert missing.returncode == 1 and "[/b] old.jsonl: question file not found" in missing.stderr
    assert "Traceback" not in missing.stderr
