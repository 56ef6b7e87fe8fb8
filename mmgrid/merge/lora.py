"""LoRA deltas chunk by chunk, and exact concatenated-adapter output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mmgrid.merge.checkpoint_headers import ADAPTER_CONFIG, ADAPTER_WEIGHTS, LoraAdapter, LoraPair
from mmgrid.merge.dtypes import from_fp32, to_fp32
from mmgrid.merge.safetensors_io import FileReader, OutTensor, SafetensorsWriter


def delta_rows(reader: FileReader, pair: LoraPair, r0: int, r1: int) -> np.ndarray:
    """Rows ``[r0, r1)`` of ΔW = scale·B@A in float32.

    The product is accumulated rank by rank (k ascending) in float32, so every element is
    computed the same way whatever the chunk: results do not depend on chunking or BLAS.
    """
    b = to_fp32(reader.read_rows(pair.b, r0, r1), pair.b.dtype)
    a = to_fp32(reader.read_rows(pair.a, 0, pair.rank), pair.a.dtype)
    acc = b[:, 0:1] * a[0:1, :]
    for k in range(1, pair.rank):
        acc += b[:, k : k + 1] * a[k : k + 1, :]
    acc *= np.float32(pair.scale)
    return acc


def write_concatenated(
    reader: FileReader,
    adapters: Sequence[LoraAdapter],
    coefficients: Sequence[float],
    out_dir: Path,
) -> list[Path]:
    """Write one adapter whose ΔW is exactly Σ cᵢ·sᵢ·Bᵢ@Aᵢ (rank Σ rᵢ, scale 1).

    A factors are stacked unchanged; B factors are scaled by cᵢ·sᵢ (one rounding to B's dtype)
    and concatenated along the rank axis. ``lora_alpha`` = r so that PEFT's scale is 1.
    """
    first = adapters[0]
    modules = sorted(first.pairs)
    total_rank = {m: sum(a.pairs[m].rank for a in adapters) for m in modules}
    tensors: list[OutTensor] = []
    for m in modules:
        p = first.pairs[m]
        stem = "base_model.model." + m.removesuffix(".weight")
        tensors.append(OutTensor(f"{stem}.lora_A.weight", p.a.dtype, (total_rank[m], p.a.shape[1])))
        tensors.append(OutTensor(f"{stem}.lora_B.weight", p.b.dtype, (p.b.shape[0], total_rank[m])))
    writer = SafetensorsWriter(out_dir, tensors, single_name=ADAPTER_WEIGHTS)
    try:
        for m in modules:
            stem = "base_model.model." + m.removesuffix(".weight")
            a_parts, b_parts = [], []
            for adapter, c in zip(adapters, coefficients, strict=True):
                p = adapter.pairs[m]
                a_parts.append(to_fp32(reader.read_rows(p.a, 0, p.rank), p.a.dtype))
                b = to_fp32(reader.read_rows(p.b, 0, p.b.rows), p.b.dtype)
                b_parts.append(b * np.float32(c * p.scale))
            p0 = first.pairs[m]
            writer.write_rows(f"{stem}.lora_A.weight", 0, from_fp32(np.vstack(a_parts), p0.a.dtype))
            writer.write_rows(f"{stem}.lora_B.weight", 0, from_fp32(np.hstack(b_parts), p0.b.dtype))
    finally:
        writer.close()
    ranks = sorted(set(total_rank.values()))
    config = dict(first.config)
    config.update(
        r=ranks[0],
        lora_alpha=ranks[0],
        use_rslora=False,
        rank_pattern={m.removesuffix(".weight"): r for m, r in total_rank.items() if r != ranks[0]},
        alpha_pattern={
            m.removesuffix(".weight"): r for m, r in total_rank.items() if r != ranks[0]
        },
        target_modules=sorted({m.removesuffix(".weight").rsplit(".", 1)[-1] for m in modules}),
    )
    (out_dir / ADAPTER_CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return [*writer.files, out_dir / ADAPTER_CONFIG]
