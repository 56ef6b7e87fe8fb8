"""Time: ISO dates and Unix milliseconds, and the study's half-open periods from config.

Periods are contiguous windows ``[start, end)`` in date order; the last one is the test window
(``test_period``), the others get a checkpoint each. :class:`mmgrid.study.Study` holds the
configured periods; the stages take :class:`Period` objects.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmgrid.errors import InputError

MS_PER_DAY = 86_400_000


def date_to_ms(value: str | dt.date, key: str = "date") -> int:
    """Convert an ISO date (``YYYY-MM-DD``, midnight UTC) to Unix milliseconds."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            raise InputError(
                f"config key {key}: {value!r} is not a date; write it as YYYY-MM-DD"
            ) from None
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def ms_to_date(ms: int) -> str:
    """Format Unix milliseconds as an ISO date (UTC)."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).date().isoformat()


@dataclass(frozen=True)
class Period:
    """A half-open time window ``[start_ms, end_ms)``."""

    name: str
    start_ms: int
    end_ms: int

    def contains(self, ts_ms: int) -> bool:
        return self.start_ms <= ts_ms < self.end_ms


def periods_from_config(config: Mapping[str, Any]) -> list[Period]:
    """Return the configured periods sorted by start date; they must be contiguous.

    ``config["periods"]`` maps a name to ``[start, end)`` ISO dates.
    """
    periods = []
    for name, bounds in config["periods"].items():
        if len(bounds) != 2:
            raise InputError(f"config key periods.{name}: give exactly [start, end) dates")
        start = date_to_ms(bounds[0], f"periods.{name}[0]")
        end = date_to_ms(bounds[1], f"periods.{name}[1]")
        if end <= start:
            raise InputError(
                f"config key periods.{name}: end {bounds[1]} is not after start {bounds[0]}"
            )
        periods.append(Period(name, start, end))
    periods.sort(key=lambda p: p.start_ms)
    for earlier, later in itertools.pairwise(periods):
        if later.start_ms != earlier.end_ms:
            problem = "overlaps" if later.start_ms < earlier.end_ms else "leaves a gap after"
            raise InputError(
                f"config key periods: {later.name!r} {problem} {earlier.name!r}; periods must be "
                "contiguous (each starts where the previous one ends)"
            )
    return periods


def evaluation_period(config: Mapping[str, Any]) -> Period:
    """The evaluation window: the period named by ``test_period`` (the last period)."""
    periods = periods_from_config(config)
    name = config["test_period"]
    if periods[-1].name != name:
        raise InputError(
            f"config key test_period: {name!r} must name the last of the periods "
            f"({', '.join(p.name for p in periods)})"
        )
    return periods[-1]


def training_periods(config: Mapping[str, Any]) -> list[Period]:
    """The periods that get a checkpoint: every period before the test window, in order."""
    test = evaluation_period(config)
    return [p for p in periods_from_config(config) if p.name != test.name]
