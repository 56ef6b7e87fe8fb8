"""Evaluation: decode test prompts, ground generations to items, rank and score.

Importing the package is cheap; torch and transformers load when a model is evaluated.
"""

from mmgrid.evaluate.metrics import metrics_from_ranks, rank_by_key, rank_in_list, rank_table
from mmgrid.evaluate.model_evaluation import (
    DomainData,
    checked_encoder,
    evaluate_loaded,
    evaluate_model,
    load_domain,
    read_test_samples,
)
from mmgrid.evaluate.settings import EvalSettings, PopularitySettings, settings_from_config
from mmgrid.evaluate.trie import SidTrie

__all__ = [
    "DomainData",
    "EvalSettings",
    "PopularitySettings",
    "SidTrie",
    "checked_encoder",
    "evaluate_loaded",
    "evaluate_model",
    "load_domain",
    "metrics_from_ranks",
    "rank_by_key",
    "rank_in_list",
    "rank_table",
    "read_test_samples",
    "settings_from_config",
]
