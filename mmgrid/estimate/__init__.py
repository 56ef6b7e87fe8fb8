"""``mmgrid estimate``: what a run will cost, before it runs.

From the config and the data on disk, the exact work of every job (samples and tokens per cell,
test queries per evaluated model), and with a calibration table of measured throughputs per
device kind and model shape, the device hours per rule and in total.

The config is read as Snakemake reads it and checked as the workflow checks it
(:class:`mmgrid.study.Study`). Modules: ``workspace`` (each domain's shards, ingested into a
scratch directory when only raw files exist; the samples; the tokenizers), ``counts`` (the work
of every job, counted by each paradigm), ``calibration`` (the table, its keys, and fitting it
to a finished run), ``report`` (hours, the printed table and the CSV) and ``estimate_cli``.
"""
