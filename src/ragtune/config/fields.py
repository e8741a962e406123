"""How a setting is declared: a dataclass field with a help text and the values it accepts, checked in one place."""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Callable
from dataclasses import field
from typing import Any

from ragtune.errors import RagtuneError


class ConfigError(RagtuneError, ValueError):
    """A setting is unknown or has a value of the wrong type; the message names the source and the setting."""


def setting(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    **kwargs: Any,
) -> Any:
    """A dataclass field with a help text (lists and dicts get a factory so instances never share them), and the
    values it accepts: `choices` for a string; for a number (or each number of a list) `minimum`/`maximum`
    (inclusive) and `above`/`below` (exclusive), always finite. Checked where settings are read (`check_value`),
    so the error names the file, environment or flag and the setting; every numeric setting declares a range."""
    metadata = {
        "help": help,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "below": below,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata, **kwargs)
    return field(default=default, metadata=metadata, **kwargs)


_BOUNDS = {"minimum": "at least", "maximum": "at most", "above": "greater than", "below": "less than"}
_BOUND_HOLDS: dict[str, Callable[[float, float], bool]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "above": operator.gt,
    "below": operator.lt,
}


def check_value(f: dataclasses.Field[Any], value: Any, where: str) -> None:
    """ConfigError naming `where` when `value` is outside what field `f` accepts (see `setting`)."""
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} is {value!r}; choose one of {', '.join(repr(c) for c in choices)}")
    for number in value if isinstance(value, list) else [value]:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            continue
        if not math.isfinite(number):
            raise ConfigError(f"{where} is {number!r}; it must be a finite number")
        for key, words in _BOUNDS.items():
            bound = f.metadata.get(key)
            if bound is not None and not _BOUND_HOLDS[key](number, bound):
                raise ConfigError(f"{where} is {number!r}; it must be {words} {bound:g}")


def has_range(f: dataclasses.Field[Any]) -> bool:
    """Whether field `f` declares a lower bound (every numeric setting must)."""
    return f.metadata.get("minimum") is not None or f.metadata.get("above") is not None


def choices_of(section: type, name: str) -> tuple[str, ...]:
    """The values setting `name` of a config section accepts (the one list the code that uses it checks too)."""
    return tuple(next(f for f in dataclasses.fields(section) if f.name == name).metadata["choices"])
