"""Per-prompt Gumbel-max sampling: the right distribution, and draws that ignore the batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmgrid.evaluate.sampling import GumbelSampler

CPU = torch.device("cpu")


def test_draws_follow_the_temperature_scaled_softmax() -> None:
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    temperature, n = 0.7, 40_000
    sampler = GumbelSampler(range(n), 1, temperature, seed=3, device=CPU)
    tokens = sampler.draw(logits.expand(n, -1)).numpy()
    observed = np.bincount(tokens, minlength=4) / n
    expected = torch.softmax(logits / temperature, -1).numpy()
    sd = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(observed - expected) < 4.5 * sd)


def test_a_rows_draws_depend_on_its_prompt_and_sample_only() -> None:
    logits = torch.zeros(6, 50)  # uniform: every draw is the noise's argmax

    def draws(prompts, samples, seed=0, steps=5):
        sampler = GumbelSampler(prompts, samples, 1.0, seed, CPU)
        rows = len(prompts) * samples
        return torch.stack([sampler.draw(logits[:rows]) for _ in range(steps)], 1)

    together = draws([4, 9, 2], 2)  # rows: (4, 0), (4, 1), (9, 0), (9, 1), (2, 0), (2, 1)
    assert torch.equal(draws([9], 2), together[2:4])  # alone, or batched with others
    assert torch.equal(draws([2, 4], 2)[2:], together[:2])  # in another order
    assert not torch.equal(together[0], together[1])  # samples of one prompt differ
    assert not torch.equal(draws([4, 9, 2], 2, seed=1), together)


def test_rows_must_match_the_logits() -> None:
    sampler = GumbelSampler([0, 1], 3, 0.6, 0, CPU)
    with pytest.raises(ValueError, match="5 rows of logits for 6 sampled rows"):
        sampler.draw(torch.zeros(5, 10))
    with pytest.raises(ValueError, match="temperature > 0"):
        GumbelSampler([0], 1, 0.0, 0, CPU)
