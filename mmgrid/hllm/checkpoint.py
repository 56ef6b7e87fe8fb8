"""HLLM checkpoints: build one from the base LLM, save, and load offline and safely.

A checkpoint directory::

    model.safetensors   every tensor of the HLLM (names: see mmgrid.hllm.model)
    config.json         HllmConfig: model_type "mmgrid_hllm", the item/user Qwen3 configs,
                        the base layers they hold, the item prompt, max text tokens, pad id
    tokenizer.json  tokenizer_config.json  chat_template.jinja  ...   the base's tokenizer

``config.json`` and the tokenizer files are in the merge engine's ``COPIED_FILES``, so a merged
HLLM is a complete checkpoint. Weights load from safetensors only (a single file, or an index
with shards as the merge engine may write), never from pickles, without remote code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, PreTrainedTokenizerBase, Qwen3Config
from transformers.initialization import no_init_weights

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.device import dtype_for, resolve_device
from mmgrid.errors import InputError
from mmgrid.hllm.model import Hllm, HllmConfig
from mmgrid.hllm.settings import HllmSettings
from mmgrid.models.loading import (
    WEIGHTS,
    check_model_dir,
    load_causal_lm,
    stored_dtype,
    weight_files,
)
from mmgrid.seeding import derive_seed

CONFIG = "config.json"
BUILD_SUMMARY = "build.json"
EMB_TOKEN_STD = 0.02  # the study's init of the embedding token


def resolve_layers(layers: Sequence[int] | None, n_layers: int, key: str) -> list[int]:
    """Base-layer indices (negative ones count from the end); null = all, in order."""
    if layers is None:
        return list(range(n_layers))
    resolved = []
    for layer in layers:
        index = layer + n_layers if layer < 0 else layer
        if not 0 <= index < n_layers:
            raise InputError(
                f"config key '{key}': layer {layer} is not one of the base LLM's {n_layers} "
                f"layers (0..{n_layers - 1}, or -1..-{n_layers} from the end)"
            )
        resolved.append(index)
    if len(set(resolved)) != len(resolved):
        raise InputError(f"config key '{key}': layers {list(layers)} name a layer twice")
    return resolved


def sub_config(base: Qwen3Config, layers: Sequence[int]) -> dict[str, Any]:
    """The Qwen3 config of a decoder holding ``layers`` of ``base``, renumbered from 0."""
    config = base.to_dict()
    config["num_hidden_layers"] = len(layers)
    if config.get("layer_types"):
        config["layer_types"] = [config["layer_types"][i] for i in layers]
    config["use_cache"] = False
    return config


def _layer_weights(
    base_state: dict[str, torch.Tensor], layers: Sequence[int], embeddings: bool
) -> dict[str, torch.Tensor]:
    """A decoder's state dict taken from the base decoder's (``embed_tokens``, ``layers``, ``norm``)."""
    out = {"norm.weight": base_state["norm.weight"].clone()}
    if embeddings:
        out["embed_tokens.weight"] = base_state["embed_tokens.weight"].clone()
    for new, old in enumerate(layers):
        prefix = f"layers.{old}."
        for name, tensor in base_state.items():
            if name.startswith(prefix):
                out[f"layers.{new}.{name[len(prefix) :]}"] = tensor.clone()
    return out


def hllm_from_base(
    base_llm_dir: str | os.PathLike[str], settings: HllmSettings, seed: int
) -> tuple[Hllm, PreTrainedTokenizerBase]:
    """The HLLM made from a base causal LM (its dtype kept), and the base's tokenizer.

    The embedding token is drawn from N(0, 0.02²) with ``derive_seed(seed, "hllm",
    "item_emb_tokens")``; the log logit scale starts at ln(1 / temperature_init).
    """
    base_llm_dir = Path(base_llm_dir)
    check_model_dir(base_llm_dir)
    dtype = stored_dtype(base_llm_dir)
    base, tokenizer = load_causal_lm(base_llm_dir, device="cpu", dtype=dtype)
    qwen = base.config
    n_layers = qwen.num_hidden_layers
    item_layers = resolve_layers(settings.item_layers, n_layers, "hllm.item_layers")
    user_layers = resolve_layers(settings.user_layers, n_layers, "hllm.user_layers")
    longest = max(settings.max_text_tokens + 1, settings.max_items)
    if longest > qwen.max_position_embeddings:
        raise InputError(
            f"config keys 'hllm.max_text_tokens' + 1 and 'hllm.max_items' must not exceed the "
            f"base LLM's max_position_embeddings ({qwen.max_position_embeddings}), got {longest}"
        )
    pad_id = tokenizer.pad_token_id
    config = HllmConfig(
        item_llm=sub_config(qwen, item_layers),
        user_llm=sub_config(qwen, user_layers),
        item_layers=item_layers,
        user_layers=user_layers,
        item_prompt=settings.item_prompt,
        max_text_tokens=settings.max_text_tokens,
        pad_token_id=int(pad_id if pad_id is not None else tokenizer.eos_token_id or 0),
    )
    with no_init_weights():  # every tensor is set below
        model = Hllm(config)
    decoder = base.get_decoder().state_dict()
    model.item_llm.load_state_dict(_layer_weights(decoder, item_layers, embeddings=True))
    model.user_llm.load_state_dict(_layer_weights(decoder, user_layers, embeddings=False))
    generator = torch.Generator().manual_seed(derive_seed(seed, "hllm", "item_emb_tokens"))
    with torch.no_grad():
        token = torch.randn(model.item_emb_tokens.weight.shape, generator=generator)
        model.item_emb_tokens.weight.copy_(token * EMB_TOKEN_STD)
        model.logit_scale.weight.fill_(float(np.log(1.0 / settings.temperature_init)))
    return model.to(dtype).eval(), tokenizer


def save_hllm(model: Hllm, tokenizer: PreTrainedTokenizerBase, out_dir: Path) -> None:
    """Write weights, config and tokenizer into ``out_dir`` (a temporary directory)."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    save_file(state, out_dir / WEIGHTS, metadata={"format": "pt"})
    write_json(out_dir / CONFIG, model.config.to_dict())
    tokenizer.save_pretrained(out_dir)


