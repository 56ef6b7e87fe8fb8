"""The study's merge specs from config: names, inputs, references, and the engine specs."""

from __future__ import annotations

import pytest

from mmgrid.errors import InputError
from mmgrid.study.layout import Layout
from mmgrid.study.merges import merge_jobs

LAYOUT = Layout()
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
        config(cross_domain={**CROSS, "sets": [["Games", "Books"]]}), LAYOUT, PERIODS, DOMAINS
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
    assert base.params(1).sid_rows_from == "Games"
    assert [w for _, _, w in base.inputs] == [0.5, 0.5]  # the study's [1 - c, c], c = 0.5


def test_default_sets_are_all_pairs_and_temporal_weights():
    jobs = merge_jobs(config(cross_domain=CROSS, temporal=TEMPORAL), LAYOUT, PERIODS, DOMAINS)
    title = [j for j in jobs if j.paradigm == "title"]
    assert sum(j.kind == "cross_domain" for j in title) == 3 * 3  # 3 pairs x (linear + 2 ties)
    temporal = [j for j in title if j.kind == "temporal"]
    assert len(temporal) == 3 * 3
    job = next(j for j in temporal if j.name == "temporal-Books-phase1+phase2-linear-w0.30")
    assert [(n, w) for n, _, w in job.inputs] == [("phase1", 0.7), ("phase2", 0.3)]
    assert job.params(1).sid_rows_from is None


def test_linear_temporal_weights_above_one_extrapolate():
    """w = 1.5: -0.5 x phase1 + 1.5 x phase2, the study's extrapolation with alpha 0.5."""
    section = {**TEMPORAL, "weights": [1.0, 1.5]}
    jobs = merge_jobs(config(temporal=section), LAYOUT, PERIODS, DOMAINS)
    job = next(j for j in jobs if j.name == "temporal-Books-phase1+phase2-linear-w1.50")
    assert [(n, w) for n, _, w in job.inputs] == [("phase1", -0.5), ("phase2", 1.5)]
    assert job.weight == 1.5


def test_temporal_reference_can_be_a_period_and_weights_per_domain():
    section = {**TEMPORAL, "method": "ties", "reference": "pretrain"}
    section["domains"] = {"Books": {"weights": [0.5]}}
    jobs = [
        j
        for j in merge_jobs(config(temporal=section), LAYOUT, PERIODS, DOMAINS)
        if j.paradigm == "title"
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
        ({"temporal": {**TEMPORAL, "weights": [-0.1]}}, r"weights: -0.1 must be >= 0"),
        ({"temporal": {**TEMPORAL, "weights": [float("nan")]}}, "nan is not a finite number"),
        (
            {"temporal": {**TEMPORAL, "method": "ties", "weights": [1.5]}},
            r"weights: 1.5 must be in \[0, 1\] \(weights above 1 extrapolate: method linear",
        ),
        ({"temporal": {**TEMPORAL, "domains": {"Toys": {}}}}, "temporal.domains.Toys"),
        ({"cross_domain": {**CROSS, "source_coeff": 1.5}}, "source_coeff: 1.5 is outside"),
        (
            {"cross_domain": {**CROSS, "sets": [["Books", "Games", "Phones"]]}},
            "source_coeff: the study weights a pair",
        ),
        (
            {"cross_domain": {**CROSS, "methods": ["extrapolate"], "sets": [DOMAINS]}},
            "extrapolate merges a pair",
        ),
        ({"temporal": {**TEMPORAL, "method": "extrapolate"}}, "alpha = w - 1"),
        ({"cross_domain": {**CROSS, "sid_rows": "merged"}}, "cross_domain.sid_rows"),
        ({"temporal": {**TEMPORAL, "sid_rows": "source"}}, "temporal.sid_rows"),
    ],
)
def test_bad_merge_config_names_the_key(merges, message):
    with pytest.raises(InputError, match=message):
        merge_jobs(config(**merges), LAYOUT, PERIODS, DOMAINS)


def test_engine_spec_keeps_source_rows_and_sets_reference_and_target():
    job = next(
        j
        for j in merge_jobs(config(cross_domain=CROSS), LAYOUT, PERIODS, DOMAINS)
        if j.name == "cross-phase2-Books+Games-ties-ref_pooled-src_Games"
    )
    spec = job.params(1).engine_spec((100, 196))
    assert spec["reference"] == spec["target"] == "results/checkpoints/semid/pooled/pretrain"
    assert spec["vocab_rows"] == {"rows": [100, 196], "source": "Games"}
    assert spec["copy_files_from"] == "Games"
    assert [i["weight"] for i in spec["inputs"]] == [0.5, 0.5]


