"""Every method and mode is bit-identical to the naive whole-array reference, for every chunking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from merge_fixtures import random_state, read_output, write_checkpoint
from merge_naive import (
    dare,
    deltas,
    exponential_decay,
    extrapolate,
    linear,
    study_ties,
    task_arithmetic,
    ties,
)

from mmgrid.merge import merge, select

WEIGHTS = [0.3, 0.5, 0.2]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    base = random_state(0)
    target = random_state(9, base=base, scale=0.05)
    tunes = [random_state(i, base=base) for i in (1, 2, 3)]
    # exact cancellations between two inputs, to exercise the majority-sign patching
    name = "model.layers.0.self_attn.q_proj.weight"
    d = tunes[0][name] - base[name]
    tunes[1][name].reshape(-1)[::5] = (base[name] - d).reshape(-1)[::5]
    paths = {
        "base": write_checkpoint(root / "base", base),
        "target": write_checkpoint(root / "target", target),
    }
    for i, t in enumerate(tunes):
        paths[f"m{i}"] = write_checkpoint(root / f"m{i}", t)
    return {"paths": paths, "base": base, "target": target, "tunes": tunes}


def bf16(state):
    return {
        k: torch.from_numpy(np.ascontiguousarray(v)).to(torch.bfloat16) for k, v in state.items()
    }


def run(tmp_path, models, method, options=None, *, target="base", weights=WEIGHTS, **kw):
    p = models["paths"]
    spec = {
        "method": method,
        "options": options or {},
        "inputs": [
            {"name": f"m{i}", "path": str(p[f"m{i}"]), "weight": w} for i, w in enumerate(weights)
        ],
        "reference": str(p["base"]),
        "target": str(p[target]),
        "seed": 7,
    }
    outs = []
    for chunk, threads in [(1 << 20, 1), (7, 1), (50, 2), (16, 2)]:
        out = tmp_path / f"out_{chunk}_{threads}"
        merge(spec, out, chunk_elems=chunk, threads=threads, checksums=False, **kw)
        outs.append(read_output(out))
    for other in outs[1:]:
        for k in outs[0]:
            assert torch.equal(outs[0][k].view(torch.int16), other[k].view(torch.int16)), k
    return outs[0]


def assert_same(got, want):
    assert set(got) == set(want)
    for k in want:
        g, w = got[k].view(torch.int16), want[k].view(torch.int16)
        assert torch.equal(g, w), f"{k}: {int((g != w).sum())} elements differ"


def taus(models):
    return deltas(models["tunes"], models["base"])


@pytest.mark.parametrize("normalize", [True, False])
def test_linear(tmp_path, models, normalize):
    got = run(tmp_path, models, "linear", {"normalize": normalize})
    assert_same(got, bf16(linear(models["tunes"], WEIGHTS, normalize)))


def test_linear_weight_above_one_is_the_study_extrapolation(tmp_path, models):
    """(1 - w)·older + w·later with w = 1.5 (the temporal sweep past 1) is the study's
    linear-velocity extrapolation later + 0.5·(later - older)."""
    weights = [-0.5, 1.5]
    got = run(tmp_path, models, "linear", weights=weights)
    assert_same(got, bf16(linear(models["tunes"][:2], weights, True)))
    velocity = bf16(extrapolate(models["tunes"][:2], "linear_velocity", 0.5))
    for k in velocity:
        torch.testing.assert_close(got[k].float(), velocity[k].float(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("normalize", [True, False])
def test_task_arithmetic_with_replaced_target(tmp_path, models, normalize):
    got = run(
        tmp_path, models, "task_arithmetic", {"scale": 0.7, "normalize": normalize}, target="target"
    )
    want = task_arithmetic(models["target"], taus(models), WEIGHTS, 0.7, normalize)
    assert_same(got, bf16(want))


@pytest.mark.parametrize(
    "strategy,alpha", [("linear_velocity", 0.05), ("moving_average", 0.6), ("acceleration", 1.0)]
)
def test_extrapolate(tmp_path, models, strategy, alpha):
    got = run(
        tmp_path, models, "extrapolate", {"strategy": strategy, "alpha": alpha}, weights=[1, 1, 1]
    )
    assert_same(got, bf16(extrapolate(models["tunes"], strategy, alpha)))


def test_exponential_decay(tmp_path, models):
    got = run(
        tmp_path,
        models,
        "extrapolate",
        {"strategy": "exponential_decay", "decay": 0.8},
        weights=[1, 1, 1],
        target="target",
    )
    assert_same(got, bf16(exponential_decay(models["target"], taus(models), 0.8)))


TIES_MODES = [
    {},  # study defaults: global, ge_threshold, mask_rate 0.8, pre_trim, mass, count, majority
    {"density": 0.3},
    {"scope": "per_tensor", "mask_rate": 0.5},
    {"select": "exact_k", "density": 0.25},
    {"select": "exact_k", "scope": "per_tensor", "mask_rate": 0.7},
    {"weighting": "in_merge", "elect": "weighted_mass", "divisor": "weight_sum"},
    {"divisor": "none", "zero_sign": "positive", "scale": 0.5},
    {"preset": "mergekit", "density": 0.4},
    {"mask_rate": 0.0},
    {"select": "exact_k", "density": 0.0},
]


@pytest.mark.parametrize(
    "options", TIES_MODES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "study"
)
def test_ties(tmp_path, models, options):
    got = run(tmp_path, models, "ties", options, target="target")
    assert_same(got, bf16(naive_ties(models, options)))


def naive_ties(models, options):
    """The naive reference for TIES ``options`` (presets expanded), onto the target."""
    kw = dict(options)
    if kw.pop("preset", None) == "mergekit":
        kw.update(
            scope="per_tensor",
            select="exact_k",
            weighting="in_merge",
            elect="weighted_mass",
            divisor="weight_sum",
            zero_sign="positive",
        )
    if "density" not in kw and "mask_rate" not in kw:
        kw["mask_rate"] = 0.8
    return ties(models["target"], taus(models), WEIGHTS, **kw)


# How the TIES thresholds are found: the test models are small enough that every |d| is kept
# (select.SMALL_SCOPE); these force the sampled bracket (sampling every row, so that it holds
# the threshold), and a bracket that always misses so that the exact radix select takes over.
# Every path gives the same bits.
THRESHOLD_PATHS = {
    "sampled_bracket": {"SMALL_SCOPE": 0, "SAMPLE_ROWS": 1},  # sample all rows: a sure hit
    "radix_fallback": {"SMALL_SCOPE": 0, "bracket_from_sample": lambda *a: (2**32 - 1, 1)},
}


@pytest.mark.parametrize("path", list(THRESHOLD_PATHS))
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"density": 0.3},
        {"select": "exact_k", "density": 0.25},
        {"select": "exact_k", "scope": "per_tensor", "mask_rate": 0.7},
        {"preset": "mergekit", "density": 0.4},
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "study",
)
def test_ties_threshold_paths(tmp_path, models, monkeypatch, path, options):
    for name, value in THRESHOLD_PATHS[path].items():
        monkeypatch.setattr(select, name, value)
    logs: list[str] = []
    got = run(tmp_path, models, "ties", options, target="target", log=logs.append)
    assert_same(got, bf16(naive_ties(models, options)))
    fell_back = any("threshold outside the sampled bracket" in line for line in logs)
    assert fell_back == (path == "radix_fallback")


def test_ties_majority_negative_patches(tmp_path, models):
    """Negated inputs flip the global majority to -1, so cancelled positions get patched."""
    neg = [{k: -v for k, v in t.items()} for t in taus(models)]
    base = models["base"]
    root = tmp_path / "neg"
    paths = []
    for i, t in enumerate(neg):
        state = {k: base[k] + t[k] for k in base}
        state = {
            k: torch.from_numpy(v).to(torch.bfloat16).float().numpy() for k, v in state.items()
        }
        paths.append(write_checkpoint(root / f"n{i}", state))
    spec = {
        "method": "ties",
        "inputs": [{"name": f"n{i}", "path": str(p)} for i, p in enumerate(paths)],
        "reference": str(models["paths"]["base"]),
    }
    merge(spec, tmp_path / "out", checksums=False, chunk_elems=13)
    got = read_output(tmp_path / "out")
    inputs = [
        {
            k: torch.from_numpy(v).to(torch.bfloat16).float().numpy()
            for k, v in {k: base[k] + t[k] for k in base}.items()
        }
        for t in neg
    ]
    want = ties(base, deltas(inputs, base), [1, 1, 1], mask_rate=0.8)
    assert_same(got, bf16(want))


@pytest.mark.parametrize(
    "follow",
    [
        {"method": "linear"},
        {"method": "task_arithmetic", "options": {"scale": 0.9}},
        {"method": "ties", "options": {"density": 0.3}},
    ],
)
def test_dare(tmp_path, models, follow):
    got = run(tmp_path, models, "dare", {"drop_rate": 0.3, "merge": follow})
    td = dare(taus(models), seed=7, p=0.3)
    if follow["method"] == "linear":
        values = [{k: models["base"][k] + t[k] for k in t} for t in td]
        want = linear(values, WEIGHTS)
    elif follow["method"] == "task_arithmetic":
        want = task_arithmetic(models["base"], td, WEIGHTS, 0.9)
    else:
        want = ties(models["base"], td, WEIGHTS, density=0.3)
    assert_same(got, bf16(want))


@pytest.mark.parametrize("c", [0.5, 0.3])
def test_study_ties_with_source_coeff_is_ties_with_weights(tmp_path, models, c):
    """The study's TIES of (other, source) with source_coeff c = weights [1 - c, c] here."""
    got = run(tmp_path, models, "ties", {}, weights=[1 - c, c])
    assert_same(got, bf16(study_ties(models["base"], models["tunes"][:2], c)))


