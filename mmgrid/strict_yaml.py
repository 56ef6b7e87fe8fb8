"""Strict YAML reading for config files and merge specs: a duplicate key is an error, and every
error names the file and line.

PyYAML's loaders keep the last of two equal keys silently, so a pasted block that repeats a
key would change a setting without a trace. Used by ``mmgrid merge`` for specs and by the
workflow for its config files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mmgrid.errors import InputError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that rejects duplicate keys in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:  # `<<: *anchor` merges are overridden on purpose
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base constructor reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {first.start_mark.line + 1}); "
                    "keep one of them",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, StrictLoader.construct_mapping
)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML ``text`` strictly; errors are :class:`InputError` naming ``source`` and line."""
    try:
        return yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{source}, line {mark.line + 1}, column {mark.column + 1}" if mark else source
        problem = " ".join(p for p in (e.context, e.problem) if p)
        raise InputError(f"{where}: {problem}") from None
    except yaml.YAMLError as e:
        raise InputError(f"{source}: not valid YAML ({e})") from None


def load_yaml(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file strictly (see :func:`load_yaml_text`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e})") from None
    return load_yaml_text(text, str(path))
