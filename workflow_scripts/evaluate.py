"""Snakemake job: evaluate a batch of models, each on every domain it serves (metrics + ranks)."""

from mmgrid.logs import job_log
from mmgrid.paradigms import PARADIGMS

with job_log(snakemake.log[0]) as log:
    paradigm = PARADIGMS[snakemake.params.paradigm]
    paradigm.evaluate(snakemake.params.job, threads=snakemake.threads, log=log.info)
