# Evaluation: every cell, pooled task base and merged model on the test window of its domain(s).
# One job per batch of related models (mmgrid.model_grid): torch loads once per batch.


for (eval_paradigm, eval_batch), eval_models in EVAL_BATCHES.items():

    rule:
        name:
            batch_rule_name(eval_paradigm, eval_batch)
        input:
            **batch_inputs(eval_paradigm, eval_models),
        output:
            [directory(m.metrics_dir) for m in eval_models],
        log:
            f"results/logs/evaluate/{eval_paradigm}/{eval_batch}.log",
        benchmark:
            f"results/benchmarks/evaluate/{eval_paradigm}/{eval_batch}.tsv"
        group:
            evaluation_group(eval_models)
        conda:
            "../envs/gpu.yaml"
        threads: 1
        resources:
            **GPU_JOB_RESOURCES,
            mem_mb=4000,
            runtime=30 + 10 * len(eval_models),
            gpu=config["gpus_per_job"],
        params:
            job=batch_params(eval_paradigm, eval_models),
        script:
            "../workflow_scripts/evaluate.py"
