"""Snakemake job: the per-domain statistics table and the interaction-ratio figure."""

from pathlib import Path

from mmgrid.data.summary import write_summary
from mmgrid.logs import job_log
from mmgrid.study.jobs import DataSummaryJob

with job_log(snakemake.log[0]) as log:
    job = DataSummaryJob.from_params(snakemake.params.job)
    write_summary(
        [Path(p) for p in snakemake.input.stats],
        list(job.periods),
        job.recency_days,
        Path(snakemake.output.table),
        Path(snakemake.output.figure),
    )
    log.info("read %s; wrote %s", list(snakemake.input), list(snakemake.output))
