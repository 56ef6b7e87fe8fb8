"""Snakemake job: the study's tables, optimal weights, regression and figures from the metrics."""

from mmgrid.analysis import AnalysisOutputs, run_analysis, settings_from_config
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    out = snakemake.output
    run_analysis(
        snakemake.params.models,
        **snakemake.params.roots,
        settings=settings_from_config(snakemake.params.settings),
        seed=snakemake.params.seed,
        out=AnalysisOutputs(**{name: out[name] for name in AnalysisOutputs.__dataclass_fields__}),
        log=log.info,
    )
