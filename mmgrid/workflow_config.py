"""The workflow's config, checked completely when the workflow is parsed, before any job runs.

- :func:`check_config_files`: each config file read strictly (a duplicate key, or a YAML
  error, names the file and line);
- :func:`check_config`: the merged config validated against ``schemas/config.schema.yaml``
  (which fills the defaults), put in canonical order (:mod:`mmgrid.canonical`), and every
  section built into its settings — an error names the config key.

``rules/common.smk`` calls both and takes its settings from the result; ``mmgrid check-config
FILE ...`` runs the same checks without Snakemake.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mmgrid import grid
from mmgrid.canonical import canonical_config
from mmgrid.errors import InputError
from mmgrid.strict_yaml import load_yaml

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "config.schema.yaml"


@dataclass(frozen=True)
class CheckedConfig:
    """The canonical config (defaults filled in) and the settings built from it."""

    config: dict[str, Any]
    periods: list[grid.Period]
    test_period: grid.Period
    training_periods: list[grid.Period]
    synthetic: dict[str, Any]  # domain -> SyntheticSettings (synthetic source only)
    ingest: dict[str, Any]  # the ingest rule's params
    base: Any
    index: Any
    samples: Any
    hllm: Any
    train: dict[tuple[str, str, str], Any]  # (paradigm, domain or pooled, period) -> settings
    merges: list[Any]  # MergeJob
    evaluate: Any
    analysis: Any


def check_config_files(paths: Iterable[str | os.PathLike[str]]) -> None:
    """Read every config file strictly: duplicate keys and YAML errors name file and line."""
    for path in paths:
        data = load_yaml(path, "config file")
        if not isinstance(data, Mapping):
            raise InputError(f"{path}: a config file must hold a mapping of keys")


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


def check_config(config: Mapping[str, Any]) -> CheckedConfig:
    """Every check the workflow makes when it is parsed (see the module docstring)."""
    from mmgrid.analysis.settings import settings_from_config as analysis_settings
    from mmgrid.data.ingest import ingest_params
    from mmgrid.data.synthetic_settings import settings_from_config as synthetic_settings
    from mmgrid.evaluate.settings import settings_from_config as evaluate_settings
    from mmgrid.hllm.settings import settings_from_config as hllm_settings
    from mmgrid.items.settings import settings_from_config as index_settings
    from mmgrid.merge_grid import merge_jobs
    from mmgrid.models.settings import settings_from_config as base_settings
    from mmgrid.samples.settings import settings_from_config as samples_settings
    from mmgrid.train.settings import cell_settings, validate_scopes

    config = copy.deepcopy(dict(config))
    validate_schema(config)
    config = canonical_config(config)
    periods = grid.periods_from_config(config)
    test = grid.evaluation_period(config)
    training = grid.training_periods(config)
    names = [p.name for p in training]
    domains, paradigms = grid.domains(config), list(config["paradigms"])
    data = config["data"]
    if data["source"] == "amazon2023" and not data["raw_dir"]:
        raise InputError(
            "config key data.raw_dir: set it to the directory holding the Amazon Reviews 2023 "
            "files when data.source is amazon2023"
        )
    synthetic = (
        {d: synthetic_settings(data["synthetic"], d) for d in domains}
        if data["source"] == "synthetic"
        else {}
    )
    base = base_settings(config["base"])
    if base.path and not os.path.isdir(base.path):
        raise InputError(
            f"config key base.path: {base.path} is not a directory; download the model (config, "
            "safetensors weights, tokenizer) there first, or set base.path: null to build a tiny "
            "base"
        )
    validate_scopes(config["train"], names, paradigms, [*domains, "pooled"])
    cells = [(p, d, t) for p in paradigms for d in domains for t in names]
    cells += [(p, "pooled", names[0]) for p in paradigms]
    analysis = analysis_settings(config["analysis"])
    if analysis.recency_days is not None and analysis.recency_days not in data["recency_days"]:
        raise InputError(
            f"config key analysis.recency_statistic: {analysis.recency_statistic} needs "
            f"{analysis.recency_days} in data.recency_days (now {data['recency_days']})"
        )
    if analysis.recency_period is not None and analysis.recency_period not in names:
        raise InputError(
            f"config key analysis.recency_period: {analysis.recency_period!r} is not a training "
            f"period ({', '.join(names)})"
        )
    return CheckedConfig(
        config=config,
        periods=periods,
        test_period=test,
        training_periods=training,
        synthetic=synthetic,
        ingest=ingest_params(config),
        base=base,
        index=index_settings(config["index"]),
        samples=samples_settings(config["samples"]),
        hllm=hllm_settings(config["hllm"]),
        train={cell: cell_settings(config["train"], *cell) for cell in cells},
        merges=merge_jobs(config, names, domains),
        evaluate=evaluate_settings(config["evaluate"]),
        analysis=analysis,
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        help="config files in the order Snakemake reads them (the working directory's "
        "config.yaml, when it exists, then each --configfile); later ones win",
    )


def run(args: argparse.Namespace) -> int:
    """``mmgrid check-config FILE ...``: exit 0 when the workflow would accept the config."""
    try:
        checked = check_config(load_config_files(args.files))
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 2
    cells = len(checked.train)
    print(
        f"config OK: {len(checked.config['domains'])} domains, {cells} cells, "
        f"{len(checked.merges)} merges",
        flush=True,
    )
    return 0
