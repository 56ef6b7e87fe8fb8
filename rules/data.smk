# Raw Amazon-2023-format files -> per-(domain, period) shards, item tables, statistics.


rule synthetic_domain:
    output:
        **PATHS.generated_raw_files("{domain}"),
    log:
        PATHS.log("synthetic_domain", "{domain}"),
    benchmark:
        PATHS.benchmark("synthetic_domain", "{domain}")
    group:
        STUDY.job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
        gpu=0,
    params:
        job=synthetic_job,
    script:
        "../workflow_scripts/synthetic_domain.py"


rule ingest:
    input:
        unpack(ingest_inputs),
    output:
        shards=[PATHS.shard("{domain}", p.name) for p in STUDY.periods],
        item_table=PATHS.item_table("{domain}"),
        stats=PATHS.stats("{domain}"),
    log:
        PATHS.log("ingest", "{domain}"),
    benchmark:
        PATHS.benchmark("ingest", "{domain}")
    group:
        STUDY.job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 2
    resources:
        mem_mb=4000,
        runtime=30,
        gpu=0,
    params:
        job=STUDY.ingest_job().to_params(),
    script:
        "../workflow_scripts/ingest.py"


rule data_summary:
    input:
        stats=expand(rules.ingest.output.stats, domain=STUDY.domains),
    output:
        table=PATHS.domain_stats_table,
        figure=report(
            PATHS.interaction_ratio_figure,
            caption="../report/interaction_ratio.rst",
            category="Data",
        ),
    log:
        PATHS.log("data_summary"),
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
        gpu=0,
    params:
        job=STUDY.data_summary_job().to_params(),
    script:
        "../workflow_scripts/data_summary.py"
