"""Merge methods: pure functions on float32 blocks, one module each, and the registry of them.

Each module declares a :class:`~mmgrid.merge.methods.descriptor.MergeMethod` (``METHOD``) with
its option parser, whether it needs a reference, its passes and its block combine.
:data:`METHODS` lists them by name; ``mask_merging`` is the DARE + TIES preset under the
study's name. The spec parser, the planner, the engine, the workflow's merge grid and the
config schema (checked by a test) all read this registry.
"""

from __future__ import annotations

from typing import Any

from mmgrid.errors import InputError
from mmgrid.merge.methods import dare, extrapolate, linear, task_arithmetic, ties
from mmgrid.merge.methods.descriptor import MergeMethod

METHODS: dict[str, MergeMethod] = {
    m.name: m
    for m in (
        linear.METHOD,
        task_arithmetic.METHOD,
        extrapolate.METHOD,
        ties.METHOD,
        dare.METHOD,
        dare.MASK_MERGING,
    )
}
NAMES = tuple(METHODS)


def method(name: str, source: str = "merge spec") -> MergeMethod:
    """The registered method ``name``; an unknown name fails naming ``source``."""
    if name not in METHODS:
        raise InputError(f"{source}: method: unknown method {name!r}; choose one of {NAMES}")
    return METHODS[name]


def parse_options(name: str, options: dict, where: str, source: str) -> Any:
    """Validate ``options`` for method ``name`` strictly and return its options dataclass."""
    return method(name, source).parse_options(options, where, source)


def canonical(name: str) -> str:
    """The name of the method the engine runs for ``name`` (an alias runs its base method)."""
    return METHODS[name].runs
