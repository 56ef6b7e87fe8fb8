"""Wall-time measurement shared by the benchmark scripts (run as ``python bench/<script>.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeats: int, warmup: bool = False) -> tuple[float, Any]:
    """Best wall time of ``repeats`` calls of ``fn`` (after one untimed call if ``warmup``), and
    the last call's result."""
    if warmup:
        fn()
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result
