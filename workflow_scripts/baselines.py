"""Snakemake job: the MostPop and Random baselines on one domain's test users."""

from mmgrid.evaluate.baselines import BASELINES, evaluate_baselines
from mmgrid.grid import Period
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    job = snakemake.params.job
    out = snakemake.output
    evaluate_baselines(
        snakemake.wildcards.domain,
        snakemake.input.shards,
        snakemake.input.item_table,
        test_period=Period(**job["test_period"]),
        popularity_period=Period(**job["popularity_period"]),
        max_users=job["max_users"],
        ks=job["k"],
        seed=job["seed"],
        outputs={name: (out[f"{name}_metrics"], out[f"{name}_ranks"]) for name in BASELINES},
        log=log.info,
    )
