"""Snakemake job: write one synthetic domain in the Amazon Reviews 2023 download format."""

from mmgrid.data.synthetic import generate_domain
from mmgrid.logs import job_log
from mmgrid.study.jobs import SyntheticJob

with job_log(snakemake.log[0]) as log:
    job = SyntheticJob.from_params(snakemake.params.job)
    summary = generate_domain(
        snakemake.wildcards.domain,
        job.settings,
        job.seed,
        snakemake.output.ratings,
        snakemake.output.meta,
        snakemake.output.truth,
    )
    log.info("wrote %s: %s", list(snakemake.output), summary)
