"""The training loop: one readable loop for base pre-training and per-cell fine-tuning.

Per optimizer step: take ``grad_accum`` micro-batches, sum their token losses and trained-token
counts, back-propagate the sums, divide the gradients by the step's token count (so every
trained token weighs the same however the tokens fall into micro-batches), clip, set the
learning rate from the schedule, and step AdamW.

The loss is pluggable: ``loss_fn(model, batch) -> (loss_sum, n_tokens)``. The default,
:func:`causal_lm_loss`, is next-token cross-entropy over positions whose label is not ``-100``;
it projects only those positions onto the vocabulary. Custom losses (e.g. per-level semantic-ID
losses) can reuse :func:`labeled_logits`.

With ``packing`` the examples of each optimizer step are packed into rows of whole examples
(:mod:`mmgrid.train.packing`) instead of being padded in micro-batches of ``batch_size``: the
step's examples, its summed loss and its token count stay the same (so the update does too, up
to float rounding); only the layout of the micro-batches changes. ``compile`` runs the forward
and backward passes through ``torch.compile``.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from mmgrid.atomic import atomic_path
from mmgrid.device import resolve_device
from mmgrid.seeding import derive_seed
from mmgrid.train.batching import IGNORE_INDEX, Example, batch_order, pad_collate
from mmgrid.train.packing import VARLEN_ATTENTION, packed_batches
from mmgrid.train.schedule import lr_at, warmup_steps_for

Batch = dict[str, torch.Tensor]
LossFn = Callable[[nn.Module, Batch], tuple[torch.Tensor, torch.Tensor]]
Collate = Callable[[Sequence[Any]], Batch]
LOG_FIELDS = ("step", "epoch", "lr", "loss", "tokens", "grad_norm", "elapsed_s")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run."""

    epochs: int = 1
    lr: float = 1e-3
    batch_size: int = 32  # examples per micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    warmup_ratio: float = 0.0  # fraction of optimizer steps spent warming up
    warmup_steps: int | None = None  # overrides warmup_ratio when set
    min_lr_ratio: float = 0.0  # cosine decays to min_lr_ratio * lr
    weight_decay: float = 0.0
    weight_decay_scope: str = "matrices"  # matrices (dim >= 2; not norms/biases) or all
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 0.0  # max global grad norm; 0 disables clipping
    shuffle: bool = True  # False keeps the data order (e.g. chronological samples)
    seed: int = 0
    device: str = "auto"
    max_steps: int | None = None  # stop early after this many optimizer steps
    progress: bool = True  # tqdm progress bar on stderr
    packing: bool = False  # pack each step's examples into rows (token-id examples only)
    micro_batch_tokens: int | None = None  # packing: tokens per micro-batch (None: batch_size rows)
    compile: bool = False  # torch.compile the model for the training steps


