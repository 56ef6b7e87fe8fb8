"""Strict reading of YAML mappings: typed fields, defaults, and unknown keys rejected by path."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mmgrid.errors import InputError

_MISSING = object()


class Fields:
    """Reads keys of one mapping at ``where`` (e.g. ``inputs[2]``); call ``done()`` at the end."""

    def __init__(self, data: Any, where: str, source: str = "merge spec") -> None:
        if not isinstance(data, Mapping):
            raise InputError(f"{source}: {where or 'top level'} must be a mapping, got {data!r}")
        self.data = data
        self.where = where
        self.source = source
        self.seen: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> InputError:
        return InputError(f"{self.source}: {self.path(key)}: {message}")

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """Value of ``key`` checked against ``kind`` (int accepted for float; bool never for
        numbers; a float must be finite)."""
        self.seen.add(key)
        if key not in self.data or self.data[key] is None:
            if default is _MISSING:
                raise self.fail(key, "is required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        numeric = any(k in (int, float) for k in kinds) and bool not in kinds
        if not isinstance(value, kinds) or (numeric and isinstance(value, bool)):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(key, f"must be {names}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {value}")
        return value

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise self.fail(key, f"must be one of {', '.join(options)}; got {value!r}")
        return value

    def fraction(self, key: str, default: Any = _MISSING, *, closed: bool = True) -> Any:
        value = self.get(key, float, default)
        if value is not None and not (0.0 <= value <= 1.0 and (closed or value < 1.0)):
            interval = "[0, 1]" if closed else "[0, 1)"
            raise self.fail(key, f"must lie in {interval}, got {value}")
        return value

    def done(self) -> None:
        """Reject keys that were never read, naming their full path."""
        unknown = [str(k) for k in self.data if k not in self.seen]
        if unknown:
            allowed = ", ".join(sorted(self.seen))
            raise InputError(
                f"{self.source}: unknown key {self.path(unknown[0])!r}"
                f" (allowed here: {allowed}); fix the spelling or remove it"
            )
