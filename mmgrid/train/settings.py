"""Settings of the ``train:`` config section, resolved per (paradigm, domain, period) cell.

Resolution order (later wins): the global keys, ``periods.{period}``, ``paradigms.{paradigm}``,
``paradigms.{paradigm}.periods.{period}``, ``domains.{domain}``. Editing one domain's entry changes
only that domain's cells' params, so only those cells (and what depends on them) rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from mmgrid.errors import InputError
from mmgrid.models.attention import check_attention
from mmgrid.settings import from_mapping, require_at_least

if TYPE_CHECKING:
    import torch
    from peft import LoraConfig

    from mmgrid.train.loop import TrainConfig

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
SCOPES = ("periods", "paradigms", "domains")
PRECISIONS = ("fp32_master", "bf16")
DECAY_SCOPES = ("matrices", "all")


@dataclass(frozen=True)
class LoraSettings:
    """PEFT LoRA adapter shape (used when ``adapter: lora``)."""

    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    target_modules: tuple[str, ...] = LORA_TARGETS


@dataclass(frozen=True)
class CellTrainSettings:
    """Hyper-parameters of one cell's training run."""

    adapter: str = "full"
    """``full`` fine-tuning, or ``lora`` (an adapter on the previous cell's full weights)."""
    epochs: int = 2
    lr: float = 1e-3
    batch_size: int = 16
    grad_accum: int = 1
    warmup_ratio: float = 0.05
    warmup_steps: int | None = None
    """Overrides warmup_ratio when set (the study: 50 steps)."""
    min_lr_ratio: float = 0.0
    weight_decay: float = 0.0
    """AdamW weight decay (the study: 0.01, torch's default; its HLLM runs 0.001)."""
    weight_decay_scope: str = "matrices"
    """``matrices`` (weights with >= 2 dims; norms and biases are not decayed) or ``all``
    parameters (the study: one parameter group)."""
    betas: tuple[float, float] = (0.9, 0.95)
    """AdamW betas; the study uses torch's default (0.9, 0.999)."""
    precision: str = "fp32_master"
    """``fp32_master``: float32 weights and optimizer state on every device (a GPU runs the
    forward pass under bf16 autocast); ``bf16``: bf16 weights and optimizer state, as the study
    trains, where Adam steps below half a bf16 ulp of a weight (typical at lr 1e-5) round away."""
    grad_clip: float = 1.0
    order: str = "chronological"
    """``chronological`` (the study: samples in time order, item corpus first) or ``shuffled``."""
    max_length: int = 512
    """Longer samples lose their oldest prompt tokens (the answer is always kept)."""
    sid_level_loss_weight: float | None = None
    """semid: a semantic-ID answer token of level l is scored by a softmax over level l's codes
    only, times this weight (the study: 10.0); null = plain cross-entropy over the vocabulary."""
    heldout_samples: int = 64
    """Samples held out (the latest ones) to report the loss before and after training."""
    device: str = "auto"
    packing: bool = True
    """Pack each optimizer step's samples into rows of whole samples (no attention across
    samples) instead of padding them per micro-batch: same examples, loss and update, fewer
    padding tokens (mmgrid.train.packing)."""
    micro_batch_tokens: int | None = None
    """With packing: tokens (rows x row width) per forward pass; null = at most ``batch_size``
    rows, which never needs more memory than the padded micro-batches."""
    attention: str = "auto"
    """``auto`` (FlashAttention 2 on CUDA when flash-attn is installed, else sdpa), ``sdpa``,
    ``eager``, ``flash_attention_2`` or ``flex_attention`` (mmgrid.models.attention)."""
    compile: bool = False
    """Run the training steps through ``torch.compile`` (pays a compilation on the first steps)."""
    lora: LoraSettings = field(default_factory=LoraSettings)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def heldout_count(self, n: int) -> int:
        """Of ``n`` samples (or sequences), how many the latest are held out: a tenth, at least
        one, at most ``heldout_samples``."""
        return min(self.heldout_samples, max(1, n // 10))

    def loop_config(self, seed: int, progress: bool) -> TrainConfig:
        """The training loop's hyper-parameters for these settings (imports torch)."""
        from mmgrid.train.loop import TrainConfig

        return TrainConfig(
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            grad_accum=self.grad_accum,
            warmup_ratio=self.warmup_ratio,
            warmup_steps=self.warmup_steps,
            min_lr_ratio=self.min_lr_ratio,
            weight_decay=self.weight_decay,
            weight_decay_scope=self.weight_decay_scope,
            betas=self.betas,
            grad_clip=self.grad_clip,
            shuffle=self.order == "shuffled",
            seed=seed,
            device=self.device,
            progress=progress,
            packing=self.packing,
            micro_batch_tokens=self.micro_batch_tokens,
            compile=self.compile,
        )

    def torch_dtype(self) -> torch.dtype:
        """The dtype weights (and optimizer state) train in."""
        import torch

        return torch.bfloat16 if self.precision == "bf16" else torch.float32

    def peft_config(self, **extra: Any) -> LoraConfig:
        """The PEFT LoRA configuration of ``lora`` (``extra``: further LoraConfig fields)."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.lora.r,
            lora_alpha=self.lora.alpha,
            lora_dropout=self.lora.dropout,
            target_modules=list(self.lora.target_modules),
            **extra,
        )


def _check(s: CellTrainSettings, key: str) -> CellTrainSettings:
    if s.adapter not in ("full", "lora"):
        raise InputError(f"config key '{key}.adapter' must be full or lora, got {s.adapter!r}")
    if s.order not in ("chronological", "shuffled"):
        raise InputError(f"config key '{key}.order' must be chronological or shuffled")
    if s.precision not in PRECISIONS:
        raise InputError(f"config key '{key}.precision' must be fp32_master or bf16")
    if s.weight_decay_scope not in DECAY_SCOPES:
        raise InputError(f"config key '{key}.weight_decay_scope' must be matrices or all")
    if len(s.betas) != 2 or not all(0.0 <= b < 1.0 for b in s.betas):
        raise InputError(
            f"config key '{key}.betas' must be two numbers in [0, 1), got {list(s.betas)}"
        )
    if s.weight_decay < 0:
        raise InputError(f"config key '{key}.weight_decay' must be >= 0, got {s.weight_decay}")
    positive = ("epochs", "batch_size", "grad_accum", "max_length", "heldout_samples")
    require_at_least(s, positive, 1, key)
    if s.lr <= 0:
        raise InputError(f"config key '{key}.lr' must be > 0, got {s.lr}")
    if s.micro_batch_tokens is not None and s.micro_batch_tokens < s.max_length:
        raise InputError(
            f"config key '{key}.micro_batch_tokens' must be null or >= max_length "
            f"({s.max_length}), got {s.micro_batch_tokens}"
        )
    check_attention(s.attention, f"{key}.attention")
    if s.lora.r < 1:
        raise InputError(f"config key '{key}.lora.r' must be >= 1, got {s.lora.r}")
    return s


def cell_settings(
    cfg: Mapping[str, Any] | None, paradigm: str, domain: str, period: str
) -> CellTrainSettings:
    """Resolve the ``train:`` section for one cell (``domain`` may be ``pooled``)."""
    cfg = dict(cfg or {})
    merged = {k: v for k, v in cfg.items() if k not in SCOPES}
    for override in _overrides(cfg, paradigm, domain, period):
        if "lora" in override and "lora" in merged:
            override = {**override, "lora": {**merged["lora"], **override["lora"]}}
        merged.update(override)
    where = f"train (cell {paradigm}/{domain}/{period})"
    return _check(from_mapping(CellTrainSettings, merged, where), where)


def _overrides(
    cfg: Mapping[str, Any], paradigm: str, domain: str, period: str
) -> list[Mapping[str, Any]]:
    """The override sections that apply to one cell, in resolution order (see the module)."""
    by_period = _entry(cfg, "periods", period, "train")
    by_paradigm = _entry(cfg, "paradigms", paradigm, "train")
    paradigm_period = _entry(by_paradigm, "periods", period, f"train.paradigms.{paradigm}")
    by_paradigm = {k: v for k, v in by_paradigm.items() if k != "periods"}
    by_domain = _entry(cfg, "domains", domain, "train")
    return [by_period, by_paradigm, paradigm_period, by_domain]


def _entry(cfg: Mapping[str, Any], scope: str, name: str, key: str) -> Mapping[str, Any]:
    """``cfg[scope][name]`` as a mapping (empty when absent); ``key`` names ``cfg`` in errors."""
    section = cfg.get(scope) or {}
    if not isinstance(section, Mapping):
        raise InputError(f"config key '{key}.{scope}' must be a mapping of name -> settings")
    entry = section.get(name) or {}
    if not isinstance(entry, Mapping):
        raise InputError(f"config key '{key}.{scope}.{name}' must be a mapping of settings")
    return entry


def validate_scopes(cfg: Mapping[str, Any] | None, periods, paradigms, domains) -> None:
    """Unknown names under ``train.periods/paradigms/domains`` (and under each
    ``train.paradigms.{paradigm}.periods``) are typos: fail naming them."""
    cfg = cfg or {}
    for scope, known in zip(SCOPES, (periods, paradigms, domains), strict=True):
        _known_names(cfg, scope, known, "train")
    for paradigm in cfg.get("paradigms") or {}:
        entry = _entry(cfg, "paradigms", paradigm, "train")
        _known_names(entry, "periods", periods, f"train.paradigms.{paradigm}")


def _known_names(cfg: Mapping[str, Any], scope: str, known, key: str) -> None:
    unknown = sorted(set(cfg.get(scope) or {}) - set(known))
    if unknown:
        raise InputError(
            f"config key '{key}.{scope}.{unknown[0]}': not a configured name; use one of "
            f"{', '.join(known)}"
        )
