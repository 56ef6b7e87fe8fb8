"""run_analysis end to end on a hand-made grid: every output, hand-computed values, all or nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmgrid.analysis import AnalysisOutputs, AnalysisSettings, run_analysis
from mmgrid.analysis import figures as figures_module
from mmgrid.analysis.split import user_draw
from mmgrid.errors import InputError
from mmgrid.study.layout import Layout
from tests.analysis.world import record, users, write_evaluation, write_items, write_stats

DOMAINS = ("A", "B", "C")
SHARE_P2 = {"A": 0.6, "B": 0.4, "C": 0.2}
SHARE_TEST = {"A": 0.1, "B": 0.9, "C": 0.5}
# recall@5 hits (of 8 users) at weights 0, 0.5, 1: λ* is 1.0 (A), 0.5 (B), and 0.5 for C (a tie
# between 0 and 0.5, broken towards uniform)
SWEEPS = {"A": (2, 3, 5), "B": (4, 6, 2), "C": (5, 5, 1)}
WEIGHTS = (0.0, 0.5, 1.0)
CROSS = {
    "cross-p2-A+B-linear": ("linear", None, 4),
    "cross-p2-A+B-ties-ref_base": ("ties", "base", 2),
    "cross-p2-A+B-ties-ref_pooled": ("ties", "pooled", 3),
}
SETTINGS = AnalysisSettings(
    metric="recall@5", selection="test", bootstrap=200, weight_estimator="argmax"
)
# MostPop hits u4, u5 (old targets); Random hits nobody
BASELINE_RANKS = {"MostPop": [None] * 4 + [3, 4, None, None], "Random": [None] * 8}


def hits(n: int) -> list[int | None]:
    return [1] * n + [None] * (8 - n)


def build(root: Path, sweep_domains=DOMAINS) -> list[dict]:
    """Cells p1/p2 per domain, the pooled base, three cross-domain merges and the weight sweeps.

    Users u0-u3 target new items, u4-u7 old ones; p1 cells hit 3 old targets, p2 cells 3 new.
    """
    metrics = root / "metrics"
    records = []
    for d in DOMAINS:
        write_items(root / "items", d)
        write_stats(root / "stats", d, SHARE_P2[d], SHARE_TEST[d])
        write_evaluation(metrics, "title", f"{d}-p1", d, [None] * 4 + [1, 1, 1, None])
        write_evaluation(metrics, "title", f"{d}-p2", d, [1, 1, 1] + [None] * 5)
        write_evaluation(metrics, "title", "pooled-p1", d, [2] * 8)
        records += [record("title", f"{d}-{p}", "cell", [d], period=p) for p in ("p1", "p2")]
    records.append(record("title", "pooled-p1", "pooled", list(DOMAINS)))
    for name, ranks in BASELINE_RANKS.items():
        for d in DOMAINS:
            write_evaluation(metrics, "baselines", name, d, ranks)
        records.append(record("baselines", name, "baseline", list(DOMAINS)))
    for name, (method, reference, n) in CROSS.items():
        for d in ("A", "B"):
            write_evaluation(metrics, "title", name, d, hits(n))
        records.append(
            record("title", name, "cross_domain", ["A", "B"], period="p2", method=method,
                   reference=reference, source="A")
        )  # fmt: skip
    for d in sweep_domains:
        for w, n in zip(WEIGHTS, SWEEPS[d], strict=True):
            name = f"temporal-{d}-p1+p2-linear-w{w:.2f}"
            write_evaluation(metrics, "title", name, d, hits(n))
            records.append(
                record("title", name, "temporal", [d], method="linear", weight=w,
                       periods=["p1", "p2"])
            )  # fmt: skip
    return records


def outputs(root: Path) -> AnalysisOutputs:
    """Every analysis output in the run layout under ``root``, as paths."""
    return AnalysisOutputs(*Layout(str(root)).analysis().paths())


def run(root: Path, records, settings=SETTINGS, out=None) -> dict:
    return run_analysis(
        records,
        root / "metrics",
        root / "items",
        root / "stats",
        settings,
        0,
        out or outputs(root / "results"),
        log=lambda _: None,
    )


def test_every_output_with_hand_computed_values(tmp_path):
    document = run(tmp_path, build(tmp_path))
    out = outputs(tmp_path / "results")
    assert len(set(out.paths())) == 14
    for path in out.paths():
        assert path.is_file() and path.stat().st_size > 0
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    leftovers = [p for p in (tmp_path / "results").rglob("*") if p.name.startswith(".")]
    assert leftovers == []

    cells = pd.read_csv(out.cells)
    assert (
        len(cells) == 3 * 2 + 3 + 3 * 2
    )  # two cells, the pooled base and two baselines per domain
    a = cells[(cells["domain"] == "A") & (cells["paradigm"] == "title")].set_index("model")
    assert list(a.index) == ["A-p1", "A-p2", "pooled-p1"]
    most_pop = cells[(cells["domain"] == "A") & (cells["model"] == "MostPop")].iloc[0]
    assert (most_pop["kind"], most_pop["recall@5"], most_pop["recall@5_old_items"]) == (
        "baseline", 2 / 8, 2 / 4,
    )  # fmt: skip

    # the p2 cells (3 hits of 8) against MostPop (2 hits) and Random (none), the same in A, B, C
    baselines = pd.read_csv(out.baselines).set_index(["baseline", "domain"])
    assert len(baselines) == 2 * 4
    mean = baselines.loc[("MostPop", "mean over domains")]
    assert (mean["model"], mean["model_value"], mean["baseline_value"]) == ("*-p2", 3 / 8, 2 / 8)
    assert mean["difference"] == pytest.approx(1 / 8) and mean["ratio"] == pytest.approx(1.5)
    assert mean["difference_ci_low"] <= 1 / 8 <= mean["difference_ci_high"]
    assert mean["n_users"] == 24 and baselines.loc[("MostPop", "B"), "model"] == "B-p2"
    # Random has no hit while the cell has 3: the ratio is unbounded, in every resample too
    random_a = baselines.loc[("Random", "A")]
    assert random_a[["ratio", "ratio_ci_low", "ratio_ci_high"]].tolist() == [np.inf] * 3
    assert a.loc["A-p1", ["recall@5", "recall@5_new_items", "recall@5_old_items"]].tolist() == [
        3 / 8, 0.0, 3 / 4,
    ]  # fmt: skip
    assert a.loc["A-p2", ["recall@5_new_items", "recall@5_old_items"]].tolist() == [3 / 4, 0.0]
    assert a.loc["A-p2", ["n_users", "n_unranked", "n_users_new_items"]].tolist() == [8, 5, 4]
    assert a.loc["pooled-p1", "kind"] == "pooled" and a.loc["pooled-p1", "period"] == "p1"
    assert a.loc["pooled-p1", "mrr@5"] == pytest.approx(0.5)

    cross = pd.read_csv(out.cross_domain).set_index(["model", "domain"])
    linear = cross.loc[("cross-p2-A+B-linear", "B")]
    assert (linear["merged"], linear["own_cell"]) == (0.5, 3 / 8)
    assert linear["difference"] == pytest.approx(1 / 8)
    assert (linear["members_best"], linear["members_mean"], linear["n_members_evaluated"]) == (
        3 / 8, 3 / 8, 1,
    )  # fmt: skip
    assert cross.loc[("cross-p2-A+B-ties-ref_base", "A"), "difference"] == pytest.approx(-1 / 8)
    assert cross.loc[("cross-p2-A+B-ties-ref_base", "A"), "reference"] == "base"

    temporal = pd.read_csv(out.temporal)
    assert len(temporal) == 9
    optimal_rows = temporal[temporal["is_optimal"]].set_index("domain")["weight"]
    assert optimal_rows.to_dict() == {"A": 1.0, "B": 0.5, "C": 0.5}
    assert (temporal["selection"] == temporal["test"]).all()  # the test protocol

    optimal = pd.read_csv(out.optimal_weights).set_index("domain")
    assert optimal["weight_optimal"].to_dict() == {"A": 1.0, "B": 0.5, "C": 0.5}
    assert optimal["weight_nearest"].to_dict() == optimal["weight_argmax"].to_dict()
    assert (optimal["weight_ci_low"] <= optimal["weight_optimal"]).all()
    assert (optimal["weight_optimal"] <= optimal["weight_ci_high"]).all()
    assert set(optimal["estimator"]) == {"argmax"}
    assert optimal.loc["A", ["test_at_optimal", "test_at_uniform", "test_latest"]].tolist() == [
        5 / 8, 3 / 8, 3 / 8,
    ]  # fmt: skip
    assert optimal.loc["A", "gain_vs_latest"] == pytest.approx(2 / 8)
    assert optimal.loc["C", "test_at_optimal"] == 5 / 8
    # the default statistic period is the last training period (p2), not the test window
    assert optimal["recency"].to_dict() == SHARE_P2
    assert set(optimal["recency_period"]) == {"p2"}

    # λ* on x: (0.6, 1), (0.4, 0.5), (0.2, 0.5): slope 0.1 / 0.08, intercept 2/3 - 0.5, R² 0.75
    written = json.loads(out.regression_json.read_text())
    assert written == json.loads(json.dumps(document))
    pooled = written["pooled"]
    assert pooled["n"] == 3 and pooled["slope"] == pytest.approx(1.25)
    assert pooled["intercept"] == pytest.approx(1 / 6)
    assert pooled["r2"] == pytest.approx(0.75)
    assert pooled["bootstrap_used"] <= 200 and pooled["slope_ci"] is not None
    assert written["per_paradigm"]["title"]["slope"] == pytest.approx(1.25)
    assert written["statistic"]["name"] == "recent_item_share@90"
    assert written["statistic"]["period"] == "p2"
    assert written["selection"]["protocol"] == "test"
    # the item split is relative to p2, the latest cells' period (its start: 2022-10-01)
    assert written["new_items"]["split"] == "latest_period"
    assert written["new_items"]["latest_period"] == "p2"
    assert len(written["points"]) == 3
    points = pd.read_csv(out.regression_csv)
    assert points["fitted_pooled"].tolist() == pytest.approx(
        [1 / 6 + 1.25 * x for x in points["recency"]]
    )
    # every point's λ* draws: the bootstrap's count, and the interval they give is the table's
    draws = pd.read_csv(out.weight_draws)
    assert list(draws.columns) == ["paradigm", "domain", "draw", "weight_optimal"]
    for (paradigm, domain), group in draws.groupby(["paradigm", "domain"]):
        assert paradigm == "title" and group["draw"].tolist() == list(range(200))
        assert set(group["weight_optimal"]) <= {0.0, 0.5, 1.0}
        low, high = np.percentile(group["weight_optimal"], [2.5, 97.5])
        assert (low, high) == (optimal.loc[domain, "weight_ci_low"],
                               optimal.loc[domain, "weight_ci_high"])  # fmt: skip
    assert sorted(draws["domain"].unique()) == ["A", "B", "C"]


def test_recency_bias_and_base_replacement_tables(tmp_path):
    """p2 cells hit 3 of the 4 new targets and no old one, p1 cells 3 of the 4 old ones: +3/4 on
    new items and -3/4 on old ones in every domain. TIES with the base LLM hits u0, u1 where
    the own p2 cell hits u0-u2; with the pooled base u0-u2 again, so it recovers all of it."""
    run(tmp_path, build(tmp_path))
    out = outputs(tmp_path / "results")
    bias = pd.read_csv(out.recency_bias).set_index(["domain", "items"])
    assert len(bias) == 2 * (len(DOMAINS) + 1)
    for domain in [*DOMAINS, "mean over domains"]:
        for items, sign in (("new", 1), ("old", -1)):
            row = bias.loc[(domain, items)]
            assert row["difference"] == pytest.approx(sign * 3 / 4)
            assert (row["latest"], row["previous"]) == pytest.approx(
                (3 / 4, 0.0) if sign > 0 else (0.0, 3 / 4)
            )
            assert row["difference_ci_low"] <= row["difference"] <= row["difference_ci_high"]
            assert row["n_users"] == (4 if domain in DOMAINS else 12)
    assert bias.loc[("A", "new"), ["model", "previous_model"]].tolist() == ["A-p2", "A-p1"]
    # over the three domains' 12 users the interval keeps the sign
    assert bias.loc[("mean over domains", "new"), "difference_ci_low"] > 0
    assert bias.loc[("mean over domains", "old"), "difference_ci_high"] < 0

    replacement = pd.read_csv(out.base_replacement).set_index("domain")
    assert list(replacement.index) == ["A", "B", "mean over domains"]  # linear takes no reference
    assert (replacement["method"] == "ties").all()
    for domain, row in replacement.iterrows():
        assert (row["own_cell"], row["merged_base"], row["merged_pooled"]) == pytest.approx(
            (3 / 8, 2 / 8, 3 / 8)
        )
        assert (row["loss"], row["gain"], row["recovered"]) == pytest.approx((-1 / 8, 1 / 8, 1.0))
        # the loss is one user of 8 (u2): about (7/8)^8 = 34 % of resamples miss that user and
        # have no loss, so the share recovered is undefined there, which is far more than the
        # 2.5 % each end may leave out: both bounds are infinite, not [1, 1] over the rest
        assert (row["recovered_ci_low"], row["recovered_ci_high"]) == (-np.inf, np.inf)
        assert row["loss_ci_low"] <= -1 / 8 <= row["loss_ci_high"] <= 0
        assert row["n_users"] == (8 if domain != "mean over domains" else 16)
    assert replacement.loc["A", ["model_base", "model_pooled"]].tolist() == [
        "cross-p2-A+B-ties-ref_base", "cross-p2-A+B-ties-ref_pooled",
    ]  # fmt: skip


def test_quadratic_estimator_reads_lambda_between_grid_weights(tmp_path):
    """The parabola through each sweep's 3 points: A convex (better end 1.0), B vertex 5/12,
    C vertex 1/4; the temporal table marks the grid weight nearest λ*."""
    settings = AnalysisSettings(
        metric="recall@5",
        selection="test",
        bootstrap=100,
        weight_estimator="quadratic",
        new_items="age",
    )
    document = run(tmp_path, build(tmp_path), settings)
    assert (document["new_items"]["split"], document["new_items"]["new_item_days"]) == ("age", 90)
    out = outputs(tmp_path / "results")
    optimal = pd.read_csv(out.optimal_weights).set_index("domain")
    assert optimal["weight_optimal"].to_dict() == pytest.approx({"A": 1.0, "B": 5 / 12, "C": 0.25})
    assert optimal["weight_nearest"].to_dict() == {"A": 1.0, "B": 0.5, "C": 0.5}
    assert optimal["weight_argmax"].to_dict() == {"A": 1.0, "B": 0.5, "C": 0.5}
    assert optimal.loc["B", "test_at_optimal"] == 6 / 8  # the metric at the nearest grid weight
    temporal = pd.read_csv(out.temporal)
    assert temporal[temporal["is_optimal"]].set_index("domain")["weight"].to_dict() == {
        "A": 1.0, "B": 0.5, "C": 0.5,
    }  # fmt: skip
    assert document["selection"]["estimator"] == "quadratic"
    weighted = document["precision_weighted"]["pooled"]
    assert weighted["n"] == 3 and weighted["slope"] is not None
    assert [p["weight_ci"][0] <= p["weight_optimal"] for p in document["points"]] == [True] * 3


def test_statistic_period_and_form_follow_the_settings(tmp_path):
    records = build(tmp_path)
    settings = AnalysisSettings(metric="recall@5", selection="test", recency_period="test")
    run(tmp_path, records, settings)
    optimal = pd.read_csv(outputs(tmp_path / "results").optimal_weights)
    assert optimal.set_index("domain")["recency"].to_dict() == SHARE_TEST
    settings = AnalysisSettings(metric="recall@5", recency_statistic="mean_item_age_days")
    run(tmp_path, records, settings)
    optimal = pd.read_csv(outputs(tmp_path / "results").optimal_weights)
    expected = {d: pytest.approx(100 * (1 - s)) for d, s in SHARE_P2.items()}
    assert optimal.set_index("domain")["recency"].to_dict() == expected


def test_too_few_points_write_a_null_fit_with_a_note(tmp_path):
    run(tmp_path, build(tmp_path, sweep_domains=("A", "B")))
    out = outputs(tmp_path / "results")
    written = json.loads(out.regression_json.read_text())
    assert written["pooled"]["slope"] is None and "only 2 point" in written["pooled"]["note"]
    assert written["per_paradigm"]["title"]["r2"] is None
    assert out.regression_figure.stat().st_size > 0
    assert pd.read_csv(out.regression_csv)["fitted_pooled"].isna().all()


def test_no_merges_still_write_every_output(tmp_path):
    records = [r for r in build(tmp_path) if r["kind"] in ("cell", "pooled")]
    run(tmp_path, records)
    out = outputs(tmp_path / "results")
    assert all(p.is_file() for p in out.paths())
    assert pd.read_csv(out.temporal).empty and "weight" in pd.read_csv(out.temporal).columns
    assert "only 0 point" in json.loads(out.regression_json.read_text())["pooled"]["note"]


def _outputs_untouched(root: Path, before: str) -> None:
    out = outputs(root / "results")
    assert out.cells.read_text() == before
    assert [p for p in out.paths() if p.exists()] == [out.cells]
    assert [p.name for p in (root / "results").rglob(".*")] == []


def test_missing_input_names_the_file_and_writes_nothing(tmp_path):
    records = build(tmp_path)
    out = outputs(tmp_path / "results")
    out.cells.parent.mkdir(parents=True)
    out.cells.write_text("earlier run\n")
    missing = tmp_path / "metrics/title/temporal-B-p1+p2-linear-w0.50/B.json"
    missing.unlink()
    with pytest.raises(InputError, match=re.escape(str(missing))):
        run(tmp_path, records)
    _outputs_untouched(tmp_path, "earlier run\n")
    (tmp_path / "stats/C.json").unlink()
    with pytest.raises(InputError, match=r"stats/C\.json: statistics file not found"):
        run(tmp_path, records)
    with pytest.raises(InputError, match="no cell"):
        run(tmp_path, [r for r in records if r["kind"] != "cell"])


def test_unevaluated_metric_and_missing_statistic_are_named(tmp_path):
    records = build(tmp_path)
    with pytest.raises(InputError, match=r"analysis\.metric.*recall@10"):
        run(tmp_path, records, AnalysisSettings(metric="ndcg@20"))
    with pytest.raises(
        InputError, match=r"A\.json: no recent_item_share for 7 days \(has 30, 90\)"
    ):
        run(tmp_path, records, AnalysisSettings(recency_statistic="recent_item_share@7"))
    with pytest.raises(InputError, match="no period 'phase9'"):
        run(tmp_path, records, AnalysisSettings(recency_period="phase9"))


def test_a_sweep_without_selection_users_is_named_not_given_a_weight(tmp_path):
    """With the valid protocol and a seed that puts all 8 users of A on the report side, A's
    sweep has nobody to choose λ* on: an error, not the uniform weight."""
    records = build(tmp_path)
    seed = next(s for s in range(500) if all(user_draw(s, "A", u) >= 0.5 for u in users()))
    match = r"w0\.00/A\.json: none of the 8 users the weight sweep of title/A was evaluated on"
    with pytest.raises(InputError, match=match):
        run_analysis(
            records, tmp_path / "metrics", tmp_path / "items", tmp_path / "stats",
            AnalysisSettings(metric="recall@5", bootstrap=20), seed,
            outputs(tmp_path / "results"), log=lambda _: None,
        )  # fmt: skip


def test_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    records = build(tmp_path)
    out = outputs(tmp_path / "results")
    out.cells.parent.mkdir(parents=True)
    out.cells.write_text("earlier run\n")

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures_module, "plot_cross_domain", broken)
    with pytest.raises(RuntimeError, match="figure failed"):
        run(tmp_path, records)
    _outputs_untouched(tmp_path, "earlier run\n")


def test_valid_protocol_selects_on_held_out_users(tmp_path):
    run(tmp_path, build(tmp_path), AnalysisSettings(metric="recall@5", bootstrap=0))
    temporal = pd.read_csv(outputs(tmp_path / "results").temporal)
    for row in temporal.itertuples():
        held = [user_draw(0, row.domain, u) < 0.5 for u in users()]
        n_hits = SWEEPS[row.domain][WEIGHTS.index(row.weight)]  # users u0..u{n-1} are hits
        assert (row.n_selection_users, row.n_test_users) == (sum(held), 8 - sum(held))
        assert row.selection == pytest.approx(sum(held[:n_hits]) / sum(held))
        assert row.test == pytest.approx((n_hits - sum(held[:n_hits])) / (8 - sum(held)))
    written = json.loads(outputs(tmp_path / "results").regression_json.read_text())
    assert written["selection"]["protocol"] == "valid"
    assert written["selection"]["valid_fraction"] == 0.5
    assert written["pooled"]["slope_ci"] is None  # bootstrap: 0
    draws = pd.read_csv(outputs(tmp_path / "results").weight_draws)
    assert draws.empty and list(draws.columns) == ["paradigm", "domain", "draw", "weight_optimal"]
