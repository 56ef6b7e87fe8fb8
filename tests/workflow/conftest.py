"""The tiny run that the workflow test modules share (one run per session: it takes minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflow.smk import TINY, snakemake


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("tiny")
    snakemake(work, "--cores", "2", "all", configfile=TINY)
    return work
