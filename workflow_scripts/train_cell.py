"""Snakemake job: train one grid cell (or a pooled task base) from its initial checkpoint."""

from mmgrid.logs import job_log
from mmgrid.paradigms import PARADIGMS

with job_log(snakemake.log[0]) as log:
    PARADIGMS[snakemake.wildcards.paradigm].train(
        snakemake.params.job,
        snakemake.input,
        snakemake.output[0],
        threads=snakemake.threads,
        log=log.info,
    )
