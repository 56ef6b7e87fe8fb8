# The study's findings: tables, optimal merge weights, the weight-vs-recency regression, figures.


ANALYSIS = PATHS.analysis()


rule analysis:
    input:
        metrics=STUDY.metric_outputs(),
        item_tables=expand(rules.ingest.output.item_table, domain=STUDY.domains),
        domain_stats=expand(rules.ingest.output.stats, domain=STUDY.domains),
    output:
        cells=report(
            ANALYSIS.cells,
            caption="../report/cells.rst",
            category="Recency bias",
        ),
        baselines=report(
            ANALYSIS.baselines,
            caption="../report/baselines.rst",
            category="Baselines",
        ),
        cross_domain=report(
            ANALYSIS.cross_domain,
            caption="../report/cross_domain.rst",
            category="Cross-domain merging",
        ),
        temporal=report(
            ANALYSIS.temporal,
            caption="../report/temporal.rst",
            category="Temporal merging",
        ),
        optimal_weights=report(
            ANALYSIS.optimal_weights,
            caption="../report/optimal_weights.rst",
            category="Temporal merging",
        ),
        regression_json=ANALYSIS.regression_json,
        regression_csv=report(
            ANALYSIS.regression_csv,
            caption="../report/regression.rst",
            category="Weight vs recency",
        ),
        recency_bias_figure=report(
            ANALYSIS.recency_bias_figure,
            caption="../report/recency_bias.rst",
            category="Recency bias",
        ),
        weight_sweeps_figure=report(
            ANALYSIS.weight_sweeps_figure,
            caption="../report/weight_sweeps.rst",
            category="Temporal merging",
        ),
        regression_figure=report(
            ANALYSIS.regression_figure,
            caption="../report/regression.rst",
            category="Weight vs recency",
        ),
        cross_domain_figure=report(
            ANALYSIS.cross_domain_figure,
            caption="../report/cross_domain.rst",
            category="Cross-domain merging",
        ),
        weight_draws=ANALYSIS.weight_draws,
        recency_bias=report(
            ANALYSIS.recency_bias,
            caption="../report/recency_bias_table.rst",
            category="Recency bias",
        ),
        base_replacement=report(
            ANALYSIS.base_replacement,
            caption="../report/base_replacement.rst",
            category="Cross-domain merging",
        ),
    log:
        PATHS.log("analysis"),
    benchmark:
        PATHS.benchmark("analysis")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
        gpu=0,
    params:
        job=STUDY.analysis_job().to_params(),
    script:
        "../workflow_scripts/analysis.py"
