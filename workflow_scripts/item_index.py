"""Snakemake job: one domain's item index (text embeddings and semantic IDs)."""

from mmgrid.items import build_index
from mmgrid.logs import job_log
from mmgrid.seeding import derive_seed
from mmgrid.study.jobs import IndexJob

with job_log(snakemake.log[0]) as log:
    job = IndexJob.from_params(snakemake.params.job)
    report = build_index(
        snakemake.input.item_table,
        snakemake.output[0],
        job.settings,
        derive_seed(job.seed, "index", snakemake.wildcards.domain),
    )
    log.info("read %s; wrote %s: %s", snakemake.input.item_table, snakemake.output[0], report)
