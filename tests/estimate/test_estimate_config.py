"""The config as Snakemake builds it: config.yaml of the working directory, then --configfile."""

from __future__ import annotations

import pytest
import yaml

from mmgrid.errors import InputError
from mmgrid.study import Study
from mmgrid.study.config import run_config_files
from tests.workflow.smk import ROOT


def test_configfiles_merge_deeply_over_the_working_directorys_config(tmp_path):
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    over = tmp_path / "over.yaml"
    merges = {"cross_domain": {"sets": [["Books", "Video_Games"]]}}
    over.write_text(
        yaml.safe_dump(
            {"train": {"epochs": 5}, "domains": ["Books", "Video_Games"], "merges": merges}
        )
    )
    files = run_config_files(tmp_path, [over])
    assert files == [tmp_path / "config.yaml", over]
    config = Study.from_config_files(files).config
    assert config["train"]["epochs"] == 5
    assert config["train"]["lr"] == 2.0e-3  # kept from config.yaml
    assert config["domains"] == ["Books", "Video_Games"]
    assert config["test_period"] == "test"  # a schema default


def test_without_config_yaml_only_the_configfiles_count(tmp_path):
    tiny = ROOT / "tests" / "config.tiny.yaml"
    assert run_config_files(tmp_path, [tiny]) == [tiny]
    with pytest.raises(InputError, match="pass --configfile"):
        run_config_files(tmp_path, [])
    with pytest.raises(InputError, match="does not exist"):
        run_config_files(tmp_path, [tmp_path / "missing.yaml"])
