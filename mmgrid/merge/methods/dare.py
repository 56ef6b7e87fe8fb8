# ruff: noqa: RUF002 (math notation in docstrings)
"""``dare``: drop each delta entry with probability p (rescale 1/(1−p)), then merge.

The follow-up merge is ``linear`` (on θ_reference + τ̃ᵢ), ``task_arithmetic`` or ``ties``.
Preset ``mask_merging`` (the study's "mask merging") = drop_rate 0.1 followed by study TIES.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mmgrid.merge.fields import Fields
from mmgrid.merge.methods import linear, task_arithmetic, ties
from mmgrid.merge.methods.descriptor import BlockOperands, MergeMethod

FOLLOW_UPS = {m.name: m for m in (linear.METHOD, task_arithmetic.METHOD, ties.METHOD)}


@dataclass(frozen=True)
class DareOptions:
    drop_rate: float = 0.1
    rescale: bool = True
    merge: str = "ties"
    merge_options: Any = None  # options of the follow-up method


def parse(f: Fields) -> DareOptions:
    preset = f.choice("preset", ("mask_merging", "none"), "none")
    drop = f.fraction("drop_rate", 0.1, closed=False)
    rescale = f.get("rescale", bool, True)
    sub = Fields(f.get("merge", dict, {"method": "ties"}), f.path("merge"), f.source)
    method = sub.choice("method", tuple(FOLLOW_UPS), "ties")
    opts = FOLLOW_UPS[method].parse_options(
        sub.get("options", dict, {}), sub.path("options"), f.source
    )
    sub.done()
    if preset == "mask_merging" and method != "ties":
        raise f.fail("preset", "mask_merging is DARE followed by ties; remove merge.method")
    return DareOptions(drop_rate=drop, rescale=rescale, merge=method, merge_options=opts)


def combine_block(ops: BlockOperands, opts: DareOptions) -> np.ndarray:
    """DARE followed by linear (on θ_reference + τ̃ᵢ) or task arithmetic (TIES: the runner)."""
    deltas = ops.deltas()
    if opts.merge == "linear":
        for i, d in enumerate(deltas):
            np.add(ops.anchor(i), d, out=d)
        return linear.combine(deltas, ops.weights, opts.merge_options)
    return task_arithmetic.combine(ops.target(), deltas, ops.weights, opts.merge_options)


METHOD = MergeMethod(
    name="dare",
    parse=parse,
    combine=combine_block,
    ties=lambda opts: opts.merge_options if opts.merge == "ties" else None,
    drop=lambda opts: opts,
)
MASK_MERGING = replace(
    METHOD,
    name="mask_merging",
    preset={"preset": "mask_merging"},
    alias_of="dare",
    source_weighted=True,
)
"""The study's "mask merging": DARE (drop rate 0.1) followed by the study's TIES."""
