"""`mmgrid verify`: every artefact of the manifest present and unchanged, else the command that
rebuilds it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mmgrid.cli import main
from mmgrid.manifest import write_manifest


@pytest.fixture()
def run(tmp_path) -> Path:
    """A working directory with a directory output, a file output and their manifest."""
    cell = tmp_path / "results/checkpoints/title/Books/phase1"
    cell.mkdir(parents=True)
    (cell / "model.safetensors").write_bytes(b"weights" * 100)
    (cell / "config.json").write_text("{}")
    table = tmp_path / "results/tables/cells.csv"
    table.parent.mkdir(parents=True)
    table.write_text("model,ndcg\nBooks-phase1,0.1\n")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        outputs = ["results/checkpoints/title/Books/phase1", "results/tables/cells.csv"]
        write_manifest(Path("results/all"), outputs, {"seed": 0}, tmp_path)
    finally:
        os.chdir(cwd)
    return tmp_path


def verify(run: Path, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["verify", "--directory", str(run), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_intact_run_verifies(run, capsys):
    manifest = json.loads((run / "results/all").read_text())
    assert manifest["outputs"] == [
        "results/checkpoints/title/Books/phase1",
        "results/tables/cells.csv",
    ]
    code, out, _ = verify(run, capsys)
    assert code == 0 and "all 3 artefacts of results/all are present and unchanged" in out


def test_missing_and_changed_files_are_reported_with_the_rebuild_command(run, capsys):
    weights = run / "results/checkpoints/title/Books/phase1/model.safetensors"
    weights.write_bytes(b"Weights" * 100)  # same size, other bytes
    (run / "results/tables/cells.csv").unlink()
    code, out, _ = verify(run, capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "changed (SHA-256 differs from the manifest): "
        "results/checkpoints/title/Books/phase1/model.safetensors"
    )
    assert lines[1] == (
        "  rebuild: snakemake all --cores all --forcerun results/checkpoints/title/Books/phase1"
    )
    assert "missing: results/tables/cells.csv" in lines
    assert lines[-2] == (
        "rebuild all of them: snakemake all --cores all --forcerun "
        "results/checkpoints/title/Books/phase1 results/tables/cells.csv"
    )
    assert verify(run, capsys, "--no-checksums")[1].count("rebuild:") == 1  # sizes only


def test_a_deleted_directory_output_is_one_problem(run, capsys):
    shutil.rmtree(run / "results/checkpoints/title/Books/phase1")
    code, out, _ = verify(run, capsys)
    assert code == 1
    assert out.splitlines()[:2] == [
        "missing: results/checkpoints/title/Books/phase1",
        "  rebuild: snakemake all --cores all --forcerun results/checkpoints/title/Books/phase1",
    ]
    (run / "results/checkpoints/title/Books/phase1").mkdir()
    (run / "results/checkpoints/title/Books/phase1/config.json").write_text("{}")
    code, out, _ = verify(run, capsys)
    assert "missing: results/checkpoints/title/Books/phase1/model.safetensors" in out


def test_an_unreadable_manifest_exits_2(tmp_path, capsys):
    code, _, err = verify(tmp_path, capsys)
    assert code == 2 and "results/all: no manifest here" in err
    (tmp_path / "results").mkdir()
    (tmp_path / "results/all").write_text('{"artefacts": [')
    code, _, err = verify(tmp_path, capsys)
    assert code == 2 and "not a manifest" in err and "snakemake all" in err
