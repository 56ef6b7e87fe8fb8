"""Where every artefact of a run lives: the one definition of the ``results/`` layout.

Paths are relative to the working directory (the rules' and jobs' current directory). Each
method takes the identity of an artefact; given wildcard placeholders (``"{domain}"``) it
returns the rule's pattern, so rules and the package format the same definition.

====================  =========================================================
``raw``               ``raw/{domain}.csv.gz``, ``raw/meta_{domain}.jsonl.gz``,
                      ``raw/{domain}.truth.json`` (synthetic source; real files
                      are read in ``data.raw_dir``)
``shards``            ``shards/{domain}/{period}.parquet``
``items``, ``stats``  ``items/{domain}.parquet``, ``stats/{domain}.json``
``index``             ``index/{domain}/``
``base``              ``base/llm/`` (or ``base.path``), ``base/{paradigm}/``
``samples``           ``samples/{paradigm}/{domain}/{period}.parquet``
``checkpoints``       ``checkpoints/{paradigm}/{domain or pooled}/{period}/``
``merged``            ``merged/{paradigm}/{spec}/``
``metrics``           ``metrics/{paradigm}/{model}/`` (``{domain}.json`` + ranks)
``tables``, ...       ``tables/``, ``regression/``, ``figures/`` (data summary, analysis)
``logs``, ...         ``logs/{rule}/...``, ``benchmarks/{rule}/...``
``all``               the manifest
====================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from mmgrid.analysis.outputs import AnalysisOutputs
from mmgrid.data.raw_files import meta_path, ratings_path

RESULTS = "results"
POOLED = "pooled"
"""The domain name of a paradigm's pooled task base (trained on every domain)."""


@dataclass(frozen=True)
class Layout:
    """The paths of one run; ``raw_dir`` and ``base_llm`` may point outside ``root``."""

    root: str = RESULTS
    raw_dir: str | None = None
    """The raw files: ``{root}/raw`` (synthetic source) or ``data.raw_dir``."""
    base_llm: str | None = None
    """The base LLM: ``{root}/base/llm`` (built here) or ``base.path``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw_dir", self.raw_dir or f"{self.root}/raw")
        object.__setattr__(self, "base_llm", self.base_llm or self.built_base_llm)

    # -- data ------------------------------------------------------------------------------
    def raw_files(self, domain: str) -> dict[str, str]:
        """The raw files a domain is ingested from (in ``raw_dir``)."""
        return {
            "ratings": str(ratings_path(self.raw_dir, domain)),
            "meta": str(meta_path(self.raw_dir, domain)),
        }

    def generated_raw_files(self, domain: str) -> dict[str, str]:
        """The files the synthetic generator writes for a domain, always under ``{root}/raw``
        (never into a user's ``data.raw_dir``), with its ground truth."""
        raw = f"{self.root}/raw"
        return {
            "ratings": str(ratings_path(raw, domain)),
            "meta": str(meta_path(raw, domain)),
            "truth": f"{raw}/{domain}.truth.json",
        }

    def shard(self, domain: str, period: str) -> str:
        return f"{self.root}/shards/{domain}/{period}.parquet"

    def item_table(self, domain: str) -> str:
        return f"{self.items_dir}/{domain}.parquet"

    def stats(self, domain: str) -> str:
        return f"{self.stats_dir}/{domain}.json"

    @property
    def items_dir(self) -> str:
        return f"{self.root}/items"

    @property
    def stats_dir(self) -> str:
        return f"{self.root}/stats"

    @property
    def domain_stats_table(self) -> str:
        return f"{self.root}/tables/domain_stats.csv"

    @property
    def interaction_ratio_figure(self) -> str:
        return f"{self.root}/figures/interaction_ratio.png"

    # -- the grid --------------------------------------------------------------------------
    def item_index(self, domain: str) -> str:
        return f"{self.root}/index/{domain}"

    @property
    def built_base_llm(self) -> str:
        """Where rule ``base`` builds the tiny base LLM (used when ``base.path`` is null)."""
        return f"{self.root}/base/llm"

    def paradigm_base(self, paradigm: str) -> str:
        """The base LLM turned into a paradigm's model (built by rule ``paradigm_base``)."""
        return f"{self.root}/base/{paradigm}"

    def samples(self, paradigm: str, domain: str, period: str) -> str:
        return f"{self.root}/samples/{paradigm}/{domain}/{period}.parquet"

    def checkpoint(self, paradigm: str, domain: str, period: str) -> str:
        """A cell's checkpoint directory (``domain`` :data:`POOLED`: the pooled task base)."""
        return f"{self.root}/checkpoints/{paradigm}/{domain}/{period}"

    def merged(self, paradigm: str, spec: str) -> str:
        return f"{self.root}/merged/{paradigm}/{spec}"

    def metrics(self, paradigm: str, model: str) -> str:
        """An evaluated model's metric and rank files, one pair per evaluated domain."""
        return f"{self.metrics_root}/{paradigm}/{model}"

    @property
    def metrics_root(self) -> str:
        return f"{self.root}/metrics"

    def baseline_files(self, domain: str) -> dict[str, str]:
        """Every baseline's metric and rank files on ``domain`` (keys ``{name}_metrics`` and
        ``{name}_ranks``), beside the models' under ``metrics/baselines/{name}/``."""
        from mmgrid.evaluate.baselines import BASELINES, PARADIGM

        return {
            f"{name}_{kind}": f"{self.metrics(PARADIGM, name)}/{domain}.{suffix}"
            for name in BASELINES
            for kind, suffix in (("metrics", "json"), ("ranks", "ranks.parquet"))
        }

    # -- findings, records -----------------------------------------------------------------
    def analysis(self) -> AnalysisOutputs:
        """Every table, regression file and figure of the analysis."""
        r = self.root
        return AnalysisOutputs(
            cells=f"{r}/tables/cells.csv",
            baselines=f"{r}/tables/baselines.csv",
            cross_domain=f"{r}/tables/cross_domain.csv",
            temporal=f"{r}/tables/temporal.csv",
            optimal_weights=f"{r}/tables/optimal_weights.csv",
            regression_json=f"{r}/regression/weight_vs_recency.json",
            regression_csv=f"{r}/regression/weight_vs_recency.csv",
            recency_bias_figure=f"{r}/figures/recency_bias.png",
            weight_sweeps_figure=f"{r}/figures/weight_sweeps.png",
            regression_figure=f"{r}/figures/weight_vs_recency.png",
            cross_domain_figure=f"{r}/figures/cross_domain.png",
            weight_draws=f"{r}/regression/weight_draws.csv",
            recency_bias=f"{r}/tables/recency_bias.csv",
            base_replacement=f"{r}/tables/base_replacement.csv",
        )

    @property
    def manifest(self) -> str:
        """``results/all``: every artefact of the run with its checksum, and provenance."""
        return f"{self.root}/all"

    def log(self, rule: str, *keys: str) -> str:
        """A job's log: ``logs/{rule}.log``, or ``logs/{rule}/{key}/.../{last key}.log``."""
        return "/".join((f"{self.root}/logs", rule, *keys)) + ".log"

    def benchmark(self, rule: str, *keys: str) -> str:
        """A job's Snakemake benchmark file, laid out like its log."""
        return "/".join((f"{self.root}/benchmarks", rule, *keys)) + ".tsv"
