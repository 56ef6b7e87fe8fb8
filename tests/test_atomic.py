"""Atomic outputs appear whole or not at all, with the usual permissions."""

from __future__ import annotations

import os
import tempfile

import pytest

from mmgrid.atomic import (
    OutputError,
    atomic_dir,
    atomic_path,
    atomic_paths,
    check_output,
    write_json,
)


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
    with atomic_dir(target, marker="done") as d:
        (d / "done").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target, marker="done") as d:
        (d / "b").write_text("2")
        raise RuntimeError("boom")
    assert sorted(p.name for p in target.iterdir()) == ["done"]
    with atomic_dir(target, marker="done") as d:
        (d / "c").write_text("3")
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_atomic_dir_files_get_the_usual_permissions(tmp_path):
    """Writers that create files with mkstemp (safetensors via transformers) leave 0600."""
    target = tmp_path / "model"
    with atomic_dir(target) as d:
        fd, name = tempfile.mkstemp(dir=d)
        os.close(fd)
        os.rename(name, d / "model.safetensors")
        (d / "sub").mkdir(mode=0o700)
    mask = os.umask(0)
    os.umask(mask)
    assert (target / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~mask
    assert (target / "sub").stat().st_mode & 0o777 == 0o777 & ~mask
    assert target.stat().st_mode & 0o777 == 0o777 & ~mask


def test_a_directory_that_is_not_a_previous_output_is_refused(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    refused = r"out: is not empty and is not a previous output \(it has no merge\.json\)"
    with pytest.raises(OutputError, match=refused), atomic_dir(target, marker="merge.json"):
        pytest.fail("the block must not run")
    assert (target / "notes.txt").read_text() == "mine"
    with atomic_dir(target, overwrite=True) as d:
        (d / "merge.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["merge.json"]


def test_a_file_never_replaces_a_directory_nor_a_directory_a_file(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("mine")
    with pytest.raises(OutputError, match="is a directory, and a file would replace it"):
        write_json(tmp_path / "d", {})
    refused = "is a file, and a directory would replace it"
    with pytest.raises(OutputError, match=refused), atomic_dir(tmp_path / "f", overwrite=True):
        pass
    assert (tmp_path / "f").read_text() == "mine" and (tmp_path / "d").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "f"]


@pytest.mark.parametrize(
    ("out", "relation"),
    [("in", "is"), ("in/sub", "lies inside"), (".", "contains"), ("link", "is")],
)
def test_an_output_is_never_an_input_nor_around_one(tmp_path, out, relation):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x").write_text("input")
    (tmp_path / "link").symlink_to(tmp_path / "in")
    with pytest.raises(OutputError, match=f"the output {relation} the input"):
        check_output(tmp_path / out, directory=True, inputs=[tmp_path / "in"], overwrite=True)
    with pytest.raises(OutputError, match="the output is the input"):
        check_output(tmp_path / "in" / "x", directory=False, inputs=[tmp_path / "link" / "x"])


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
