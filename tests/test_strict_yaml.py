"""Config files and merge specs: duplicate keys fail, and YAML errors name the file and line."""

from __future__ import annotations

import pytest

from mmgrid.cli import main
from mmgrid.errors import InputError
from mmgrid.strict_yaml import load_yaml, load_yaml_text


def test_duplicate_keys_fail_naming_both_lines():
    with pytest.raises(
        InputError, match=r"f\.yaml, line 4, column 3: duplicate key 'lr' \(first on line 2\)"
    ):
        load_yaml_text("train:\n  lr: 0.1\n  epochs: 2\n  lr: 0.2\n", "f.yaml")
    with pytest.raises(InputError, match=r"line 3, column 1: duplicate key 'seed'"):
        load_yaml_text("seed: 0\ndomains: [Books]\nseed: 1\n", "f.yaml")


def test_syntax_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("domains: [Books\nseed: 0\n")
    with pytest.raises(InputError, match=rf"{bad}, line 2, column 5: .*expected ',' or ']'"):
        load_yaml(bad)
    with pytest.raises(InputError, match=r"nope\.yaml: config file not found"):
        load_yaml(tmp_path / "nope.yaml", "config file")


def test_merge_keys_and_plain_yaml_still_load():
    text = "base: &b {lr: 1, epochs: 2}\ncell:\n  <<: *b\n  lr: 3\nlist: [1, 2]\n"
    assert load_yaml_text(text, "f") == {
        "base": {"lr": 1, "epochs": 2},
        "cell": {"lr": 3, "epochs": 2},
        "list": [1, 2],
    }


def test_merge_spec_with_a_duplicate_key_exits_2_naming_the_line(tmp_path, capsys):
    spec = tmp_path / "s.yaml"
    spec.write_text("method: linear\nmethod: ties\ninputs: []\n")
    assert main(["merge", str(spec), str(tmp_path / "out")]) == 2
    assert f"{spec}, line 2, column 1: duplicate key 'method'" in capsys.readouterr().err
