# The study's merges: cross-domain and temporal merge specs from config, one job per merged model.


rule merge:
    input:
        unpack(merge_inputs),
    output:
        directory("results/merged/{paradigm}/{spec}"),
    log:
        "results/logs/merge/{paradigm}/{spec}.log",
    benchmark:
        "results/benchmarks/merge/{paradigm}/{spec}.tsv"
    group:
        job_group("merges")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
        gpu=0,
    params:
        job=merge_params,
        chunk_elems=config["merge_chunk_elems"],
    script:
        "../workflow_scripts/merge.py"
