# Per-cell training: the incremental chain over periods, and the pooled task base per paradigm.


rule train:
    input:
        unpack(train_inputs),
    output:
        directory(PATHS.checkpoint("{paradigm}", "{domain}", "{period}")),
    log:
        PATHS.log("train", "{paradigm}", "{domain}", "{period}"),
    benchmark:
        PATHS.benchmark("train", "{paradigm}", "{domain}", "{period}")
    group:
        STUDY.job_group("train")
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **STUDY.gpu_job_resources,
        mem_mb=8000,
        runtime=240,
        gpu=STUDY.gpus_per_job,
    params:
        job=train_job,
    script:
        "../workflow_scripts/train_cell.py"


rule train_pooled:
    input:
        unpack(pooled_inputs),
    output:
        directory(PATHS.checkpoint("{paradigm}", "pooled", "{period}")),
    log:
        PATHS.log("train", "{paradigm}", "pooled", "{period}"),
    benchmark:
        PATHS.benchmark("train", "{paradigm}", "pooled", "{period}")
    group:
        STUDY.job_group("train")
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **STUDY.gpu_job_resources,
        mem_mb=8000,
        runtime=240,
        gpu=STUDY.gpus_per_job,
    params:
        job=pooled_job,
    script:
        "../workflow_scripts/train_cell.py"
