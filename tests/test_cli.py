"""The top-level command line dispatches to the merge engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mmgrid.cli import build_parser, main


def test_merge_subcommand_parses_engine_options():
    args = build_parser().parse_args(["merge", "spec.yaml", "out", "--threads", "2", "--check"])
    assert (args.spec, args.out_dir, args.threads, args.check) == ("spec.yaml", "out", 2, True)


def test_bad_spec_exits_2_with_a_message(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("method: linear\ninputs: [{name: a, path: a}]\nbogus: 1\n")
    assert main(["merge", str(spec), str(tmp_path / "out")]) == 2
    assert "bogus" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("mmgrid")
    if not exe.exists():
        pytest.skip("package not installed in this environment")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("mmgrid ")
