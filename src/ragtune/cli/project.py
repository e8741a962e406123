"""`ragtune init`: write a commented ragtune.toml."""

from __future__ import annotations

from pathlib import Path

import typer

from ragtune.cli._state import console, state
from ragtune.config import CONFIG_FILENAME, ConfigError, config_file, render_toml
from ragtune.errors import RagtuneError


def register(app: typer.Typer) -> None:
    app.command()(init)


def init(
    ctx: typer.Context,
    path: Path = typer.Argument(Path(CONFIG_FILENAME), help="Where to write the project file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a ragtune.toml with every setting, its default and its help text."""
    if path.is_dir():
        raise RagtuneError(f"{path} is a folder; give the file to write, e.g. `ragtune init {path / CONFIG_FILENAME}`")
    if path.exists() and not force:
        raise RagtuneError(f"{path} already exists; use --force to overwrite it")
    settings = state(ctx)
    try:
        config = settings.config()
    except ConfigError:
        # The file being replaced does not load (the error says `init --force` replaces it): write the defaults,
        # with the environment and --set still applied.
        if not (force and path.resolve() == config_file(settings.config_path).resolve()):
            raise
        config = settings.config_without_file()
    try:
        path.write_text(render_toml(config), encoding="utf-8")
    except OSError as exc:
        raise RagtuneError(f"{path}: cannot write it ({exc.strerror or exc}); choose another path") from exc
    console.print(f"wrote {path}", markup=False)
