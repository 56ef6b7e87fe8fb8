"""The optimal merge weight of a temporal sweep, with deterministic tie-breaking.

λ* is the grid weight (of the later period) with the highest selection metric. Scores within
``TIE_TOLERANCE`` of the best count as tied (metrics recomputed from ranks differ by rounding
only when they are mathematically equal); among tied weights the one closest to the uniform
weight 0.5 wins, then the smaller weight. Preferring the centre means a tie never claims a
stronger tilt towards either period than the data support.
"""

from __future__ import annotations

from collections.abc import Sequence

UNIFORM = 0.5
TIE_TOLERANCE = 1e-12
TIE_RULE = "highest selection metric; ties go to the weight closest to 0.5, then the smaller"


def _closest_to_uniform(weights: Sequence[float]) -> float:
    return min(weights, key=lambda w: (abs(w - UNIFORM), w))


def optimal_weight(weights: Sequence[float], scores: Sequence[float]) -> float:
    """λ*: the weight with the best score; ties go to the weight closest to 0.5, then the smaller."""
    if not weights or len(weights) != len(scores):
        raise ValueError("optimal_weight needs one score per weight and at least one weight")
    best = max(scores)
    tied = [w for w, s in zip(weights, scores, strict=True) if best - s <= TIE_TOLERANCE]
    return _closest_to_uniform(tied)


def uniform_weight(weights: Sequence[float]) -> float:
    """The grid weight standing for the uniform merge: 0.5, or the closest (then smaller) one."""
    if not weights:
        raise ValueError("uniform_weight needs at least one weight")
    return _closest_to_uniform(weights)
