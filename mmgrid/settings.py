"""Typed settings and job params from and to plain mappings: one strict converter for all.

``from_mapping(Settings, config_section, "section.key")`` fills missing fields with their
defaults and raises :class:`InputError` naming the full key for unknown keys, wrong types,
non-finite numbers and nulls where none is allowed. Nested dataclass fields take nested mappings
(also inside tuples, unions and ``Mapping[str, X]``). :func:`to_plain` is the way back, and
:class:`JobParams` joins both for the typed, frozen params of a workflow job.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self, TypeVar

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
    """Check ``value`` against a type hint: int, float, str, bool, a dataclass, ``X | None``,
    ``tuple[X, ...]``, ``tuple[X, Y]``, ``Mapping[str, X]`` or ``Any``."""
    if hint is Any:
        return value
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, key)
    if typing.get_origin(hint) in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise InputError(f"config key '{key}' must be a mapping, got {type(value).__name__}")
        _, item = typing.get_args(hint)
        return {k: coerce(item, v, f"{key}.{k}") for k, v in value.items()}
    allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        if type(None) in allowed:
            return None
        raise InputError(f"config key '{key}' must not be null")
    for option in allowed:
        if dataclasses.is_dataclass(option) and isinstance(value, Mapping):
            return from_mapping(option, value, key)
        if typing.get_origin(option) is tuple and isinstance(value, list | tuple):
            return _tuple(option, value, key)
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


def _tuple(hint: Any, value: list | tuple, key: str) -> tuple:
    """``tuple[X, ...]`` (any length) or ``tuple[X, Y, ...]`` item by item; ``tuple[X, X]`` of
    one type accepts any length, as config lists are checked by their settings."""
    args = typing.get_args(hint)
    if Ellipsis in args or len(set(args)) == 1:
        return tuple(coerce(args[0], v, f"{key}[{i}]") for i, v in enumerate(value))
    if len(value) != len(args):
        raise InputError(f"config key '{key}' must hold {len(args)} items, got {len(value)}")
    return tuple(
        coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
    )


def require_at_least(settings: Any, names: Iterable[str], low: float, key: str) -> None:
    """Raise :class:`InputError` naming ``key.name`` for the first field of ``settings`` among
    ``names`` that is below ``low``."""
    for name in names:
        value = getattr(settings, name)
        if value < low:
            raise InputError(f"config key '{key}.{name}' must be >= {low}, got {value}")


OMIT_AT_DEFAULT = {"omit_at_default": True}
"""Field metadata: :func:`to_plain` leaves the field out while it holds its default, so that a
setting added to a job later leaves the params of runs that keep its default unchanged (a
changed params entry reruns the job and everything downstream)."""


def to_plain(value: Any) -> Any:
    """A JSON-able copy of ``value``: dataclasses as mappings (in field order, without
    :data:`OMIT_AT_DEFAULT` fields at their default), tuples as lists, paths as strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("omit_at_default") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, Mapping):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class JobParams:
    """Mixin of a frozen dataclass holding everything one kind of workflow job needs.

    :meth:`to_params` gives the JSON-able params that Snakemake stores and compares (a change
    reruns the job); the job rebuilds the typed object with :meth:`from_params`.
    """

    def to_params(self) -> dict[str, Any]:
        return to_plain(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        return from_mapping(cls, params, f"params of {cls.__name__}")
