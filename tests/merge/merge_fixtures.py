"""Small random safetensors checkpoints for merge tests (written with safetensors.torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

HIDDEN = 16
VOCAB = 40


def shapes(vocab: int = VOCAB, hidden: int = HIDDEN, tied: bool = False) -> dict[str, tuple]:
    out = {
        "model.embed_tokens.weight": (vocab, hidden),
        "model.layers.0.self_attn.q_proj.weight": (hidden, hidden),
        "model.layers.0.mlp.up_proj.weight": (3 * hidden, hidden),
        "model.layers.0.input_layernorm.weight": (hidden,),
        "model.norm.weight": (hidden,),
    }
    if not tied:
        out["lm_head.weight"] = (vocab, hidden)
    return out


def random_state(
    seed: int,
    base: dict[str, np.ndarray] | None = None,
    vocab: int = VOCAB,
    scale: float = 0.02,
    tied: bool = False,
) -> dict[str, np.ndarray]:
    """fp32 arrays; with ``base``, base + small noise (a fine-tune), quantised to bf16 steps."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in shapes(vocab, tied=tied).items():
        if base is None:
            x = rng.normal(0, 1, shape).astype(np.float32)
        else:
            b = base[name]
            if b.shape[0] < shape[0]:  # grown vocabulary: new rows random
                extra = rng.normal(0, 1, (shape[0] - b.shape[0], *shape[1:])).astype(np.float32)
                b = np.concatenate([b, extra])
            x = b + rng.normal(0, scale, shape).astype(np.float32)
            # make some exact ties and zeros in the deltas
            x.reshape(-1)[::7] = b.reshape(-1)[::7]
        out[name] = torch.from_numpy(x).to(torch.bfloat16).float().numpy()
    return out


def write_checkpoint(
    directory: Path,
    state: dict[str, np.ndarray],
    dtype=torch.bfloat16,
    shards: int = 1,
    config: dict | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(dtype) for k, v in state.items()}
    if shards == 1:
        save_file(tensors, directory / "model.safetensors", metadata={"format": "pt"})
    else:
        names = sorted(tensors)
        weight_map = {}
        for i in range(shards):
            part = names[i::shards]
            fname = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            save_file({k: tensors[k] for k in part}, directory / fname, metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(part, fname))
        index = {"metadata": {}, "weight_map": weight_map}
        (directory / "model.safetensors.index.json").write_text(json.dumps(index))
    emb = state.get("model.embed_tokens.weight")
    cfg = {"vocab_size": emb.shape[0] if emb is not None else 0, "tie_word_embeddings": False}
    cfg.update(config or {})
    (directory / "config.json").write_text(json.dumps(cfg))
    (directory / "tokenizer_config.json").write_text("{}")
    return directory


def read_output(directory: Path) -> dict[str, torch.Tensor]:
    """All tensors of a merged output (single file or sharded)."""
    out = {}
    for f in sorted(directory.glob("*.safetensors")):
        out.update(load_file(f))
    return out


def to_bytes(t: torch.Tensor) -> bytes:
    return (
        t.contiguous().view(torch.uint8).numpy().tobytes()
        if t.dtype != torch.float32
        else t.numpy().tobytes()
    )


def base_and_two(root: Path) -> dict[str, Path]:
    """A base checkpoint and two fine-tunes of it under ``root``: keys ``base``, ``a``, ``b``."""
    base = random_state(0)
    return {
        "base": write_checkpoint(root / "base", base),
        "a": write_checkpoint(root / "a", random_state(1, base)),
        "b": write_checkpoint(root / "b", random_state(2, base)),
    }
