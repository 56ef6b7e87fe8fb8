"""Snakemake job: one merged model of the grid (see mmgrid.study.merges and docs/merging.md)."""

from mmgrid.logs import job_log
from mmgrid.merge.grid_job import GridMergeParams

with job_log(snakemake.log[0]) as log:
    result = GridMergeParams.from_params(snakemake.params.job).run(
        snakemake.output[0],
        sid_base=snakemake.input.get("sid_base"),
        threads=snakemake.threads,
        log=log.info,
    )
    log.info("read %s; wrote %s (%.2f s)", list(snakemake.input), result.out_dir, result.seconds)
