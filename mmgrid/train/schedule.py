"""Learning-rate schedule: linear warmup, then cosine decay to ``min_lr_ratio * peak``."""

from __future__ import annotations

import math


def warmup_steps_for(total_steps: int, warmup_ratio: float, warmup_steps: int | None = None) -> int:
    """Warmup length: ``warmup_steps`` when given, else ``ceil(warmup_ratio * total_steps)``."""
    if warmup_steps is not None:
        return min(warmup_steps, total_steps)
    return min(math.ceil(warmup_ratio * total_steps), total_steps)


def lr_at(
    step: int, total_steps: int, peak_lr: float, warmup_steps: int, min_lr_ratio: float = 0.0
) -> float:
    """Learning rate of optimizer step ``step`` (0-based) out of ``total_steps``.

    - warmup, ``step < W``: ``peak * (step + 1) / W`` (the last warmup step reaches the peak);
    - decay, ``step >= W``: ``p = (step - W) / (total_steps - W)`` and
      ``lr = min + (peak - min) * (1 + cos(pi * p)) / 2`` with ``min = min_lr_ratio * peak``.

    So the first decay step runs at the peak and the last step just above ``min``.
    """
    if step < warmup_steps:
        return peak_lr * (step + 1) / warmup_steps
    min_lr = min_lr_ratio * peak_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
