"""The attention implementation a model runs with, chosen per device.

``auto``: FlashAttention 2 on CUDA when the ``flash_attn`` package is installed (the GPU extra),
else PyTorch's ``sdpa`` (on CPU, and on CUDA without it). ``sdpa`` reads packed rows through a
block-diagonal mask; FlashAttention reads them as variable-length sequences without a mask (see
:mod:`mmgrid.train.packing`). ``flex_attention`` (PyTorch's, compiled on first use) and
``eager`` can be named explicitly.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from mmgrid.errors import InputError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

ATTENTION = ("auto", "sdpa", "eager", "flash_attention_2", "flex_attention")


def check_attention(setting: str, key: str) -> None:
    """Raise :class:`InputError` naming ``key`` unless ``setting`` is a known implementation."""
    if setting not in ATTENTION:
        raise InputError(
            f"config key '{key}' must be one of {', '.join(ATTENTION)}, got {setting!r}"
        )


def choose_attention(setting: str, device: torch.device, key: str = "attention") -> str:
    """The implementation for ``setting`` on ``device`` (see the module docstring)."""
    check_attention(setting, key)
    flash = device.type == "cuda" and importlib.util.find_spec("flash_attn") is not None
    if setting == "auto":
        return "flash_attention_2" if flash else "sdpa"
    if setting == "flash_attention_2" and not flash:
        raise InputError(
            f"config key '{key}' is flash_attention_2, which needs a CUDA GPU and the flash-attn "
            "package (the GPU extra); set it to auto or sdpa"
        )
    return setting


def use_attention(model: PreTrainedModel, setting: str, key: str = "attention") -> str:
    """Switch ``model`` (already on its device) to the implementation chosen for its device;
    return the implementation's name."""
    name = choose_attention(setting, model.device, key)
    model.set_attn_implementation(name)
    return name
