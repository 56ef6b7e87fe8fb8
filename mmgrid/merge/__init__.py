"""Streaming, exact merging of safetensors checkpoints and LoRA adapters (numpy only).

Entry points: ``load_spec(path)`` and ``merge(spec, out_dir)``; the spec format and every
method's semantics are documented in docs/merging.md.
"""

from mmgrid.merge.engine import MergeResult, merge
from mmgrid.merge.plan import MergePlan, build_plan
from mmgrid.merge.spec import MergeSpec, load_spec, parse_spec

__all__ = [
    "MergePlan",
    "MergeResult",
    "MergeSpec",
    "build_plan",
    "load_spec",
    "merge",
    "parse_spec",
]
