"""InfoNCE batches and loss: each position's user state against the next item and negatives.

A batch of item sequences embeds every distinct item it touches once (positives, history and
negatives share one item-LLM forward). ``num_negatives`` items are drawn uniformly (with
replacement) from the whole catalogue per batch and shared by all its positions, as the study
does per global batch. At position t, with ``u`` the normalised user state, ``p`` the
normalised embedding of item t + 1 and ``n_j`` the normalised negatives::

    logits = scale · [u·p, u·n_1, …, u·n_K]      loss_t = -log softmax(logits)[0]

where a negative is masked (logit -inf) when it is the positive item itself or when
``p·n_j > nce_threshold`` (a near-duplicate). ``scale`` = exp(logit_scale), clamped to
[1, max_logit_scale]. The loss function returns the summed loss and the number of positions,
the contract of :func:`mmgrid.train.loop.train`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmgrid.hllm.model import ItemTokens, embed_by_length

Batch = dict[str, torch.Tensor]


class SequenceCollate:
    """Turn item-row sequences into an InfoNCE batch; negatives come from a seeded stream.

    Two instances with the same seed give the same negatives for the same batch order (so
    held-out losses before and after training compare like with like).
    """

    def __init__(self, tokens: ItemTokens, num_negatives: int, seed: int) -> None:
        self.tokens = tokens
        self.num_negatives = num_negatives
        self.rng = np.random.default_rng(seed)

    def __call__(self, sequences: Sequence[np.ndarray]) -> Batch:
        n_items = len(self.tokens.lengths)
        width = max(len(s) for s in sequences)
        rows = np.full((len(sequences), width), -1, np.int64)
        for i, seq in enumerate(sequences):
            rows[i, : len(seq)] = seq
        negatives = self.rng.integers(0, n_items, size=self.num_negatives)
        used = rows[rows >= 0]
        unique, inverse = np.unique(np.r_[used, negatives], return_inverse=True)
        seq_index = np.zeros_like(rows)
        seq_index[rows >= 0] = inverse[: used.size]
        ids, lengths = self.tokens.batch(torch.from_numpy(unique))
        return {
            "item_ids": ids,
            "item_lengths": lengths,
            "item_rows": torch.from_numpy(unique),
            "seq_index": torch.from_numpy(seq_index),
            "seq_mask": torch.from_numpy(rows >= 0),
            "neg_index": torch.from_numpy(inverse[used.size :]),
        }


def info_nce(
    item_embeddings: torch.Tensor,
    seq_index: torch.Tensor,
    seq_mask: torch.Tensor,
    neg_index: torch.Tensor,
    item_rows: torch.Tensor,
    states: torch.Tensor,
    scale: torch.Tensor,
    nce_threshold: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed InfoNCE loss (float32) over the predicted positions, and their number.

    ``states[b, t]`` predicts the item at ``seq_index[b, t + 1]`` (an index into
    ``item_embeddings``) wherever ``seq_mask[b, t + 1]``.
    """
    valid = seq_mask[:, 1:]
    user = F.normalize(states[:, :-1][valid].float(), dim=-1)
    pos_index = seq_index[:, 1:][valid]
    items = F.normalize(item_embeddings.float(), dim=-1)
    pos, neg = items[pos_index], items[neg_index]
    pos_logits = (user * pos).sum(-1, keepdim=True)
    neg_logits = user @ neg.T
    with torch.no_grad():
        same = item_rows[pos_index][:, None] == item_rows[neg_index][None, :]
        masked = same | (pos @ neg.T > nce_threshold)
    logits = torch.cat([pos_logits, neg_logits], dim=-1) * scale.float()
    # mask after scaling: -inf * scale would give the scale a NaN gradient
    logits[:, 1:] = logits[:, 1:].masked_fill(masked, float("-inf"))
    targets = torch.zeros(len(logits), dtype=torch.long, device=logits.device)
    loss = F.cross_entropy(logits, targets, reduction="sum")
    return loss, torch.tensor(len(logits), device=logits.device)


def hllm_loss(max_logit_scale: float, nce_threshold: float, item_batch_size: int):
    """The training-loop loss ``loss_fn(model, batch) -> (loss_sum, n_positions)``; the batch's
    items are embedded ``item_batch_size`` at a time, grouped by length."""

    def loss_fn(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        ids, lengths = batch["item_ids"], batch["item_lengths"]
        embeddings = embed_by_length(model, ids, lengths, item_batch_size)
        states = model.user_states(embeddings[batch["seq_index"]])
        return info_nce(
            embeddings,
            batch["seq_index"],
            batch["seq_mask"],
            batch["neg_index"],
            batch["item_rows"],
            states,
            model.scale(max_logit_scale),
            nce_threshold,
        )

    return loss_fn
