"""Reading the configuration: defaults < `ragtune.toml` < environment < `--set`, and writing it back as TOML."""

from __future__ import annotations

import dataclasses
import os
import sys
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from ragtune.config.fields import ConfigError, check_value
from ragtune.config.sections import Config
from ragtune.jsonl import file_in_the_way

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILENAME = "ragtune.toml"
ENV_PREFIX = "RAGTUNE_"


T = TypeVar("T")


def _sections() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config) if dataclasses.is_dataclass(hints[f.name])}


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Convert a TOML/env/flag value to the field's type, or raise ConfigError naming `where`."""
    origin = typing.get_origin(annotation)
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            return value.lower() in {"1", "true", "yes", "on"}
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif origin in (list, types.GenericAlias) or origin is list:
        (item_type,) = typing.get_args(annotation)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, list):
            return [_coerce(v, item_type, where) for v in value]
    else:  # pragma: no cover - every field above is one of these types
        return value
    type_name = getattr(annotation, "__name__", str(annotation))
    raise ConfigError(f"{where}: expected {type_name}, got {value!r}")


def _apply(section: Any, values: Mapping[str, Any], source: str, section_name: str) -> None:
    hints = typing.get_type_hints(type(section))
    fields = {f.name: f for f in dataclasses.fields(section)}
    for key, value in values.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown setting '{section_name}.{key}'. Known settings: {known}")
        where = f"{source}: setting '{section_name}.{key}'"
        coerced = _coerce(value, hints[key], where)
        check_value(fields[key], coerced, where)
        setattr(section, key, coerced)


def apply_overrides(config: Config, overrides: Mapping[str, Any], source: str) -> Config:
    """Apply dotted overrides such as {"retrieval.top_k": 8, "workspace": "w"} to `config` in place."""
    sections = _sections()
    for dotted, value in overrides.items():
        if "." not in dotted:
            if dotted != "workspace":
                raise ConfigError(f"{source}: '{dotted}' is not a setting; use SECTION.FIELD, e.g. retrieval.top_k")
            config.workspace = _coerce(value, str, f"{source}: setting 'workspace'")
            continue
        section_name, key = dotted.split(".", 1)
        if section_name not in sections:
            raise ConfigError(f"{source}: unknown section '{section_name}'. Sections: {', '.join(sections)}")
        _apply(getattr(config, section_name), {key: value}, source, section_name)
    return config


def _from_mapping(data: Mapping[str, Any], source: str) -> Config:
    config = Config()
    sections = _sections()
    for key, value in data.items():
        if key == "workspace":
            config.workspace = _coerce(value, str, f"{source}: setting 'workspace'")
        elif key in sections:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{source}: [{key}] must be a table of settings")
            _apply(getattr(config, key), value, source, key)
        else:
            raise ConfigError(f"{source}: unknown section '[{key}]'. Sections: {', '.join(sections)}")
    return config


def env_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """`RAGTUNE_SECTION__FIELD=value` pairs (and RAGTUNE_WORKSPACE) as dotted overrides."""
    out: dict[str, str] = {}
    for name, value in environ.items():
        if name == "RAGTUNE_WORKSPACE":
            out["workspace"] = value
        elif name.startswith(ENV_PREFIX) and "__" in name:
            section, key = name[len(ENV_PREFIX) :].lower().split("__", 1)
            out[f"{section}.{key}"] = value
    return out


def config_file(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """The project file `load_config` reads: `path`, else $RAGTUNE_CONFIG, else ./ragtune.toml."""
    environ = os.environ if environ is None else environ
    return Path(path if path is not None else environ.get("RAGTUNE_CONFIG", CONFIG_FILENAME))


def load_config(
    path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    read_file: bool = True,
) -> Config:
    """Defaults < `ragtune.toml` (or `path`) < environment < `overrides` (the CLI's flags).

    A missing default file is fine (every setting has a default); a missing explicit `path` is an error.
    `read_file=False` leaves the file out (`ragtune init --force` replacing one that does not load).
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or "RAGTUNE_CONFIG" in environ
    file = config_file(path, environ)
    if not read_file:
        config = Config()
    elif file.is_file():
        try:
            # utf-8-sig: a byte-order mark, which some Windows editors write, is not a TOML error.
            text = file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{file}: not UTF-8 text (invalid byte at offset {exc.start}); TOML files are UTF-8, so re-save it "
                "as UTF-8"
            ) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"{file}: not valid TOML ({exc}). Fix the file (`ragtune init --force` would replace it with the "
                "defaults, losing your settings)."
            ) from exc
        config = _from_mapping(data, str(file))
    elif explicit:
        raise ConfigError(f"{file}: config file not found. Create one with `ragtune init` or drop --config.")
    else:
        config = Config()
    apply_overrides(config, env_overrides(environ), "environment")
    if overrides:
        apply_overrides(config, overrides, "command line")
    _check_workspace(config.workspace_path)
    return config


def _check_workspace(path: Path) -> None:
    """ConfigError when the workspace, or the nearest of its parents that exists, is a file: every command would
    fail to make its folders there (it is made on first use, so a missing one is fine)."""
    file = file_in_the_way(path)
    if file is not None:
        raise ConfigError(
            f"workspace {str(path)!r}: {file} is a file, not a folder; give a folder (new or existing) with "
            "--workspace, RAGTUNE_WORKSPACE or `workspace` in ragtune.toml"
        )


def parse_set_flags(items: list[str]) -> dict[str, str]:
    """`--set section.field=value` flags as a dict; a malformed one raises ConfigError."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected SECTION.FIELD=VALUE, e.g. --set retrieval.top_k=8")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def toml_value(value: Any) -> str:
    """A setting's value as TOML writes it (the commented ragtune.toml of `init`, the configuration reference)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _comment(text: str, width: int = 110) -> list[str]:
    import textwrap

    return ["# " + line for line in textwrap.wrap(text, width)]


def render_toml(config: Config | None = None) -> str:
    """The commented `ragtune.toml` that `ragtune init` writes: every setting, its help and its value."""
    config = config or Config()
    lines = [
        "# ragtune project configuration. Every setting is optional: delete what you do not change.",
        "# Override any setting with RAGTUNE_<SECTION>__<FIELD>=value or `--set section.field=value`.",
        "",
    ]
    workspace_field = next(f for f in dataclasses.fields(Config) if f.name == "workspace")
    lines += _comment(workspace_field.metadata["help"])
    lines += [f"workspace = {toml_value(config.workspace)}", ""]
    for name in _sections():
        section = getattr(config, name)
        lines.append(f"[{name}]")
        for f in dataclasses.fields(section):
            lines += _comment(f.metadata["help"])
            lines.append(f"{f.name} = {toml_value(getattr(section, f.name))}")
        lines.append("")
    return "\n".join(lines)


def describe(config: Config) -> dict[str, Any]:
    """The configuration as plain data (for manifests and results.json)."""
    return dataclasses.asdict(config)
