# Per-cell training: the incremental chain over periods, and the pooled task base per paradigm.


rule train:
    input:
        unpack(train_inputs),
    output:
        directory("results/checkpoints/{paradigm}/{domain}/{period}"),
    log:
        "results/logs/train/{paradigm}/{domain}/{period}.log",
    benchmark:
        "results/benchmarks/train/{paradigm}/{domain}/{period}.tsv"
    group:
        job_group("train")
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **GPU_JOB_RESOURCES,
        mem_mb=8000,
        runtime=240,
        gpu=config["gpus_per_job"],
    params:
        settings=train_params,
        sid=sid_params,
        hllm=hllm_params,
        seed=config["seed"],
    script:
        "../workflow_scripts/train_cell.py"


rule train_pooled:
    input:
        unpack(pooled_inputs),
    output:
        directory("results/checkpoints/{paradigm}/pooled/{period}"),
    log:
        "results/logs/train/{paradigm}/pooled/{period}.log",
    benchmark:
        "results/benchmarks/train/{paradigm}/pooled/{period}.tsv"
    group:
        job_group("train")
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **GPU_JOB_RESOURCES,
        mem_mb=8000,
        runtime=240,
        gpu=config["gpus_per_job"],
    params:
        settings=train_params,
        sid=sid_params,
        hllm=hllm_params,
        seed=config["seed"],
    script:
        "../workflow_scripts/train_cell.py"
