# Config validation, the static grid and the per-cell params, all computed by the package.
import os
import re

from mmgrid import grid
from mmgrid.data.raw_files import meta_path, ratings_path
from mmgrid.model_grid import batch_rule_name, evaluated_models, evaluation_batches
from mmgrid.workflow_config import check_config, check_config_files

# Every config file read strictly (duplicate keys fail naming file and line), then the config
# validated completely; it is replaced by its canonical form (sorted keys, sorted order-free
# lists), so that every params below, and the manifest, are the same however it is written.
check_config_files(workflow.configfiles)
CHECKED = check_config(config)
config.clear()
config.update(CHECKED.config)

# Jobs run in fresh Python processes (with --sdm conda, in environments without mmgrid installed):
# put this checkout first on their import path. (The workflow sets this variable; it requires none.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
    )
)

DOMAINS = grid.domains(config)
PERIODS = [p.name for p in CHECKED.periods]
TEST_PERIOD = CHECKED.test_period.name
DATA = config["data"]
RAW_DIR = "results/raw" if DATA["source"] == "synthetic" else DATA["raw_dir"]
SYNTHETIC = CHECKED.synthetic


def alternatives(values):
    """A wildcard constraint matching exactly the given names."""
    return "|".join(re.escape(v) for v in values)


# Extra resources of GPU jobs (e.g. the SLURM partition), from config: evaluation rules are
# generated per batch, so a profile's per-rule `set-resources` cannot name them all.
GPU_JOB_RESOURCES = dict(config["gpu_job_resources"]) if config["gpus_per_job"] else {}
PARADIGMS = list(config["paradigms"])
# Paradigms trained on GR samples (conversations); hllm trains on the user sequences directly.
SAMPLE_PARADIGMS = [p for p in PARADIGMS if p != "hllm"]
TRAIN_PERIODS = [p.name for p in CHECKED.training_periods]
FIRST_PERIOD = TRAIN_PERIODS[0]
PERIOD_BY_NAME = {p.name: p for p in CHECKED.periods}

# Sections owned by the package's settings dataclasses, validated for every cell above.
BASE = CHECKED.base
INDEX = CHECKED.index
SAMPLES = CHECKED.samples
HLLM = CHECKED.hllm
TRAIN = CHECKED.train
BASE_DIR = grid.base_llm_dir(config)
INGEST = CHECKED.ingest
MERGES = {(j.paradigm, j.name): j for j in CHECKED.merges}
EVALUATE = CHECKED.evaluate
MODELS = evaluated_models(PARADIGMS, DOMAINS, TRAIN_PERIODS, list(MERGES.values()))
EVAL_BATCHES = evaluation_batches(MODELS)
ANALYSIS = CHECKED.analysis


wildcard_constraints:
    domain=alternatives(DOMAINS),
    period=alternatives(PERIODS),
    paradigm=alternatives(PARADIGMS),
    spec="[A-Za-z0-9_.+-]+",
    model="[A-Za-z0-9_.+-]+",


def raw_files(wildcards):
    """The raw files of a domain: generated under results/raw/ or the user's downloads."""
    return {
        "ratings": str(ratings_path(RAW_DIR, wildcards.domain)),
        "meta": str(meta_path(RAW_DIR, wildcards.domain)),
    }


def ingest_inputs(wildcards):
    """The raw files, and the base LLM's tokenizer when descriptions are cut in tokens."""
    inputs = raw_files(wildcards)
    if DATA["description_max_tokens"] is not None:
        inputs["tokenizer"] = os.path.join(BASE.path, "tokenizer.json")
    return inputs


def synthetic_settings(wildcards):
    """The resolved generator settings of one domain (global keys merged with its overrides)."""
    from dataclasses import asdict

    return asdict(SYNTHETIC[wildcards.domain])


def ingest_settings(wildcards):
    """Everything that determines a domain's shards (same for all domains today)."""
    return INGEST


