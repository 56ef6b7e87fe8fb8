"""The paradigm registry: every paradigm implements the protocol, with its own capabilities."""

from __future__ import annotations

import inspect

import pytest

from mmgrid.paradigms import PARADIGMS
from mmgrid.paradigms.protocol import Paradigm, files
from mmgrid.study.layout import Layout

PROTOCOL = [
    name
    for name, member in inspect.getmembers(Paradigm)
    if inspect.isfunction(member) and not name.startswith("_")
]


@pytest.mark.parametrize("name", list(PARADIGMS))
def test_every_paradigm_implements_the_protocol(name):
    paradigm = PARADIGMS[name]
    assert paradigm.name == name
    for method in PROTOCOL:
        implemented = inspect.signature(getattr(paradigm, method))
        declared = inspect.signature(getattr(Paradigm, method))
        assert list(implemented.parameters) == list(declared.parameters)[1:], (name, method)
    assert isinstance(paradigm.trains_on_samples, bool) and isinstance(paradigm.semantic_ids, bool)


def test_capabilities_and_chain_starts():
    paths = Layout(base_llm="models/Qwen3")
    assert {n: p.base_dir(paths) for n, p in PARADIGMS.items()} == {
        "title": "models/Qwen3",
        "semid": "results/base/semid",
        "hllm": "results/base/hllm",
    }
    assert [n for n, p in PARADIGMS.items() if p.trains_on_samples] == ["title", "semid"]
    assert [n for n, p in PARADIGMS.items() if p.semantic_ids] == ["semid"]


def test_one_input_file_is_a_list_too():
    assert files({"a": "x", "b": ["y", "z"]}, "a") == ["x"]
    assert files({"a": "x", "b": ("y", "z")}, "b") == ["y", "z"]
