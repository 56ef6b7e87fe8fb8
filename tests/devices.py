"""Device parametrisation for tests of CPU and GPU paths, and the float32-master-weights check."""

from __future__ import annotations

import pytest
import torch

#: ``cpu`` always; ``cuda`` where a GPU is visible (skipped elsewhere, e.g. in CI)
DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
    ),
]


def assert_trained_in_float32(trained: torch.Tensor, initial: torch.Tensor) -> None:
    """``trained`` is float32 and differs from its bf16 ``initial`` in most elements.

    After an epoch at lr 1e-5 every Adam step is far below half a bf16 ulp of these weights:
    trained in bf16 (what a GPU loads by default), almost every element would stay put (10.8 %
    moved on an H200); float32 master weights keep the updates.
    """
    assert trained.dtype == torch.float32
    assert (trained.cpu() != initial.float()).float().mean() > 0.5
