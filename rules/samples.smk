# GR samples per (paradigm, domain, period); the test period holds the evaluation prompts.


rule samples:
    input:
        unpack(samples_inputs),
    output:
        PATHS.samples("{paradigm}", "{domain}", "{period}"),
    log:
        PATHS.log("samples", "{paradigm}", "{domain}", "{period}"),
    wildcard_constraints:
        paradigm=alternatives(STUDY.sample_paradigms),
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
        job=samples_job,
    script:
        "../workflow_scripts/samples.py"
