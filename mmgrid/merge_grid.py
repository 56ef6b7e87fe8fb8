"""The study's merges from config: every merge spec of the grid, with stable, readable names.

Pure functions of the validated config (no numpy, no torch), shared by the Snakemake rules and the
merge jobs. Two families (paper_notes §4-5):

- **cross-domain**: per paradigm, period and domain set, the cells of those domains merged with each
  method, for each reference base (``base``: the paradigm's base LLM; ``pooled``: the pooled task
  base). The merged model is evaluated on every domain of the set; for ``semid`` one model per
  evaluated (source) domain keeps that domain's semantic-ID rows, as the study does.
- **temporal**: per paradigm and domain, two period checkpoints merged over a weight grid
  (the weight of the later period), with one method and one reference.

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
METHODS = ("linear", "task_arithmetic", "ties", "mask_merging")
USES_REFERENCE = {"task_arithmetic", "ties", "mask_merging"}
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "linear": {},
    "task_arithmetic": {"scale": 0.5},
    "ties": {},
    "mask_merging": {},
}


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

    def params(self) -> dict[str, Any]:
        """JSON-able params of the job (what determines the output)."""
        return {
            "method": self.method,
            "options": dict(self.options),
            "inputs": [list(i) for i in self.inputs],
            "reference": self.reference,
            "source": self.source,
            "keep_source_sid_rows": self.paradigm == "semid" and self.kind == "cross_domain",
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
    jobs = []
    for members in sets:
        unknown = sorted(set(members) - set(domains))
        if unknown or len(set(members)) < 2:
            raise InputError(
                f"config key merges.cross_domain.sets: {members} needs >= 2 configured domains"
                + (f" ({unknown[0]} is not one)" if unknown else "")
            )
        members = sorted(set(members))
        inputs = tuple((d, cell_dir(paradigm, d, period), 1.0) for d in members)
        for method in methods:
            refs = section["references"] if method in USES_REFERENCE else [None]
            for ref in refs:
                sources = members if paradigm == "semid" else [members[0]]
                for source in sources:
                    name = f"cross-{period}-{'+'.join(members)}-{method}"
                    name += f"-ref_{ref}" if ref else ""
                    name += f"-src_{source}" if paradigm == "semid" else ""
                    jobs.append(
                        MergeJob(
                            paradigm=paradigm,
                            name=name,
                            kind="cross_domain",
                            method=method,
                            options=_options(section, method, "merges.cross_domain"),
                            inputs=inputs,
                            reference=_reference(config, paradigm, ref, None, first)
                            if ref
                            else None,
                            reference_name=ref,
                            source=source,
                            domains=(source,) if paradigm == "semid" else tuple(members),
                            family=f"cross-{period}-{'+'.join(members)}",
                            periods=(period,),
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
    ref = section.get("reference") if method in USES_REFERENCE else None
    overrides = section.get("domains") or {}
    unknown = sorted(set(overrides) - set(domains))
    if unknown:
        raise InputError(
            f"config key merges.temporal.domains.{unknown[0]}: not a configured domain"
        )
    options = _options(section, method, "merges.temporal")
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

    ``sid_rows``: for cross-domain semid merges, the semantic-ID rows, copied from the source
    (evaluated) domain's checkpoint instead of being merged.
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
        spec["vocab_rows"] = {"rows": list(sid_rows), "source": source}
    return spec
