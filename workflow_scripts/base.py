"""Snakemake job: train the tokenizer and pre-train the tiny base LLM on all domains' item texts."""

from pathlib import Path

from mmgrid.logs import job_log
from mmgrid.models.base import PROMPT_REPEATS, build_base
from mmgrid.models.settings import settings_from_config
from mmgrid.samples.prompts import prompt_vocabulary

with job_log(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(snakemake.threads)
    summary = build_base(
        [Path(p) for p in snakemake.input.item_tables],
        Path(snakemake.output[0]),
        settings_from_config(snakemake.params.settings),
        snakemake.params.seed,
        log=log.info,
        extra_texts=prompt_vocabulary() * PROMPT_REPEATS,
        device=snakemake.params.device,
    )
    log.info("wrote %s: %s", snakemake.output[0], summary)
