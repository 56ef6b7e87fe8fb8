"""The config as Snakemake builds it: config.yaml of the working directory, then --configfile."""

from __future__ import annotations

import pytest
import yaml

from mmgrid.errors import InputError
from mmgrid.estimate.workflow_config import find_workflow, load_config
from tests.workflow.smk import ROOT


def test_configfiles_merge_deeply_over_the_working_directorys_config(tmp_path):
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    over = tmp_path / "over.yaml"
    over.write_text(yaml.safe_dump({"train": {"epochs": 5}, "domains": ["Books", "Video_Games"]}))
    config = load_config([over], tmp_path, find_workflow())
    assert config["train"]["epochs"] == 5
    assert config["train"]["lr"] == 2.0e-3  # kept from config.yaml
    assert config["domains"] == ["Books", "Video_Games"]
    assert config["test_period"] == "test"  # a schema default


def test_without_config_yaml_only_the_configfiles_count(tmp_path):
    config = load_config([ROOT / "tests" / "config.tiny.yaml"], tmp_path, find_workflow())
    assert "sets" not in config["merges"]["cross_domain"]  # config.yaml was not read
    with pytest.raises(InputError, match="pass --configfile"):
        load_config([], tmp_path, find_workflow())
    with pytest.raises(InputError, match="does not exist"):
        load_config([tmp_path / "missing.yaml"], tmp_path, find_workflow())
    with pytest.raises(InputError, match="no Snakefile"):
        find_workflow(tmp_path)
