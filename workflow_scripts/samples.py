"""Snakemake job: the samples of one (paradigm, domain, period) cell."""

from pathlib import Path

from mmgrid.items.index import SEMANTIC_IDS
from mmgrid.logs import job_log
from mmgrid.samples.build import build_samples, write_samples
from mmgrid.study.jobs import SamplesJob

with job_log(snakemake.log[0]) as log:
    job = SamplesJob.from_params(snakemake.params.job)
    index = snakemake.input.get("index")
    table = build_samples(
        job.paradigm,
        job.domain,
        job.period,
        shards=snakemake.input.shards,
        items_path=Path(snakemake.input.item_table),
        sids_path=Path(index) / SEMANTIC_IDS if index else None,
        is_test=job.is_test,
        is_first=job.is_first,
        settings=job.settings,
        seed=job.seed,
    )
    write_samples(table, Path(snakemake.output[0]))
    log.info(
        "read %s; wrote %d samples to %s",
        list(snakemake.input),
        table.num_rows,
        snakemake.output[0],
    )
