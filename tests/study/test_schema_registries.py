"""The config schema offers exactly what the registries hold: merge methods, paradigms and job
groups."""

from __future__ import annotations

from mmgrid.merge.methods import METHODS
from mmgrid.paradigms import PARADIGMS
from mmgrid.strict_yaml import load_yaml
from mmgrid.study.config import SCHEMA
from mmgrid.study.settings import JOB_GROUPS

MERGES = load_yaml(SCHEMA)["properties"]["merges"]["properties"]


def test_merge_method_enums_equal_the_registry():
    names = list(METHODS)
    assert load_yaml(SCHEMA)["$defs"]["merge_options"]["propertyNames"]["enum"] == names
    assert MERGES["cross_domain"]["properties"]["methods"]["items"]["enum"] == names
    # a weight sweep needs weighted inputs: extrapolate takes its inputs in order instead
    weighted = [n for n, m in METHODS.items() if m.weighted]
    assert MERGES["temporal"]["properties"]["method"]["enum"] == weighted
    assert "extrapolate" not in weighted


def test_paradigm_enum_equals_the_registry():
    assert load_yaml(SCHEMA)["properties"]["paradigms"]["items"]["enum"] == list(PARADIGMS)


def test_job_group_enum_equals_the_stages_the_study_groups():
    assert load_yaml(SCHEMA)["properties"]["job_groups"]["items"]["enum"] == list(JOB_GROUPS)
