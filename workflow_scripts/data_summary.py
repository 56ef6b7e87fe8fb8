"""Snakemake job: the per-domain statistics table and the interaction-ratio figure."""

from pathlib import Path

from mmgrid.data.summary import write_summary
from mmgrid.periods import periods_from_config
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    write_summary(
        [Path(p) for p in snakemake.input.stats],
        periods_from_config({"periods": snakemake.params.periods}),
        snakemake.params.recency_days,
        Path(snakemake.output.table),
        Path(snakemake.output.figure),
    )
    log.info("read %s; wrote %s", list(snakemake.input), list(snakemake.output))
