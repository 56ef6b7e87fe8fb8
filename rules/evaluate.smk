# Evaluation: every cell, pooled task base and merged model on the test window of its domain(s).
# One job per batch of related models (mmgrid.study.evaluated): torch loads once per batch.


for (eval_paradigm, eval_batch), eval_models in STUDY.batches.items():

    rule:
        name:
            batch_rule_name(eval_paradigm, eval_batch)
        input:
            **STUDY.batch_inputs(eval_paradigm, eval_batch),
        output:
            [directory(m.metrics_dir) for m in eval_models],
        log:
            PATHS.log("evaluate", eval_paradigm, eval_batch),
        benchmark:
            PATHS.benchmark("evaluate", eval_paradigm, eval_batch)
        group:
            STUDY.evaluation_group(eval_paradigm, eval_batch)
        conda:
            "../envs/gpu.yaml"
        threads: 1
        resources:
            **STUDY.gpu_job_resources,
            mem_mb=4000,
            runtime=30 + 10 * len(eval_models),
            gpu=STUDY.gpus_per_job,
        params:
            paradigm=eval_paradigm,
            job=STUDY.batch_job(eval_paradigm, eval_batch).to_params(),
        script:
            "../workflow_scripts/evaluate.py"


# The non-learned baselines (MostPop, Random) on the same test users as every model, per domain
# (seconds of CPU: on a cluster, part of the domain's data submission).
rule baselines:
    input:
        unpack(baseline_inputs),
    output:
        **PATHS.baseline_files("{domain}"),
    log:
        PATHS.log("evaluate", "baselines", "{domain}"),
    benchmark:
        PATHS.benchmark("evaluate", "baselines", "{domain}")
    group:
        STUDY.job_group("data")
    conda:
        "../envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
        gpu=0,
    params:
        job=STUDY.baselines_job().to_params(),
    script:
        "../workflow_scripts/baselines.py"