def test_source_coeff_weights_the_source_and_gives_one_model_per_source():
    section = {**CROSS, "methods": ["ties", "mask_merging"], "references": ["base"]}
    section.update(sets=[["Books", "Games"]], source_coeff=0.3)
    jobs = {j.name: j for j in merge_jobs(config(cross_domain=section), LAYOUT, PERIODS, DOMAINS)}
    books = jobs["cross-phase2-Books+Games-ties-ref_base-src_Books"]
    assert [(n, w) for n, _, w in books.inputs] == [("Books", 0.3), ("Games", 0.7)]
    assert books.domains == ("Books",)
    games = jobs["cross-phase2-Books+Games-mask_merging-ref_base-src_Games"]
    assert [(n, w) for n, _, w in games.inputs] == [("Books", 0.7), ("Games", 0.3)]
    # c = 0.5 weights a pair equally: one model serves both domains (title)
    section["source_coeff"] = 0.5
    names = {j.name for j in merge_jobs(config(cross_domain=section), LAYOUT, PERIODS, DOMAINS)}
    assert "cross-phase2-Books+Games-ties-ref_base" in names
    # null: equal weights 1/n, also for sets of more than two domains
    section.update(source_coeff=None, sets=[["Books", "Games", "Phones"]])
    job = next(j for j in merge_jobs(config(cross_domain=section), LAYOUT, PERIODS, DOMAINS))
    assert [w for _, _, w in job.inputs] == [round(1 / 3, 10)] * 3


def test_extrapolate_is_the_studys_task_arithmetic_per_source():
    section = {**CROSS, "methods": ["extrapolate"], "sets": [["Games", "Books"]]}
    jobs = {
        j.name: j
        for j in merge_jobs(config(cross_domain=section), LAYOUT, PERIODS, DOMAINS)
        if j.paradigm == "title"
    }
    assert sorted(jobs) == [
        "cross-phase2-Books+Games-extrapolate-src_Books",
        "cross-phase2-Books+Games-extrapolate-src_Games",
    ]
    job = jobs["cross-phase2-Books+Games-extrapolate-src_Games"]
    # oldest first: the result is Books + 0.05 (Books - Games), evaluated on Games
    assert [(n, w) for n, _, w in job.inputs] == [("Games", 1.0), ("Books", 1.0)]
    assert job.reference is None and job.domains == ("Games",)
    spec = job.params(1).engine_spec(None)
    assert spec["method"] == "extrapolate"
    assert spec["options"] == {}  # the engine's defaults: linear_velocity, alpha 0.05
    assert spec["copy_files_from"] == "Games"


def test_semid_rows_options():
    section = {**CROSS, "methods": ["linear", "ties"], "sets": [["Books", "Games"]]}
    section["sid_rows"] = "source_except_linear"
    temporal = {**TEMPORAL, "sid_rows": "older"}
    jobs = {
        j.name: j
        for j in merge_jobs(
            config(cross_domain=section, temporal=temporal), LAYOUT, PERIODS, DOMAINS
        )
        if j.paradigm == "semid"
    }
    # the study's weight averaging leaves the rows averaged; its other methods copy the source's
    assert jobs["cross-phase2-Books+Games-linear-src_Books"].sid_rows_from is None
    assert jobs["cross-phase2-Books+Games-ties-ref_base-src_Books"].sid_rows_from == "Books"
    # the study copies the rows of its first split, the older period
    assert jobs["temporal-Books-phase1+phase2-linear-w0.30"].sid_rows_from == "phase1"
    spec = jobs["temporal-Books-phase1+phase2-linear-w0.30"].params(1).engine_spec((10, 20))
    assert spec["vocab_rows"] == {"rows": [10, 20], "source": "phase1"}


def test_task_arithmetic_that_is_weight_averaging_is_refused():
    cross = {**CROSS, "methods": ["task_arithmetic"]}
    jobs = merge_jobs(config(cross_domain=cross), LAYOUT, PERIODS, DOMAINS)
    assert jobs and all(j.options == {} for j in jobs)  # scale 1: θ_ref + τ1 + τ2
    bad = {**cross, "options": {"task_arithmetic": {"scale": 0.5}}}
    with pytest.raises(InputError, match="weight averaging whatever the reference"):
        merge_jobs(config(cross_domain=bad), LAYOUT, PERIODS, DOMAINS)
    temporal = {**TEMPORAL, "method": "task_arithmetic"}  # weights 1 - w and w sum to 1
    with pytest.raises(InputError, match=r"merges.temporal.options: task_arithmetic"):
        merge_jobs(config(temporal=temporal), LAYOUT, PERIODS, DOMAINS)
    temporal["options"] = {"task_arithmetic": {"scale": 0.5}}
    assert merge_jobs(config(temporal=temporal), LAYOUT, PERIODS, DOMAINS)