def test_mask_merging_preset(tmp_path, models):
    got = run(tmp_path, models, "mask_merging", {}, weights=[0.5, 0.5, 1.0])
    td = dare(taus(models), seed=7, p=0.1)
    assert_same(got, bf16(ties(models["base"], td, [0.5, 0.5, 1.0], mask_rate=0.8)))


def test_fp32_output_and_sharded_io(tmp_path, models):
    p = models["paths"]
    sharded = write_checkpoint(tmp_path / "sharded", models["tunes"][0], shards=3)
    spec = {
        "method": "linear",
        "inputs": [{"name": "a", "path": str(sharded)}, {"name": "b", "path": str(p["m1"])}],
        "output": {"dtype": "fp32", "shard_bytes": 4000},
    }
    merge(spec, tmp_path / "out", checksums=False)
    files = sorted(f.name for f in (tmp_path / "out").iterdir())
    assert "model.safetensors.index.json" in files
    assert len([f for f in files if f.startswith("model-0000")]) == 4  # 4000-byte shards
    got = read_output(tmp_path / "out")
    want = linear([models["tunes"][0], models["tunes"][1]], [1, 1])
    for k, v in want.items():
        assert got[k].dtype == torch.float32
        assert np.array_equal(got[k].numpy(), v), k


@pytest.mark.parametrize("options", [{}, {"density": 0.3}], ids=["study", "density"])
def test_ties_with_nan_and_inf_inputs(tmp_path, models, monkeypatch, options):
    """A NaN delta is trimmed and an infinite one kept, as in the naive reference (the fast
    trimming keeps NaN, so those blocks are redone with exact trimming)."""
    from mmgrid.merge.methods import ties as ties_method

    exact_trims = []
    real_trim = ties_method.trim_ge
    monkeypatch.setattr(ties_method, "trim_ge", lambda *a: exact_trims.append(1) or real_trim(*a))
    tunes = [{k: v.copy() for k, v in t.items()} for t in models["tunes"]]
    name = "model.layers.0.mlp.up_proj.weight"
    tunes[0][name].reshape(-1)[[3, 40, 41]] = [np.nan, np.inf, -np.inf]
    tunes[2][name].reshape(-1)[[3, 100]] = [np.nan, np.nan]
    root = tmp_path / "special"
    p = models["paths"]
    paths = [write_checkpoint(root / f"s{i}", t) for i, t in enumerate(tunes)]
    spec = {
        "method": "ties",
        "options": options,
        "inputs": [
            {"name": f"s{i}", "path": str(q), "weight": w}
            for i, (q, w) in enumerate(zip(paths, WEIGHTS, strict=True))
        ],
        "reference": str(p["base"]),
        "target": str(p["target"]),
    }
    outs = []
    for chunk, threads in [(1 << 20, 1), (16, 2)]:
        merge(spec, tmp_path / f"out{chunk}", chunk_elems=chunk, threads=threads, checksums=False)
        outs.append(read_output(tmp_path / f"out{chunk}"))
    with np.errstate(invalid="ignore"):
        kw = dict(options) or {"mask_rate": 0.8}
        want = ties(models["target"], deltas(tunes, models["base"]), WEIGHTS, **kw)
    for got in outs:
        assert_same(got, bf16(want))
    assert exact_trims  # the NaN blocks took the exact path
