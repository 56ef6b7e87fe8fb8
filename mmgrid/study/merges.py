# ruff: noqa: RUF002 (math notation)
"""The study's merges from config: every merge spec of the grid, with stable, readable names.

Pure functions of the validated config: every method property comes from the merge-method
registry (:mod:`mmgrid.merge.methods`), every path from the layout; the job itself is
:class:`mmgrid.merge.grid_job.GridMergeParams`. Two families (paper_notes §4-5):

- **cross-domain**: per paradigm, period and domain set, the cells of those domains merged with each
  method, for each reference base (``base``: the paradigm's base LLM; ``pooled``: the pooled task
  base). The merged model is evaluated on every domain of the set. Where the result depends on
  which domain is evaluated (the *source*), there is one model per source domain: for a paradigm
  with semantic IDs (``semid`` keeps the source's semantic-ID rows, as the study does), for a
  method with ordered inputs (``extrapolate``, the study's task_arithmetic: other +
  α(other − source)) and for the source-weighted methods (``ties``/``mask_merging``) whose
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
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmgrid.errors import InputError
from mmgrid.merge.grid_job import GridMergeParams
from mmgrid.merge.methods import METHODS, MergeMethod
from mmgrid.paradigms import PARADIGMS
from mmgrid.study.layout import POOLED, Layout

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

    def params(self, chunk_elems: int) -> GridMergeParams:
        """The job's params (what determines the output, and the chunk size)."""
        return GridMergeParams(
            method=self.method,
            options=self.options,
            inputs=self.inputs,
            reference=self.reference,
            source=self.source,
            sid_rows_from=self.sid_rows_from,
            chunk_elems=chunk_elems,
        )


class _Grid:
    """What every merge of the config is built from."""

    def __init__(
        self,
        config: Mapping[str, Any],
        paths: Layout,
        training_periods: Sequence[str],
        domains: Sequence[str],
    ) -> None:
        self.config, self.paths = config, paths
        self.periods, self.domains = list(training_periods), list(domains)
        self.first = training_periods[0]

    def reference(self, paradigm: str, name: str, domain: str | None) -> str:
        if name == "base":
            return PARADIGMS[paradigm].base_dir(self.paths)
        if name == POOLED:
            return self.paths.checkpoint(paradigm, POOLED, self.first)
        if domain is not None and name in self.config["periods"]:
            return self.paths.checkpoint(paradigm, domain, name)
        raise InputError(
            f"config key merges: unknown reference {name!r}; use base, pooled"
            + (" or a training period" if domain is not None else "")
        )


def _fmt(weight: float) -> str:
    return f"{weight:.2f}"


def merge_jobs(
    config: Mapping[str, Any],
    paths: Layout,
    training_periods: Sequence[str],
    domains: Sequence[str],
) -> list[MergeJob]:
    """Every merge of the configured grid, sorted by (paradigm, name); names are unique."""
    merges = config.get("merges") or {}
    grid = _Grid(config, paths, training_periods, domains)
    jobs: list[MergeJob] = []
    for paradigm in config["paradigms"]:
        jobs += _cross_domain(grid, merges.get("cross_domain"), paradigm)
        jobs += _temporal(grid, merges.get("temporal"), paradigm)
    names = [(j.paradigm, j.name) for j in jobs]
    if len(set(names)) != len(names):
        raise InputError("config key merges: two merges would get the same name; remove duplicates")
    return sorted(jobs, key=lambda j: (j.paradigm, j.name))


def _method(name: str, key: str) -> MergeMethod:
    if name not in METHODS:
        raise InputError(
            f"config key {key}: unknown method {name!r}; use one of {', '.join(METHODS)}"
        )
    return METHODS[name]


def _options(section: Mapping[str, Any], method: str, key: str) -> tuple[dict[str, Any], Any]:
    """The configured engine options of ``method`` and their parsed form, validated by the merge
    engine's own parser now, so that a typo fails when the workflow is parsed, naming ``key``."""
    given = section.get("options") or {}
    parsed = None
    for name, options in given.items():  # every method's, also one not used (yet)
        parsed_here = _method(name, f"{key}.options").parse_options(
            options or {}, f"{key}.options.{name}", "config"
        )
        if name == method:
            parsed = parsed_here
    options = dict(given.get(method) or {})
    if parsed is None:
        parsed = METHODS[method].parse_options({}, f"{key}.options.{method}", "config")
    return options, parsed


