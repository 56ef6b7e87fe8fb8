"""Snakemake job: the base LLM turned into a paradigm's own model, the start of its chain."""

from mmgrid.logs import job_log
from mmgrid.paradigms import PARADIGMS

with job_log(snakemake.log[0]) as log:
    PARADIGMS[snakemake.wildcards.paradigm].build_base(
        snakemake.params.job, snakemake.input.base, snakemake.output[0], log=log.info
    )
