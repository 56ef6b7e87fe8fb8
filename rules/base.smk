# The shared base LLM: a tokenizer and a tiny Qwen3 pre-trained on all domains' item texts (or a
# local Hugging Face directory from base.path), and the chain starts of the paradigms that turn
# it into their own model (semid: plus the semantic-ID tokens; hllm: item and user LLMs).


rule base:
    input:
        item_tables=expand(rules.ingest.output.item_table, domain=STUDY.domains),
    output:
        directory(PATHS.built_base_llm),
    log:
        PATHS.log("base"),
    benchmark:
        PATHS.benchmark("base")
    conda:
        "../envs/gpu.yaml"
    threads: 1
    resources:
        **STUDY.gpu_job_resources,
        mem_mb=4000,
        runtime=60,
        gpu=STUDY.gpus_per_job,
    params:
        job=STUDY.base_job().to_params(),
    script:
        "../workflow_scripts/base.py"


rule paradigm_base:
    input:
        base=PATHS.base_llm,
    output:
        directory(PATHS.paradigm_base("{paradigm}")),
    log:
        PATHS.log("paradigm_base", "{paradigm}"),
    wildcard_constraints:
        paradigm=alternatives(STUDY.base_paradigms),
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
        gpu=0,
    params:
        job=paradigm_base_job,
    script:
        "../workflow_scripts/paradigm_base.py"
