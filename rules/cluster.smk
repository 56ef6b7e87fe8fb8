# Cluster runs: the job groups of config key job_groups, and the SLURM checks made before the first
# job is submitted (mmgrid.slurm). Local runs ignore both.


def job_group(stage):
    """The Snakemake group of a stage's jobs: the stage's name when job_groups lists it."""
    return stage if stage in config["job_groups"] else None


def evaluation_group(models):
    """A merge family's batch runs with its merges, the cells' and pooled base's batches with
    their training."""
    trained = all(m.kind in ("cell", "pooled") for m in models)
    return job_group("train" if trained else "merges")


def check_slurm_submission():
    """On the slurm executor: account, partitions, GPU gres and status command, checked against
    the cluster for every job about to be submitted."""
    if workflow.executor_plugin is None or workflow.executor_plugin.name != "slurm":
        return
    from mmgrid import slurm

    settings = workflow.executor_settings
    jobs = [
        slurm.JobRequest.from_resources(job.rule.name, job.resources)
        for job in workflow.dag.needrun_jobs()
        if not job.is_local
    ]
    slurm.check_submission(
        jobs,
        slurm.read_cluster(),
        status_command=settings.status_command,
        init_seconds=settings.init_seconds_before_status_checks,
        gpu_job_resources=config["gpu_job_resources"],
    )


onstart:
    check_slurm_submission()
