"""Model FLOPs of a decoder-only transformer step, for model FLOPs utilisation (MFU).

Counted as in the PaLM paper's appendix B, with the attention term per sequence: a matrix
multiply of an ``m x k`` by a ``k x n`` matrix is ``2mkn`` FLOPs, the backward pass costs twice
the forward pass, and only useful work counts (padding, masked attention and recomputation do
not). Per token, forward: ``2 x`` the parameters of the layers' projections (q, k, v, o and the
gated MLP); per causal (query, key) pair, per layer: ``4 x heads x head_dim`` (scores and
weighted values); per position projected onto the vocabulary: ``2 x hidden x vocab``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: dense bf16 peak of GPUs, TFLOP/s (vendor data sheets, without sparsity)
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


@dataclass(frozen=True)
class Shape:
    """The sizes that determine a decoder's FLOPs."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    vocab: int

    @classmethod
    def of(cls, config: Any) -> Shape:
        """From a transformers config (Qwen3 / Llama field names)."""
        heads = config.num_attention_heads
        return cls(
            hidden=config.hidden_size,
            layers=config.num_hidden_layers,
            heads=heads,
            kv_heads=getattr(config, "num_key_value_heads", None) or heads,
            head_dim=getattr(config, "head_dim", None) or config.hidden_size // heads,
            intermediate=config.intermediate_size,
            vocab=config.vocab_size,
        )

    @property
    def layer_params(self) -> int:
        """Projection parameters of one layer: q, k, v, o and the gated MLP's three matrices."""
        q = self.hidden * self.heads * self.head_dim
        kv = 2 * self.hidden * self.kv_heads * self.head_dim
        return 2 * q + kv + 3 * self.hidden * self.intermediate


def forward_flops(shape: Shape, lengths: Iterable[int], projected: int) -> float:
    """Forward FLOPs of sequences of ``lengths`` (each attending causally to itself only) with
    ``projected`` positions projected onto the vocabulary."""
    lengths = list(lengths)
    tokens = sum(lengths)
    pairs = sum(n * (n + 1) // 2 for n in lengths)
    dense = 2 * shape.layer_params * shape.layers * tokens
    attention = 4 * shape.heads * shape.head_dim * shape.layers * pairs
    head = 2 * shape.hidden * shape.vocab * projected
    return float(dense + attention + head)


def training_flops(shape: Shape, lengths: Iterable[int], projected: int) -> float:
    """Forward plus backward FLOPs (three forward passes' worth) of one training pass."""
    return 3 * forward_flops(shape, lengths, projected)


def peak_tflops(device_name: str) -> float | None:
    """The dense bf16 peak of a GPU named like ``NVIDIA H200``, when known."""
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in device_name:
            return value
    return None
