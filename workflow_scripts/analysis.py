"""Snakemake job: the study's tables, optimal weights, regression and figures from the metrics."""

from mmgrid.analysis import AnalysisOutputs, run_analysis
from mmgrid.logs import job_log
from mmgrid.study.jobs import AnalysisJob

with job_log(snakemake.log[0]) as log:
    job = AnalysisJob.from_params(snakemake.params.job)
    out = snakemake.output
    run_analysis(
        job.models,
        job.metrics_root,
        job.items_dir,
        job.stats_dir,
        settings=job.settings,
        seed=job.seed,
        out=AnalysisOutputs(**{name: out[name] for name in AnalysisOutputs.__dataclass_fields__}),
        log=log.info,
    )
