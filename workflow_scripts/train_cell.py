"""Snakemake job: train one grid cell (or a pooled task base) from its initial checkpoint."""

from mmgrid.periods import Period
from mmgrid.items.tokens import semantic_id_tokens
from mmgrid.logs import job_log
from mmgrid.seeding import derive_seed
from mmgrid.train.settings import CellTrainSettings, LoraSettings


def as_list(files):
    """A named input as a list (Snakemake gives a one-file list as a plain string)."""
    return [files] if isinstance(files, str) else list(files)


with job_log(snakemake.log[0]) as log:
    params = dict(snakemake.params.settings)
    settings = CellTrainSettings(**{**params, "lora": LoraSettings(**params["lora"])})
    paradigm = snakemake.wildcards.paradigm
    if paradigm == "hllm":
        from mmgrid.hllm import train_hllm_cell
        from mmgrid.hllm.settings import settings_from_config

        hllm = snakemake.params.hllm
        domain = getattr(snakemake.wildcards, "domain", "pooled")
        train_hllm_cell(
            snakemake.input.init,
            as_list(snakemake.input.shards),
            as_list(snakemake.input.item_tables),
            Period(**hllm["period"]),
            snakemake.output[0],
            settings,
            settings_from_config(hllm["settings"]),
            derive_seed(snakemake.params.seed, "hllm", domain, hllm["period"]["name"]),
            log=log.info,
            threads=snakemake.threads,
        )
    else:
        from mmgrid.train.chat_cell import train_cell

        sid = snakemake.params.sid
        train_cell(
            paradigm=paradigm,
            samples=as_list(snakemake.input.samples),  # one per domain for a pooled base
            init_dir=snakemake.input.init,
            out_dir=snakemake.output[0],
            settings=settings,
            seed=snakemake.params.seed,
            sid_tokens=semantic_id_tokens(sid["levels"], sid["codebook_size"]) if sid else (),
            threads=snakemake.threads,
        )
