"""`ragtune init`: write a commented ragtune.toml."""

from __future__ import annotations

from pathlib import Path

import typer

from ragtune.cli._state import console, state
from ragtune.config import CONFIG_FILENAME, render_toml
from ragtune.errors import RagtuneError


def register(app: typer.Typer) -> None:
    app.command()(init)


def init(
    ctx: typer.Context,
    path: Path = typer.Argument(Path(CONFIG_FILENAME), help="Where to write the project file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a ragtune.toml with every setting, its default and its help text."""
    if path.exists() and not force:
        raise RagtuneError(f"{path} already exists; use --force to overwrite it")
    config = state(ctx).config()
    path.write_text(render_toml(config), encoding="utf-8")
    console.print(f"wrote {path}", markup=False)
