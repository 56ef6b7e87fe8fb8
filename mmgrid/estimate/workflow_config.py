"""The workflow's config as Snakemake builds it: the Snakefile's ``configfile: config.yaml``
(resolved in the working directory, skipped when absent there and config files are given),
each ``--configfile`` merged over it in order, then validated against the workflow's schema,
which fills the defaults."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from mmgrid.errors import InputError

SCHEMA = Path("schemas") / "config.schema.yaml"


def find_workflow(path: str | os.PathLike[str] | None = None) -> Path:
    """The workflow directory (holding ``Snakefile``): ``path``, else the checkout this package
    was installed from."""
    candidate = Path(path) if path is not None else Path(__file__).resolve().parents[2]
    if not (candidate / "Snakefile").is_file():
        raise InputError(
            f"{candidate} holds no Snakefile: pass --workflow with the mmgrid checkout's directory"
        )
    return candidate


def load_config(
    configfiles: Sequence[str | os.PathLike[str]], directory: Path, workflow: Path
) -> dict[str, Any]:
    """The validated config of ``snakemake --directory DIRECTORY --configfile F1 F2 ...`` with
    the Snakefile of ``workflow``."""
    from snakemake.utils import update_config, validate

    default = directory / "config.yaml"
    if not default.is_file() and not configfiles:
        raise InputError(f"{default} does not exist: pass --configfile")
    config = (yaml.safe_load(default.read_text()) or {}) if default.is_file() else {}
    for path in configfiles:
        if not Path(path).is_file():
            raise InputError(f"config file {path} does not exist")
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    validate(config, str(workflow / SCHEMA))
    return config
