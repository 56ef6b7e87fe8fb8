"""The shared settings checks (``require_at_least`` names the full key and the bound) and typed
job params through JSON."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from mmgrid.errors import InputError
from mmgrid.settings import OMIT_AT_DEFAULT, JobParams, require_at_least


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


@dataclasses.dataclass(frozen=True)
class _Part:
    name: str
    size: int = 1


@dataclasses.dataclass(frozen=True)
class _Job(JobParams):
    parts: tuple[_Part, ...]
    by_name: Mapping[str, _Part]
    pairs: tuple[tuple[str, float], ...]
    extra: _Part | None
    anything: Any
    path: str = "x"


def test_job_params_through_json_keep_their_types():
    job = _Job(
        parts=(_Part("a"), _Part("b", 2)),
        by_name={"a": _Part("a")},
        pairs=(("w", 0.5), ("v", 1.0)),
        extra=None,
        anything={"k": [1, 2]},
    )
    params = job.to_params()
    assert params == {
        "parts": [{"name": "a", "size": 1}, {"name": "b", "size": 2}],
        "by_name": {"a": {"name": "a", "size": 1}},
        "pairs": [["w", 0.5], ["v", 1.0]],
        "extra": None,
        "anything": {"k": [1, 2]},
        "path": "x",
    }
    assert _Job.from_params(json.loads(json.dumps(params))) == job
    with pytest.raises(InputError, match=r"params of _Job.pairs\[0\]' must hold 2 items"):
        _Job.from_params({**params, "pairs": [["w"]]})
    with pytest.raises(InputError, match="size' must be an integer"):
        _Job.from_params({**params, "extra": {"name": "c", "size": "big"}})


@dataclass(frozen=True)
class _Grown(JobParams):
    size: int
    added: float = dataclasses.field(default=0.1, metadata=OMIT_AT_DEFAULT)


def test_a_field_added_at_its_default_leaves_the_params_unchanged():
    assert _Grown(3).to_params() == {"size": 3}  # the params a run stored before the field
    assert _Grown.from_params({"size": 3}) == _Grown(3)
    assert _Grown(3, 1.0).to_params() == {"size": 3, "added": 1.0}
    assert _Grown.from_params({"size": 3, "added": 1.0}) == _Grown(3, 1.0)
