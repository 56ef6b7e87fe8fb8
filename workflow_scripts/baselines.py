"""Snakemake job: the MostPop and Random baselines on one domain's test users."""

from mmgrid.evaluate.baselines import BASELINES, evaluate_baselines
from mmgrid.logs import job_log
from mmgrid.study.jobs import BaselinesJob

with job_log(snakemake.log[0]) as log:
    job = BaselinesJob.from_params(snakemake.params.job)
    out = snakemake.output
    evaluate_baselines(
        snakemake.wildcards.domain,
        snakemake.input.shards,
        snakemake.input.item_table,
        test_period=job.test_period,
        popularity_period=job.popularity_period,
        max_users=job.max_users,
        ks=job.k,
        seed=job.seed,
        outputs={name: (out[f"{name}_metrics"], out[f"{name}_ranks"]) for name in BASELINES},
        log=log.info,
    )
