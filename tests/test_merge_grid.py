"""The study's merge specs from config: names, inputs, references, and the engine specs."""

from __future__ import annotations

import json

import pytest

from mmgrid.errors import InputError
from mmgrid.merge_grid import engine_spec, merge_jobs, semantic_id_rows

PERIODS = ["pretrain", "phase1", "phase2"]
DOMAINS = ["Books", "Games", "Phones"]


def config(**merges):
    return {
        "paradigms": ["title", "semid"],
        "periods": {p: [] for p in [*PERIODS, "test"]},
        "base": {"path": None},
        "merges": merges,
    }


CROSS = {"period": "phase2", "methods": ["linear", "ties"], "references": ["base", "pooled"]}
TEMPORAL = {"periods": ["phase1", "phase2"], "method": "linear", "weights": [0.0, 0.3, 1.0]}


def test_cross_domain_jobs_by_hand():
    jobs = merge_jobs(
        config(cross_domain={**CROSS, "sets": [["Games", "Books"]]}), PERIODS, DOMAINS
    )
    title = {j.name: j for j in jobs if j.paradigm == "title"}
    assert sorted(title) == [
        "cross-phase2-Books+Games-linear",
        "cross-phase2-Books+Games-ties-ref_base",
        "cross-phase2-Books+Games-ties-ref_pooled",
    ]
    ties = title["cross-phase2-Books+Games-ties-ref_pooled"]
    assert ties.reference == "results/checkpoints/title/pooled/pretrain"
    assert [i[1] for i in ties.inputs] == [
        "results/checkpoints/title/Books/phase2",
        "results/checkpoints/title/Games/phase2",
    ]
    assert ties.domains == ("Books", "Games")
    assert title["cross-phase2-Books+Games-ties-ref_base"].reference == "results/base/llm"
    semid = [j for j in jobs if j.paradigm == "semid"]
    assert len(semid) == 2 * 3  # one model per evaluated (source) domain
    base = next(j for j in semid if j.name.endswith("ties-ref_base-src_Games"))
    assert (base.reference, base.source, base.domains) == (
        "results/base/semid",
        "Games",
        ("Games",),
    )
    assert base.params()["keep_source_sid_rows"]


def test_default_sets_are_all_pairs_and_temporal_weights():
    jobs = merge_jobs(config(cross_domain=CROSS, temporal=TEMPORAL), PERIODS, DOMAINS)
    title = [j for j in jobs if j.paradigm == "title"]
    assert sum(j.kind == "cross_domain" for j in title) == 3 * 3  # 3 pairs x (linear + 2 ties)
    temporal = [j for j in title if j.kind == "temporal"]
    assert len(temporal) == 3 * 3
    job = next(j for j in temporal if j.name == "temporal-Books-phase1+phase2-linear-w0.30")
    assert [(n, w) for n, _, w in job.inputs] == [("phase1", 0.7), ("phase2", 0.3)]
    assert not job.params()["keep_source_sid_rows"]


def test_temporal_reference_can_be_a_period_and_weights_per_domain():
    section = {**TEMPORAL, "method": "ties", "reference": "pretrain"}
    section["domains"] = {"Books": {"weights": [0.5]}}
    jobs = [
        j for j in merge_jobs(config(temporal=section), PERIODS, DOMAINS) if j.paradigm == "title"
    ]
    books = [j for j in jobs if j.source == "Books"]
    assert [j.name for j in books] == ["temporal-Books-phase1+phase2-ties-w0.50-ref_pretrain"]
    assert books[0].reference == "results/checkpoints/title/Books/pretrain"
    assert len(jobs) == 1 + 2 * 3


@pytest.mark.parametrize(
    ("merges", "message"),
    [
        ({"cross_domain": {**CROSS, "period": "test"}}, "not a training period"),
        ({"cross_domain": {**CROSS, "sets": [["Books", "Toys"]]}}, "Toys is not one"),
        ({"cross_domain": {**CROSS, "sets": [["Books"]]}}, ">= 2 configured domains"),
        ({"cross_domain": {**CROSS, "references": ["nope"]}}, "unknown reference 'nope'"),
        ({"temporal": {**TEMPORAL, "weights": [1.5]}}, r"weights: 1.5 is not a number in \[0, 1\]"),
        ({"temporal": {**TEMPORAL, "domains": {"Toys": {}}}}, "temporal.domains.Toys"),
    ],
)
def test_bad_merge_config_names_the_key(merges, message):
    with pytest.raises(InputError, match=message):
        merge_jobs(config(**merges), PERIODS, DOMAINS)


def test_engine_spec_keeps_source_rows_and_sets_reference_and_target():
    job = next(
        j
        for j in merge_jobs(config(cross_domain=CROSS), PERIODS, DOMAINS)
        if j.name == "cross-phase2-Books+Games-ties-ref_pooled-src_Games"
    )
    spec = engine_spec(job.params(), (100, 196))
    assert spec["reference"] == spec["target"] == "results/checkpoints/semid/pooled/pretrain"
    assert spec["vocab_rows"] == {"rows": [100, 196], "source": "Games"}
    assert spec["copy_files_from"] == "Games"
    assert [i["weight"] for i in spec["inputs"]] == [1.0, 1.0]


def test_semantic_id_rows_from_tokenizer(tmp_path):
    added = [{"id": 3, "content": "<|im_end|>"}] + [
        {"id": 10 + i, "content": f"<{'ab'[i // 4]}_{i % 4}>"} for i in range(8)
    ]
    (tmp_path / "tokenizer.json").write_text(json.dumps({"added_tokens": added}))
    assert semantic_id_rows(tmp_path) == (10, 18)
    added[-1]["id"] = 40
    (tmp_path / "tokenizer.json").write_text(json.dumps({"added_tokens": added}))
    with pytest.raises(InputError, match="contiguous"):
        semantic_id_rows(tmp_path)
