"""The training cells of the grid: one checkpoint per (paradigm, domain, training period), plus
each paradigm's pooled task base, and the chain that says which checkpoint a cell starts from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mmgrid.study.layout import POOLED


@dataclass(frozen=True)
class Cell:
    """One training job of the grid."""

    paradigm: str
    domain: str
    """A configured domain, or ``pooled`` for the pooled task base."""
    period: str
    members: tuple[str, ...]
    """The domains whose data it trains on (the pooled task base: every domain)."""
    previous: str | None = None
    """The period whose checkpoint of the same domain it starts from; None: the chain's start
    (the paradigm's base, or with ``from_pooled`` the pooled task base)."""
    from_pooled: bool = False
    """A chain's first cell that starts from the pooled task base (``chain_start: pooled``)."""

    @property
    def pooled(self) -> bool:
        return self.domain == POOLED

    @property
    def rule(self) -> str:
        """The rule that trains it."""
        return "train_pooled" if self.pooled else "train"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.paradigm, self.domain, self.period


CHAIN_STARTS = ("base", "pooled")


def grid_cells(
    paradigms: Sequence[str],
    domains: Sequence[str],
    training_periods: Sequence[str],
    chain_start: str = "base",
) -> list[Cell]:
    """Every cell, per paradigm, domain and period in order, then every pooled task base.

    The incremental chain: a domain's first period starts from the paradigm's base (the
    study's grid), or with ``chain_start`` ``pooled`` from the pooled task base; each later
    period from the previous period's checkpoint. The pooled task base trains on the first
    period of every domain, from the paradigm's base.
    """
    if chain_start not in CHAIN_STARTS:
        raise ValueError(f"chain_start must be one of {CHAIN_STARTS}, got {chain_start!r}")
    first = training_periods[0]
    cells = [
        Cell(
            p,
            d,
            t,
            (d,),
            previous=training_periods[i - 1] if i else None,
            from_pooled=not i and chain_start == "pooled",
        )
        for p in paradigms
        for d in domains
        for i, t in enumerate(training_periods)
    ]
    return cells + [Cell(p, POOLED, first, tuple(domains)) for p in paradigms]
