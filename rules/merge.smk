# The study's merges: cross-domain and temporal merge specs from config, one job per merged model.


rule merge:
    input:
        unpack(merge_inputs),
    output:
        directory(PATHS.merged("{paradigm}", "{spec}")),
    log:
        PATHS.log("merge", "{paradigm}", "{spec}"),
    benchmark:
        PATHS.benchmark("merge", "{paradigm}", "{spec}")
    group:
        STUDY.job_group("merges")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        job=merge_job,
    script:
        "../workflow_scripts/merge.py"
