"""Snakemake job: train one grid cell (or a pooled task base) from its initial checkpoint."""

from mmgrid.items.tokens import semantic_id_tokens
from mmgrid.logs import job_log
from mmgrid.train.cell import train_cell
from mmgrid.train.settings import CellTrainSettings, LoraSettings

with job_log(snakemake.log[0]):
    params = dict(snakemake.params.settings)
    settings = CellTrainSettings(**{**params, "lora": LoraSettings(**params["lora"])})
    sid = snakemake.params.sid
    samples = snakemake.input.samples  # one file for a cell, one per domain for a pooled base
    train_cell(
        paradigm=snakemake.wildcards.paradigm,
        samples=[samples] if isinstance(samples, str) else list(samples),
        init_dir=snakemake.input.init,
        out_dir=snakemake.output[0],
        settings=settings,
        seed=snakemake.params.seed,
        sid_tokens=semantic_id_tokens(sid["levels"], sid["codebook_size"]) if sid else (),
        threads=snakemake.threads,
    )
