"""Merge methods: pure functions on float32 chunks, one module each, behind a registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmgrid.errors import InputError
from mmgrid.merge.fields import Fields
from mmgrid.merge.methods import dare, extrapolate, linear, task_arithmetic, ties

#: method name -> option parser. ``mask_merging`` is the DARE + TIES preset.
PARSERS: dict[str, Callable[[Fields], Any]] = {
    "linear": linear.parse,
    "task_arithmetic": task_arithmetic.parse,
    "extrapolate": extrapolate.parse,
    "ties": ties.parse,
    "dare": dare.parse,
}
ALIASES = {"mask_merging": ("dare", {"preset": "mask_merging"})}
NAMES = tuple(PARSERS) + tuple(ALIASES)


def parse_options(method: str, options: dict, where: str, source: str) -> Any:
    """Validate ``options`` for ``method`` strictly and return its options dataclass."""
    if method in ALIASES:
        method, preset = ALIASES[method]
        options = {**preset, **options}
    if method not in PARSERS:
        raise InputError(f"{source}: method: unknown method {method!r}; choose one of {NAMES}")
    f = Fields(options, where, source)
    opts = PARSERS[method](f)
    f.done()
    return opts


def canonical(method: str) -> str:
    """The registry name behind an alias."""
    return ALIASES[method][0] if method in ALIASES else method
