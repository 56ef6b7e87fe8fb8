# The study's findings: tables, optimal merge weights, the weight-vs-recency regression, figures.


rule analysis:
    input:
        metrics=metric_outputs(),
        item_tables=expand("results/items/{domain}.parquet", domain=DOMAINS),
        domain_stats=expand("results/stats/{domain}.json", domain=DOMAINS),
    output:
        cells=report(
            "results/tables/cells.csv",
            caption="../report/cells.rst",
            category="Recency bias",
        ),
        baselines=report(
            "results/tables/baselines.csv",
            caption="../report/baselines.rst",
            category="Baselines",
        ),
        cross_domain=report(
            "results/tables/cross_domain.csv",
            caption="../report/cross_domain.rst",
            category="Cross-domain merging",
        ),
        temporal=report(
            "results/tables/temporal.csv",
            caption="../report/temporal.rst",
            category="Temporal merging",
        ),
        optimal_weights=report(
            "results/tables/optimal_weights.csv",
            caption="../report/optimal_weights.rst",
            category="Temporal merging",
        ),
        regression_json="results/regression/weight_vs_recency.json",
        regression_csv=report(
            "results/regression/weight_vs_recency.csv",
            caption="../report/regression.rst",
            category="Weight vs recency",
        ),
        recency_bias_figure=report(
            "results/figures/recency_bias.png",
            caption="../report/recency_bias.rst",
            category="Recency bias",
        ),
        weight_sweeps_figure=report(
            "results/figures/weight_sweeps.png",
            caption="../report/weight_sweeps.rst",
            category="Temporal merging",
        ),
        regression_figure=report(
            "results/figures/weight_vs_recency.png",
            caption="../report/regression.rst",
            category="Weight vs recency",
        ),
        cross_domain_figure=report(
            "results/figures/cross_domain.png",
            caption="../report/cross_domain.rst",
            category="Cross-domain merging",
        ),
    log:
        "results/logs/analysis.log",
    benchmark:
        "results/benchmarks/analysis.tsv"
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
        gpu=0,
    params:
        models=[*(m.record() for m in MODELS), *baseline_records()],
        settings=analysis_settings,
        seed=config["seed"],
        roots={
            "metrics_root": "results/metrics",
            "items_dir": "results/items",
            "stats_dir": "results/stats",
        },
    script:
        "../workflow_scripts/analysis.py"
