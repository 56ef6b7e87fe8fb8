"""Where torch work runs: ``auto`` = CUDA when present, else CPU; bf16 on GPU, fp32 on CPU."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmgrid.errors import InputError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto", key: str = "device") -> torch.device:
    """Resolve a device setting (``auto``, ``cpu``, ``cuda`` or ``cuda:N``) found at config ``key``.

    ``cuda`` without a visible GPU is an error naming ``key``.
    """
    import torch

    if isinstance(device, torch.device):
        return device
    if device not in DEVICES and not device.startswith("cuda:"):
        raise InputError(
            f"config key '{key}' must be one of {', '.join(DEVICES)} (or cuda:N), got {device!r}"
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(
            f"config key '{key}' is {device!r} but no CUDA GPU is visible; set it to auto or cpu"
        )
    return torch.device(device)


def dtype_for(device: torch.device) -> torch.dtype:
    """Weights dtype for a device: bfloat16 on GPU, float32 on CPU."""
    import torch

    return torch.bfloat16 if device.type == "cuda" else torch.float32