def _weights(
    section: Mapping[str, Any], domain: str, key: str, *, extrapolates: bool
) -> list[float]:
    """A domain's temporal weights (its override, else the section's): finite numbers in
    [0, 1] whose merge names (two decimals) differ; errors name the key they come from.

    With ``extrapolates`` (the linear method) a weight may exceed 1: (1 - w)·older + w·later
    then lies beyond the later checkpoint, the study's task_arithmetic extrapolation with
    alpha = w - 1 (its default alpha 0.05 is w = 1.05)."""
    override = (section.get("domains") or {}).get(domain) or {}
    if "weights" in override:
        key, weights = f"{key}.domains.{domain}.weights", override["weights"]
    else:
        key, weights = f"{key}.weights", section["weights"]
    allowed = (
        ">= 0 (above 1: extrapolation)"
        if extrapolates
        else "in [0, 1] (weights above 1 extrapolate: method linear only)"
    )
    named: dict[str, float] = {}
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
            raise InputError(f"config key {key}: {w!r} is not a finite number")
        if w < 0.0 or (w > 1.0 and not extrapolates):
            raise InputError(f"config key {key}: {w!r} must be {allowed}")
        label = _fmt(float(w))
        if label in named:
            raise InputError(
                f"config key {key}: weights {named[label]} and {w} would both name the merge "
                f"...-w{label} (names keep two decimals); change one of them in {key}"
            )
        named[label] = w
    return [float(w) for w in weights]


def _source_coeff(
    section: Mapping[str, Any], method: MergeMethod, members: Sequence[str]
) -> float | None:
    """Source-weighted methods: the weight c of the source input (the other gets 1 - c), from
    ``source_coeff``; None: equal weights 1/n (and for every other method)."""
    c = section.get("source_coeff", 0.5)
    if c is not None and not 0.0 <= float(c) <= 1.0:
        raise InputError(f"config key merges.cross_domain.source_coeff: {c} is outside [0, 1]")
    if not method.source_weighted or c is None:
        return None
    if len(members) != 2:
        raise InputError(
            f"config key merges.cross_domain.source_coeff: the study weights a pair [1 - c, c]; "
            f"{'+'.join(members)} has {len(members)} domains: set source_coeff: null (equal "
            "weights 1/n) or merge pairs"
        )
    return float(c)


def _input_weight(method: MergeMethod, c: float | None, n: int, domain: str, source: str) -> float:
    if not method.source_weighted:
        return 1.0
    if c is None:
        return round(1.0 / n, 10)
    return c if domain == source else round(1.0 - c, 10)


def _check_not_averaging(method: MergeMethod, options: Any, total: float, key: str) -> None:
    """A merge that is weight averaging for any reference under another name (classic task
    arithmetic θ_ref + λ·Σ wᵢτᵢ with λ·Σ wᵢ = 1) is refused, so that every scheduled method is
    what its name says."""
    if method.averages(options, total):
        raise InputError(
            f"config key {key}: {method.name} with these options on weights summing to "
            f"{total:g} is weight averaging whatever the reference ({options}); use linear, or "
            f"change options.{method.name} (for task_arithmetic: a scale such that scale x sum "
            "of weights != 1)"
        )


