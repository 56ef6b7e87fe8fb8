# The shared base LLM: a tokenizer and a tiny Qwen3 pre-trained on all domains' item texts (or a
# local Hugging Face directory from base.path), and the chain starts of semid (plus SID tokens)
# and hllm (the base turned into item and user LLMs).


rule base:
    input:
        item_tables=expand("results/items/{domain}.parquet", domain=DOMAINS),
    output:
        directory("results/base/llm"),
    log:
        "results/logs/base.log",
    benchmark:
        "results/benchmarks/base.tsv"
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **GPU_JOB_RESOURCES,
        mem_mb=4000,
        runtime=60,
        gpu=config["gpus_per_job"],
    params:
        settings=base_settings,
        seed=config["seed"],
        device=config["device"],
    script:
        "../workflow_scripts/base.py"


rule base_semid:
    input:
        base=BASE_DIR,
    output:
        directory("results/base/semid"),
    log:
        "results/logs/base_semid.log",
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=0,
    params:
        levels=INDEX.levels,
        codebook_size=INDEX.codebook_size,
        seed=config["seed"],
    script:
        "../workflow_scripts/base_semid.py"


rule base_hllm:
    input:
        base=BASE_DIR,
    output:
        directory("results/base/hllm"),
    log:
        "results/logs/base_hllm.log",
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=0,
    params:
        settings=HLLM.to_dict(),
        seed=config["seed"],
    script:
        "../workflow_scripts/base_hllm.py"
