"""The split-pair block layout, scratch buffers, in-place kernels and block reads."""

from __future__ import annotations

import os

import numpy as np
import pytest

from mmgrid.errors import InputError
from mmgrid.merge import split_pairs
from mmgrid.merge.dtypes import from_fp32, to_fp32
from mmgrid.merge.methods import linear, ties
from mmgrid.merge.safetensors_io import FileReader, OutTensor, SafetensorsWriter, read_header
from mmgrid.merge.scratch import Scratch

SPECIAL = np.array(
    [0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 1e-40, 3.4e38, 1.0 + 2**-8, 1.0 + 3 * 2**-8],
    np.float32,
)


def random_bits(n: int, seed: int = 0) -> np.ndarray:
    """float32 values with every kind of bit pattern (NaN removed), plus the special values."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)
    x = np.concatenate([SPECIAL, x[~np.isnan(x)]])[:n]
    return x


@pytest.mark.parametrize("n", [1, 2, 7, 10, 1001])
def test_split_orders_evens_then_odds_and_back(n):
    flat = np.arange(n, dtype=np.float32)
    s = split_pairs.split(flat, np.empty(n + 1, np.float32))
    h = (n + 1) // 2
    assert len(s) == 2 * h
    assert s[:h].tolist() == list(range(0, n, 2))
    assert s[h : h + n // 2].tolist() == list(range(1, n, 2))
    if n % 2:
        assert s[-1] == 0  # the padding element is last
    assert split_pairs.flat_positions(np.arange(n), n).tolist() == s[:n].astype(int).tolist()
    assert np.array_equal(split_pairs.unsplit(s, n, np.empty(n, np.float32)), flat)


@pytest.mark.parametrize("n", [2, 9, 1000, 1001])
def test_widen_and_round_match_the_element_order_conversions(n):
    x = random_bits(n)
    raw = from_fp32(x, "BF16")  # bf16 bits in element order
    padded = np.zeros(2 * ((n + 1) // 2), np.uint16)
    padded[:n] = raw
    wide = split_pairs.widen_bf16(padded, np.empty(len(padded), np.float32))
    want = split_pairs.split(to_fp32(raw, "BF16"), np.empty(len(padded), np.float32))
    assert np.array_equal(wide.view(np.uint32), want.view(np.uint32))
    split_x = split_pairs.split(x, np.empty(n + 1, np.float32))
    for nan_free in (False, True):
        out = np.full(n + 2, 0xABCD, np.uint16)
        split_pairs.round_bf16(split_x, n, np.empty(n + 1, np.uint32), out, nan_free)
        assert np.array_equal(out[:n], from_fp32(x, "BF16"))
        assert out[n] == 0xABCD  # nothing written past n
    for dtype in ("F16", "F32"):
        with np.errstate(over="ignore"):
            got = split_pairs.to_storage(
                split_x, n, dtype, np.empty(n + 1, np.uint32), np.empty(n, np.float32)
            )
            assert np.array_equal(
                got.view(np.uint8), from_fp32(x, dtype).astype(got.dtype).view(np.uint8)
            )


def test_round_keeps_nan_a_nan():
    x = np.array([1.0, np.nan, -np.nan, 2.0, 3.0], np.float32)
    s = split_pairs.split(x, np.empty(6, np.float32))
    out = split_pairs.round_bf16(s, 5, np.empty(6, np.uint32), np.empty(6, np.uint16))
    assert np.array_equal(out, from_fp32(x, "BF16"))


@pytest.mark.parametrize("threshold", [0.0, 1e-45, 0.5, 1.0, 3.4e38, np.inf])
def test_trim_in_place_equals_trim_ge_except_nan(threshold):
    x = random_bits(5000, seed=3)
    thr = np.float32(threshold)
    want, _ = ties.trim_ge(x, thr)
    got = ties.trim_ge_inplace(x.copy(), thr, np.empty(x.size, np.int32))
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    nan = np.array([np.nan, -np.nan, 1.0], np.float32)
    kept = ties.trim_ge_inplace(nan.copy(), np.float32(0.5), np.empty(3, np.int32))
    assert np.isnan(kept[:2]).all()  # documented: NaN is kept, callers detect it


@pytest.mark.parametrize("divisor", [1.0, 2.0, 4.0, 0.25, 3.0, 2.0**-120, 2.0**126])
def test_divide_by_powers_of_two_is_the_same_quotient(divisor):
    x = random_bits(20000, seed=5)
    d = np.float32(divisor)
    with np.errstate(all="ignore"):
        want = x / d
        got = linear.divide(x.copy(), d)
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def test_scratch_names_are_distinct_and_reused():
    s = Scratch()
    a = s.get("a", 100)
    b = s.get("b", 100)
    a[:] = 1
    b[:] = 2
    assert (s.get("a", 50) == 1).all()  # same memory for the same name
    assert s.get("a", 10, np.uint32).ctypes.data == a.ctypes.data
    assert a.ctypes.data % 64 == 0
    grown = s.get("a", 1000)
    assert grown.size == 1000
    assert (s.const("one", 10, 1.0) == 1).all()


def test_read_into_equals_read_rows_and_a_short_read_names_the_file(tmp_path):
    rng = np.random.default_rng(0)
    x = from_fp32(rng.normal(0, 1, (37, 11)).astype(np.float32), "BF16")
    w = SafetensorsWriter(tmp_path, [OutTensor("w", "BF16", x.shape)])
    w.write_rows("w", 0, x)
    w.close()
    path = tmp_path / "model.safetensors"
    info = read_header(path)["w"]
    reader = FileReader()
    try:
        for r0, r1 in [(0, 37), (3, 4), (10, 30)]:
            got = reader.read_into(info, r0 * 11 + 5, np.empty((r1 - r0) * 11 - 5, np.uint16))
            assert np.array_equal(got, x.reshape(-1)[r0 * 11 + 5 : r1 * 11])
            assert np.array_equal(reader.read_rows(info, r0, r1), x[r0:r1])
        os.truncate(path, path.stat().st_size - 100)  # the file shrinks during a merge
        with pytest.raises(InputError, match=r"model\.safetensors: short read of tensor 'w'"):
            reader.read_into(info, 0, np.empty(x.size, np.uint16))
    finally:
        reader.close()


def test_widen_reads_pairs_at_any_address():
    """Tensors need not start on a 4-byte boundary (a bf16 tensor of odd size shifts the next)."""
    raw = from_fp32(random_bits(101, seed=9), "BF16")
    buf = np.zeros(raw.size + 1, np.uint16)
    buf[1:] = raw
    shifted = buf[1:101]  # 2 bytes past an aligned address
    assert shifted.ctypes.data % 4 == 2
    got = split_pairs.widen_bf16(shifted, np.empty(100, np.float32))
    want = split_pairs.widen_bf16(raw[:100].copy(), np.empty(100, np.float32))
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