def _cross_domain(grid: _Grid, section: Mapping[str, Any] | None, paradigm: str) -> list[MergeJob]:
    if not section:
        return []
    period = section["period"]
    if period not in grid.periods:
        raise InputError(
            f"config key merges.cross_domain.period: {period!r} is not a training period"
        )
    sets = section.get("sets") or [list(p) for p in itertools.combinations(sorted(grid.domains), 2)]
    methods = [_method(m, "merges.cross_domain.methods") for m in section["methods"]]
    sid_rows = section.get("sid_rows", "source")
    if sid_rows not in CROSS_SID_ROWS:
        raise InputError(
            f"config key merges.cross_domain.sid_rows: {sid_rows!r}; use one of "
            f"{', '.join(CROSS_SID_ROWS)}"
        )
    semantic_ids = PARADIGMS[paradigm].semantic_ids
    jobs = []
    for members in sets:
        unknown = sorted(set(members) - set(grid.domains))
        if unknown or len(set(members)) < 2:
            raise InputError(
                f"config key merges.cross_domain.sets: {members} needs >= 2 configured domains"
                + (f" ({unknown[0]} is not one)" if unknown else "")
            )
        members = sorted(set(members))
        for method in methods:
            options, parsed = _options(section, method.name, "merges.cross_domain")
            c = _source_coeff(section, method, members)
            if not method.weighted and len(members) != 2:
                raise InputError(
                    f"config key merges.cross_domain.methods: {method.name} merges a pair, "
                    f"ordered, not weighted (extrapolate: other + alpha (other - source)); "
                    f"{'+'.join(members)} has {len(members)} domains"
                )
            _check_not_averaging(method, parsed, float(len(members)), "merges.cross_domain.options")
            per_source = semantic_ids or not method.weighted or c not in (None, 0.5)
            refs = section["references"] if method.needs_reference(parsed) else [None]
            for ref in refs:
                for source in members if per_source else [members[0]]:
                    if not method.weighted:  # oldest first: C_prev = source, C_last = other
                        order = [source, *(d for d in members if d != source)]
                    else:
                        order = members
                    inputs = tuple(
                        (
                            d,
                            grid.paths.checkpoint(paradigm, d, period),
                            _input_weight(method, c, len(members), d, source),
                        )
                        for d in order
                    )
                    name = f"cross-{period}-{'+'.join(members)}-{method.name}"
                    name += f"-ref_{ref}" if ref else ""
                    name += f"-src_{source}" if per_source else ""
                    keep_rows = semantic_ids and not (
                        sid_rows == "source_except_linear" and method.name == "linear"
                    )
                    jobs.append(
                        MergeJob(
                            paradigm=paradigm,
                            name=name,
                            kind="cross_domain",
                            method=method.name,
                            options=options,
                            inputs=inputs,
                            reference=grid.reference(paradigm, ref, None) if ref else None,
                            reference_name=ref,
                            source=source,
                            domains=(source,) if per_source else tuple(members),
                            family=f"cross-{period}-{'+'.join(members)}",
                            periods=(period,),
                            sid_rows_from=source if keep_rows else None,
                        )
                    )
    return jobs


def _temporal(grid: _Grid, section: Mapping[str, Any] | None, paradigm: str) -> list[MergeJob]:
    if not section:
        return []
    old, new = section["periods"]
    for p in (old, new):
        if p not in grid.periods:
            raise InputError(f"config key merges.temporal.periods: {p!r} is not a training period")
    method = _method(section["method"], "merges.temporal.method")
    if not method.weighted:
        raise InputError(
            f"config key merges.temporal.method: {method.name} takes no weights; the sweep's "
            "linear merge with weight w is the study's extrapolation with alpha = w - 1 "
            "(docs/merging.md)"
        )
    options, parsed = _options(section, method.name, "merges.temporal")
    _check_not_averaging(method, parsed, 1.0, "merges.temporal.options")
    sid_rows = section.get("sid_rows", "merged")
    if sid_rows not in TEMPORAL_SID_ROWS:
        raise InputError(
            f"config key merges.temporal.sid_rows: {sid_rows!r}; use one of "
            f"{', '.join(TEMPORAL_SID_ROWS)}"
        )
    ref = section.get("reference") if method.needs_reference(parsed) else None
    overrides = section.get("domains") or {}
    unknown = sorted(set(overrides) - set(grid.domains))
    if unknown:
        raise InputError(
            f"config key merges.temporal.domains.{unknown[0]}: not a configured domain"
        )
    semantic_ids = PARADIGMS[paradigm].semantic_ids
    jobs = []
    extrapolates = method.name == "linear"
    for domain in grid.domains:
        for w in _weights(section, domain, "merges.temporal", extrapolates=extrapolates):
            name = f"temporal-{domain}-{old}+{new}-{method.name}-w{_fmt(w)}"
            name += f"-ref_{ref}" if ref else ""
            jobs.append(
                MergeJob(
                    paradigm=paradigm,
                    name=name,
                    kind="temporal",
                    method=method.name,
                    options=options,
                    inputs=(
                        (old, grid.paths.checkpoint(paradigm, domain, old), round(1.0 - w, 10)),
                        (new, grid.paths.checkpoint(paradigm, domain, new), w),
                    ),
                    reference=grid.reference(paradigm, ref, domain) if ref else None,
                    reference_name=ref,
                    source=domain,
                    domains=(domain,),
                    family=f"temporal-{domain}-{old}+{new}",
                    periods=(old, new),
                    weight=w,
                    sid_rows_from=old if semantic_ids and sid_rows == "older" else None,
                )
            )
    return jobs
