# mmgrid: the contextual grid of generative-recommendation checkpoints, merged and evaluated.
# Usage: snakemake --cores N all   (see README.md)
from snakemake.utils import min_version

min_version("9.20")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/cluster.smk"
include: "rules/data.smk"
include: "rules/base.smk"
include: "rules/items.smk"
include: "rules/samples.smk"
include: "rules/train.smk"
include: "rules/merge.smk"
include: "rules/evaluate.smk"
include: "rules/analysis.smk"


localrules:
    all,
    manifest,


# results/all: the manifest of every artefact of the run, with checksums and provenance.
rule manifest:
    input:
        STUDY.outputs(),
    output:
        PATHS.manifest,
    log:
        PATHS.log("manifest"),
    conda:
        "envs/cpu.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
        gpu=0,
    params:
        job=STUDY.manifest_job(workflow.basedir).to_params(),
    script:
        "workflow_scripts/manifest.py"


# The default target: every artefact and the manifest. A rule without output re-checks that its
# inputs exist, so `snakemake all` rebuilds an artefact that was deleted (or removed by a failed
# job); targeting the file results/all only brings the manifest up to date (README: Recovery).
rule all:
    default_target: True
    input:
        STUDY.outputs(),
        rules.manifest.output,
