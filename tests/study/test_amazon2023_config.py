"""configs/amazon2023_qwen3.yaml resolves to the study's protocol (docs/study_protocol.md)."""

from __future__ import annotations

from pathlib import Path

import yaml
from snakemake.utils import validate

from mmgrid.hllm.settings import settings_from_config as hllm_settings
from mmgrid.items.settings import settings_from_config as index_settings
from mmgrid.merge.methods import METHODS
from mmgrid.samples.settings import settings_from_config as samples_settings
from mmgrid.study.layout import Layout
from mmgrid.study.merges import merge_jobs
from mmgrid.train.settings import cell_settings

ROOT = Path(__file__).resolve().parents[2]
PERIODS = ["pretrain", "phase1", "phase2"]


def study_config() -> dict:
    """The study config with the schema's defaults filled in, as the workflow sees it."""
    config = yaml.safe_load((ROOT / "configs" / "amazon2023_qwen3.yaml").read_text())
    validate(config, str(ROOT / "schemas" / "config.schema.yaml"))
    return config


def test_study_config_trains_as_the_study():
    config = study_config()
    title = cell_settings(config["train"], "title", "Books", "phase1")
    assert (title.betas, title.weight_decay, title.weight_decay_scope) == (
        (0.9, 0.999),
        0.01,
        "all",
    )
    assert (title.precision, title.order, title.lr, title.epochs) == (
        "bf16",
        "chronological",
        1e-5,
        2,
    )
    hllm = cell_settings(config["train"], "hllm", "Books", "pretrain")
    assert (hllm.order, hllm.precision, hllm.weight_decay, hllm.lr) == (
        "shuffled",
        "fp32_master",
        0.001,
        1e-4,
    )
    assert hllm_settings(config["hllm"]).eval_all_users


def test_study_config_data_and_items_as_the_study():
    config = study_config()
    data = config["data"]
    assert (data["kcore_mode"], data["meta_text"], data["description_max_tokens"]) == (
        "study",
        "study",
        64,
    )
    index = index_settings(config["index"])
    assert index.encoder == "models/Qwen3-Embedding-0.6B"
    assert index.instruction == "Compress the following sentence into embedding.\n"
    assert samples_settings(config["samples"]).prompt_wording == "study"


def test_study_config_merges_as_the_study():
    """configs/amazon2023_qwen3.yaml (schema defaults filled): TIES and mask merging weight the
    pair [0.5, 0.5], the study's task_arithmetic is the extrapolation with alpha 0.05, classic
    task arithmetic is not scheduled, semid ID rows follow the study."""
    config = study_config()
    jobs = merge_jobs(config, Layout(), PERIODS, config["domains"])
    cross = [j for j in jobs if j.kind == "cross_domain"]
    assert {j.method for j in cross} == {"linear", "extrapolate", "ties", "mask_merging"}
    for job in cross:
        weights = [w for _, _, w in job.inputs]
        if job.method in ("ties", "mask_merging"):
            assert weights == [0.5, 0.5], job.name
        else:
            assert weights == [1.0, 1.0], job.name
        if job.method == "extrapolate":
            options = METHODS[job.method].parse_options(job.options, "options", "test")
            assert (options.strategy, options.alpha) == ("linear_velocity", 0.05)
            assert job.inputs[0][0] == job.source  # result: other + 0.05 (other - source)
        if job.paradigm == "semid":
            assert job.sid_rows_from == (None if job.method == "linear" else job.source)
    temporal = [j for j in jobs if j.kind == "temporal" and j.paradigm == "semid"]
    assert temporal and all(j.sid_rows_from == "phase1" for j in temporal)
