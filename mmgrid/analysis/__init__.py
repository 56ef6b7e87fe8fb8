"""Analysis: the study's findings from the evaluated grid.

:func:`run_analysis` reads the model records and their metric and rank files, and writes (all
together, atomically) the tables of cells (recency-bias evidence with new/old item slices),
cross-domain merges, temporal weight sweeps and optimal weights, the regression of the optimal
weight λ* on a domain recency statistic (JSON + CSV), and four figures.

Weight selection follows ``analysis.selection`` (see :mod:`mmgrid.analysis.split`): ``valid``
selects on a seeded held-out share of each domain's test-window users and reports on the rest;
``test`` selects and reports on all users. Importing the package is cheap; matplotlib, scipy
and scikit-learn load when they are used.
"""

from mmgrid.analysis.optimal import optimal_weight, uniform_weight
from mmgrid.analysis.outputs import AnalysisOutputs
from mmgrid.analysis.records import ModelRecord, parse_records
from mmgrid.analysis.regression import fit_line
from mmgrid.analysis.run import run_analysis
from mmgrid.analysis.settings import AnalysisSettings, settings_from_config
from mmgrid.analysis.split import split_masks

__all__ = [
    "AnalysisOutputs",
    "AnalysisSettings",
    "ModelRecord",
    "fit_line",
    "optimal_weight",
    "parse_records",
    "run_analysis",
    "settings_from_config",
    "split_masks",
    "uniform_weight",
]
