"""Snakemake job: write results/all, the manifest of every artefact with checksums and provenance."""

from pathlib import Path

from mmgrid.logs import job_log
from mmgrid.manifest import write_manifest

with job_log(snakemake.log[0]) as log:
    manifest = write_manifest(
        Path(snakemake.output[0]),
        snakemake.input,
        snakemake.params.config,
        Path(snakemake.params.source_dir),
    )
    log.info("listed %d artefacts in %s", len(manifest["artefacts"]), snakemake.output[0])
