# Evaluation: every cell, pooled task base and merged model on the test window of its domain(s).


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        directory("results/metrics/{paradigm}/{model}"),
    log:
        "results/logs/evaluate/{paradigm}/{model}.log",
    benchmark:
        "results/benchmarks/evaluate/{paradigm}/{model}.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=config["gpus_per_job"],
    params:
        job=evaluate_params,
    script:
        "../workflow_scripts/evaluate.py"
