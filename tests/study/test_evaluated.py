"""Every evaluated model of the grid, its analysis record and its evaluation batch."""

from __future__ import annotations

from mmgrid.study.cells import grid_cells
from mmgrid.study.evaluated import batch_rule_name, evaluated_models, evaluation_batches
from mmgrid.study.layout import Layout
from mmgrid.study.merges import merge_jobs

PERIODS = ["pretrain", "phase1", "phase2"]
DOMAINS = ["Books", "Games"]
CONFIG = {
    "paradigms": ["title", "semid"],
    "periods": {p: [] for p in [*PERIODS, "test"]},
    "base": {"path": None},
    "merges": {
        "cross_domain": {"period": "phase2", "methods": ["ties"], "references": ["base"]},
        "temporal": {"periods": ["phase1", "phase2"], "method": "linear", "weights": [0.0, 0.5]},
    },
}


def models():
    paths = Layout()
    cells = grid_cells(CONFIG["paradigms"], DOMAINS, PERIODS)
    return evaluated_models(paths, cells, merge_jobs(CONFIG, paths, PERIODS, DOMAINS))


def test_models_and_batches_by_hand():
    title = {m.name: m for m in models() if m.paradigm == "title"}
    assert sorted(title) == [
        "Books-phase1",
        "Books-phase2",
        "Books-pretrain",
        "Games-phase1",
        "Games-phase2",
        "Games-pretrain",
        "cross-phase2-Books+Games-ties-ref_base",
        "pooled-pretrain",
        "temporal-Books-phase1+phase2-linear-w0.00",
        "temporal-Books-phase1+phase2-linear-w0.50",
        "temporal-Games-phase1+phase2-linear-w0.00",
        "temporal-Games-phase1+phase2-linear-w0.50",
    ]
    assert title["pooled-pretrain"].domains == ("Books", "Games")
    assert title["Books-phase1"].path == "results/checkpoints/title/Books/phase1"
    assert title["Books-phase1"].metrics_dir == "results/metrics/title/Books-phase1"
    cross = title["cross-phase2-Books+Games-ties-ref_base"]
    assert cross.path == "results/merged/title/cross-phase2-Books+Games-ties-ref_base"
    batches = evaluation_batches(models())
    assert sorted(b for p, b in batches if p == "title") == [
        "cells-Books",
        "cells-Games",
        "cross-phase2-Books+Games",
        "pooled",
        "temporal-Books-phase1+phase2",
        "temporal-Games-phase1+phase2",
    ]
    assert [m.name for m in batches[("title", "cells-Books")]] == [
        "Books-phase1",
        "Books-phase2",
        "Books-pretrain",
    ]
    # semid: one cross-domain model per source domain, in the same batch
    semid_cross = batches[("semid", "cross-phase2-Books+Games")]
    assert [m.domains for m in semid_cross] == [("Books",), ("Games",)]
    names = [batch_rule_name(p, b) for p, b in batches]
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() for n in names)


def test_records_describe_each_kind():
    records = {(m.paradigm, m.name): m.record() for m in models()}
    assert records[("title", "Books-phase2")] == {
        "paradigm": "title",
        "model": "Books-phase2",
        "kind": "cell",
        "domains": ["Books"],
        "period": "phase2",
        "periods": None,
        "method": None,
        "reference": None,
        "weight": None,
        "source": None,
    }
    temporal = records[("semid", "temporal-Games-phase1+phase2-linear-w0.50")]
    assert (temporal["kind"], temporal["periods"], temporal["weight"]) == (
        "temporal",
        ["phase1", "phase2"],
        0.5,
    )
    assert temporal["reference"] is None and temporal["period"] is None
    cross = records[("semid", "cross-phase2-Books+Games-ties-ref_base-src_Games")]
    assert (cross["kind"], cross["period"], cross["method"], cross["reference"]) == (
        "cross_domain",
        "phase2",
        "ties",
        "base",
    )
    assert (cross["source"], cross["domains"]) == ("Games", ["Games"])
    assert cross["members"] == ["Books", "Games"]
    pooled = records[("title", "pooled-pretrain")]
    assert (pooled["kind"], pooled["period"], pooled["domains"]) == (
        "pooled",
        "pretrain",
        ["Books", "Games"],
    )
