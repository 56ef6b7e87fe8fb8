"""Sequence packing: several token-id examples per row, with no attention across examples.

A packed row concatenates whole examples; ``position_ids`` restart at 0 for every example, and
no ``attention_mask`` is passed. transformers then detects the packed layout from the position
ids (``masking_utils.find_packed_sequence_indices``): ``sdpa`` and ``eager`` attention get a
block-diagonal causal mask, and FlashAttention (one row per batch, see ``flatten``) runs its
variable-length kernel on the examples' boundaries. The first label of every example is
``-100``, so no token is predicted from the previous example (the layout of transformers'
``DataCollatorWithFlattening``); a padded batch never trains that position either, so packed
and padded batches of the same examples give the same summed loss and token count.

Rows are filled first-fit decreasing up to ``capacity`` tokens; the training loop uses the
longest example of the optimizer step as capacity, so a packed row is never wider than the
padded batch would be.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mmgrid.train.batching import IGNORE_INDEX, Example

#: attention implementations that read packed rows without a mask matrix (one row per batch)
VARLEN_ATTENTION = ("flash_attention_2", "flash_attention_3")


def pack_rows(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Indices of ``lengths`` grouped into rows of at most ``capacity`` tokens, first-fit
    decreasing (ties by index, so the result is deterministic). Each row lists its examples in
    index order."""
    if capacity < max(lengths, default=0):
        raise ValueError(f"capacity {capacity} is below the longest example ({max(lengths)})")
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: (-lengths[i], i)):
        row = next((r for r, space in enumerate(free) if space >= lengths[i]), None)
        if row is None:
            rows.append([])
            free.append(capacity)
            row = len(rows) - 1
        rows[row].append(i)
        free[row] -= lengths[i]
    return [sorted(row) for row in rows]


def group_rows(widths: Sequence[int], max_rows: int, max_tokens: int | None) -> list[list[int]]:
    """Consecutive rows grouped into micro-batches: at most ``max_rows`` rows, or, with
    ``max_tokens``, as many rows as fit ``rows x widest row <= max_tokens`` (at least one)."""
    groups: list[list[int]] = []
    for r, width in enumerate(widths):
        if groups:
            group = groups[-1]
            rows, widest = len(group) + 1, max(width, *(widths[g] for g in group))
            fits = rows * widest <= max_tokens if max_tokens else rows <= max_rows
            if fits:
                group.append(r)
                continue
        groups.append([r])
    return groups


def packed_collate(
    rows: Sequence[Sequence[Example]], pad_id: int, *, flatten: bool = False
) -> dict[str, torch.Tensor]:
    """Packed rows into ``input_ids``, ``labels`` and ``position_ids`` (int64), right-padded to
    the longest row (padding: ``pad_id``, label ``-100``, positions counting on from 0 as a
    segment of their own), plus ``input_tokens`` (a 0-d count of the non-padding tokens).
    ``flatten`` concatenates all rows into one (the variable-length FlashAttention layout)."""
    if flatten:
        rows = [[ex for row in rows for ex in row]]
    ids_rows, label_rows, pos_rows = [], [], []
    for row in rows:
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        for ex in row:
            seq = list(ex["input_ids"])
            lab = list(ex.get("labels", seq))
            if len(lab) != len(seq):
                raise ValueError(f"{len(seq)} input_ids but {len(lab)} labels; they must match")
            ids += seq
            labels += [IGNORE_INDEX, *lab[1:]]
            positions += range(len(seq))
        ids_rows.append(ids)
        label_rows.append(labels)
        pos_rows.append(positions)
    width = max(len(r) for r in ids_rows)
    n = len(ids_rows)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
    position_ids = torch.arange(width, dtype=torch.long).repeat(n, 1)
    for r, (ids, lab, pos) in enumerate(zip(ids_rows, label_rows, pos_rows, strict=True)):
        k = len(ids)
        input_ids[r, :k] = torch.as_tensor(ids, dtype=torch.long)
        labels[r, :k] = torch.as_tensor(lab, dtype=torch.long)
        position_ids[r, :k] = torch.as_tensor(pos, dtype=torch.long)
        position_ids[r, k:] = torch.arange(width - k, dtype=torch.long)
    tokens = torch.tensor(sum(len(r) for r in ids_rows), dtype=torch.long)
    return {
        "input_ids": input_ids,
        "labels": labels,
        "position_ids": position_ids,
        "input_tokens": tokens,
    }


def packed_batches(
    examples: Sequence[Example],
    pad_id: int,
    *,
    max_rows: int,
    max_tokens: int | None = None,
    flatten: bool = False,
) -> list[dict[str, torch.Tensor]]:
    """One optimizer step's examples as packed micro-batches (see the module docstring)."""
    lengths = [len(ex["input_ids"]) for ex in examples]
    rows = pack_rows(lengths, max(lengths))
    widths = [sum(lengths[i] for i in row) for row in rows]
    return [
        packed_collate([[examples[i] for i in rows[r]] for r in group], pad_id, flatten=flatten)
        for group in group_rows(widths, max_rows, max_tokens)
    ]
