"""Snakemake job: the samples of one (paradigm, domain, period) cell."""

from pathlib import Path

from mmgrid.periods import Period
from mmgrid.logs import job_log
from mmgrid.samples.build import build_samples, write_samples
from mmgrid.samples.settings import settings_from_config

with job_log(snakemake.log[0]) as log:
    cell = snakemake.params.cell
    index = snakemake.input.get("index")
    table = build_samples(
        snakemake.wildcards.paradigm,
        snakemake.wildcards.domain,
        Period(**cell["period"]),
        shards=snakemake.input.shards,
        items_path=Path(snakemake.input.item_table),
        sids_path=Path(index) / "semantic_ids.parquet" if index else None,
        is_test=cell["is_test"],
        is_first=cell["is_first"],
        settings=settings_from_config(cell["settings"]),
        seed=snakemake.params.seed,
    )
    write_samples(table, Path(snakemake.output[0]))
    log.info(
        "read %s; wrote %d samples to %s",
        list(snakemake.input),
        table.num_rows,
        snakemake.output[0],
    )
