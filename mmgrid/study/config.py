"""Reading the workflow's config: strictly, merged as Snakemake merges it, against the schema.

- :func:`check_config_files`: each config file read strictly (a duplicate key, or a YAML
  error, names the file and line);
- :func:`run_config_files` and :func:`load_config_files`: the files of a run and their merge
  (later files win, nested mappings merged key by key), as Snakemake builds its config;
- :func:`validate_schema`: the config validated against ``schemas/config.schema.yaml``, which
  fills the defaults; an error names the config key.

:meth:`mmgrid.study.Study.from_config` validates and checks the merged config.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.strict_yaml import load_yaml

SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG = "config.yaml"
"""The Snakefile's ``configfile:``, read from the working directory when it exists there."""


def check_config_files(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Read every config file strictly: duplicate keys and YAML errors name file and line."""
    for path in paths:
        data = load_yaml(path, "config file")
        if not isinstance(data, Mapping):
            raise InputError(f"{path}: a config file must hold a mapping of keys")


def run_config_files(
    directory: str | os.PathLike[str], configfiles: Sequence[str | os.PathLike[str]]
) -> list[Path]:
    """The config files of ``snakemake --directory DIRECTORY --configfile F1 F2 ...``, in the
    order Snakemake reads them: the directory's ``config.yaml`` when it exists, then each file."""
    default = Path(directory) / DEFAULT_CONFIG
    if not default.is_file() and not configfiles:
        raise InputError(f"{default} does not exist: pass --configfile")
    for path in configfiles:
        if not Path(path).is_file():
            raise InputError(f"config file {path} does not exist")
    return [default] * default.is_file() + [Path(p) for p in configfiles]


def load_config_files(paths: Sequence[str | os.PathLike[str]]) -> dict[str, Any]:
    """Read config files strictly and merge them as Snakemake does (later files win, nested
    mappings merged key by key)."""
    from snakemake.utils import update_config

    check_config_files(paths)
    config: dict[str, Any] = {}
    for path in paths:
        update_config(config, load_yaml(path, "config file"))
    return config


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators

    schema = load_yaml(SCHEMA, "schema")
    properties = Draft202012Validator.VALIDATORS["properties"]

    def fill_defaults(validator, props, instance, subschema):  # the jsonschema FAQ recipe
        if isinstance(instance, dict):
            for name, sub in props.items():
                if "default" in sub:
                    instance.setdefault(name, sub["default"])
        yield from properties(validator, props, instance, subschema)

    cls = validators.extend(Draft202012Validator, {"properties": fill_defaults})
    return cls(schema)


def _key(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "(top level)"


def validate_schema(config: dict[str, Any]) -> None:
    """Validate ``config`` against the schema in place (defaults filled in); an error names the
    config key."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(config))
    if error is None:
        return
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        if unknown and error.schema.get("properties"):
            raise InputError(
                f"config key {_key([*path, unknown[0]])}: unknown key; allowed here: "
                f"{', '.join(sorted(allowed))} (fix the spelling or remove it)"
            )
    raise InputError(f"config key {_key(path)}: {error.message}")
