"""Vocabulary rows: semantic-ID rows beyond the reference, copied from an input or merged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from merge_fixtures import random_state, read_output, write_checkpoint
from merge_naive import deltas, ties

from mmgrid.errors import InputError
from mmgrid.merge import merge

VOCAB_TENSORS = ("model.embed_tokens.weight", "lm_head.weight")


@pytest.fixture()
def grid(tmp_path):
    base = random_state(0)  # 40 rows: no semantic-ID tokens
    cell_a = random_state(1, base, vocab=48)
    cell_b = random_state(2, base, vocab=48)
    return {
        "base": base,
        "a": cell_a,
        "b": cell_b,
        "paths": {
            k: write_checkpoint(tmp_path / k, v)
            for k, v in {"base": base, "a": cell_a, "b": cell_b}.items()
        },
    }


def spec(grid, **extra):
    p = grid["paths"]
    out = {
        "method": "ties",
        "options": {"density": 0.3},
        "inputs": [
            {"name": "a", "path": str(p["a"]), "weight": 0.6},
            {"name": "b", "path": str(p["b"]), "weight": 0.4},
        ],
        "reference": str(p["base"]),
        "target": str(p["a"]),
    }
    out.update(extra)
    return out


def padded_reference(grid):
    """Reference rows beyond its vocabulary read as the target's rows."""
    ref = dict(grid["base"])
    for n in VOCAB_TENSORS:
        ref[n] = np.concatenate([ref[n], grid["a"][n][40:]])
    return ref


@pytest.mark.parametrize("rows", ["beyond_reference", [40, None], [40, 48]])
def test_rows_from_named_input(tmp_path, grid, rows):
    merge(
        spec(grid, vocab_rows={"rows": rows, "source": "a"}),
        tmp_path / "out",
        chunk_elems=50,
        checksums=False,
    )
    got = read_output(tmp_path / "out")
    ref = padded_reference(grid)
    want = ties(grid["a"], deltas([grid["a"], grid["b"]], ref), [0.6, 0.4], density=0.3)
    for n in VOCAB_TENSORS:
        want[n][40:] = grid["a"][n][40:]
    for n, v in want.items():
        assert torch.equal(got[n], torch.from_numpy(v).to(torch.bfloat16)), n
    assert torch.equal(
        got["lm_head.weight"][40:].float(), torch.from_numpy(grid["a"]["lm_head.weight"][40:])
    )


def test_rows_merged_like_others(tmp_path, grid):
    merge(spec(grid), tmp_path / "out", checksums=False)
    got = read_output(tmp_path / "out")
    want = ties(
        grid["a"], deltas([grid["a"], grid["b"]], padded_reference(grid)), [0.6, 0.4], density=0.3
    )
    for n, v in want.items():
        assert torch.equal(got[n], torch.from_numpy(v).to(torch.bfloat16)), n


def test_missing_rows_can_be_an_error(tmp_path, grid):
    with pytest.raises(
        InputError, match=r"weight. of reference has 40 vocabulary rows, the target has 48"
    ):
        merge(spec(grid, vocab_rows={"missing": "error"}), tmp_path / "out")


def test_input_with_more_rows_than_target_fails(tmp_path, grid):
    s = spec(grid, target=str(grid["paths"]["base"]))
    with pytest.raises(InputError, match=r"shape \[48, 16\].*\[40, 16\]"):
        merge(s, tmp_path / "out")


def test_source_must_cover_rows(tmp_path, grid):
    s = spec(grid, vocab_rows={"rows": [30, 48], "source": "a"})
    s["inputs"][0]["path"] = str(grid["paths"]["base"])
    s["target"] = str(grid["paths"]["b"])
    with pytest.raises(InputError, match="has only 40 rows"):
        merge(s, tmp_path / "out")