def build_hllm_base(
    base_llm_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: HllmSettings,
    seed: int,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Turn the base LLM into an HLLM checkpoint at ``out_dir`` (atomic); return the summary.

    The first period's cells start from it, and it can serve as the merge reference ("the base
    LLM turned into an HLLM"). ``build.json`` records the base, layers, sizes and seed.
    """
    model, tokenizer = hllm_from_base(base_llm_dir, settings, seed)
    summary = {
        "base_llm": str(base_llm_dir),
        "seed": seed,
        "settings": settings.to_dict(),
        "item_layers": model.config.item_layers,
        "user_layers": model.config.user_layers,
        "parameters": sum(p.numel() for p in model.parameters()),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
    }
    with atomic_dir(out_dir, marker=BUILD_SUMMARY, inputs=[base_llm_dir]) as tmp:
        save_hllm(model, tokenizer, tmp)
        write_json(tmp / BUILD_SUMMARY, summary)
    log(
        f"built an HLLM from {base_llm_dir}: item LLM layers {model.config.item_layers}, user "
        f"LLM layers {model.config.user_layers}, {summary['parameters']:,} parameters; "
        f"wrote {out_dir}"
    )
    return summary


def read_config(model_dir: str | os.PathLike[str]) -> HllmConfig:
    """The HllmConfig of a checkpoint directory."""
    path = Path(model_dir) / CONFIG
    if not path.is_file():
        raise InputError(f"{model_dir}: no {CONFIG}; point it at an HLLM checkpoint directory")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from err
    return HllmConfig.from_dict(raw, str(path))


def load_hllm(
    model_dir: str | os.PathLike[str],
    device: str | torch.device = "auto",
    dtype: torch.dtype | None = None,
) -> tuple[Hllm, PreTrainedTokenizerBase]:
    """Load an HLLM checkpoint and its tokenizer, offline, in eval mode.

    ``dtype`` defaults to bf16 on GPU and fp32 on CPU. Every stored tensor must match the
    architecture the config describes (names and shapes).
    """
    model_dir = Path(model_dir)
    config = read_config(model_dir)
    state: dict[str, torch.Tensor] = {}
    for path in weight_files(model_dir):
        state.update(load_file(path))
    with no_init_weights():  # every tensor is loaded below
        model = Hllm(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise InputError(
            f"{model_dir}: tensors do not match its {CONFIG}: missing {missing[:3]}, extra "
            f"{extra[:3]}; the weights and config must come from the same HLLM"
        )
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise InputError(
                f"{model_dir}: tensor {name!r} has shape {list(tensor.shape)}, its {CONFIG} "
                f"implies {list(expected[name].shape)}"
            )
    model.load_state_dict(state)
    device = resolve_device(device)
    model.to(device=device, dtype=dtype or dtype_for(device)).eval()
    return model, load_item_tokenizer(model_dir, config)


def load_item_tokenizer(model_dir: Path, config: HllmConfig) -> PreTrainedTokenizerBase:
    """The checkpoint's tokenizer, offline (resolved with the item LLM's Qwen3 config, since
    ``config.json`` describes the HLLM)."""
    if not (model_dir / "tokenizer.json").is_file():
        raise InputError(
            f"{model_dir}: no tokenizer.json; an HLLM checkpoint carries its base's fast tokenizer"
        )
    return AutoTokenizer.from_pretrained(
        model_dir,
        config=Qwen3Config.from_dict(config.item_llm),
        local_files_only=True,
        trust_remote_code=False,
    )