def base_settings(wildcards):
    return BASE.to_dict()


def index_settings(wildcards):
    from dataclasses import asdict

    return asdict(INDEX)


def samples_inputs(wildcards):
    """Shards up to the cell's period (later data cannot change it), items, and the index."""
    inputs = {
        "shards": shards_until(wildcards.domain, wildcards.period),
        "item_table": f"results/items/{wildcards.domain}.parquet",
    }
    if wildcards.paradigm == "semid":
        inputs["index"] = f"results/index/{wildcards.domain}"
    return inputs


def samples_params(wildcards):
    from dataclasses import asdict

    period = PERIOD_BY_NAME[wildcards.period]
    return {
        "settings": asdict(SAMPLES),
        "period": {
            "name": period.name,
            "start_ms": period.start_ms,
            "end_ms": period.end_ms,
        },
        "is_test": wildcards.period == TEST_PERIOD,
        "is_first": wildcards.period == FIRST_PERIOD,
    }


def paradigm_base(paradigm):
    """Where a paradigm's chain starts: the base LLM (semid: with the semantic-ID tokens)."""
    return grid.paradigm_base_dir(config, paradigm)


def train_init(wildcards):
    """The cell's initial weights: the paradigm base, or the previous period's checkpoint."""
    i = TRAIN_PERIODS.index(wildcards.period)
    if i == 0:
        return paradigm_base(wildcards.paradigm)
    return grid.cell_dir(wildcards.paradigm, wildcards.domain, TRAIN_PERIODS[i - 1])


def shards_until(domain, period):
    """A domain's shards up to ``period`` (later data cannot change what is built from it)."""
    end = PERIOD_BY_NAME[period].end_ms
    return [
        f"results/shards/{domain}/{p}.parquet"
        for p in PERIODS
        if PERIOD_BY_NAME[p].start_ms < end
    ]


def training_data(paradigm, domains, period):
    """What a cell trains on: its samples, or (hllm) the domains' shards and item tables."""
    if paradigm == "hllm":
        return {
            "shards": [s for d in domains for s in shards_until(d, period)],
            "item_tables": [f"results/items/{d}.parquet" for d in domains],
        }
    return {
        "samples": [f"results/samples/{paradigm}/{d}/{period}.parquet" for d in domains]
    }


def train_inputs(wildcards):
    return {
        "init": train_init(wildcards),
        **training_data(wildcards.paradigm, [wildcards.domain], wildcards.period),
    }


def pooled_inputs(wildcards):
    return {
        "init": paradigm_base(wildcards.paradigm),
        **training_data(wildcards.paradigm, DOMAINS, wildcards.period),
    }


def train_params(wildcards):
    domain = getattr(wildcards, "domain", "pooled")
    return TRAIN[(wildcards.paradigm, domain, wildcards.period)].to_dict()


def hllm_params(wildcards):
    """hllm cells: the paradigm's settings and the period they train on."""
    if wildcards.paradigm != "hllm":
        return None
    period = PERIOD_BY_NAME[wildcards.period]
    return {
        "settings": HLLM.to_dict(),
        "period": {
            "name": period.name,
            "start_ms": period.start_ms,
            "end_ms": period.end_ms,
        },
    }


def sid_params(wildcards):
    if wildcards.paradigm != "semid":
        return None
    return {"levels": INDEX.levels, "codebook_size": INDEX.codebook_size}


def cell_dirs():
    """Every checkpoint of the grid, pooled task bases included."""
    return [
        *expand(
            "results/checkpoints/{paradigm}/{domain}/{period}",
            paradigm=PARADIGMS,
            domain=DOMAINS,
            period=TRAIN_PERIODS,
        ),
        *expand(
            "results/checkpoints/{paradigm}/pooled/{period}",
            paradigm=PARADIGMS,
            period=FIRST_PERIOD,
        ),
    ]


