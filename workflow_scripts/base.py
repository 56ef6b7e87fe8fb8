"""Snakemake job: train the tokenizer and pre-train the tiny base LLM on all domains' item texts."""

from pathlib import Path

from mmgrid.logs import job_log
from mmgrid.samples.prompts import prompt_vocabulary
from mmgrid.study.jobs import BaseJob
from mmgrid.train.base_llm import PROMPT_REPEATS, build_base

with job_log(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(snakemake.threads)
    job = BaseJob.from_params(snakemake.params.job)
    summary = build_base(
        [Path(p) for p in snakemake.input.item_tables],
        Path(snakemake.output[0]),
        job.settings,
        job.seed,
        log=log.info,
        extra_texts=prompt_vocabulary() * PROMPT_REPEATS,
        device=job.device,
    )
    log.info("wrote %s: %s", snakemake.output[0], summary)
