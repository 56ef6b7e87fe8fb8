"""Typed settings from config sections: one strict converter for every stage's dataclass.

``from_mapping(Settings, config_section, "section.key")`` fills missing fields with their
defaults and raises :class:`InputError` naming the full key for unknown keys, wrong types,
non-finite numbers and nulls where none is allowed. Nested dataclass fields take nested mappings.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from mmgrid.errors import InputError

T = TypeVar("T")
_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
_TYPE_WORDS[type(None)] = "null"


def from_mapping(cls: type[T], raw: Any, key: str) -> T:
    """Build dataclass ``cls`` from the config mapping ``raw`` found at config key ``key``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InputError(f"config key '{key}' must be a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise InputError(
            f"unknown config key '{key}.{unknown[0]}'; allowed keys under '{key}': "
            f"{', '.join(sorted(names))}"
        )
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = from_mapping(hint, value, f"{key}.{name}")
        else:
            values[name] = coerce(hint, value, f"{key}.{name}")
    return cls(**values)


def coerce(hint: Any, value: Any, key: str) -> Any:
    """Check ``value`` against a simple type hint (int, float, str, bool, X | None, tuple[X, ...])."""
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in allowed:
            return None
        raise InputError(f"config key '{key}' must not be null")
    for option in allowed:
        if typing.get_origin(option) is tuple and isinstance(value, list | tuple):
            (item,) = {a for a in typing.get_args(option) if a is not Ellipsis}
            return tuple(coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value))
    if bool in allowed and isinstance(value, bool):
        return value
    if int in allowed and isinstance(value, int) and not isinstance(value, bool):
        return value
    if float in allowed and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise InputError(f"config key '{key}' must be a finite number, got {value}")
        return float(value)
    if str in allowed and isinstance(value, str):
        return value
    expected = " or ".join(_TYPE_WORDS.get(t, getattr(t, "__name__", str(t))) for t in allowed)
    hint_text = ""
    if isinstance(value, str) and float in allowed:
        hint_text = " (YAML reads 1e-3 as text: write 1.0e-3)"
    raise InputError(
        f"config key '{key}' must be {expected}, got {value!r} ({type(value).__name__}){hint_text}"
    )


def require_at_least(settings: Any, names: Iterable[str], low: float, key: str) -> None:
    """Raise :class:`InputError` naming ``key.name`` for the first field of ``settings`` among
    ``names`` that is below ``low``."""
    for name in names:
        value = getattr(settings, name)
        if value < low:
            raise InputError(f"config key '{key}.{name}' must be >= {low}, got {value}")
