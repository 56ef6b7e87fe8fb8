"""Snakemake job: evaluate a batch of models, each on every domain it serves (metrics + ranks)."""

from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    import torch

    torch.set_num_threads(snakemake.threads)
    job = snakemake.params.job
    if job["paradigm"] == "hllm":
        from mmgrid.hllm.batch import evaluate_hllm_batch as evaluate_batch
    else:
        from mmgrid.evaluate.batch import evaluate_batch
    evaluate_batch(job, log=log.info)
