"""Snakemake job: the per-domain statistics table and the interaction-ratio figure."""

import json
from pathlib import Path

from mmgrid.atomic import write_csv
from mmgrid.data.summary import domain_stats_table, plot_interaction_ratio
from mmgrid.grid import periods_from_config
from mmgrid.logs import job_log

with job_log(snakemake.log[0]) as log:
    stats = [json.loads(Path(p).read_text()) for p in snakemake.input.stats]
    periods = periods_from_config({"periods": snakemake.params.periods})
    table = domain_stats_table(stats, periods, snakemake.params.recency_days)
    write_csv(table, Path(snakemake.output.table))
    plot_interaction_ratio(stats, periods, Path(snakemake.output.figure))
    log.info("read %d statistics files; wrote %s", len(stats), list(snakemake.output))
