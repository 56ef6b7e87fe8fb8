"""The workflow on a real SLURM: the tiny config through profiles/slurm, set up as the README says.

CI brings up a single-node SLURM with .ci/slurm_up.sh: cluster `ci` (accounting through slurmdbd)
and cluster `noacct` (no accounting storage, selected with SLURM_CONF). Without sbatch, or
without a controller that answers, these tests skip.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mmgrid.slurm import user_accounts
from tests.workflow.smk import ROOT, TINY, assert_same_outputs, snakemake

NO_ACCOUNTING = {"SLURM_CONF": "/etc/slurm/noacct/slurm.conf"}
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+)")


def controller_answers(env: dict[str, str] | None = None) -> bool:
    if shutil.which("sbatch") is None:
        return False
    ping = subprocess.run(
        ["scontrol", "ping"], capture_output=True, env={**os.environ, **(env or {})}, check=False
    )
    return ping.returncode == 0


pytestmark = [
    pytest.mark.workflow,
    pytest.mark.cluster,
    pytest.mark.skipif(
        shutil.which("sbatch") is None,
        reason="no SLURM here (sbatch not found; CI runs .ci/slurm_up.sh)",
    ),
]
needs_controller = pytest.mark.skipif(
    not controller_answers(), reason="no SLURM controller answers `scontrol ping`"
)
needs_cluster_without_accounting = pytest.mark.skipif(
    not controller_answers(NO_ACCOUNTING),
    reason=f"no SLURM cluster without accounting at {NO_ACCOUNTING['SLURM_CONF']}",
)


@pytest.fixture(scope="module")
def account() -> str:
    """The user's first account, listed as the README says."""
    accounts = user_accounts()
    assert accounts, "sacctmgr lists no account for this user"
    return accounts[0]


def slurm_profile(folder: Path, account: str | None, status_command: str | None = None) -> Path:
    """profiles/slurm with what the README has users set: the account (None: the line deleted,
    for a cluster without accounting), the CPU partition and, without accounting, the status
    command."""
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    resources = profile["default-resources"]
    if account is None:
        del resources["slurm_account"]
    else:
        resources["slurm_account"] = account
    resources["slurm_partition"] = "cpu"
    if status_command:
        profile["slurm-status-command"] = status_command
    path = folder / "profile" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path.parent


def submit(
    work: Path,
    profile: Path,
    target: str,
    configfile: Path = TINY,
    env: dict[str, str] | None = None,
    fails: bool = False,
) -> str:
    """Run ``target`` through SLURM with ``profile``; its log (it must fail if ``fails``)."""
    proc = snakemake(
        work, "--profile", str(profile), target, configfile=configfile, check=not fails, env=env
    )
    assert (proc.returncode != 0) == fails
    return proc.stdout + proc.stderr


def queued_jobs(env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["squeue", "--noheader", "--user", getpass.getuser()],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    ).stdout


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, account) -> tuple[Path, Path, str]:
    work = tmp_path_factory.mktemp("slurm")
    profile = slurm_profile(work, account)
    return work, profile, submit(work, profile, "all")


@needs_controller
def test_tiny_config_through_slurm_gives_the_local_results(slurm_run, tiny_run):
    work, _, log = slurm_run
    assert (work / "results" / "all").is_file()
    assert_same_outputs(tiny_run, work)  # tables, metrics, checkpoints: byte for byte
    assert re.search(r"77 of 77 steps \(100%\) done", log)
    # job groups: per domain its data jobs and baselines (2), data_summary, base, paradigm_base (semid), per
    # paradigm and domain the training chain with its cells' evaluation (4), per paradigm the
    # pooled task base with its evaluation (2) and each merge family with its evaluation (6),
    # analysis; `manifest` and `all` run locally
    assert len(SUBMITTED.findall(log)) == 2 + 1 + 1 + 1 + 4 + 2 + 6 + 1
    assert queued_jobs() == ""


@needs_controller
def test_second_slurm_run_has_nothing_to_do(slurm_run):
    work, profile, _ = slurm_run
    log = submit(work, profile, "all")
    assert "Nothing to be done" in log
    assert not SUBMITTED.search(log)


@needs_controller
def test_placeholder_account_stops_before_any_submission(tmp_path):
    log = submit(tmp_path, ROOT / "profiles" / "slurm", "results/stats/Books.json", fails=True)
    assert "default-resources: slurm_account is still the placeholder YOUR_ACCOUNT" in log
    assert not SUBMITTED.search(log)


@needs_controller
def test_gpu_jobs_on_a_partition_without_gpus_stop_before_any_submission(tmp_path, account):
    config = yaml.safe_load(TINY.read_text())
    config["gpus_per_job"] = 1
    config["gpu_job_resources"] = {"slurm_partition": "gpu"}  # the CI node has no GPU gres
    path = tmp_path / "gpu.yaml"
    path.write_text(yaml.safe_dump(config))
    log = submit(tmp_path, slurm_profile(tmp_path, account), "all", path, fails=True)
    assert "config key gpus_per_job asks 1 GPU(s) for base, evaluate_semid_cells_Books" in log
    assert "partition gpu (config key gpu_job_resources.slurm_partition) has no GPU gres" in log
    assert not SUBMITTED.search(log)


@needs_cluster_without_accounting
def test_without_accounting_the_shipped_status_command_stops_before_any_submission(tmp_path):
    profile = slurm_profile(tmp_path, account=None)
    log = submit(tmp_path, profile, "results/stats/Books.json", env=NO_ACCOUNTING, fails=True)
    assert "set `slurm-status-command: squeue`" in log
    assert not SUBMITTED.search(log)


@needs_cluster_without_accounting
def test_without_accounting_the_documented_setting_completes(tmp_path, tiny_run):
    profile = slurm_profile(tmp_path, account=None, status_command="squeue")
    target = "results/tables/domain_stats.csv"  # both domains' data groups and data_summary
    log = submit(tmp_path, profile, target, env=NO_ACCOUNTING)
    assert len(SUBMITTED.findall(log)) == 3
    assert (tmp_path / target).read_bytes() == (tiny_run / target).read_bytes()
    assert queued_jobs(NO_ACCOUNTING) == ""
