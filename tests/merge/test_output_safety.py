"""`mmgrid merge SPEC OUT_DIR` never destroys what is at OUT_DIR: its inputs, a directory that
is not a previous merge output, a file; OS errors are one line naming the path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from merge_fixtures import random_state, write_checkpoint

from mmgrid.cli import main


@pytest.fixture()
def models(tmp_path) -> Path:
    """``d/models/{a,b}`` (two checkpoints) and a README next to them, and ``s.yaml``."""
    models = tmp_path / "d" / "models"
    base = random_state(0)
    write_checkpoint(models / "a", random_state(1, base))
    write_checkpoint(models / "b", random_state(2, base))
    (models / "README.txt").write_text("keep me")
    (tmp_path / "s.yaml").write_text(
        "method: linear\ninputs:\n  - {name: a, path: d/models/a}\n  - {name: b, path: d/models/b}\n"
    )
    return models


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def merge_cli(tmp_path: Path, out: str | Path, *extra: str) -> int:
    return main(["merge", str(tmp_path / "s.yaml"), str(out), *extra])


def test_out_dir_holding_the_inputs_is_refused_and_untouched(models, tmp_path, capsys):
    before = tree(models)
    assert merge_cli(tmp_path, models) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the output contains the input" in err and str(models) in err
    assert tree(models) == before
    assert merge_cli(tmp_path, models, "--overwrite") == 2  # never, even with --overwrite
    assert tree(models) == before


@pytest.mark.parametrize("where", ["d/models/a", "d/models/a/merged", "d"])
def test_out_dir_that_is_or_lies_inside_or_contains_an_input_is_refused(
    models, tmp_path, capsys, where
):
    before = tree(tmp_path / "d")
    assert merge_cli(tmp_path, tmp_path / where) == 2
    assert "input" in capsys.readouterr().err
    assert tree(tmp_path / "d") == before


def test_a_symlink_to_an_input_is_seen_through(models, tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(models / "a")
    assert merge_cli(tmp_path, link) == 2
    assert "the output is the input" in capsys.readouterr().err
    assert (models / "a" / "model.safetensors").is_file()


def test_a_file_at_out_dir_is_neither_replaced_nor_moved(models, tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    assert merge_cli(tmp_path, target) == 2
    assert "is a file" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "notes.txt", "s.yaml"]


def test_a_non_empty_directory_needs_overwrite_unless_it_is_a_previous_merge(
    models, tmp_path, capsys
):
    grid = tmp_path / "results" / "checkpoints"  # the typo that would wipe the grid
    (grid / "title").mkdir(parents=True)
    (grid / "title" / "cell.txt").write_text("hours of training")
    assert merge_cli(tmp_path, grid) == 2
    err = capsys.readouterr().err
    assert "is not a previous output (it has no merge.json)" in err and "--overwrite" in err
    assert (grid / "title" / "cell.txt").read_text() == "hours of training"

    out = tmp_path / "merged"
    assert merge_cli(tmp_path, out) == 0
    first = tree(out)
    assert merge_cli(tmp_path, out) == 0  # a previous merge output is replaced
    assert tree(out).keys() == first.keys()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert merge_cli(tmp_path, empty) == 0  # an empty directory is fine

    assert merge_cli(tmp_path, grid, "--overwrite") == 0
    assert "merge.json" in tree(grid) and "title/cell.txt" not in tree(grid)
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary left anywhere


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.ENOSPC, "No space left"), (errno.EACCES, "Permission denied")]
)
def test_disk_full_and_permission_errors_are_one_line_naming_the_path(
    models, tmp_path, capsys, monkeypatch, code, reason
):
    def fail(*_args, **_kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "pwrite", fail)
    out = tmp_path / "out"
    assert merge_cli(tmp_path, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"error: {out}: {os.strerror(code)}" and reason in err[-1]
    assert "Traceback" not in "".join(err)
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_permission_error_with_a_file_name_names_that_file(models, tmp_path, capsys, monkeypatch):
    def fail(path, *_args, **_kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(os, "mkdir", fail)
    assert merge_cli(tmp_path, tmp_path / "out") == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"error: {tmp_path}/.mmgrid-tmp.") and "Permission denied" in last
