"""The workflow's HLLM evaluation job (several models, test users drawn once) and pooled data."""

from __future__ import annotations

import dataclasses

import pandas as pd

from mmgrid.hllm.batch import evaluate_hllm_batch
from mmgrid.hllm.item_sequences import cases_from_shards, read_catalogue
from mmgrid.hllm.ranking import evaluate_hllm
from mmgrid.samples.targets import evaluation_users_seed
from tests.hllm.conftest import quiet
from tests.hllm.world import DOMAIN, HLLM, period


def test_batch_job_equals_one_model_at_a_time(world, pretrain_cell, phase1_cell, tmp_path):
    test = period("test")
    job = {
        "paradigm": "hllm",
        "settings": {"k": [5, 10], "device": "cpu"},
        "seed": 7,
        "hllm": dataclasses.asdict(HLLM),
        "test_period": dataclasses.asdict(test),
        "max_users": 40,
        "domains": {
            DOMAIN: {"shards": [str(p) for p in world.shards.values()], "item_table": world.items}
        },
        "models": [
            {"path": str(cell), "domains": [DOMAIN], "out": str(tmp_path / name)}
            for name, cell in (("pretrain", pretrain_cell[0]), ("phase1", phase1_cell[0]))
        ],
    }
    evaluate_hllm_batch(job, log=quiet)
    # the test users of every paradigm's samples file
    cases = cases_from_shards(
        list(world.shards.values()),
        test,
        max_users=40,
        max_history=HLLM.max_items,
        seed=evaluation_users_seed(7, DOMAIN, test.name),
    )
    assert len(cases) == 40
    for name, cell in (("pretrain", pretrain_cell[0]), ("phase1", phase1_cell[0])):
        evaluate_hllm(
            cell, DOMAIN, cases, world.items, tmp_path / f"{name}-single", k=(5, 10), seed=7,
            settings=HLLM, device="cpu", log=quiet,
        )  # fmt: skip
        for suffix in (".json", ".ranks.parquet"):
            batch = (tmp_path / name / f"{DOMAIN}{suffix}").read_bytes()
            assert batch == (tmp_path / f"{name}-single" / f"{DOMAIN}{suffix}").read_bytes()


def test_pooled_catalogue_is_the_union_of_the_domains(world, tmp_path):
    items = pd.read_parquet(world.items)
    other = items.head(5).copy()  # shared ids keep their first row
    other.loc[:, "title"] = "changed"
    extra = items.head(2).assign(item_id=["X1", "X2"])
    second = tmp_path / "other.parquet"
    pd.concat([other, extra]).to_parquet(second)
    pooled = read_catalogue([world.items, second])
    assert pooled.item_ids == [*items["item_id"], "X1", "X2"]
    assert pooled.titles[:5] == items["title"].str.strip().head(5).tolist()
    assert read_catalogue(world.items).item_ids == items["item_id"].tolist()
