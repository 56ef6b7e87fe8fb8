"""`mmgrid estimate` on the command line: bad input exits 2 with a message naming it."""

from __future__ import annotations

from mmgrid.cli import build_parser, main


def test_estimate_parses_its_options():
    args = build_parser().parse_args(
        ["estimate", "--configfile", "a.yaml", "b.yaml", "--csv", "out.csv", "--max-samples", "9"]
    )
    assert (args.configfile, args.csv, args.max_samples) == (["a.yaml", "b.yaml"], "out.csv", 9)
    assert (args.directory, args.no_ingest, args.device_kind) == (".", False, None)


def test_bad_input_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert main(["estimate", "--configfile", str(missing), "--directory", str(tmp_path)]) == 2
    assert f"config file {missing} does not exist" in capsys.readouterr().err
    args = ["estimate", "--directory", str(tmp_path), "--max-samples", "0"]
    assert main(args) == 2
    assert "--max-samples must be >= 1" in capsys.readouterr().err
    assert main(["estimate", "--directory", str(tmp_path)]) == 2
    assert "pass --configfile" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
