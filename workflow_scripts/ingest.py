"""Snakemake job: ingest one domain's raw files into period shards, an item table and statistics."""

from pathlib import Path

from mmgrid.data.ingest import ingest_domain
from mmgrid.logs import job_log
from mmgrid.study.jobs import IngestJob

with job_log(snakemake.log[0]):
    settings = IngestJob.from_params(snakemake.params.job).settings
    tokenizer = snakemake.input.get("tokenizer")  # for description_max_tokens
    ingest_domain(
        snakemake.wildcards.domain,
        Path(snakemake.input.ratings),
        Path(snakemake.input.meta),
        settings,
        dict(
            zip((p.name for p in settings.periods), map(Path, snakemake.output.shards), strict=True)
        ),
        Path(snakemake.output.item_table),
        Path(snakemake.output.stats),
        tokenizer_file=Path(tokenizer) if tokenizer else None,
    )