def grid_outputs():
    """Every artefact of the grid stage: base, item indexes, samples, checkpoints."""
    base = [] if BASE.path else [BASE_DIR]
    return [
        *base,
        *[paradigm_base(p) for p in PARADIGMS if p in ("semid", "hllm")],
        *expand("results/index/{domain}", domain=DOMAINS),
        *expand(
            "results/samples/{paradigm}/{domain}/{period}.parquet",
            paradigm=SAMPLE_PARADIGMS,
            domain=DOMAINS,
            period=PERIODS,
        ),
        *cell_dirs(),
    ]


def merge_job(wildcards):
    try:
        return MERGES[(wildcards.paradigm, wildcards.spec)]
    except KeyError:
        raise ValueError(
            f"results/merged/{wildcards.paradigm}/{wildcards.spec}: no such merge in config "
            "(see `merges:`)"
        ) from None


def merge_inputs(wildcards):
    """The checkpoints a merge reads (and, for semid ID rows, the semid base's tokenizer)."""
    job = merge_job(wildcards)
    inputs = {"cells": [path for _, path, _ in job.inputs]}
    if job.reference:
        inputs["reference"] = job.reference
    if job.sid_rows_from:
        inputs["sid_base"] = "results/base/semid"
    return inputs


def merge_params(wildcards):
    return merge_job(wildcards).params()


def merged_outputs():
    return [f"results/merged/{paradigm}/{name}" for paradigm, name in sorted(MERGES)]


def evaluation_files(paradigm, domain):
    """What evaluating on ``domain`` reads: test prompts and item index (hllm: the item table),
    and the interactions (popularity rescale; hllm: the test users' histories)."""
    if paradigm == "hllm":
        return {
            "shards": [f"results/shards/{domain}/{p}.parquet" for p in PERIODS],
            "item_table": f"results/items/{domain}.parquet",
        }
    return {
        "samples": f"results/samples/{paradigm}/{domain}/{TEST_PERIOD}.parquet",
        "index": f"results/index/{domain}",
        "shards": [f"results/shards/{domain}/{p}.parquet" for p in TRAIN_PERIODS],
    }


def batch_inputs(paradigm, models):
    """The models of one evaluation batch and the files of the domains they serve."""
    domains = sorted({d for m in models for d in m.domains})
    inputs = {"models": [m.path for m in models]}
    for domain in domains:
        for key, files in evaluation_files(paradigm, domain).items():
            inputs.setdefault(key, []).extend(
                [files] if isinstance(files, str) else files
            )
    return inputs


def batch_params(paradigm, models):
    """Everything that determines a batch's metric files (per model: path, domains, output)."""
    from dataclasses import asdict

    domains = sorted({d for m in models for d in m.domains})
    test = PERIOD_BY_NAME[TEST_PERIOD]
    return {
        "paradigm": paradigm,
        "settings": asdict(EVALUATE),
        "seed": config["seed"],
        "encoder": INDEX.encoder,
        "reference_ms": test.start_ms,
        "domains": {d: evaluation_files(paradigm, d) for d in domains},
        "models": [
            {"path": m.path, "domains": list(m.domains), "out": m.metrics_dir}
            for m in models
        ],
        **(
            {
                "hllm": HLLM.to_dict(),
                "test_period": {
                    "name": test.name,
                    "start_ms": test.start_ms,
                    "end_ms": test.end_ms,
                },
                "max_users": None if HLLM.eval_all_users else SAMPLES.eval_max_users,
            }
            if paradigm == "hllm"
            else {}
        ),
    }


def metric_outputs():
    return [m.metrics_dir for m in MODELS]


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


def analysis_settings(wildcards):
    from dataclasses import asdict

    return asdict(ANALYSIS)


def analysis_outputs():
    """Every table, regression file and figure of the analysis."""
    from mmgrid.analysis import AnalysisOutputs

    return [str(p) for p in AnalysisOutputs.under("results").paths()]
