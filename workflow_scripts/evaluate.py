"""Snakemake job: evaluate one model on every domain it serves (metrics + per-user ranks)."""

from mmgrid.atomic import atomic_dir
from mmgrid.evaluate.evaluate import evaluate_model
from mmgrid.evaluate.settings import settings_from_config
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(snakemake.threads)
    job = snakemake.params.job
    settings = settings_from_config(job["settings"])
    encoder = None
    if snakemake.wildcards.paradigm == "title":
        from mmgrid.items.encoder import TextEncoder

        encoder = TextEncoder(job["encoder"], device="cpu")
    with atomic_dir(snakemake.output[0]) as out:
        for domain, files in job["domains"].items():
            result = evaluate_model(
                snakemake.input.model,
                snakemake.wildcards.paradigm,
                domain,
                files["samples"],
                files["index"],
                out,
                settings,
                job["seed"],
                interactions=files["shards"],
                reference_ms=job["reference_ms"],
                encoder=encoder,
                encoder_source=job["encoder"],
                log=log.info,
            )
            log.info("evaluated %s on %s: %s", snakemake.input.model, domain, result)
