"""Non-finite or degenerate merge numbers fail naming the key; a merge whose result overflows
where no input is non-finite fails naming the tensor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from merge_fixtures import base_and_two, random_state, write_checkpoint
from safetensors.torch import load_file

from mmgrid.errors import InputError
from mmgrid.merge import merge
from mmgrid.merge.safetensors_io import FileReader

NAN, INF = math.nan, math.inf


@pytest.fixture()
def ckpts(tmp_path):
    return base_and_two(tmp_path)


def spec(ckpts, method="linear", **extra):
    out = {
        "method": method,
        "inputs": [{"name": "a", "path": str(ckpts["a"])}, {"name": "b", "path": str(ckpts["b"])}],
    }
    if method != "linear":
        out["reference"] = str(ckpts["base"])
    out.update(extra)
    return out


def fails(s, tmp_path, key, monkeypatch=None):
    with pytest.raises(InputError) as err:
        merge(s, tmp_path / "out")
    assert key in str(err.value), str(err.value)
    assert not (tmp_path / "out").exists()
    return str(err.value)


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_weights_and_options_name_the_key(ckpts, tmp_path, monkeypatch, bad):
    monkeypatch.setattr(FileReader, "read_rows", lambda *a: pytest.fail("data was read"))
    fails(spec(ckpts, weights=[bad, 1.0]), tmp_path, "weights[0]: must be a finite number")
    per_input = spec(ckpts)
    per_input["inputs"][1]["weight"] = bad
    fails(per_input, tmp_path, "inputs[1].weight: must be a finite number")
    for method, options, key in [
        ("task_arithmetic", {"scale": bad}, "options.scale"),
        ("ties", {"scale": bad}, "options.scale"),
        ("ties", {"density": bad}, "options.density"),
        ("dare", {"drop_rate": bad}, "options.drop_rate"),
        ("dare", {"merge": {"method": "ties", "options": {"mask_rate": bad}}}, "mask_rate"),
    ]:
        fails(spec(ckpts, method, options=options), tmp_path, key)
    extrapolate = spec(ckpts, "extrapolate", options={"alpha": bad})
    del extrapolate["reference"]
    fails(extrapolate, tmp_path, "options.alpha: must be a finite number")


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("linear", {}),
        ("task_arithmetic", {"normalize": True}),
        ("dare", {"merge": {"method": "linear"}}),
        ("dare", {"merge": {"method": "task_arithmetic", "options": {"normalize": True}}}),
    ],
)
def test_normalising_by_a_zero_weight_sum_fails(ckpts, tmp_path, method, options):
    message = fails(spec(ckpts, method, weights=[0.5, -0.5], options=options), tmp_path, "weights")
    assert "sum to 0" in message and "normalize" in message


def test_a_zero_weight_sum_is_fine_without_normalising(ckpts, tmp_path):
    s = spec(ckpts, "task_arithmetic", weights=[0.5, -0.5])
    merge(s, tmp_path / "out")
    out = load_file(tmp_path / "out" / "model.safetensors")
    assert all(v.float().isfinite().all() for v in out.values())


def test_an_overflowing_merge_fails_naming_the_tensor(ckpts, tmp_path):
    huge = spec(ckpts, weights=[1e38, 1e38], options={"normalize": False})
    message = fails(huge, tmp_path, "merged tensor '")
    assert "no input has a non-finite value there" in message and "inf" in message
    fp16 = spec(ckpts, weights=[3e4, 3e4], options={"normalize": False}, output={"dtype": "fp16"})
    message = fails(fp16, tmp_path, "beyond its range")
    assert "F16" in message and "output.dtype: fp32" in message
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_non_finite_input_value_may_pass_through(tmp_path):
    base = random_state(0)
    a = random_state(1, base)
    a["model.norm.weight"][3] = np.nan
    a["lm_head.weight"][2, 5] = np.inf
    ckpts = {
        "a": write_checkpoint(tmp_path / "a", a),
        "b": write_checkpoint(tmp_path / "b", random_state(2, base)),
    }
    merge(spec(ckpts), tmp_path / "out")
    out = {
        k: v.float().numpy() for k, v in load_file(tmp_path / "out" / "model.safetensors").items()
    }
    norm, head = out["model.norm.weight"], out["lm_head.weight"]
    assert np.isnan(norm[3]) and np.isfinite(np.delete(norm, 3)).all()
    assert np.isinf(head[2, 5]) and np.isfinite(head).sum() == head.size - 1


def test_a_truncated_input_names_expected_and_found_bytes(ckpts, tmp_path):
    weights = ckpts["b"] / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as f:
        f.truncate(size - 100)
    message = fails(spec(ckpts), tmp_path, "model.safetensors")
    assert f"truncated (expected {size} bytes, found {size - 100})" in message
