"""The evaluated models the analysis reads: validated model records.

A record is the JSON-able description the workflow writes for every evaluated model (see
:meth:`mmgrid.study.evaluated.EvaluatedModel.record`): paradigm, model name, kind, evaluated domains,
period(s), merge method, reference base, temporal weight and cross-domain source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mmgrid.errors import InputError
from mmgrid.evaluate.baselines import BASELINES, PARADIGM

KINDS = ("cell", "pooled", "cross_domain", "temporal", "baseline")
POOLED = "pooled"
BASELINE = "baseline"


@dataclass(frozen=True)
class ModelRecord:
    """One evaluated model."""

    paradigm: str
    model: str
    kind: str
    domains: tuple[str, ...]
    period: str | None = None
    """Cells: the training period; pooled: the first period; cross-domain: the merged period."""
    method: str | None = None
    reference: str | None = None
    weight: float | None = None
    """Temporal merges: the weight of the later period."""
    periods: tuple[str, str] | None = None
    """Temporal merges: (old, new)."""
    source: str | None = None
    members: tuple[str, ...] = ()
    """Cross-domain merges: the merged domains (from the record or the merge's name)."""

    @property
    def domain(self) -> str:
        """The single domain of a cell or temporal merge."""
        return self.domains[0]


def _where(i: int, raw: Mapping[str, Any]) -> str:
    return f"model record {i} ({raw.get('paradigm')}/{raw.get('model')})"


def _text(raw: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: key {key!r} must be a non-empty string, got {value!r}")
    return value


def cross_domain_members(
    name: str, period: str, method: str, reference: str | None, source: str | None
) -> tuple[str, ...] | None:
    """The merged domains read from a cross-domain merge name (see :mod:`mmgrid.study.merges`):
    ``cross-{period}-{D1}+{D2}-{method}[-ref_{reference}][-src_{source}]``; None if it does not parse.
    """
    prefix = f"cross-{period}-"
    if not name.startswith(prefix):
        return None
    rest = name[len(prefix) :]
    for suffix in (f"-src_{source}" if source else "", f"-ref_{reference}" if reference else ""):
        if suffix and rest.endswith(suffix):
            rest = rest[: -len(suffix)]
    if not rest.endswith(f"-{method}"):
        return None
    members = tuple(rest[: -len(method) - 1].split("+"))
    return members if len(members) >= 2 and all(members) else None


def parse_record(i: int, raw: Mapping[str, Any]) -> ModelRecord:
    """Validate one raw record (``i`` is its position, for messages)."""
    if not isinstance(raw, Mapping):
        raise InputError(f"model record {i}: must be a mapping, got {type(raw).__name__}")
    where = _where(i, raw)
    paradigm = _text(raw, "paradigm", where)
    model = _text(raw, "model", where)
    kind = _text(raw, "kind", where)
    if kind not in KINDS:
        raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    domains = raw.get("domains")
    if (
        not isinstance(domains, list | tuple)
        or not domains
        or not all(isinstance(d, str) and d for d in domains)
    ):
        raise InputError(f"{where}: 'domains' must be a non-empty list of domain names")
    period = _text(raw, "period", where, optional=True)
    method = _text(raw, "method", where, optional=True)
    reference = _text(raw, "reference", where, optional=True)
    source = _text(raw, "source", where, optional=True)
    fields: dict[str, Any] = {}
    if kind == "cell":
        if len(domains) != 1 or period is None:
            raise InputError(f"{where}: a cell needs one domain and its 'period'")
        if model != f"{domains[0]}-{period}":
            raise InputError(f"{where}: a cell must be named '{domains[0]}-{period}'")
    elif kind == BASELINE:
        if paradigm != PARADIGM or model not in BASELINES:
            raise InputError(
                f"{where}: a baseline has paradigm {PARADIGM!r} and is one of {', '.join(BASELINES)}"
            )
    elif kind == POOLED:
        if not model.startswith(f"{POOLED}-"):
            raise InputError(f"{where}: the pooled task base must be named 'pooled-{{period}}'")
        period = period or model[len(POOLED) + 1 :]
    elif kind == "cross_domain":
        if period is None or method is None:
            raise InputError(f"{where}: a cross-domain merge needs 'period' and 'method'")
        members = raw.get("members") or cross_domain_members(
            model, period, method, reference, source
        )
        if not members:
            raise InputError(
                f"{where}: cannot read the merged domains from the name; give them as 'members'"
            )
        fields["members"] = tuple(members)
    else:
        periods = raw.get("periods")
        weight = raw.get("weight")
        if not isinstance(periods, list | tuple) or len(periods) != 2 or len(domains) != 1:
            raise InputError(f"{where}: a temporal merge needs one domain and 'periods' [old, new]")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise InputError(f"{where}: a temporal merge needs a numeric 'weight'")
        fields.update(periods=(str(periods[0]), str(periods[1])), weight=float(weight))
    return ModelRecord(
        paradigm=paradigm,
        model=model,
        kind=kind,
        domains=tuple(domains),
        period=period,
        method=method,
        reference=reference,
        source=source,
        **fields,
    )


def parse_records(raw: Sequence[Mapping[str, Any]]) -> list[ModelRecord]:
    """Validate every record; (paradigm, model) pairs must be unique."""
    records = [parse_record(i, r) for i, r in enumerate(raw)]
    seen: set[tuple[str, str]] = set()
    for r in records:
        if (r.paradigm, r.model) in seen:
            raise InputError(f"model records: {r.paradigm}/{r.model} is listed twice")
        seen.add((r.paradigm, r.model))
    return records
