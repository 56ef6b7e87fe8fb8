"""Training losses beyond plain next-token cross-entropy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmgrid.train.loop import Batch, LossFn, labeled_logits


def sid_level_loss(level_token_ids: Sequence[Sequence[int]], weight: float) -> LossFn:
    """The study's semantic-ID loss: restricted softmax per level, plus plain CE elsewhere.

    A target token that is a semantic-ID token of level ``l`` is scored by cross-entropy over the
    logits of level ``l``'s tokens only, multiplied by ``weight``; every other target token gets
    cross-entropy over the whole vocabulary. Returns ``(summed loss, trained tokens)``.
    """
    levels = [torch.as_tensor(list(ids), dtype=torch.long) for ids in level_token_ids]
    vocab_max = 1 + max(int(t.max()) for t in levels)
    level_of = torch.full((vocab_max,), -1, dtype=torch.long)
    code_of = torch.zeros(vocab_max, dtype=torch.long)
    for level, ids in enumerate(levels):
        level_of[ids] = level
        code_of[ids] = torch.arange(len(ids))

    def loss_fn(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        logits, targets = labeled_logits(model, batch)
        logits = logits.float()
        device = logits.device
        in_range = targets < vocab_max
        level = torch.full_like(targets, -1)
        level[in_range] = level_of.to(device)[targets[in_range]]
        plain = level < 0
        loss = F.cross_entropy(logits[plain], targets[plain], reduction="sum")
        for lvl, ids in enumerate(levels):
            rows = level == lvl
            if rows.any():
                sub = logits[rows][:, ids.to(device)]
                codes = code_of.to(device)[targets[rows]]
                loss = loss + weight * F.cross_entropy(sub, codes, reduction="sum")
        return loss, torch.tensor(targets.numel(), device=device)

    return loss_fn
