"""`ragtune`: a thin shell over the library. Commands parse flags, call the library and print; nothing more.

Exit codes: 0 ok, 1 failure (a RagtuneError, or work that partly failed, such as unreadable files), 2 usage error.
"""

from __future__ import annotations

import sys

import typer

from ragtune.cli import ask, compare, kb, project, serve, tune
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


for module in (project, kb, ask, tune, compare, serve):
    module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `ragtune` script. Always ends with SystemExit carrying the exit code.

    Typer (standalone mode) turns usage errors into exit code 2; a RagtuneError is a failure the user can act on:
    its message, exit code 1, no traceback.
    """
    try:
        app(args=argv, prog_name="ragtune")
    except RagtuneError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
