# ruff: noqa: RUF001, RUF002 (math notation in docstrings)
"""What every merge method module declares: a :class:`MergeMethod`, its entry in the registry.

The engine, the planner, the spec parser and the workflow's merge grid read a method only
through its descriptor: its option parser, whether it needs a reference, how many passes it
takes and how it combines one block of operands. Adding a method means writing one module with
a ``METHOD`` descriptor and listing it in :mod:`mmgrid.merge.methods`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mmgrid.merge.fields import Fields

if TYPE_CHECKING:
    import numpy as np


class BlockOperands(Protocol):
    """The operands of one block of one tensor, as float32 arrays in the engine's layout.

    Every array is scratch memory the method may overwrite, except :meth:`target` and
    :meth:`reference`, which it must not modify.
    """

    weights: Sequence[float]
    """The input weights wᵢ, in input order."""

    def value(self, i: int) -> np.ndarray:
        """θᵢ: input i's values (LoRA: its base's values plus ΔW)."""

    def deltas(self) -> list[np.ndarray]:
        """τᵢ = θᵢ − θ_reference for every input (LoRA: ΔW), after the method's drop step."""

    def target(self) -> np.ndarray:
        """θ_target, which task vectors are added onto."""

    def anchor(self, i: int) -> np.ndarray:
        """The weights τᵢ was taken from: θ_reference, or a LoRA input's base without one."""


def _deltas(_options: Any) -> str:
    return "deltas"


def _yes(_options: Any) -> bool:
    return True


def _no(*_args: Any) -> bool:
    return False


def _none(*_args: Any) -> None:
    return None


def _one(_options: Any) -> int:
    return 1


@dataclass(frozen=True)
class MergeMethod:
    """One merge method: how its options are parsed and how the engine runs it."""

    name: str
    parse: Callable[[Fields], Any]
    """The strict option parser: :class:`Fields` in, the method's options dataclass out."""
    reads: Callable[[Any], str] = _deltas
    """``values`` (whole checkpoints) or ``deltas`` (task vectors), for the given options."""
    needs_reference: Callable[[Any], bool] = _yes
    """Whether full-checkpoint inputs need a reference checkpoint to subtract."""
    combine: Callable[[BlockOperands, Any], np.ndarray] | None = None
    """The single-pass merge of one block (None when the options always end in TIES)."""
    ties: Callable[[Any], Any] = _none
    """The TIES options when the method ends in TIES' trim and elect (which takes a threshold
    pass before the merge pass), else None."""
    drop: Callable[[Any], Any] = _none
    """DARE options when task vectors are randomly dropped before merging, else None."""
    weighted: bool = True
    """Whether inputs carry weights; False: inputs are ordered (oldest first) instead."""
    min_inputs: Callable[[Any], int] = _one
    lora_coefficients: Callable[[Sequence[float], Any], list[float]] | None = None
    """The exact coefficients of each adapter's ΔW when every input is a LoRA adapter and the
    output is a concatenated adapter (None: the method cannot be written as one)."""
    lora_problem: Callable[[Sequence[float], Any, bool], str | None] = _none
    """Why these weights and options (and whether the target is the adapters' base) cannot be
    written as a concatenated adapter, or None."""
    averages: Callable[[Any, float], bool] = _no
    """Whether, with these options and input weights summing to the given total, the method
    is plain weight averaging whatever the reference (the workflow refuses such a merge)."""
    preset: Mapping[str, Any] = field(default_factory=dict)
    """Options an alias applies before the user's (``mask_merging`` = DARE + TIES)."""
    alias_of: str | None = None
    """The method an alias runs (its name in merge provenance stays the alias)."""
    source_weighted: bool = False
    """In the workflow's cross-domain merges the study weights a pair [1 − c, c], c on the
    evaluated (source) domain (``source_coeff``); other methods get equal weights."""

    @property
    def runs(self) -> str:
        """The name of the method the engine runs (an alias runs its base method)."""
        return self.alias_of or self.name

    def parse_options(self, options: Mapping[str, Any], where: str, source: str) -> Any:
        """Validate ``options`` strictly and return the options dataclass."""
        f = Fields({**self.preset, **options}, where, source)
        parsed = self.parse(f)
        f.done()
        return parsed

    def passes(self, options: Any) -> int:
        """Streaming passes over the inputs: 2 with TIES (a threshold pass, then the merge;
        2 more when a threshold falls outside its sampled bracket), else 1."""
        return 2 if self.ties(options) is not None else 1
