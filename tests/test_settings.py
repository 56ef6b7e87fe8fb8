"""The shared settings checks: ``require_at_least`` names the full key and the bound."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mmgrid.errors import InputError
from mmgrid.settings import require_at_least


@dataclass(frozen=True)
class _Sizes:
    epochs: int = 2
    batch_size: int = 0
    decay: float = -0.5


def test_require_at_least_names_the_first_field_below_the_bound():
    require_at_least(_Sizes(), ("epochs",), 1, "train")  # in range: no error
    with pytest.raises(InputError, match=r"^config key 'train\.batch_size' must be >= 1, got 0$"):
        require_at_least(_Sizes(), ("epochs", "batch_size", "decay"), 1, "train")
    with pytest.raises(InputError, match=r"'base\.pretrain\.decay' must be >= 0, got -0\.5"):
        require_at_least(_Sizes(), ("decay",), 0, "base.pretrain")
