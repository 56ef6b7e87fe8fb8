"""The SLURM submission checks (mmgrid.slurm) on hand-written cluster answers."""

from __future__ import annotations

import getpass
import subprocess

import pytest

from mmgrid.errors import InputError
from mmgrid.slurm import (
    Cluster,
    JobRequest,
    Partition,
    check_submission,
    parse_config,
    parse_partitions,
    read_cluster,
)

SCONTROL = """Configuration data as of 2026-12-02T22:20:00
AccountingStorageHost   = localhost
AccountingStorageType   = accounting_storage/slurmdbd
MinJobAge               = 300 sec
MessageTimeout          = 10 sec
"""
SINFO = "cpu|(null)\ngpu|gpu:a100:4(S:0-1),shard:8\ngpu|gpu:a100:2\nsmall|gpu:2\n"


def test_parse_config_reads_accounting_and_min_job_age():
    assert parse_config(SCONTROL) == ("accounting_storage/slurmdbd", 300)
    assert parse_config("AccountingStorageType = accounting_storage/none\n") == (
        "accounting_storage/none",
        None,
    )


def test_parse_partitions_keeps_the_most_gpus_of_a_node_per_type():
    partitions = parse_partitions(SINFO)
    assert partitions == {
        "cpu": Partition("cpu", {}),
        "gpu": Partition("gpu", {"a100": 4}),
        "small": Partition("small", {None: 2}),
    }
    assert partitions["gpu"].max_gpus == 4 and partitions["cpu"].max_gpus == 0


def test_read_cluster_lists_accounts_only_when_the_cluster_keeps_them():
    calls = []

    def run(cmd):
        calls.append(cmd[0])
        return {"scontrol": SCONTROL, "sinfo": SINFO, "sacctmgr": "ci\nRoot\n"}[cmd[0]]

    cluster = read_cluster(run)
    assert cluster.accounts == {"ci", "root"} and cluster.has_accounting
    assert sorted(cluster.partitions) == ["cpu", "gpu", "small"]

    def no_accounting(cmd):
        if cmd[0] == "sacctmgr":
            raise subprocess.CalledProcessError(1, cmd)
        return SCONTROL.replace("slurmdbd", "none") if cmd[0] == "scontrol" else SINFO

    cluster = read_cluster(no_accounting)
    assert not cluster.has_accounting and cluster.accounts is None


def cluster(accounting="accounting_storage/slurmdbd", min_job_age=300, accounts=("ci",)):
    listed = frozenset(accounts) if accounts is not None else None
    return Cluster(accounting, min_job_age, parse_partitions(SINFO), listed)


CPU_JOB = JobRequest("ingest", account="ci", partition="cpu")
GPU_JOB = JobRequest("train", account="ci", partition="gpu", gpus=1)


def problems(jobs, cluster, status="sacct", init=40, gpu_job_resources=None) -> str:
    with pytest.raises(InputError) as err:
        check_submission(
            jobs,
            cluster,
            status_command=status,
            init_seconds=init,
            gpu_job_resources=gpu_job_resources or {"slurm_partition": "gpu"},
        )
    return str(err.value)


def test_a_valid_submission_passes():
    check_submission(
        [CPU_JOB, GPU_JOB, JobRequest("evaluate_x", "ci", "gpu", gpus=2, gpu_model="a100")],
        cluster(),
        status_command="sacct",
        init_seconds=40,
        gpu_job_resources={"slurm_partition": "gpu", "gpu_model": "a100"},
    )


def test_placeholder_and_unknown_accounts_name_the_profile_key():
    text = problems([JobRequest("ingest", "YOUR_ACCOUNT", "cpu")], cluster())
    assert "default-resources: slurm_account is still the placeholder YOUR_ACCOUNT" in text
    assert "profiles/slurm/config.yaml" in text and "(yours: ci)" in text
    text = problems([JobRequest("ingest", "Other", "cpu")], cluster())
    assert f"slurm_account: Other is not an account of {getpass.getuser()}" in text
    # without accounting the cluster cannot list accounts: any name but the placeholder passes
    none = cluster("accounting_storage/none", accounts=None)
    check_submission([JobRequest("ingest", "Other", "cpu")], none, status_command="squeue",
                     init_seconds=40, gpu_job_resources={})  # fmt: skip
    assert "placeholder" in problems([JobRequest("ingest", "YOUR_ACCOUNT", "cpu")], none, "squeue")


def test_sacct_on_a_cluster_without_accounting_would_hang():
    none = cluster("accounting_storage/none", accounts=None)
    text = problems([CPU_JOB], none, status="sacct")
    assert "slurm-status-command: squeue" in text and "wait forever" in text
    # squeue works unless MinJobAge is so short that the plugin falls back to sacct
    check_submission([CPU_JOB], none, status_command="squeue", init_seconds=40,
                     gpu_job_resources={})  # fmt: skip
    text = problems([CPU_JOB], cluster("accounting_storage/none", min_job_age=60), "squeue", 40)
    assert "slurm-init-seconds-before-status-checks: 40 s" in text and "at most 20" in text


def test_partitions_and_gpus_are_checked_against_the_config_keys():
    text = problems([JobRequest("ingest", "ci", "cpux")], cluster())
    assert "default-resources: slurm_partition: cpux is not a partition" in text
    assert "sinfo lists: cpu, gpu, small" in text
    text = problems([JobRequest("train", "ci", "cpu", gpus=1)], cluster(), gpu_job_resources={})
    assert "config key gpus_per_job asks 1 GPU(s) for train" in text
    assert "partition cpu (profile key default-resources: slurm_partition) has no GPU gres" in text
    assert "gpu_job_resources.slurm_partition" in text
    text = problems([JobRequest("train", "ci", "gpu", gpus=8)], cluster())
    assert "config key gpus_per_job: 8 is more GPUs than a node of partition gpu has (4)" in text
    text = problems([JobRequest("train", "ci", "small", gpus=1, gpu_model="h100")], cluster())
    assert "gpu_job_resources.gpu_model: h100 is not a GPU type of partition small" in text


def test_every_problem_is_reported_at_once():
    text = problems(
        [JobRequest("ingest", "YOUR_ACCOUNT", "cpux"), JobRequest("train", "ci", "cpu", gpus=1)],
        cluster("accounting_storage/none", accounts=None),
        gpu_job_resources={},
    )
    assert text.count("\n- ") == 4  # account, status command, unknown partition, no GPU gres


def test_a_controller_that_does_not_answer_is_named():
    def down(cmd):
        raise subprocess.CalledProcessError(1, cmd, stderr="slurm_load_ctl_conf error\n")

    with pytest.raises(InputError, match=r"`scontrol show config` failed \(slurm_load_ctl_conf"):
        read_cluster(down)
