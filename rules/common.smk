# The study the config describes, computed by the package (mmgrid.study.Study): this file only
# adapts it to Snakemake (wildcards in, file lists and JSON params out).
import os

from mmgrid.study import Study
from mmgrid.study.evaluated import batch_rule_name
from mmgrid.study.study import alternatives
from mmgrid.study.config import check_config_files

# Every config file read strictly (duplicate keys fail naming file and line), then the config
# validated completely; it is replaced by its canonical form (sorted keys, sorted order-free
# lists), so that every params below, and the manifest, are the same however it is written.
check_config_files(workflow.configfiles)
STUDY = Study.from_config(config)
config.clear()
config.update(STUDY.config)
PATHS = STUDY.paths

# Jobs run in fresh Python processes (with --sdm conda, in environments without mmgrid installed):
# put this checkout first on their import path. (The workflow sets this variable; it requires none.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
    )
)


wildcard_constraints:
    **STUDY.wildcard_constraints(),


# Inputs of the rules whose files depend on the wildcards.
def ingest_inputs(w):
    return STUDY.ingest_inputs(w.domain)


def samples_inputs(w):
    return STUDY.samples_inputs(w.paradigm, w.domain, w.period)


def train_inputs(w):
    return STUDY.train_inputs(w.paradigm, w.domain, w.period)


def pooled_inputs(w):
    return STUDY.train_inputs(w.paradigm, "pooled", w.period)


def baseline_inputs(w):
    return STUDY.baseline_inputs(w.domain)


def merge_inputs(w):
    return STUDY.merge_inputs(w.paradigm, w.spec)


# Each rule's params: one JSON `job` of the typed params of its kind (mmgrid.study.jobs,
# mmgrid.paradigms); a change to them reruns the job.
def synthetic_job(w):
    return STUDY.synthetic_job(w.domain).to_params()


def paradigm_base_job(w):
    return STUDY.paradigm_base_job(w.paradigm).to_params()


def samples_job(w):
    return STUDY.samples_job(w.paradigm, w.domain, w.period).to_params()


def train_job(w):
    return STUDY.train_job(w.paradigm, w.domain, w.period).to_params()


def pooled_job(w):
    return STUDY.train_job(w.paradigm, "pooled", w.period).to_params()


def merge_job(w):
    return STUDY.merge_job(w.paradigm, w.spec).to_params()
