"""Snakemake job: one domain's item index (text embeddings and semantic IDs)."""

from mmgrid.items import build_index, settings_from_config
from mmgrid.logs import job_log
from mmgrid.seeding import derive_seed

with job_log(snakemake.log[0]) as log:
    report = build_index(
        snakemake.input.item_table,
        snakemake.output[0],
        settings_from_config(snakemake.params.settings),
        derive_seed(snakemake.params.seed, "index", snakemake.wildcards.domain),
    )
    log.info("read %s; wrote %s: %s", snakemake.input.item_table, snakemake.output[0], report)
