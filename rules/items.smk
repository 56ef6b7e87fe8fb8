# Item index per domain: text embeddings and semantic IDs.


rule item_index:
    input:
        item_table=rules.ingest.output.item_table,
    output:
        directory(PATHS.item_index("{domain}")),
    log:
        PATHS.log("item_index", "{domain}"),
    benchmark:
        PATHS.benchmark("item_index", "{domain}")
    group:
        STUDY.job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    params:
        job=STUDY.index_job().to_params(),
    script:
        "../workflow_scripts/item_index.py"