def labeled_logits(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(N, V)`` at the N positions that predict a trained token, and those targets.

    Position ``t`` predicts ``labels[:, t + 1]``; positions whose next label is ``-100`` are
    never projected onto the vocabulary (saves the LM head on prompts and padding).
    """
    targets = batch["labels"][:, 1:]
    keep = torch.zeros_like(batch["labels"], dtype=torch.bool)
    keep[:, :-1] = targets != IGNORE_INDEX
    # packed batches carry position_ids (restarting per example) and no attention_mask
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids") if k in batch}
    out = model(**inputs, logits_to_keep=keep, use_cache=False)
    return out.logits, targets[targets != IGNORE_INDEX]


def causal_lm_loss(model: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed next-token cross-entropy (float32) and the number of trained tokens."""
    logits, targets = labeled_logits(model, batch)
    loss = F.cross_entropy(logits.float(), targets, reduction="sum")
    return loss, torch.tensor(targets.numel(), device=targets.device)


def optimizer_steps(n_examples: int, config: TrainConfig) -> int:
    """Number of optimizer steps ``train`` takes for ``n_examples`` under ``config``."""
    batches = math.ceil(n_examples / config.batch_size)
    total = config.epochs * math.ceil(batches / config.grad_accum)
    return min(total, config.max_steps) if config.max_steps is not None else total


def train(
    model: nn.Module,
    examples: Sequence[Example],
    config: TrainConfig,
    *,
    pad_id: int | None = None,
    collate: Collate | None = None,
    loss_fn: LossFn = causal_lm_loss,
    log_path: str | os.PathLike[str] | None = None,
    desc: str = "train",
) -> dict[str, Any]:
    """Train ``model`` in place on ``examples``; return a JSON-able summary.

    ``collate`` turns a list of examples into a batch of tensors; the default pads token-id
    examples with ``pad_id`` (:func:`mmgrid.train.batching.pad_collate`); ``config.packing``
    packs them instead (token-id examples only, see the module docstring). The model is moved
    to ``config.device``; on CUDA the forward pass runs under bf16 autocast and AdamW is fused.
    Weights and the optimizer state keep the model's dtype (float32 master weights, or bf16
    throughout). Batch order per epoch is seeded by ``derive_seed(config.seed, "epoch", epoch)``
    when shuffling. With ``log_path`` one CSV row per optimizer step is written (atomically, at
    the end).

    Summary keys: ``steps``, ``epochs``, ``examples``, ``warmup_steps``, ``first_loss``,
    ``final_loss`` (mean over the last 10% of steps), ``trained_tokens`` (labels != -100),
    ``input_tokens`` (non-padding), ``wall_s``, ``tokens_per_s`` (input tokens), ``device``,
    ``config``.
    """
    if not examples:
        raise ValueError("no training examples")
    if config.packing and (collate is not None or pad_id is None):
        raise ValueError("packing needs token-id examples and pad_id (no collate function)")
    if collate is None:
        if pad_id is None:
            raise ValueError("pass pad_id (or a collate function)")
        collate = partial(pad_collate, pad_id=pad_id)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    model.to(device).train()
    forward = torch.compile(model) if config.compile else model
    flatten = getattr(model.config, "_attn_implementation", None) in VARLEN_ATTENTION

    def micro_batches(groups: Sequence[Sequence[int]]) -> list[Batch]:
        """One optimizer step's micro-batches: padded groups, or the step's examples packed."""
        if not config.packing:
            return [collate([examples[i] for i in group]) for group in groups]
        step_examples = [examples[i] for group in groups for i in group]
        return packed_batches(
            step_examples,
            pad_id,
            max_rows=config.batch_size,
            max_tokens=config.micro_batch_tokens,
            flatten=flatten,
        )

    params = [p for p in model.parameters() if p.requires_grad]
    decay_all = config.weight_decay_scope == "all"
    decayed = [p for p in params if decay_all or p.dim() >= 2]
    plain = [p for p in params if not (decay_all or p.dim() >= 2)]
    groups = [
        {"params": decayed, "weight_decay": config.weight_decay},
        {"params": plain, "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(
        [g for g in groups if g["params"]],
        lr=config.lr,
        betas=config.betas,
        fused=device.type == "cuda",
    )
    total_steps = optimizer_steps(len(examples), config)
    warmup = warmup_steps_for(total_steps, config.warmup_ratio, config.warmup_steps)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    log: list[dict[str, Any]] = []
    step, input_tokens, trained_tokens = 0, 0, 0
    start = time.perf_counter()
    bar = tqdm(total=total_steps, desc=desc, disable=not config.progress, unit="step")
    for epoch in range(config.epochs):
        order = batch_order(
            len(examples),
            config.batch_size,
            shuffle=config.shuffle,
            seed=derive_seed(config.seed, "epoch", epoch),
        )
        for first in range(0, len(order), config.grad_accum):
            if step >= total_steps:
                break
            lr = lr_at(step, total_steps, config.lr, warmup, config.min_lr_ratio)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss_sum, n_tokens = 0.0, 0
            for cpu_batch in micro_batches(order[first : first + config.grad_accum]):
                packed_tokens = cpu_batch.pop("input_tokens", None)
                batch = {k: v.to(device) for k, v in cpu_batch.items()}
                with autocast:
                    loss, count = loss_fn(forward, batch)
                loss.backward()
                loss_sum += loss.item()
                n_tokens += int(count)
                if packed_tokens is not None:
                    input_tokens += int(packed_tokens)
                elif "attention_mask" in batch:
                    input_tokens += int(batch["attention_mask"].sum())
            for p in params:
                if p.grad is not None:
                    p.grad.div_(max(n_tokens, 1))
            max_norm = config.grad_clip if config.grad_clip > 0 else math.inf
            grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            trained_tokens += n_tokens
            step_loss = loss_sum / max(n_tokens, 1)
            log.append(
                {
                    "step": step,
                    "epoch": epoch,
                    "lr": lr,
                    "loss": step_loss,
                    "tokens": n_tokens,
                    "grad_norm": grad_norm,
                    "elapsed_s": round(time.perf_counter() - start, 4),
                }
            )
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}", lr=f"{lr:.2e}")
    bar.close()
    model.eval()
    wall = time.perf_counter() - start
    if log_path is not None:
        write_loss_log(log_path, log)
    tail = log[-max(1, len(log) // 10) :]
    return {
        "steps": step,
        "epochs": config.epochs,
        "examples": len(examples),
        "warmup_steps": warmup,
        "first_loss": log[0]["loss"] if log else None,
        "final_loss": sum(r["loss"] for r in tail) / len(tail) if log else None,
        "trained_tokens": trained_tokens,
        "input_tokens": input_tokens,
        "wall_s": round(wall, 3),
        "tokens_per_s": round(input_tokens / wall, 1) if wall > 0 else None,
        "device": str(device),
        "config": asdict(config),
    }


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    examples: Sequence[Example],
    *,
    pad_id: int | None = None,
    collate: Collate | None = None,
    loss_fn: LossFn = causal_lm_loss,
    batch_size: int = 32,
    device: str = "auto",
) -> float:
    """Mean per-token loss of ``model`` over ``examples`` (same loss and batching as training)."""
    if collate is None:
        if pad_id is None:
            raise ValueError("pass pad_id (or a collate function)")
        collate = partial(pad_collate, pad_id=pad_id)
    dev = resolve_device(device)
    was_training = model.training
    model.to(dev).eval()
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = {k: v.to(dev) for k, v in collate(examples[start : start + batch_size]).items()}
        with autocast:
            loss, n = loss_fn(model, batch)
        total += loss.item()
        count += int(n)
    model.train(was_training)
    return total / max(count, 1)


def write_loss_log(path: str | os.PathLike[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write per-step training rows as CSV (columns :data:`LOG_FIELDS`), atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
