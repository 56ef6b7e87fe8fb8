"""Title sampling seeded per prompt and per sample, so that a draw does not depend on the batch.

A sample draws its token at each step by the Gumbel-max trick: the argmax of
``logits / temperature + G`` with ``G`` standard Gumbel noise is a draw from
``softmax(logits / temperature)``, the study's sampling (no top-k / top-p truncation). Each
(prompt, sample) row has its own generator, seeded from the run's seed, the prompt's index in
the prompt list and the sample's number, and consumes one noise vector per decoding step. A
row's tokens therefore depend only on its own logits: not on the batch size, on the other
prompts of its batch or on when they stop. Both decoding backends draw through this module, so
they sample the same titles up to float ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mmgrid.seeding import derive_seed


class GumbelSampler:
    """Draws for the rows of one batch: ``samples`` consecutive rows per prompt of ``prompts``
    (their indices in the whole prompt list), in that order."""

    def __init__(
        self,
        prompts: Sequence[int],
        samples: int,
        temperature: float,
        seed: int,
        device: torch.device,
    ) -> None:
        if temperature <= 0:
            raise ValueError(f"sampling needs a temperature > 0, got {temperature}")
        self.temperature = temperature
        self._generators = []
        for prompt in prompts:
            for sample in range(samples):
                generator = torch.Generator(device=device)
                generator.manual_seed(derive_seed(seed, "titles", prompt, sample))
                self._generators.append(generator)

    def noise(self, width: int) -> torch.Tensor:
        """Standard Gumbel noise ``[rows, width]``: the next vector of every row's stream, on the
        generators' device."""
        uniform = torch.stack(
            [torch.rand(width, generator=g, device=g.device) for g in self._generators]
        )
        tiny = torch.finfo(uniform.dtype).tiny
        return -torch.log(-torch.log(uniform.clamp(min=tiny, max=1.0 - 1e-7)))

    def perturb(self, logits: torch.Tensor) -> torch.Tensor:
        """``logits / temperature`` plus each row's next noise vector: its argmax is the draw."""
        if logits.shape[0] != len(self._generators):
            raise ValueError(
                f"{logits.shape[0]} rows of logits for {len(self._generators)} sampled rows"
            )
        scaled = logits.float() / self.temperature
        return scaled + self.noise(logits.shape[-1])

    def draw(self, logits: torch.Tensor) -> torch.Tensor:
        """One token per row, drawn from ``softmax(logits / temperature)``."""
        return self.perturb(logits).argmax(dim=-1)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """As a ``generate`` logits processor (with greedy decoding, the argmax is the draw)."""
        return self.perturb(scores)
