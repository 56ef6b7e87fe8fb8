"""``mmgrid estimate``: what a run will cost, before it runs.

From the config and the data on disk, the exact work of every job (samples and tokens per cell,
test queries per evaluated model), and with a calibration table of measured throughputs per
device kind and model shape, the device hours per rule and in total.

Modules: ``workflow_config`` (the config as Snakemake sees it), ``data`` (each domain's shards,
ingested into a scratch directory when only raw files exist; the tokenizers), ``counts`` (the
work of every job), ``calibration`` (the table, its keys, and fitting it to a finished run),
``report`` (hours, the printed table and the CSV) and ``cli``.
"""
