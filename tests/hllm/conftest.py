"""Session fixtures: the tiny world, the HLLM built from its base, a pretrain cell (full
fine-tuning) and a phase1 cell (LoRA) chained on it, and the test cases."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mmgrid.hllm.item_sequences import EvalCases, cases_from_shards
from tests.conftest import one_thread
from tests.hllm.world import HLLM, TRAIN, World, build_world, period


def quiet(_: str) -> None:
    """A log sink."""


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("hllm"))


@pytest.fixture(scope="session")
def hllm_base(world: World) -> Path:
    from mmgrid.hllm import build_hllm_base

    out = world.root / "checkpoints" / "base"
    with one_thread():
        build_hllm_base(world.base_llm, out, HLLM, seed=1, log=quiet)
    return out


@pytest.fixture(scope="session")
def pretrain_cell(world: World, hllm_base: Path) -> tuple[Path, dict]:
    from mmgrid.hllm import train_hllm_cell

    out = world.root / "checkpoints" / "pretrain"
    with one_thread():
        result = train_hllm_cell(
            hllm_base,
            [world.shards["pretrain"]],
            world.items,
            period("pretrain"),
            out,
            TRAIN,
            HLLM,
            seed=2,
            log=quiet,
            progress=False,
        )
    return out, result


@pytest.fixture(scope="session")
def phase1_cell(world: World, pretrain_cell: tuple[Path, dict]) -> tuple[Path, dict]:
    from mmgrid.hllm import train_hllm_cell

    out = world.root / "checkpoints" / "phase1"
    with one_thread():
        result = train_hllm_cell(
            pretrain_cell[0],
            [world.shards["pretrain"], world.shards["phase1"]],
            world.items,
            period("phase1"),
            out,
            dataclasses.replace(TRAIN, adapter="lora"),
            HLLM,
            seed=3,
            log=quiet,
            progress=False,
        )
    return out, result


@pytest.fixture(scope="session")
def cases(world: World) -> EvalCases:
    return cases_from_shards(
        list(world.shards.values()),
        period("test"),
        max_users=1000,
        max_history=HLLM.max_items,
        seed=0,
    )
