"""Config mistakes fail the dry run, before any job, naming the config key (or file and line);
fuzzed configs fail or pass the dry run exactly as the package's config check says."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from mmgrid.errors import InputError
from mmgrid.study import Study
from tests.study.test_config_checks import TINY, mutate, tiny
from tests.workflow.smk import snakemake

pytestmark = pytest.mark.workflow


def dry_run(tmp_path: Path, config: dict | str) -> tuple[int, str]:
    path = tmp_path / "config.yaml"
    path.write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    proc = snakemake(tmp_path, "--dry-run", configfile=path, check=False)
    assert not (tmp_path / "results").exists()
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            tiny(merges__temporal__domains={"Books": {"weigths": [0.25]}}),
            "config key merges.temporal.domains.Books.weigths: unknown key",
        ),
        (
            tiny(merges__cross_domain__options={"ties": {"mask_rat": 0.8}}),
            "unknown key 'merges.cross_domain.options.ties.mask_rat'",
        ),
        ("domains: [Books]\nkcore: 3\nkcore: 4\n", "line 3, column 1: duplicate key 'kcore'"),
    ],
)
def test_config_mistakes_fail_the_dry_run_naming_the_key(tmp_path, config, message):
    code, output = dry_run(tmp_path, config)
    assert code != 0 and message in output, output[-2000:]


def test_fuzzed_configs_fail_or_pass_the_dry_run_as_the_check_says(tmp_path):
    """A few fuzz cases through real dry runs (each takes seconds; the many run in
    tests/study/test_config_checks.py through the same check)."""
    rng = random.Random(7)
    cases = {"pass": None, "fail": None}
    while None in cases.values():
        config = mutate(TINY, rng)
        try:
            Study.from_config(config)
            cases["pass"] = cases["pass"] or config
        except InputError as e:
            cases["fail"] = cases["fail"] or (config, str(e))
    for name in cases:
        (tmp_path / name).mkdir()
    code, output = dry_run(tmp_path / "pass", cases["pass"])
    assert code == 0, output[-2000:]
    config, message = cases["fail"]
    code, output = dry_run(tmp_path / "fail", config)
    assert code != 0 and message in output, (message, output[-2000:])
