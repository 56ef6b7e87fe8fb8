"""bf16 rounding, radix selection and DARE masks against independent references."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from mmgrid.merge.drop_masks import drop_mask
from mmgrid.merge.dtypes import from_fp32, to_fp32
from mmgrid.merge.methods import ties
from mmgrid.merge.select import (
    ALL_BITS,
    BracketSelect,
    RadixSelect,
    abs_bits,
    bracket_from_sample,
)


def test_bf16_round_trip_matches_torch():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.normal(0, 1, 10000).astype(np.float32),
            np.array(
                [0.0, -0.0, np.inf, -np.inf, 1e-40, -1e-40, 3.4e38, 1.0 + 2**-8, 1.0 + 3 * 2**-8],
                np.float32,
            ),
            rng.integers(0, 2**32, 10000, dtype=np.uint64).astype(np.uint32).view(np.float32),
        ]
    )
    x = x[~np.isnan(x)]
    want = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    got = from_fp32(x, "BF16")
    assert np.array_equal(got, want)
    back = to_fp32(got, "BF16")
    assert np.array_equal(
        back, torch.from_numpy(want.view(np.int16)).view(torch.bfloat16).float().numpy()
    )
    assert np.isnan(to_fp32(from_fp32(np.array([np.nan], np.float32), "BF16"), "BF16")).all()
    with np.errstate(over="ignore"):
        assert np.array_equal(from_fp32(x, "F16"), x.astype(np.float16))


@pytest.mark.parametrize("rank", [1, 2, 500, 9999, 10000])
def test_radix_select_finds_exact_kth(rank):
    rng = np.random.default_rng(rank)
    xs = [np.round(rng.normal(0, 1, 10000), 2).astype(np.float32) for _ in range(2)]  # many ties
    chunks = [[x[i : i + 777] for x in xs] for i in range(0, 10000, 777)]
    sel = RadixSelect(2, rank, 10000)
    for c in chunks:
        sel.add_high([RadixSelect.high_hist(x) for x in c])
    sel.finish_high()
    for c in chunks:
        sel.add_low([RadixSelect.low_hist(x, b) for x, b in zip(c, sel.buckets, strict=True)])
    sel.finish_low()
    for x, t, lt, eq in zip(xs, sel.thresholds(), sel.count_lt, sel.count_eq, strict=True):
        a = np.sort(np.abs(x))
        assert t == a[rank - 1]
        assert lt == int((a < t).sum()) and eq == int((a == t).sum())


@pytest.mark.parametrize("rank", [1, 2, 500, 8000, 9999, 10000])
@pytest.mark.parametrize("bracket", ["sampled", "all_values", "miss"])
def test_bracket_select_is_exact_or_says_it_missed(rank, bracket):
    rng = np.random.default_rng(rank)
    xs = [np.round(rng.normal(0, 1, 10000), 2).astype(np.float32) for _ in range(2)]  # many ties
    if bracket == "sampled":
        brackets = [bracket_from_sample(abs_bits(x), rank, 10000) for x in xs]  # a full sample
    elif bracket == "all_values":
        brackets = [(0, ALL_BITS)] * 2
    else:  # a bracket above every value
        brackets = [(int(np.float32(1e9).view(np.uint32)), 16)] * 2
    sel = BracketSelect(rank, 10000, brackets)
    for i in range(0, 10000, 777):
        sel.add(
            [
                BracketSelect.chunk_stats(abs_bits(x[i : i + 777]), *b)
                for x, b in zip(xs, brackets, strict=True)
            ]
        )
    found = sel.result()
    if bracket == "miss":
        assert found is None
        return
    assert found is not None
    for x, (bits, lt, eq) in zip(xs, found, strict=True):
        a = np.sort(np.abs(x))
        t = np.array(bits, np.uint32).view(np.float32)[()]
        assert t == a[rank - 1]
        assert lt == int((a < t).sum()) and eq == int((a == t).sum())


@pytest.mark.parametrize(
    "opts",
    [
        ties.TiesOptions(),
        ties.TiesOptions(divisor="weight_sum"),
        ties.TiesOptions(divisor="none"),
        ties.TiesOptions(weighting="in_merge", divisor="weight_sum"),
    ],
)
def test_elected_merge_matches_both_signed_merges(opts):
    rng = np.random.default_rng(1)
    special = np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 3e38, -3e38], np.float32)
    trimmed = []
    for _ in range(3):
        t = rng.normal(0, 1, 4000).astype(np.float32)
        t[rng.random(4000) < 0.5] = 0.0
        t[rng.random(4000) < 0.1] = -0.0
        t[:64] = rng.choice(special, 64)
        trimmed.append(t)
    weights = [0.3, 1.0, 0.7]
    with np.errstate(invalid="ignore", over="ignore"):
        total = ties.elect_sum(trimmed, weights, opts)
        for positive in (total >= 0, total > 0):
            want = ties.where_bits(positive, *ties.signed_merges(trimmed, weights, opts))
            got = ties.elected_merge(trimmed, weights, opts, positive)
            assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_dare_masks_do_not_depend_on_chunking():
    whole = drop_mask(3, "w", 1, 0, 1000, 0.3)
    parts = np.concatenate(
        [drop_mask(3, "w", 1, s, min(37, 1000 - s), 0.3) for s in range(0, 1000, 37)]
    )
    assert np.array_equal(whole, parts)
    assert 0.25 < whole.mean() < 0.35
    assert not np.array_equal(whole, drop_mask(3, "w", 2, 0, 1000, 0.3))
    assert not np.array_equal(whole, drop_mask(4, "w", 1, 0, 1000, 0.3))
    assert not drop_mask(3, "w", 1, 0, 1000, 0.0).any()


def test_engine_does_not_import_torch():
    code = (
        "import sys, mmgrid.merge, mmgrid.merge.merge_cli, mmgrid.merge.engine, mmgrid.merge.lora;"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
