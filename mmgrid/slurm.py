"""Checks of a SLURM submission against the cluster, made before the first job is submitted.

snakemake-executor-plugin-slurm finds some mistakes only at ``sbatch`` time, once per job (a
placeholder account, a GPU job on a partition without GPUs), and one never: on a cluster without
accounting storage its default status command, ``sacct``, cannot see a job finish, so the run
waits forever. The workflow calls :func:`check_submission` when it starts on the slurm executor
(``onstart``), with the jobs it is about to submit and what :func:`read_cluster` learnt from
``scontrol``, ``sinfo`` and ``sacctmgr``; every problem is reported at once, naming the profile
or config key to fix.
"""

from __future__ import annotations

import getpass
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmgrid.errors import InputError

PROFILE = "profiles/slurm/config.yaml"
PLACEHOLDER_ACCOUNT = "YOUR_ACCOUNT"
NO_ACCOUNTING = "accounting_storage/none"


@dataclass(frozen=True)
class Partition:
    """A partition and the GPUs its nodes offer: GPU type (None = untyped) -> most GPUs on one
    node."""

    name: str
    gpus: Mapping[str | None, int] = field(default_factory=dict)

    @property
    def max_gpus(self) -> int:
        return max(self.gpus.values(), default=0)


@dataclass(frozen=True)
class Cluster:
    """What the checks need to know about the cluster."""

    accounting: str
    """``AccountingStorageType`` (``accounting_storage/none``: ``sacct`` cannot answer)."""
    min_job_age: int | None
    """``MinJobAge`` in seconds: how long ``squeue`` still shows a finished job."""
    partitions: Mapping[str, Partition]
    accounts: frozenset[str] | None
    """The user's accounts (``sacctmgr``), lower case; None when they cannot be listed."""

    @property
    def has_accounting(self) -> bool:
        return self.accounting != NO_ACCOUNTING


@dataclass(frozen=True)
class JobRequest:
    """What one job asks SLURM for (its Snakemake resources)."""

    rule: str
    account: str | None
    partition: str | None
    gpus: int = 0
    gpu_model: str | None = None

    @classmethod
    def from_resources(cls, rule: str, resources: Mapping[str, Any]) -> JobRequest:
        return cls(
            rule=rule,
            account=_text(resources.get("slurm_account")),
            partition=_text(resources.get("slurm_partition")),
            gpus=int(resources.get("gpu") or 0),
            gpu_model=_text(resources.get("gpu_model")),
        )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def parse_config(text: str) -> tuple[str, int | None]:
    """(AccountingStorageType, MinJobAge in seconds) from ``scontrol show config``."""
    values = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in text.splitlines())
    )
    age = re.match(r"(\d+)", values.get("MinJobAge", ""))
    return values.get("AccountingStorageType", NO_ACCOUNTING), int(age[1]) if age else None


def parse_partitions(text: str) -> dict[str, Partition]:
    """Partitions and their GPUs from ``sinfo --all --noheader --format=%R|%G`` (one line per
    partition and node configuration; GRES like ``gpu:a100:4(S:0-1),shard:8`` or ``(null)``)."""
    gpus: dict[str, dict[str | None, int]] = {}
    for line in text.splitlines():
        if "|" not in line:
            continue
        name, _, gres = line.strip().partition("|")
        per_type = gpus.setdefault(name, {})
        for item in re.sub(r"\([^)]*\)", "", gres).split(","):
            parts = item.strip().split(":")
            if parts[0] != "gpu" or len(parts) < 2 or not parts[-1].isdigit():
                continue
            kind = parts[1] if len(parts) == 3 else None
            per_type[kind] = max(per_type.get(kind, 0), int(parts[-1]))
    return {name: Partition(name, per_type) for name, per_type in gpus.items()}


def read_cluster(run: Callable[[Sequence[str]], str] | None = None) -> Cluster:
    """Ask the cluster (``scontrol show config``, ``sinfo``, and ``sacctmgr`` when it keeps
    accounts); ``run`` returns a command's stdout and raises OSError or SubprocessError."""
    run = run or _run
    accounting, min_job_age = parse_config(_ask(run, ["scontrol", "show", "config"]))
    partitions = parse_partitions(_ask(run, ["sinfo", "--all", "--noheader", "--format=%R|%G"]))
    accounts = None
    if accounting != NO_ACCOUNTING:
        try:
            accounts = frozenset(a.lower() for a in user_accounts(run)) or None
        except (OSError, subprocess.SubprocessError):
            accounts = None  # some sites do not let users list associations
    return Cluster(accounting, min_job_age, partitions, accounts)


def user_accounts(run: Callable[[Sequence[str]], str] | None = None) -> list[str]:
    """The user's SLURM accounts, sorted (``sacctmgr -n -s list user $USER format=account``)."""
    listed = (run or _run)(
        ["sacctmgr", "-n", "-P", "-s", "list", "user", getpass.getuser(), "format=account"]
    )
    return sorted({a.strip() for a in listed.splitlines() if a.strip()})


def _run(cmd: Sequence[str]) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout


def _ask(run: Callable[[Sequence[str]], str], cmd: Sequence[str]) -> str:
    try:
        return run(cmd)
    except (OSError, subprocess.SubprocessError) as err:
        detail = getattr(err, "stderr", None) or err
        raise InputError(
            f"`{' '.join(cmd)}` failed ({str(detail).strip()}): the slurm executor needs the "
            "SLURM commands and a controller that answers; run on the cluster's login node"
        ) from err


