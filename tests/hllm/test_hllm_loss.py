"""InfoNCE against a naive per-position reference; batches and their negatives."""

from __future__ import annotations

import math

import numpy as np
import torch

from mmgrid.hllm.loss import SequenceCollate, info_nce
from mmgrid.hllm.model import ItemTokens


def naive_info_nce(emb, rows, seqs, negatives, states, scale, threshold):
    """Loop over positions and negatives with plain floats (no masking tricks)."""

    def unit(v):
        return [x / math.sqrt(sum(y * y for y in v)) for x in v] if any(v) else v

    def dot(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    total, count = 0.0, 0
    for b, seq in enumerate(seqs):
        for t in range(len(seq) - 1):
            u = unit(states[b][t])
            p = unit(emb[seq[t + 1]])
            logits = [scale * dot(u, p)]
            for n in negatives:
                neg = unit(emb[n])
                if rows[n] != rows[seq[t + 1]] and dot(p, neg) <= threshold:
                    logits.append(scale * dot(u, neg))
            top = max(logits)
            log_z = top + math.log(sum(math.exp(x - top) for x in logits))
            total += log_z - logits[0]
            count += 1
    return total, count


def test_info_nce_matches_the_naive_loss():
    gen = torch.Generator().manual_seed(0)
    emb = torch.randn(7, 5, generator=gen, dtype=torch.float64)
    emb[6] = 3 * emb[2]  # a near-duplicate of item 2 (cosine 1)
    rows = torch.tensor([10, 11, 12, 13, 14, 15, 16])
    seqs = [[0, 2, 4, 1], [3, 5]]
    negatives = [2, 6, 1, 1, 0, 4]
    seq_index = torch.tensor([[0, 2, 4, 1], [3, 5, 0, 0]])
    seq_mask = torch.tensor([[True] * 4, [True, True, False, False]])
    states = torch.randn(2, 4, 5, generator=gen, dtype=torch.float64)
    states[0, 0] = emb[2]  # position 0 predicts item 2 perfectly: its duplicate would matter
    scale = torch.tensor([4.0], dtype=torch.float64, requires_grad=True)
    loss, n = info_nce(
        emb, seq_index, seq_mask, torch.tensor(negatives), rows, states, scale.exp(), 0.99
    )
    expected, count = naive_info_nce(
        emb.tolist(), rows.tolist(), seqs, negatives, states.tolist(), math.exp(4.0), 0.99
    )
    assert int(n) == count == 4
    assert math.isclose(loss.item(), expected, rel_tol=1e-5)
    loss.backward()
    assert torch.isfinite(scale.grad).all()  # masked logits must not poison the scale
    # without the near-duplicate mask, item 6 counts as a negative of item 2: a larger loss
    loose, _ = info_nce(
        emb, seq_index, seq_mask, torch.tensor(negatives), rows, states, scale.exp(), 2.0
    )
    expected_loose, _ = naive_info_nce(
        emb.tolist(), rows.tolist(), seqs, negatives, states.tolist(), math.exp(4.0), 2.0
    )
    assert math.isclose(loose.item(), expected_loose, rel_tol=1e-5)
    assert loose.item() > loss.item() + 0.5  # about log 2 more at position 0


def test_collate_maps_sequences_and_draws_reproducible_negatives():
    lengths = torch.tensor([3, 1, 4, 2, 2, 5])
    ids = torch.arange(6 * 6).reshape(6, 6)
    tokens = ItemTokens(ids=ids, lengths=lengths)
    seqs = [np.array([4, 1, 1]), np.array([2, 0])]
    batch = SequenceCollate(tokens, num_negatives=5, seed=11)(seqs)
    again = SequenceCollate(tokens, num_negatives=5, seed=11)(seqs)
    assert all(torch.equal(batch[k], again[k]) for k in batch)
    rows = batch["item_rows"]
    assert rows[batch["seq_index"]][batch["seq_mask"]].tolist() == [4, 1, 1, 2, 0]
    expected_negatives = np.random.default_rng(11).integers(0, 6, size=5)
    assert rows[batch["neg_index"]].tolist() == expected_negatives.tolist()
    assert rows.tolist() == sorted(set(rows.tolist()))  # every item embedded once
    width = int(lengths[rows].max()) + 1
    assert torch.equal(batch["item_ids"], ids[rows, :width])
    assert torch.equal(batch["item_lengths"], lengths[rows])
