"""Snakemake job: write results/all, the manifest of every artefact with checksums and provenance."""

from pathlib import Path

from mmgrid.logs import job_log
from mmgrid.manifest import write_manifest
from mmgrid.study.jobs import ManifestJob

with job_log(snakemake.log[0]) as log:
    job = ManifestJob.from_params(snakemake.params.job)
    manifest = write_manifest(
        Path(snakemake.output[0]), snakemake.input, job.config, Path(job.source_dir)
    )
    log.info("listed %d artefacts in %s", len(manifest["artefacts"]), snakemake.output[0])
