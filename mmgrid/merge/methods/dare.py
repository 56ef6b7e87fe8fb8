# ruff: noqa: RUF002 (math notation in docstrings)
"""``dare``: drop each delta entry with probability p (rescale 1/(1−p)), then merge.

The follow-up merge is ``linear`` (on θ_reference + τ̃ᵢ), ``task_arithmetic`` or ``ties``.
Preset ``mask_merging`` (the study's "mask merging") = drop_rate 0.1 followed by study TIES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmgrid.merge.fields import Fields

FOLLOW_UPS = ("linear", "task_arithmetic", "ties")


@dataclass(frozen=True)
class DareOptions:
    drop_rate: float = 0.1
    rescale: bool = True
    merge: str = "ties"
    merge_options: Any = None  # options of the follow-up method


def parse(f: Fields) -> DareOptions:
    from mmgrid.merge.methods import parse_options

    preset = f.choice("preset", ("mask_merging", "none"), "none")
    drop = f.fraction("drop_rate", 0.1, closed=False)
    rescale = f.get("rescale", bool, True)
    sub = Fields(f.get("merge", dict, {"method": "ties"}), f.path("merge"), f.source)
    method = sub.choice("method", FOLLOW_UPS, "ties")
    opts = parse_options(method, sub.get("options", dict, {}), sub.path("options"), f.source)
    sub.done()
    if preset == "mask_merging" and method != "ties":
        raise f.fail("preset", "mask_merging is DARE followed by ties; remove merge.method")
    return DareOptions(drop_rate=drop, rescale=rescale, merge=method, merge_options=opts)
