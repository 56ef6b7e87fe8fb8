"""Train one HLLM cell of the incremental chain: (domain, period) from the previous checkpoint.

The first period starts from the HLLM built from the base LLM (:func:`build_hllm_base`), each
later period from the same domain's previous-period HLLM checkpoint. The training data is the
period's chunked user sequences (:mod:`mmgrid.hllm.item_sequences`); the loss is InfoNCE
(:mod:`mmgrid.hllm.loss`); the loop is the project's (:func:`mmgrid.train.loop.train`).

``adapter: lora`` trains a PEFT LoRA adapter on the initial weights (the 7 projections of both
LLMs; the embedding token and the logit scale are trained in full as ``modules_to_save``) and
saves it under ``adapter/`` (``base_model_name_or_path`` = the initial checkpoint, relative);
the cell's weights are the initial ones with the adapter merged in.

Cell directory: the checkpoint files (:mod:`mmgrid.hllm.checkpoint`), ``train_log.csv`` (one
row per optimizer step) and ``train.json`` (settings, counts, held-out InfoNCE loss before and
after training, sequences/s).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.errors import InputError
from mmgrid.hllm.item_sequences import item_texts, load_training_sequences, read_catalogue
from mmgrid.hllm.settings import HllmSettings
from mmgrid.periods import Period
from mmgrid.seeding import derive_seed
from mmgrid.train.chat_cell import relative_path, save_lora_adapter
from mmgrid.train.settings import CellTrainSettings

LEARNED_MODULES = ("item_emb_tokens", "logit_scale")
TRAIN_SUMMARY = "train.json"
TRAIN_LOG = "train_log.csv"


def fit_hllm(
    *,
    init_dir: str | os.PathLike[str],
    shards: Sequence[str | os.PathLike[str]],
    items_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    period: Period,
    train_settings: CellTrainSettings,
    hllm_settings: HllmSettings,
    seed: int,
    log_path: str | os.PathLike[str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> tuple[Any, Any, dict[str, Any]]:
    """Train one cell in memory; return ``(model, tokenizer, summary)`` (a LoRA cell's model is
    the PEFT model)."""

    from mmgrid.hllm.checkpoint import load_hllm
    from mmgrid.hllm.loss import SequenceCollate, hllm_loss
    from mmgrid.hllm.model import tokenize_items
    from mmgrid.train.loop import evaluate_loss, train

    s, h = train_settings, hllm_settings
    catalogue = read_catalogue(items_path)
    data = load_training_sequences(shards, period, h.max_items, catalogue)
    # float32 master weights, or the study's bf16 throughout (train.precision)
    model, tokenizer = load_hllm(init_dir, device=s.device, dtype=s.torch_dtype())
    tokens = tokenize_items(
        tokenizer, item_texts(catalogue, model.config.item_prompt), model.config
    )
    sequences = data.rows
    n_heldout = s.heldout_count(len(sequences))
    if len(sequences) - n_heldout < 1:
        raise InputError(
            f"{', '.join(map(str, shards))}: too few training sequences for period "
            f"{period.name} ({len(sequences)}); a sequence needs two interactions before the "
            "period's end from a user active in the period"
        )
    heldout, examples = sequences[-n_heldout:], sequences[:-n_heldout]
    log(
        f"read {len(catalogue)} items from {items_path} and {len(sequences)} sequences of "
        f"{data.users} users from {len(shards)} shard(s); initial weights {init_dir}"
    )
    loss_fn = hllm_loss(h.max_logit_scale, h.nce_threshold, h.item_batch_size)
    heldout_seed = derive_seed(seed, "hllm", "heldout_negatives")

    def heldout_loss() -> float:
        collate = SequenceCollate(tokens, h.num_negatives, heldout_seed)
        return evaluate_loss(
            model,
            heldout,
            collate=collate,
            loss_fn=loss_fn,
            batch_size=s.batch_size,
            device=s.device,
        )

    loss_before = heldout_loss()
    if s.adapter == "lora":
        from peft import get_peft_model

        model = get_peft_model(
            model,
            s.peft_config(modules_to_save=list(LEARNED_MODULES)),
            autocast_adapter_dtype=s.precision == "fp32_master",
        )
    if h.gradient_checkpointing:  # the item LLM holds nearly all activations
        model.item_llm.activation_checkpointing_enable()
    # sequences of item embeddings, collated by SequenceCollate: train.packing is for chat samples
    config = replace(s.loop_config(seed, progress), packing=False)
    collate = SequenceCollate(tokens, h.num_negatives, derive_seed(seed, "hllm", "negatives"))
    summary = train(
        model, examples, config, collate=collate, loss_fn=loss_fn, log_path=log_path, desc="train"
    )
    if h.gradient_checkpointing:
        model.item_llm.activation_checkpointing_disable()
    loss_after = heldout_loss()
    wall = summary["wall_s"]
    summary["sequences_per_s"] = round(len(examples) * s.epochs / wall, 2) if wall else None
    result = {
        "paradigm": "hllm",
        "period": period.name,
        "shards": [str(p) for p in shards],
        "items": str(items_path),
        "adapter": s.adapter,
        "users": data.users,
        "sequences": len(examples),
        "heldout_sequences": n_heldout,
        "positions": int(sum(len(x) - 1 for x in examples)),
        "heldout_loss_before": loss_before,
        "heldout_loss_after": loss_after,
        "settings": s.to_dict(),
        "hllm_settings": h.to_dict(),
        "seed": seed,
        "training": {k: v for k, v in summary.items() if k not in ("tokens_per_s", "input_tokens")},
    }
    return model, tokenizer, result


def save_cell(
    model: Any, tokenizer: Any, result: dict[str, Any], init_dir: Path, out: Path, final: Path
) -> dict[str, Any]:
    """Write a trained cell into the temporary directory ``out`` that becomes ``final``; return
    the summary written to ``train.json`` (``result`` plus ``init``, relative to ``final``).
    The weights are written in the dtype of the initial weights."""
    from mmgrid.hllm.checkpoint import save_hllm
    from mmgrid.models.loading import stored_dtype

    if result["adapter"] == "lora":
        model = save_lora_adapter(model, out, init_dir, final)
    save_hllm(model.to(stored_dtype(init_dir)), tokenizer, out)
    summary = {**result, "init": relative_path(init_dir, final)}
    write_json(out / TRAIN_SUMMARY, summary)
    return summary


def train_hllm_cell(
    init_dir: str | os.PathLike[str],
    shards: Sequence[str | os.PathLike[str]],
    items_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    period: Period,
    out_dir: str | os.PathLike[str],
    train_settings: CellTrainSettings,
    hllm_settings: HllmSettings,
    seed: int,
    log: Callable[[str], None] = print,
    *,
    threads: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train one HLLM cell from ``init_dir`` on the period's sequences; write ``out_dir``.

    ``shards`` are the domain's period shards (``results/shards/{domain}/{period}.parquet``)
    up to and including ``period`` (later ones are ignored by timestamp); ``items_path`` is the
    domain's item table. A pooled cell passes every domain's shards and item tables: the
    catalogue is their union and a user id present in several domains is one sequence.
    ``seed`` should identify the cell. The directory appears whole or not at all. Returns the
    summary written to ``train.json``.
    """
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    init_dir, out_dir = Path(init_dir), Path(out_dir)
    with atomic_dir(out_dir, marker=TRAIN_SUMMARY, inputs=[init_dir]) as tmp:
        model, tokenizer, result = fit_hllm(
            init_dir=init_dir,
            shards=shards,
            items_path=items_path,
            period=period,
            train_settings=train_settings,
            hllm_settings=hllm_settings,
            seed=seed,
            log_path=tmp / TRAIN_LOG,
            progress=progress,
            log=log,
        )
        result = save_cell(model, tokenizer, result, init_dir, tmp, out_dir)
    log(
        f"wrote {out_dir}: held-out InfoNCE {result['heldout_loss_before']:.4f} -> "
        f"{result['heldout_loss_after']:.4f}, {result['training']['sequences_per_s']} sequences/s"
    )
    return result
