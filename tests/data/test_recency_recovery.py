"""The data layer's recency statistics recover the ordering of the generator's planted knobs."""

from __future__ import annotations

from mmgrid.data.ingest import IngestSettings, ingest_domain
from mmgrid.data.synthetic import generate_domain, settings_from_config
from mmgrid.periods import periods_from_config

PERIODS = {
    "pretrain": ["2017-07-01", "2022-07-01"],
    "phase1": ["2022-07-01", "2022-10-01"],
    "phase2": ["2022-10-01", "2023-01-01"],
    "test": ["2023-01-01", "2023-04-01"],
}


def test_statistics_order_domains_like_their_knobs(tmp_path):
    settings = IngestSettings(tuple(periods_from_config({"periods": PERIODS})), 5, 100, (90,))
    knobs, shares, ages = [], [], []
    for domain in ("Movies_and_TV", "Health_and_Household", "Cell_Phones_and_Accessories"):
        synthetic = settings_from_config({"n_users": 800, "n_items": 500}, domain)
        raw = tmp_path / "raw"
        generate_domain(
            domain,
            synthetic,
            0,
            raw / f"{domain}.csv.gz",
            raw / f"meta_{domain}.jsonl.gz",
            raw / f"{domain}.truth.json",
        )
        out = tmp_path / domain
        stats = ingest_domain(
            domain,
            raw / f"{domain}.csv.gz",
            raw / f"meta_{domain}.jsonl.gz",
            settings,
            {p: out / f"{p}.parquet" for p in PERIODS},
            out / "items.parquet",
            out / "stats.json",
        )
        recent = [stats["periods"][p] for p in ("phase1", "phase2", "test")]
        n = sum(p["interactions"] for p in recent)
        knobs.append(synthetic.recency)
        shares.append(sum(p["recent_item_share"]["90"] * p["interactions"] for p in recent) / n)
        ages.append(sum(p["mean_item_age_days"] * p["interactions"] for p in recent) / n)
    assert knobs == sorted(knobs)
    assert shares == sorted(shares) and shares[-1] > 2 * shares[0], shares
    assert ages == sorted(ages, reverse=True), ages
