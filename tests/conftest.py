"""Shared fixtures: one torch thread per test, a small four-topic catalogue, one tiny base built from it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from mmgrid.models.settings import BaseSettings, settings_from_config
from tests.models.catalog import write_catalog

TINY_BASE = {
    "tokenizer": {"vocab_size": 800},
    "model": {"max_position_embeddings": 128},
    "pretrain": {
        "epochs": 6,
        "lr": 3.0e-3,
        "batch_size": 8,
        "max_length": 64,
        "heldout_fraction": 0.1,
    },
}


@contextmanager
def one_thread() -> Iterator[None]:
    """Tiny models train fastest, and least disturbed by other load, on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with one_thread():
        yield


@pytest.fixture(scope="session")
def catalog_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_catalog(tmp_path_factory.mktemp("items"), n_per_domain=80)


@pytest.fixture(scope="session")
def tiny_settings() -> BaseSettings:
    return settings_from_config(TINY_BASE)


@pytest.fixture(scope="session")
def built_base(
    catalog_paths: list[Path], tiny_settings: BaseSettings, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict]:
    from mmgrid.train.base_llm import build_base

    out = tmp_path_factory.mktemp("base") / "base"
    with one_thread():
        summary = build_base(
            catalog_paths, out, tiny_settings, seed=7, log=lambda _: None, progress=False
        )
    return out, summary
