"""Snakemake job: write one synthetic domain in the Amazon Reviews 2023 download format."""

from mmgrid.data.synthetic import SyntheticSettings, generate_domain
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    domain = snakemake.wildcards.domain
    summary = generate_domain(
        domain,
        SyntheticSettings(**snakemake.params.settings),
        snakemake.params.seed,
        snakemake.output.ratings,
        snakemake.output.meta,
        snakemake.output.truth,
    )
    log.info("wrote %s: %s", list(snakemake.output), summary)
