"""The local run of the tiny config, shared by the workflow tests (and the SLURM tests' reference)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow.smk import TINY, snakemake


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("tiny")
    snakemake(work, "--cores", "2", "results/all", configfile=TINY)
    return work
