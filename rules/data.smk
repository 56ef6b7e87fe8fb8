# Raw Amazon-2023-format files -> per-(domain, period) shards, item tables, statistics.


rule synthetic_domain:
    output:
        ratings="results/raw/{domain}.csv.gz",
        meta="results/raw/meta_{domain}.jsonl.gz",
        truth="results/raw/{domain}.truth.json",
    log:
        "results/logs/synthetic_domain/{domain}.log",
    benchmark:
        "results/benchmarks/synthetic_domain/{domain}.tsv"
    group:
        job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
        gpu=0,
    params:
        settings=synthetic_settings,
        seed=config["seed"],
    script:
        "../workflow_scripts/synthetic_domain.py"


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        shards=expand("results/shards/{{domain}}/{period}.parquet", period=PERIODS),
        item_table="results/items/{domain}.parquet",
        stats="results/stats/{domain}.json",
    log:
        "results/logs/ingest/{domain}.log",
    benchmark:
        "results/benchmarks/ingest/{domain}.tsv"
    group:
        job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        settings=ingest_settings,
    script:
        "../workflow_scripts/ingest.py"


rule data_summary:
    input:
        stats=expand("results/stats/{domain}.json", domain=DOMAINS),
    output:
        table="results/tables/domain_stats.csv",
        figure=report(
            "results/figures/interaction_ratio.png",
            caption="../report/interaction_ratio.rst",
            category="Data",
        ),
    log:
        "results/logs/data_summary.log",
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        gpu=0,
    params:
        periods=config["periods"],
        recency_days=max(DATA["recency_days"]),
    script:
        "../workflow_scripts/data_summary.py"
