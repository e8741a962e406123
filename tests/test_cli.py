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
    # A printed path is one line however long (rich used to break lines at 80 columns when not in a terminal, and
    # compare's report path split across two under a long folder).
    deep = tmp_path / ("a-folder-with-a-long-name-" * 4) / "and-another-one"
    deep.mkdir(parents=True)
    made = ragtune("init", str(deep / "ragtune.toml"), cwd=tmp_path)
    assert made.returncode == 0 and str(deep / "ragtune.toml") in made.stdout.splitlines()[-1], made.stdout


def test_init_force_replaces_a_file_that_does_not_load(tmp_path: Path) -> None:
    """The bad-TOML error says `ragtune init --force` replaces the file; init used to read it first and fail again."""
    config = tmp_path / "ragtune.toml"
    config.write_text("workspace = \n[retrieval]\ntop_k = 0\n", encoding="utf-8")
    refused = ragtune("init", cwd=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    replaced = ragtune("--set", "retrieval.top_k=9", "init", "--force", cwd=tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    assert load_config(config, environ={}).retrieval.top_k == 9  # the defaults, with --set still applied
    config.write_text("[retrival]\n", encoding="utf-8")
    flag = ragtune("--set", "nonsense=1", "init", "--force", cwd=tmp_path)  # a bad flag is still named
    assert flag.returncode == 1 and "'nonsense' is not a setting" in flag.stderr
    assert config.read_text(encoding="utf-8") == "[retrival]\n"


def test_init_to_a_folder_or_under_a_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    folder = ragtune("init", str(tmp_path), "--force", cwd=tmp_path)
    assert folder.returncode == 1 and "is a folder; give the file to write" in folder.stderr
    under = ragtune("init", "notes.txt/ragtune.toml", cwd=tmp_path)
    assert under.returncode == 1 and "notes.txt/ragtune.toml: cannot write it" in under.stderr
    assert "Traceback" not in folder.stderr + under.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_error_messages_print_brackets_as_they_are(tmp_path: Path) -> None:
    # Rich would read "[retrival]" or "[/b]" in a message as markup: dropped, or a crash instead of the error.
    (tmp_path / "ragtune.toml").write_text("[retrival]\ntop_k = 3\n")
    section = ragtune("init", "other.toml", cwd=tmp_path)  # init reads ./ragtune.toml for the values it writes
    assert section.returncode == 1 and "unknown section '[retrival]'" in section.stderr
    (tmp_path / "ragtune.toml").unlink()
    missing = ragtune("ask", "--questions", "[/b] old.jsonl", cwd=tmp_path)
    assert missing.returncode == 1 and "[/b] old.jsonl: question file not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_ctrl_c_during_ingest_says_what_stays_and_a_rerun_finishes(tmp_path: Path) -> None:
    import re
    import signal
    import time

    from ragtune.cli import INTERRUPTED, INTERRUPTED_NOTE

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(1500):  # enough that embedding them outlasts the wait below on a loaded machine
        (docs / f"d{i}.txt").write_text(
            f"Record {i} lists the colour {i % 7} and the shelf {i % 13}.", encoding="utf-8"
        )
    cmd = [sys.executable, "-m", "ragtune", "--workspace", str(tmp_path / "ws"), "ingest", str(docs)]
    err = tmp_path / "err.txt"
    with err.open("w") as sink:
        # SIGINT as a terminal has it: a shell starts background jobs (a CI runner's too) with SIGINT ignored, and
        # a child inherits that, so Ctrl-C would never reach the command.
        proc = subprocess.Popen(
            cmd,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 120
        # Ctrl-C once the first chunks are embedded: the command runs, its imports are done (a library's bare
        # `except:` around an optional import can swallow a KeyboardInterrupt that lands there).
        started = re.compile(r"embedding:.*\| *[1-9]\d*/1500")
        while not started.search(err.read_text()) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the ingest ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    assert proc.returncode == INTERRUPTED and INTERRUPTED_NOTE[:40] in err.read_text()
    assert "Traceback" not in err.read_text()
    rerun = ragtune("--workspace", str(tmp_path / "ws"), "ingest", str(docs), cwd=tmp_path)
    assert rerun.returncode == 0 and "failed 0" in rerun.stdout
    added = int(rerun.stdout.split("added ")[1].split(",")[0])
    unchanged = int(rerun.stdout.split("unchanged ")[1].split(",")[0])
    assert added + unchanged == 1500  # what the interrupted run stored is kept, the rest added now
