# ruff: noqa: RUF001, RUF002 (math notation)
"""The study's merges from config: every merge spec of the grid, with stable, readable names.

Pure functions of the validated config (no numpy, no torch), shared by the Snakemake rules and the
merge jobs. Two families (paper_notes §4-5):

- **cross-domain**: per paradigm, period and domain set, the cells of those domains merged with each
  method, for each reference base (``base``: the paradigm's base LLM; ``pooled``: the pooled task
  base). The merged model is evaluated on every domain of the set. Where the result depends on
  which domain is evaluated (the *source*), there is one model per source domain: for ``semid``
  (it keeps the source's semantic-ID rows, as the study does), for ``extrapolate`` (the study's
  task_arithmetic: other + α(other − source)) and for ``ties``/``mask_merging`` whose
  ``source_coeff`` c weights the pair unequally (the study's input weights: c on the source,
  1 − c on the other).
- **temporal**: per paradigm and domain, two period checkpoints merged over a weight grid
  (the weight of the later period), with one method and one reference.

The study's method names map to these (docs/merging.md): ``average_merging`` = ``linear``,
``task_arithmetic`` = ``extrapolate`` (α = 0.05), ``ties_merging`` = ``ties`` and
``mask_merging`` = ``mask_merging`` with weights [1 − c, c]. ``task_arithmetic`` here is classic
task arithmetic, θ_ref + λ·Σ wᵢτᵢ, scheduled only with settings under which it is not weight
averaging.

Names: ``cross-{period}-{D1}+{D2}-{method}[-ref_{reference}][-src_{domain}]`` and
``temporal-{domain}-{p_old}+{p_new}-{method}-w{weight:.2f}[-ref_{reference}]``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmgrid.errors import InputError
from mmgrid.grid import cell_dir, paradigm_base_dir

SID_TOKEN = re.compile(r"<[a-z]_[0-9]+>")
METHODS = ("linear", "task_arithmetic", "extrapolate", "ties", "mask_merging")
USES_REFERENCE = {"task_arithmetic", "ties", "mask_merging"}
SOURCE_WEIGHTED = {"ties", "mask_merging"}
"""Methods whose two inputs the study weights by ``source_coeff``: [1 − c, c], c on the source."""
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "linear": {},
    "task_arithmetic": {"scale": 1.0},
    "extrapolate": {"strategy": "linear_velocity", "alpha": 0.05},
    "ties": {},
    "mask_merging": {},
}
CROSS_SID_ROWS = ("source", "source_except_linear")
TEMPORAL_SID_ROWS = ("merged", "older")


@dataclass(frozen=True)
class MergeJob:
    """One merged model of the grid (paths are relative to the working directory)."""

    paradigm: str
    name: str
    kind: str
    method: str
    options: Mapping[str, Any]
    inputs: tuple[tuple[str, str, float], ...]
    """(input name, checkpoint directory, weight), in summation order."""
    reference: str | None
    reference_name: str | None
    source: str
    """The evaluated domain whose non-tensor files (and semid ID rows) the output keeps."""
    domains: tuple[str, ...] = field(default=())
    """Domains the merged model is evaluated on."""
    family: str = ""
    """The merges that vary only in method, reference, source or weight share a family:
    ``cross-{period}-{D1}+{D2}`` or ``temporal-{domain}-{p_old}+{p_new}``."""
    periods: tuple[str, ...] = field(default=())
    """The periods of the merged cells (cross-domain: one; temporal: old, new)."""
    weight: float | None = None
    """Temporal merges: the weight of the later period."""
    sid_rows_from: str | None = None
    """semid: the input whose semantic-ID rows the output copies (None: the rows are merged)."""

    def params(self) -> dict[str, Any]:
        """JSON-able params of the job (what determines the output)."""
        return {
            "method": self.method,
            "options": dict(self.options),
            "inputs": [list(i) for i in self.inputs],
            "reference": self.reference,
            "source": self.source,
            "sid_rows_from": self.sid_rows_from,
        }


def _reference(
    config: Mapping[str, Any], paradigm: str, name: str, domain: str | None, first: str
) -> str:
    if name == "base":
        return paradigm_base_dir(config, paradigm)
    if name == "pooled":
        return cell_dir(paradigm, "pooled", first)
    if domain is not None and name in config["periods"]:
        return cell_dir(paradigm, domain, name)
    raise InputError(
        f"config key merges: unknown reference {name!r}; use base, pooled"
        + (" or a training period" if domain is not None else "")
    )


def _fmt(weight: float) -> str:
    return f"{weight:.2f}"


def merge_jobs(
    config: Mapping[str, Any], training_periods: Sequence[str], domains: Sequence[str]
) -> list[MergeJob]:
    """Every merge of the configured grid, sorted by (paradigm, name); names are unique."""
    merges = config.get("merges") or {}
    first = training_periods[0]
    jobs: list[MergeJob] = []
    for paradigm in config["paradigms"]:
        jobs += _cross_domain(
            config, merges.get("cross_domain"), paradigm, domains, training_periods, first
        )
        jobs += _temporal(
            config, merges.get("temporal"), paradigm, domains, training_periods, first
        )
    names = [(j.paradigm, j.name) for j in jobs]
    if len(set(names)) != len(names):
        raise InputError("config key merges: two merges would get the same name; remove duplicates")
    return sorted(jobs, key=lambda j: (j.paradigm, j.name))


def _options(section: Mapping[str, Any], method: str, key: str) -> dict[str, Any]:
    """The engine options of ``method`` (defaults, then the config's), validated by the merge
    engine's own parser now, so that a typo fails when the workflow is parsed, naming ``key``."""
    from mmgrid.merge.methods import parse_options  # numpy: only when there are merges

    given = section.get("options") or {}
    for name, options in given.items():  # every method's, also one not used (yet)
        parse_options(name, options or {}, f"{key}.options.{name}", "config")
    return {**DEFAULT_OPTIONS[method], **(given.get(method) or {})}


def _weights(section: Mapping[str, Any], domain: str, key: str) -> list[float]:
    """A domain's temporal weights (its override, else the section's): finite numbers in
    [0, 1] whose merge names (two decimals) differ; errors name the key they come from."""
    override = (section.get("domains") or {}).get(domain) or {}
    if "weights" in override:
        key, weights = f"{key}.domains.{domain}.weights", override["weights"]
    else:
        key, weights = f"{key}.weights", section["weights"]
    named: dict[str, float] = {}
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0.0 <= w <= 1.0:
            raise InputError(f"config key {key}: {w!r} is not a number in [0, 1]")
        label = _fmt(float(w))
        if label in named:
            raise InputError(
                f"config key {key}: weights {named[label]} and {w} would both name the merge "
                f"...-w{label} (names keep two decimals); change one of them in {key}"
            )
        named[label] = w
    return [float(w) for w in weights]


def _check_methods(methods: Sequence[str], key: str) -> None:
    for m in methods:
        if m not in METHODS:
            raise InputError(
                f"config key {key}: unknown method {m!r}; use one of {', '.join(METHODS)}"
            )


def _source_coeff(section: Mapping[str, Any], method: str, members: Sequence[str]) -> float | None:
    """ties/mask_merging: the weight c of the source input (the other gets 1 - c), from
    ``source_coeff``; None: equal weights 1/n (and for every other method)."""
    c = section.get("source_coeff", 0.5)
    if c is not None and not 0.0 <= float(c) <= 1.0:
        raise InputError(f"config key merges.cross_domain.source_coeff: {c} is outside [0, 1]")
    if method not in SOURCE_WEIGHTED or c is None:
        return None
    if len(members) != 2:
        raise InputError(
            f"config key merges.cross_domain.source_coeff: the study weights a pair [1 - c, c]; "
            f"{'+'.join(members)} has {len(members)} domains: set source_coeff: null (equal "
            "weights 1/n) or merge pairs"
        )
    return float(c)


def _input_weight(method: str, c: float | None, n: int, domain: str, source: str) -> float:
    if method not in SOURCE_WEIGHTED:
        return 1.0
    if c is None:
        return round(1.0 / n, 10)
    return c if domain == source else round(1.0 - c, 10)


def _check_not_averaging(method: str, options: Mapping[str, Any], total: float, key: str) -> None:
    """Classic task arithmetic θ_ref + λ·Σ wᵢτᵢ with λ·Σ wᵢ = 1 is weight averaging for any
    reference: refuse it, so that every scheduled method is what its name says."""
    if method != "task_arithmetic":
        return
    scale = float(options.get("scale", 1.0))
    effective = scale if options.get("normalize", False) else scale * total
    if abs(effective - 1.0) < 1e-12:
        raise InputError(
            f"config key {key}: task_arithmetic with scale {scale:g} on weights summing to "
            f"{total:g} is weight averaging whatever the reference; use linear, or set "
            f"options.task_arithmetic.scale so that scale x sum of weights != 1"
        )


def _cross_domain(config, section, paradigm, domains, periods, first) -> list[MergeJob]:
    if not section:
        return []
    period = section["period"]
    if period not in periods:
        raise InputError(
            f"config key merges.cross_domain.period: {period!r} is not a training period"
        )
    sets = section.get("sets") or [list(p) for p in itertools.combinations(sorted(domains), 2)]
    methods = section["methods"]
    _check_methods(methods, "merges.cross_domain.methods")
    sid_rows = section.get("sid_rows", "source")
    if sid_rows not in CROSS_SID_ROWS:
        raise InputError(
            f"config key merges.cross_domain.sid_rows: {sid_rows!r}; use one of "
            f"{', '.join(CROSS_SID_ROWS)}"
        )
    jobs = []
    for members in sets:
        unknown = sorted(set(members) - set(domains))
        if unknown or len(set(members)) < 2:
            raise InputError(
                f"config key merges.cross_domain.sets: {members} needs >= 2 configured domains"
                + (f" ({unknown[0]} is not one)" if unknown else "")
            )
        members = sorted(set(members))
        for method in methods:
            options = _options(section, method, "merges.cross_domain")
            c = _source_coeff(section, method, members)
            if method == "extrapolate" and len(members) != 2:
                raise InputError(
                    f"config key merges.cross_domain.methods: extrapolate merges a pair "
                    f"(other + alpha (other - source)); {'+'.join(members)} has "
                    f"{len(members)} domains"
                )
            _check_not_averaging(
                method, options, float(len(members)), "merges.cross_domain.options"
            )
            per_source = paradigm == "semid" or method == "extrapolate" or c not in (None, 0.5)
            refs = section["references"] if method in USES_REFERENCE else [None]
            for ref in refs:
                for source in members if per_source else [members[0]]:
                    if method == "extrapolate":  # oldest first: C_prev = source, C_last = other
                        order = [source, *(d for d in members if d != source)]
                    else:
                        order = members
                    inputs = tuple(
                        (
                            d,
                            cell_dir(paradigm, d, period),
                            _input_weight(method, c, len(members), d, source),
                        )
                        for d in order
                    )
                    name = f"cross-{period}-{'+'.join(members)}-{method}"
                    name += f"-ref_{ref}" if ref else ""
                    name += f"-src_{source}" if per_source else ""
                    keep_rows = paradigm == "semid" and not (
                        sid_rows == "source_except_linear" and method == "linear"
                    )
                    jobs.append(
                        MergeJob(
                            paradigm=paradigm,
                            name=name,
                            kind="cross_domain",
                            method=method,
                            options=options,
                            inputs=inputs,
                            reference=_reference(config, paradigm, ref, None, first)
                            if ref
                            else None,
                            reference_name=ref,
                            source=source,
                            domains=(source,) if per_source else tuple(members),
                            family=f"cross-{period}-{'+'.join(members)}",
                            periods=(period,),
                            sid_rows_from=source if keep_rows else None,
                        )
                    )
    return jobs


def _temporal(config, section, paradigm, domains, periods, first) -> list[MergeJob]:
    if not section:
        return []
    old, new = section["periods"]
    for p in (old, new):
        if p not in periods:
            raise InputError(f"config key merges.temporal.periods: {p!r} is not a training period")
    method = section["method"]
    _check_methods([method], "merges.temporal.method")
    if method == "extrapolate":
        raise InputError(
            "config key merges.temporal.method: extrapolate takes no weights; the sweep's linear "
            "merge with weight w is the study's extrapolation with alpha = w - 1 (docs/merging.md)"
        )
    options = _options(section, method, "merges.temporal")
    _check_not_averaging(method, options, 1.0, "merges.temporal.options")
    sid_rows = section.get("sid_rows", "merged")
    if sid_rows not in TEMPORAL_SID_ROWS:
        raise InputError(
            f"config key merges.temporal.sid_rows: {sid_rows!r}; use one of "
            f"{', '.join(TEMPORAL_SID_ROWS)}"
        )
    ref = section.get("reference") if method in USES_REFERENCE else None
    overrides = section.get("domains") or {}
    unknown = sorted(set(overrides) - set(domains))
    if unknown:
        raise InputError(
            f"config key merges.temporal.domains.{unknown[0]}: not a configured domain"
        )
    jobs = []
    for domain in domains:
        weights = _weights(section, domain, "merges.temporal")
        for w in weights:
            name = f"temporal-{domain}-{old}+{new}-{method}-w{_fmt(w)}"
            name += f"-ref_{ref}" if ref else ""
            jobs.append(
                MergeJob(
                    paradigm=paradigm,
                    name=name,
                    kind="temporal",
                    method=method,
                    options=options,
                    inputs=(
                        (old, cell_dir(paradigm, domain, old), round(1.0 - w, 10)),
                        (new, cell_dir(paradigm, domain, new), w),
                    ),
                    reference=_reference(config, paradigm, ref, domain, first) if ref else None,
                    reference_name=ref,
                    source=domain,
                    domains=(domain,),
                    family=f"temporal-{domain}-{old}+{new}",
                    periods=(old, new),
                    weight=w,
                    sid_rows_from=old if paradigm == "semid" and sid_rows == "older" else None,
                )
            )
    return jobs


def semantic_id_rows(model_dir: str | Path) -> tuple[int, int]:
    """``[start, end)`` rows of the semantic-ID tokens in a checkpoint's vocabulary.

    Read from ``tokenizer.json``'s added tokens (the IDs are added in one contiguous block).
    """
    path = Path(model_dir) / "tokenizer.json"
    added = json.loads(path.read_text()).get("added_tokens", [])
    ids = sorted(t["id"] for t in added if SID_TOKEN.fullmatch(t["content"]))
    if not ids:
        raise InputError(f"{path}: no semantic-ID tokens (like <a_0>) among the added tokens")
    if ids[-1] - ids[0] + 1 != len(ids):
        raise InputError(f"{path}: the semantic-ID tokens do not occupy one contiguous id range")
    return ids[0], ids[-1] + 1


def engine_spec(params: Mapping[str, Any], sid_rows: tuple[int, int] | None) -> dict[str, Any]:
    """The merge engine's spec (docs/merging.md) for one job's params.

    ``sid_rows``: the semantic-ID rows, copied from the input ``params["sid_rows_from"]``
    instead of being merged (None when the job copies none).
    """
    inputs = [{"name": n, "path": p, "weight": w} for n, p, w in params["inputs"]]
    names = [i["name"] for i in inputs]
    source = params["source"] if params["source"] in names else names[-1]
    spec: dict[str, Any] = {
        "method": params["method"],
        "options": dict(params["options"]),
        "inputs": inputs,
        "copy_files_from": source,
    }
    if params["reference"]:
        spec["reference"] = params["reference"]
        spec["target"] = params["reference"]
    if sid_rows is not None:
        spec["vocab_rows"] = {"rows": list(sid_rows), "source": params["sid_rows_from"]}
    return spec
