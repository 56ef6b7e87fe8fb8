"""Atomic outputs appear whole or not at all, with the usual permissions."""

from __future__ import annotations

import os

import pytest

from mmgrid.atomic import atomic_dir, atomic_path, atomic_paths, write_json


def test_atomic_path_renames_on_success_with_umask_permissions(tmp_path):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"b": 1, "a": 2})
    assert target.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.name.endswith(".parquet")
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_replaces_whole_directory(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as d:
        (d / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as d:
        (d / "b").write_text("2")
        raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    with atomic_dir(target) as d:
        (d / "c").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_paths_renames_all_or_nothing(tmp_path):
    finals = [tmp_path / "a.txt", tmp_path / "b" / "c.txt"]
    with pytest.raises(RuntimeError), atomic_paths(finals) as tmps:
        tmps[0].write_text("1")
        raise RuntimeError("boom")
    assert not any(p.exists() for p in finals)
    with atomic_paths(finals) as tmps:
        for t, text in zip(tmps, "12", strict=True):
            t.write_text(text)
        assert not any(p.exists() for p in finals)
    assert [p.read_text() for p in finals] == ["1", "2"]
