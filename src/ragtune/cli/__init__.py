"""`ragtune`: a thin shell over the library. Commands parse flags, call the library and print; nothing more.

Exit codes: 0 ok, 1 failure (a RagtuneError, or work that partly failed, such as unreadable files), 2 usage error.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import typer
from rich.markup import escape

from ragtune.cli import ask, compare, kb, project, serve, synth, tune
from ragtune.cli._state import State, err_console
from ragtune.errors import RagtuneError

app = typer.Typer(
    name="ragtune",
    help="RAG, fine-tuning or both? Build them on your documents, measure them side by side, recommend one, serve it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    workspace: str | None = typer.Option(
        None, "--workspace", "-w", help="Workspace folder (default ./.ragtune, or $RAGTUNE_WORKSPACE)."
    ),
    config: str | None = typer.Option(None, "--config", "-c", help="Project file (default ./ragtune.toml)."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a setting: --set retrieval.top_k=8 (repeatable). See `ragtune init`."
    ),
) -> None:
    ctx.obj = State(config_path=config, workspace=workspace, set_flags=list(set_))


for module in (project, kb, ask, synth, tune, compare, serve):
    module.register(app)


_GLOBAL_OPTIONS = ("--workspace", "-w", "--config", "-c", "--set")


def hoist_global_options(argv: list[str]) -> list[str]:
    """`ragtune compare --set k=v` as `ragtune --set k=v compare`: the global options (each with its value) move in
    front of the command, wherever they were written. Why: the parser reads them only before the command, and
    written after it they failed as "No such option" although the command takes them; no command has options of
    the same names. Nothing after `--` moves (it is positional text)."""
    moved: list[str] = []
    kept: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            kept += argv[i:]
            break
        name = token.split("=", 1)[0]
        if name in _GLOBAL_OPTIONS and token.startswith("--") and "=" in token:
            moved.append(token)
        elif token in _GLOBAL_OPTIONS and i + 1 < len(argv):
            moved += argv[i : i + 2]
            i += 1
        else:
            kept.append(token)
        i += 1
    return moved + kept


def quiet_libraries() -> None:
    """Keep the libraries' notices to their own developers out of the user's terminal: the deprecation warnings
    that transformers and peft raise from their own calls (every generation and training run printed some),
    transformers' and sentence-transformers' logging below errors, and the weight-loading bar. ragtune's own
    progress bars stay. Only the command-line program does this; the library leaves global warning state alone.
    RAGTUNE_LIBRARY_WARNINGS=1 shows them again."""
    if os.environ.get("RAGTUNE_LIBRARY_WARNINGS", "") == "1":
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # both read when transformers is first imported
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # "Loading weights" at every model load
    # sentence-transformers logs through transformers' get_logger under its own name, which TRANSFORMERS_VERBOSITY
    # does not reach: "Converting SentenceTransformer model ... to CrossEncoder." at every reranker training.
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


INTERRUPTED = 130  # the exit code of a command stopped with Ctrl-C
INTERRUPTED_NOTE = (
    "interrupted: what was already stored stays. Run the same command again to go on: ingest skips the documents it "
    "stored, `tune --resume` continues a training run from its last checkpoint."
)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `ragtune` script. Always ends with SystemExit carrying the exit code.

    Typer (standalone mode) turns usage errors into exit code 2; a RagtuneError is a failure the user can act on:
    its message, exit code 1, no traceback.
    """
    quiet_libraries()
    try:
        app(args=hoist_global_options(sys.argv[1:] if argv is None else list(argv)), prog_name="ragtune")
    except RagtuneError as exc:
        # The message is plain text: a file name like "report [draft].pdf" must print as it is, not as markup.
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except SystemExit as exc:
        if exc.code == INTERRUPTED:  # Typer's exit for Ctrl-C, which it leaves silent
            err_console.print(INTERRUPTED_NOTE, highlight=False, soft_wrap=True, markup=False)
        raise


if __name__ == "__main__":
    main()
