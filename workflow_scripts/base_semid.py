"""Snakemake job: the base LLM with the semantic-ID tokens added (the semid chain's start)."""

from mmgrid.logs import job_log
from mmgrid.train.vocab_base import write_semid_base

with job_log(snakemake.log[0]) as log:
    summary = write_semid_base(
        snakemake.input.base,
        snakemake.output[0],
        levels=snakemake.params.levels,
        codebook_size=snakemake.params.codebook_size,
        seed=snakemake.params.seed,
    )
    log.info("read %s; wrote %s: %s", snakemake.input.base, snakemake.output[0], summary)
