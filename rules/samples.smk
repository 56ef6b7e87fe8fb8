# GR samples per (paradigm, domain, period); the test period holds the evaluation prompts.


rule samples:
    input:
        unpack(samples_inputs),
    output:
        "results/samples/{paradigm}/{domain}/{period}.parquet",
    log:
        "results/logs/samples/{paradigm}/{domain}/{period}.log",
    wildcard_constraints:
        paradigm=alternatives(SAMPLE_PARADIGMS),
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
        cell=samples_params,
        seed=config["seed"],
    script:
        "../workflow_scripts/samples.py"