def check_submission(
    jobs: Sequence[JobRequest],
    cluster: Cluster,
    *,
    status_command: str | None,
    init_seconds: int,
    gpu_job_resources: Mapping[str, Any],
) -> None:
    """Raise InputError listing every problem of submitting ``jobs`` to ``cluster``."""
    problems = [
        *_account_problems(jobs, cluster),
        *_status_problems(cluster, status_command, init_seconds),
        *_partition_problems(jobs, cluster, gpu_job_resources),
    ]
    if problems:
        raise InputError(
            "SLURM submission stopped before any job was submitted:\n"
            + "\n".join(f"- {p}" for p in problems)
        )


def _account_problems(jobs: Sequence[JobRequest], cluster: Cluster) -> list[str]:
    problems = []
    for account in sorted({j.account for j in jobs if j.account}):
        if account == PLACEHOLDER_ACCOUNT:
            problems.append(
                f"profile key default-resources: slurm_account is still the placeholder "
                f"{PLACEHOLDER_ACCOUNT} ({PROFILE}): set your SLURM account; "
                f"`sacctmgr -n -s list user $USER format=account` lists yours"
                + _listing(cluster.accounts)
            )
        elif cluster.accounts is not None and account.lower() not in cluster.accounts:
            problems.append(
                f"profile key default-resources: slurm_account: {account} is not an account "
                f"of {getpass.getuser()} on this cluster" + _listing(cluster.accounts)
            )
    return problems


def _listing(accounts: frozenset[str] | None) -> str:
    return f" (yours: {', '.join(sorted(accounts))})" if accounts else ""


def _status_problems(cluster: Cluster, status_command: str | None, init_seconds: int) -> list[str]:
    if cluster.has_accounting:
        return []
    fix = f"set `slurm-status-command: squeue` in the profile ({PROFILE})"
    if status_command != "squeue":
        return [
            f"this cluster keeps no accounting (AccountingStorageType={cluster.accounting}), "
            f"so the status command {status_command or 'sacct'} never sees a job finish and the "
            f"run would wait forever: {fix}, or pass --slurm-status-command squeue"
        ]
    if cluster.min_job_age is not None and cluster.min_job_age < 3 * init_seconds:
        # the plugin then falls back to sacct, which this cluster cannot answer
        return [
            f"profile key slurm-init-seconds-before-status-checks: {init_seconds} s is more "
            f"than a third of the cluster's MinJobAge ({cluster.min_job_age} s), so the plugin "
            f"would poll with sacct, which this cluster without accounting cannot answer: set "
            f"it to at most {cluster.min_job_age // 3}"
        ]
    return []


def _partition_problems(
    jobs: Sequence[JobRequest], cluster: Cluster, gpu_job_resources: Mapping[str, Any]
) -> list[str]:
    known = ", ".join(sorted(cluster.partitions))
    problems = []
    for partition in sorted({j.partition for j in jobs if j.partition}):
        rules = sorted({j.rule for j in jobs if j.partition == partition})
        gpu_rules = sorted({j.rule for j in jobs if j.partition == partition and j.gpus})
        key = (
            "config key gpu_job_resources.slurm_partition"
            if gpu_rules and gpu_job_resources.get("slurm_partition") == partition
            else "profile key default-resources: slurm_partition"
        )
        if partition not in cluster.partitions:
            problems.append(
                f"{key}: {partition} is not a partition of this cluster (sinfo lists: {known}); "
                f"jobs of {_rules(rules)} would fail at sbatch"
            )
            continue
        problems += _gpu_problems(jobs, cluster.partitions[partition], gpu_rules, key)
    return problems


def _gpu_problems(
    jobs: Sequence[JobRequest], partition: Partition, gpu_rules: list[str], key: str
) -> list[str]:
    gpu_jobs = [j for j in jobs if j.partition == partition.name and j.gpus]
    if not gpu_jobs:
        return []
    most = max(j.gpus for j in gpu_jobs)
    if not partition.gpus:
        return [
            f"config key gpus_per_job asks {most} GPU(s) for {_rules(gpu_rules)}, but their "
            f"partition {partition.name} ({key}) has no GPU gres: set "
            f"gpu_job_resources.slurm_partition to a partition with GPUs (`sinfo -o %R,%G` "
            f"lists them), or gpus_per_job: 0 to run these jobs on CPUs"
        ]
    problems = []
    if most > partition.max_gpus:
        problems.append(
            f"config key gpus_per_job: {most} is more GPUs than a node of partition "
            f"{partition.name} has ({partition.max_gpus})"
        )
    for model in sorted({j.gpu_model for j in gpu_jobs if j.gpu_model}):
        if model not in partition.gpus:
            types = ", ".join(sorted(t for t in partition.gpus if t)) or "none (untyped GPUs)"
            problems.append(
                f"config key gpu_job_resources.gpu_model: {model} is not a GPU type of "
                f"partition {partition.name} (types: {types})"
            )
    return problems


def _rules(rules: Sequence[str]) -> str:
    shown = ", ".join(rules[:4])
    return shown + (f" and {len(rules) - 4} more rules" if len(rules) > 4 else "")
