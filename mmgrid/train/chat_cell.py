"""Train one grid cell: a (paradigm, domain, period) checkpoint, or a pooled task base.

The incremental chain of the study: the first period starts from the base LLM (for ``semid``, the
base with the semantic-ID tokens added), each later period from the same domain's previous-period
checkpoint. Every cell directory is a standard Hugging Face checkpoint (``model.safetensors``,
config, tokenizer, chat template), so merging and evaluation treat full and LoRA cells alike.

LoRA chain: with ``adapter: lora`` the cell trains a PEFT adapter on its initial (the previous
cell's) full weights and saves it under ``adapter/`` (``base_model_name_or_path`` is the initial
checkpoint's path relative to the adapter); the cell's full weights are that initial checkpoint
with the adapter merged in. The merge engine can therefore use either the full weights or the
adapter on its base.

Beside the weights: ``train_log.csv`` (one row per optimizer step) and ``train.json`` (settings,
counts, held-out loss before and after training, throughput).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.errors import InputError
from mmgrid.train.settings import CellTrainSettings

log = logging.getLogger(__name__)


def read_samples(paths: Sequence[str | os.PathLike[str]]) -> list[list[dict[str, str]]]:
    """Training conversations of one or more sample files, in training order (see
    :func:`training_order`)."""
    tables = [pq.read_table(p, columns=["task", "timestamp", "messages"]) for p in paths]
    return training_order(tables, ", ".join(map(str, paths)))


def training_order(tables: Sequence[pa.Table], where: str) -> list[list[dict[str, str]]]:
    """The conversations of samples tables (one per sample file, ``where`` names them), in
    training order.

    Item-corpus rows (no timestamp) come first, then samples by timestamp; ties keep file order,
    so a single cell's file keeps its own order and pooled files interleave chronologically.
    """
    table = pa.concat_tables([t.select(["timestamp", "messages"]) for t in tables])
    if table.num_rows == 0:
        raise InputError(f"no training samples in {where}")
    key = pc.fill_null(table.column("timestamp"), -(2**62))
    order = pc.sort_indices(pa.table({"k": key}), sort_keys=[("k", "ascending")])
    messages = table.column("messages").take(order).to_pylist()
    return [json.loads(m) for m in messages]


ADAPTER_DIR = "adapter"


def relative_path(target: Path, start: Path) -> str:
    """``target`` relative to the directory ``start`` (how cells refer to their initial weights)."""
    return os.path.relpath(target.resolve(), start.resolve())


def save_lora_adapter(model: Any, out: Path, init_dir: Path, final: Path) -> Any:
    """Save a PEFT model's adapter under ``out/adapter`` (``out`` becomes ``final``) with its base
    path relative to the adapter (``init_dir``, the cell's initial weights); return the model
    with the adapter merged in."""
    model.save_pretrained(out / ADAPTER_DIR)
    adapter_config = out / ADAPTER_DIR / "adapter_config.json"
    meta = json.loads(adapter_config.read_text())
    meta["base_model_name_or_path"] = relative_path(init_dir, final / ADAPTER_DIR)
    write_json(adapter_config, meta)
    return model.merge_and_unload()


def fit_cell(
    *,
    paradigm: str,
    samples: Sequence[str | os.PathLike[str]],
    init_dir: str | os.PathLike[str],
    settings: CellTrainSettings,
    seed: int,
    sid_tokens: Sequence[str] = (),
    log_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train one cell in memory; return ``(model, tokenizer, summary)``.

    A LoRA cell's model is the PEFT model (adapter on the initial weights).
    """
    import torch

    from mmgrid.models.attention import use_attention
    from mmgrid.models.loading import load_causal_lm
    from mmgrid.models.vocab import add_semantic_id_tokens
    from mmgrid.train.chat import encode_sample
    from mmgrid.train.loop import causal_lm_loss, evaluate_loss, train
    from mmgrid.train.losses import sid_level_loss

    conversations = read_samples(samples)
    # precision fp32_master (the default): float32 master weights on every device (a GPU runs
    # the forward pass under bf16 autocast), since updates of lr ~1e-5 round away in bf16
    # weights; bf16: the study's pure bf16 weights and optimizer state
    dtype = settings.torch_dtype()
    model, tokenizer = load_causal_lm(init_dir, device=settings.device, dtype=dtype)
    attention = use_attention(model, settings.attention, "train.attention")
    log.info("read %d samples from %s; initial weights %s", len(conversations), samples, init_dir)
    if sid_tokens:
        add_semantic_id_tokens(model, tokenizer, sid_tokens, seed=seed)
    encoded = [encode_sample(tokenizer, m, settings.max_length) for m in conversations]
    examples = [e for e, _ in encoded]
    n_heldout = settings.heldout_count(len(examples))
    if len(examples) - n_heldout < 1:
        raise InputError(
            f"{', '.join(map(str, samples))}: too few samples to train ({len(examples)})"
        )
    heldout, examples = examples[-n_heldout:], examples[:-n_heldout]

    loss_fn = causal_lm_loss
    if paradigm == "semid" and settings.sid_level_loss_weight is not None and sid_tokens:
        levels: dict[str, list[int]] = {}
        ids = tokenizer.convert_tokens_to_ids(list(sid_tokens))
        for token, tid in zip(sid_tokens, ids, strict=True):
            levels.setdefault(token[1], []).append(tid)
        loss_fn = sid_level_loss(
            [levels[k] for k in sorted(levels)], settings.sid_level_loss_weight
        )

    pad_id = tokenizer.pad_token_id
    device = settings.device
    loss_before = evaluate_loss(model, heldout, pad_id=pad_id, loss_fn=loss_fn, device=device)
    if settings.adapter == "lora":
        from peft import get_peft_model

        model = get_peft_model(
            model,
            settings.peft_config(task_type="CAUSAL_LM"),
            autocast_adapter_dtype=dtype == torch.float32,
        )
    config = settings.loop_config(seed, progress)
    summary = train(
        model, examples, config, pad_id=pad_id, loss_fn=loss_fn, log_path=log_path, desc="train"
    )
    loss_after = evaluate_loss(model, heldout, pad_id=pad_id, loss_fn=loss_fn, device=device)
    result = {
        "paradigm": paradigm,
        "samples": [str(p) for p in samples],
        "adapter": settings.adapter,
        "examples": len(examples),
        "heldout_examples": n_heldout,
        "truncated_examples": sum(cut for _, cut in encoded),
        "heldout_loss_before": loss_before,
        "heldout_loss_after": loss_after,
        "settings": settings.to_dict(),
        "attention": attention,
        "seed": seed,
        "training": summary,
    }
    return model, tokenizer, result


def save_cell(
    model: Any, tokenizer: Any, result: dict[str, Any], init_dir: Path, out: Path, final: Path
) -> None:
    """Write a trained cell into the (temporary) directory ``out`` that becomes ``final``.

    The full weights are written in the dtype of the initial weights (the adapter in float32).
    """
    from mmgrid.models.loading import stored_dtype

    if result["adapter"] == "lora":
        model = save_lora_adapter(model, out, init_dir, final)
        tokenizer.save_pretrained(out / ADAPTER_DIR)
    model.to(stored_dtype(init_dir)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_json(out / "train.json", {**result, "init": relative_path(init_dir, final)})


def train_cell(
    *,
    paradigm: str,
    samples: Sequence[str | os.PathLike[str]],
    init_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    settings: CellTrainSettings,
    seed: int,
    sid_tokens: Sequence[str] = (),
    threads: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Train one cell from ``init_dir`` on ``samples``; write the checkpoint to ``out_dir``."""
    import torch

    torch.set_num_threads(threads)
    init_dir, out_dir = Path(init_dir), Path(out_dir)
    with atomic_dir(out_dir, marker="train.json", inputs=[init_dir]) as tmp:
        model, tokenizer, result = fit_cell(
            paradigm=paradigm,
            samples=samples,
            init_dir=init_dir,
            settings=settings,
            seed=seed,
            sid_tokens=sid_tokens,
            log_path=tmp / "train_log.csv",
            progress=progress,
        )
        save_cell(model, tokenizer, result, init_dir, tmp, out_dir)
    log.info(
        "wrote %s: held-out loss %.4f -> %.4f, %s tokens/s",
        out_dir,
        result["heldout_loss_before"],
        result["heldout_loss_after"],
        result["training"]["tokens_per_s"],
    )
    return result
