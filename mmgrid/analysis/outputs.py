"""The files the analysis writes (their places: :meth:`mmgrid.study.layout.Layout.analysis`)."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class AnalysisOutputs:
    """Every file the analysis writes."""

    cells: PathLike
    baselines: PathLike
    cross_domain: PathLike
    temporal: PathLike
    optimal_weights: PathLike
    regression_json: PathLike
    regression_csv: PathLike
    recency_bias_figure: PathLike
    weight_sweeps_figure: PathLike
    regression_figure: PathLike
    cross_domain_figure: PathLike
    weight_draws: PathLike
    recency_bias: PathLike
    base_replacement: PathLike

    def paths(self) -> list[Path]:
        """Every output path, in field order."""
        return [Path(getattr(self, f.name)) for f in dataclasses.fields(self)]
