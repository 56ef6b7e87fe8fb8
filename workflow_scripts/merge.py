"""Snakemake job: one merged model of the grid (see mmgrid.merge_grid and docs/merging.md)."""

from mmgrid.logs import job_log
from mmgrid.merge import merge
from mmgrid.merge_grid import engine_spec, semantic_id_rows

with job_log(snakemake.log[0]) as log:
    job = snakemake.params.job
    rows = semantic_id_rows(snakemake.input.sid_base) if job["sid_rows_from"] else None
    result = merge(
        engine_spec(job, rows),
        snakemake.output[0],
        chunk_elems=snakemake.params.chunk_elems,
        threads=snakemake.threads,
        log=log.info,
    )
    log.info("read %s; wrote %s (%.2f s)", list(snakemake.input), result.out_dir, result.seconds)
