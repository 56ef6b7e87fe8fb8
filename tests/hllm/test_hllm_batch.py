"""The hllm paradigm's evaluation job (several models, test users drawn once) and pooled data."""

from __future__ import annotations

import pandas as pd

from mmgrid.evaluate.settings import settings_from_config as evaluate_settings
from mmgrid.hllm.item_sequences import cases_from_shards, read_catalogue
from mmgrid.hllm.ranking import evaluate_hllm
from mmgrid.paradigms import PARADIGMS
from mmgrid.paradigms.hllm import HllmBatchJob, HllmDomainFiles
from mmgrid.paradigms.protocol import ModelToEvaluate
from mmgrid.samples.targets import evaluation_users_seed
from tests.hllm.conftest import quiet
from tests.hllm.world import DOMAIN, HLLM, period


def test_batch_job_equals_one_model_at_a_time(world, pretrain_cell, phase1_cell, tmp_path):
    test = period("test")
    job = HllmBatchJob(
        settings=evaluate_settings({"k": [5, 10], "device": "cpu"}),
        seed=7,
        hllm=HLLM,
        test_period=test,
        max_users=40,
        domains={
            DOMAIN: HllmDomainFiles(tuple(str(p) for p in world.shards.values()), str(world.items))
        },
        models=tuple(
            ModelToEvaluate(str(cell), (DOMAIN,), str(tmp_path / name))
            for name, cell in (("pretrain", pretrain_cell[0]), ("phase1", phase1_cell[0]))
        ),
    )
    PARADIGMS["hllm"].evaluate(job.to_params(), threads=1, log=quiet)
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
