"""Snakemake job: the base LLM turned into an HLLM (item and user LLMs), the hllm chain's start."""

from mmgrid.hllm import build_hllm_base
from mmgrid.hllm.settings import settings_from_config
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    build_hllm_base(
        snakemake.input.base,
        snakemake.output[0],
        settings_from_config(snakemake.params.settings),
        snakemake.params.seed,
        log=log.info,
    )
