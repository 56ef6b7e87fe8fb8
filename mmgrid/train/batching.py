"""Batches from token-id lists: packing into blocks, batch order, padding into tensors.

An *example* is a mapping with ``input_ids`` (list of ints) and optionally ``labels`` of the same
length, where ``-100`` marks positions that are not trained (prompt tokens, padding). Without
``labels`` every token is trained. Labels are *unshifted*: position ``t`` holds the token that
the model reads at ``t``; the loss shifts by one (see ``mmgrid.train.loop.causal_lm_loss``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

import torch

IGNORE_INDEX = -100

Example = Mapping[str, Sequence[int]]


def pack_blocks(documents: Iterable[Sequence[int]], block_size: int) -> list[list[int]]:
    """Concatenate token-id documents and cut the stream into blocks of ``block_size``.

    The last, shorter block is kept when it holds at least two tokens (one prediction).
    """
    stream = [t for doc in documents for t in doc]
    blocks = [stream[i : i + block_size] for i in range(0, len(stream), block_size)]
    if blocks and len(blocks[-1]) < 2:
        blocks.pop()
    return blocks


def batch_order(n: int, batch_size: int, *, shuffle: bool, seed: int) -> list[list[int]]:
    """Split ``range(n)`` into batches of ``batch_size`` (last may be shorter).

    With ``shuffle`` the indices are permuted by ``random.Random(seed)`` first; otherwise the
    data order is kept (e.g. chronological samples).
    """
    order = list(range(n))
    if shuffle:
        random.Random(seed).shuffle(order)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def pad_collate(
    examples: Sequence[Example],
    pad_id: int,
    *,
    padding_side: str = "right",
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """Pad examples into ``input_ids``, ``attention_mask`` and ``labels`` (int64 tensors).

    Padding positions get ``pad_id`` in ``input_ids``, 0 in ``attention_mask`` and ``-100`` in
    ``labels``. ``padding_side="left"`` aligns the ends (for generation).
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    if not examples:
        raise ValueError("cannot collate an empty batch")
    width = max(len(ex["input_ids"]) for ex in examples)
    if pad_to_multiple_of:
        width = -(-width // pad_to_multiple_of) * pad_to_multiple_of
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    for row, ex in enumerate(examples):
        ids = ex["input_ids"]
        lab = ex.get("labels", ids)
        if len(lab) != len(ids):
            raise ValueError(
                f"example {row}: {len(ids)} input_ids but {len(lab)} labels; they must match"
            )
        n = len(ids)
        cols = slice(0, n) if padding_side == "right" else slice(width - n, width)
        input_ids[row, cols] = torch.as_tensor(ids, dtype=torch.long)
        attention_mask[row, cols] = 1
        labels[row, cols] = torch.as_tensor(lab, dtype=torch.long)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
