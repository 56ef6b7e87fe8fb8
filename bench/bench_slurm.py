"""Benchmark: a config through SLURM (profiles/slurm) against a local `--cores 2` run of it.

    .venv/bin/python bench/bench_slurm.py [--config tests/config.tiny.yaml] [--repeats 1]
        [--account ACCOUNT] [--job-groups data train merges] [--set KEY=VALUE ...]

Needs a SLURM whose nodes see this file system (a single-node one: `sudo .ci/slurm_up.sh`). Each
repeat runs the workflow locally and through SLURM, in fresh directories, one after the other
(the order alternates between repeats, so both see the same load), and prints per run the wall
time, the jobs run and the SLURM jobs submitted, and the SLURM / local ratio. The profile is
profiles/slurm with the account (default: the user's first, from sacctmgr) and the CPU partition
`cpu` set; `--set` overrides other profile keys (e.g. `slurm-init-seconds-before-status-checks=40`,
the plugin's default) and `--job-groups` the config's groups (no value: no groups), to measure
what each contributes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from mmgrid.slurm import user_accounts

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def write_profile(folder: Path, account: str, settings: list[str]) -> Path:
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    profile["default-resources"]["slurm_account"] = account
    profile["default-resources"]["slurm_partition"] = "cpu"
    for setting in settings:
        key, _, value = setting.partition("=")
        profile[key] = yaml.safe_load(value)
    (folder / "profile").mkdir()
    (folder / "profile/config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return folder / "profile"


def run(work: Path, config: Path, *args: str) -> dict[str, float | int]:
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-d", str(work), *args, "all"]
    cmd += ["--configfile", str(config)]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    wall = time.perf_counter() - start
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{log[-3000:]}")
    done = re.findall(r"(\d+) of \d+ steps \(100%\) done", log)
    return {
        "wall": wall,
        "jobs": int(done[-1]) if done else 0,
        "submitted": len(re.findall(r"has been submitted with SLURM jobid", log)),
        "load": load,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=ROOT / "tests/config.tiny.yaml")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--account", default=None)
    ap.add_argument("--job-groups", nargs="*", default=None)
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    account = args.account or user_accounts()[0]
    print("| repeat | run | wall (s) | jobs run | SLURM jobs submitted | load at start |")
    print("|---|---|---|---|---|---|")
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            config = yaml.safe_load(args.config.read_text())
            if args.job_groups is not None:
                config["job_groups"] = args.job_groups
            (tmp / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
            profile = write_profile(tmp, account, args.set)
            runs = {
                "local": ("--cores", "2"),
                "slurm": ("--profile", str(profile)),
            }
            order = list(runs) if repeat % 2 == 0 else list(reversed(runs))
            result = {}
            for name in order:
                (tmp / name).mkdir()
                result[name] = run(tmp / name, tmp / "config.yaml", *runs[name])
                r = result[name]
                print(
                    f"| {repeat + 1} | {name} | {r['wall']:.0f} | {r['jobs']} | "
                    f"{r['submitted'] if name == 'slurm' else '-'} | {r['load']:.1f} |",
                    flush=True,
                )
            ratio = result["slurm"]["wall"] / result["local"]["wall"]
            print(f"| {repeat + 1} | SLURM / local | **{ratio:.2f}** | | | |", flush=True)


if __name__ == "__main__":
    main()
