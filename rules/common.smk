# Config validation, the static grid and the per-cell params, all computed by mmgrid.grid.
import os
import re

from snakemake.utils import validate

from mmgrid import grid
from mmgrid.data.raw_files import meta_path, ratings_path

validate(config, "../schemas/config.schema.yaml")

# Jobs run in fresh Python processes (with --sdm conda, in environments without mmgrid installed):
# put this checkout first on their import path. (The workflow sets this variable; it requires none.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
    )
)

DOMAINS = grid.domains(config)
PERIODS = [p.name for p in grid.periods_from_config(config)]
TEST_PERIOD = grid.test_period(config).name
DATA = config["data"]
if DATA["source"] == "amazon2023" and not DATA["raw_dir"]:
    raise ValueError(
        "config key data.raw_dir: set it to the directory holding the Amazon Reviews 2023 files "
        "when data.source is amazon2023"
    )
RAW_DIR = "results/raw" if DATA["source"] == "synthetic" else DATA["raw_dir"]
if DATA["source"] == "synthetic":
    # Validate data.synthetic for every domain now: a typo fails before any job runs.
    from mmgrid.data.synthetic import settings_from_config as synthetic_from_config

    SYNTHETIC = {d: synthetic_from_config(DATA["synthetic"], d) for d in DOMAINS}


def alternatives(values):
    """A wildcard constraint matching exactly the given names."""
    return "|".join(re.escape(v) for v in values)


wildcard_constraints:
    domain=alternatives(DOMAINS),
    period=alternatives(PERIODS),


def raw_files(wildcards):
    """The raw files of a domain: generated under results/raw/ or the user's downloads."""
    return {
        "ratings": str(ratings_path(RAW_DIR, wildcards.domain)),
        "meta": str(meta_path(RAW_DIR, wildcards.domain)),
    }


def synthetic_settings(wildcards):
    """The resolved generator settings of one domain (global keys merged with its overrides)."""
    from dataclasses import asdict

    return asdict(SYNTHETIC[wildcards.domain])


def ingest_settings(wildcards):
    """Everything that determines a domain's shards (same for all domains today)."""
    return {
        "periods": config["periods"],
        "kcore": config["kcore"],
        "description_max_chars": DATA["description_max_chars"],
        "recency_days": sorted(DATA["recency_days"]),
    }


def data_outputs():
    """Every artefact of the data layer."""
    return [
        *expand(
            "results/shards/{domain}/{period}.parquet", domain=DOMAINS, period=PERIODS
        ),
        *expand("results/items/{domain}.parquet", domain=DOMAINS),
        *expand("results/stats/{domain}.json", domain=DOMAINS),
        "results/tables/domain_stats.csv",
        "results/figures/interaction_ratio.png",
    ]
