# Cluster runs: the SLURM checks made before the first job is submitted (mmgrid.slurm); the rules
# take their job groups (config key job_groups) from STUDY.job_group. Local runs ignore both.


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
        gpu_job_resources=STUDY.gpu_job_resources,
    )


onstart:
    check_slurm_submission()
