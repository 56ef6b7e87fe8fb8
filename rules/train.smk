# Per-cell training: the incremental chain over periods, and the pooled task base per paradigm.


rule train:
    input:
        init=train_init,
        samples="results/samples/{paradigm}/{domain}/{period}.parquet",
    output:
        directory("results/checkpoints/{paradigm}/{domain}/{period}"),
    log:
        "results/logs/train/{paradigm}/{domain}/{period}.log",
    benchmark:
        "results/benchmarks/train/{paradigm}/{domain}/{period}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=config["gpus_per_job"],
    params:
        settings=train_params,
        sid=sid_params,
        seed=config["seed"],
    script:
        "../workflow_scripts/train_cell.py"


rule train_pooled:
    input:
        init=pooled_init,
        samples=expand(
            "results/samples/{{paradigm}}/{domain}/{{period}}.parquet", domain=DOMAINS
        ),
    output:
        directory("results/checkpoints/{paradigm}/pooled/{period}"),
    log:
        "results/logs/train/{paradigm}/pooled/{period}.log",
    benchmark:
        "results/benchmarks/train/{paradigm}/pooled/{period}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=240,
        gpu=config["gpus_per_job"],
    params:
        settings=train_params,
        sid=sid_params,
        seed=config["seed"],
    script:
        "../workflow_scripts/train_cell.py"
