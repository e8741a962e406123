"""What every command shares: the global flags, turned into a Config and a Workspace on demand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from ragtune.config import Config, load_config, parse_set_flags
from ragtune.errors import RagtuneError
from ragtune.workspace import Workspace

# soft_wrap: rich never breaks a line itself (the terminal wraps it for the eye), so a printed path, command or JSON
# stays one line to copy or grep; a report path under a long folder used to split across two lines.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@dataclass
class State:
    config_path: str | None = None
    workspace: str | None = None
    set_flags: list[str] = field(default_factory=list)

    def config(self, **flag_overrides: Any) -> Config:
        """Defaults < ragtune.toml < environment < --set < dedicated flags (None means 'not given')."""
        return load_config(self.config_path, self._overrides(flag_overrides))

    def config_without_file(self) -> Config:
        """Defaults < environment < --set without ragtune.toml (`init --force` replacing one that does not load)."""
        return load_config(self.config_path, self._overrides({}), read_file=False)

    def _overrides(self, flag_overrides: dict[str, Any]) -> dict[str, Any]:
        overrides: dict[str, Any] = parse_set_flags(self.set_flags)
        if self.workspace is not None:
            overrides["workspace"] = self.workspace
        overrides.update({k: v for k, v in flag_overrides.items() if v is not None})
        return overrides

    def workspace_for(self, config: Config) -> Workspace:
        return Workspace(config.workspace_path)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()


def require_paths(given: Iterable[tuple[str, Path | None]]) -> None:
    """Each (option, path) the user gave must exist: say which option named a missing one, and from where a
    relative path was looked for, before anything is loaded or written."""
    for option, path in given:
        if path is not None and not path.exists():
            where = "" if path.is_absolute() else f" (looked for in {Path.cwd()})"
            raise RagtuneError(f"{option} {path}: no such file or folder{where}; check the path")
