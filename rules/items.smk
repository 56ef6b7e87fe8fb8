# Item index per domain: text embeddings and semantic IDs.


rule item_index:
    input:
        item_table="results/items/{domain}.parquet",
    output:
        directory("results/index/{domain}"),
    log:
        "results/logs/item_index/{domain}.log",
    benchmark:
        "results/benchmarks/item_index/{domain}.tsv"
    group:
        job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=0,
    params:
        settings=index_settings,
        seed=config["seed"],
    script:
        "../workflow_scripts/item_index.py"
