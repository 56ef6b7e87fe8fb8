"""The canonical form of the workflow's config: what a config means, independent of how it is
written down.

Mapping keys are sorted (the order of keys in YAML means nothing), except that ``periods`` are
ordered by their dates, and the lists that are sets — listed in :data:`ORDER_FREE` — are
sorted too. Every job's params derive from the canonical config, so a config that says the same
in another order reruns nothing. Lists whose order matters (a period's ``[start, end]``, the
``[older, later]`` periods of the temporal merges, hllm layer lists) keep their order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Config keys whose list value is a set (``*`` matches one key; ``[]`` the items of a list).
ORDER_FREE = (
    "domains",
    "paradigms",
    "job_groups",
    "data.recency_days",
    "evaluate.k",
    "train.lora.target_modules",
    "train.*.*.lora.target_modules",
    "merges.cross_domain.sets",
    "merges.cross_domain.sets[]",
    "merges.cross_domain.methods",
    "merges.cross_domain.references",
    "merges.temporal.weights",
    "merges.temporal.domains.*.weights",
)


def _order(value: Any) -> tuple[int, Any]:
    """Sort key over mixed items: numbers, then strings, then anything else by its text."""
    if isinstance(value, bool):
        return (2, repr(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, repr(value))


def _matches(path: tuple[str, ...], pattern: str) -> bool:
    parts = pattern.split(".")
    return len(parts) == len(path) and all(p in ("*", k) for p, k in zip(parts, path, strict=True))


def _canonical(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, Mapping):
        return {k: _canonical(value[k], (*path, str(k))) for k in sorted(value, key=_order)}
    if isinstance(value, list | tuple):
        items = [_canonical(v, (*path[:-1], f"{path[-1]}[]") if path else ("[]",)) for v in value]
        if any(_matches(path, pattern) for pattern in ORDER_FREE):
            items.sort(key=_order)
        return items
    return value


def canonical_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with sorted mapping keys (``periods`` in the order of their dates)
    and sorted order-free lists."""
    out = _canonical(config, ())
    periods = out.get("periods")
    if isinstance(periods, dict) and all(isinstance(b, list) and b for b in periods.values()):
        out["periods"] = dict(sorted(periods.items(), key=lambda kv: (str(kv[1][0]), kv[0])))
    return out
