"""Device and dtype choice, validation of local model directories, and offline loading.

Loading is local and safe: no hub look-ups (``local_files_only``), no ``trust_remote_code``,
weights only from safetensors (pickle-based ``.bin`` files are refused).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, PreTrainedTokenizerBase

from mmgrid.device import dtype_for, resolve_device
from mmgrid.errors import InputError
from mmgrid.models.tokenizer import load_tokenizer

TOKENIZER_FILE = "tokenizer.json"
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json")
WEIGHTS = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"
FLOAT_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def check_model_dir(path: str | os.PathLike[str], key: str = "model directory") -> None:
    """Raise :class:`InputError` unless ``path`` is a complete, safely loadable causal-LM dir.

    Required: ``config.json`` with a ``model_type``; safetensors weights (``model.safetensors``
    or an index whose shards all exist); ``tokenizer.json``; a chat template (in
    ``tokenizer_config.json`` or ``chat_template.jinja``). ``key`` names the config key or
    role of the directory in the messages.
    """
    path = Path(path)
    where = f"{key} '{path}'"
    if not path.is_dir():
        raise InputError(
            f"{where} is not a directory: point it at a local Hugging Face model folder"
        )
    config = path / "config.json"
    if not config.is_file():
        raise InputError(f"{where} has no config.json: it must be a Hugging Face model folder")
    try:
        model_type = json.loads(config.read_text()).get("model_type")
    except (json.JSONDecodeError, AttributeError) as err:
        raise InputError(f"{where}: config.json is not a JSON object ({err})") from err
    if not model_type:
        raise InputError(f"{where}: config.json has no 'model_type'")
    weight_files(path, where)
    if not (path / TOKENIZER_FILE).is_file():
        raise InputError(
            f"{where} has no {TOKENIZER_FILE}: save a fast tokenizer there "
            "(tokenizer.save_pretrained) next to the weights"
        )
    if not _has_chat_template(path):
        raise InputError(
            f"{where} has no chat template: add 'chat_template' to tokenizer_config.json "
            "or a chat_template.jinja file"
        )


def check_base_dir(path: str | os.PathLike[str]) -> None:
    """Validate the local base model directory given as ``base.path`` in the config."""
    check_model_dir(path, key="base.path")


def load_causal_lm(
    path: str | os.PathLike[str],
    device: str | torch.device = "auto",
    dtype: torch.dtype | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer from a local directory, offline, in eval mode.

    ``dtype`` defaults to :func:`dtype_for` the resolved device (bf16 on GPU, fp32 on CPU).
    """
    check_model_dir(path)
    device = resolve_device(device)
    model = AutoModelForCausalLM.from_pretrained(
        path,
        dtype=dtype or dtype_for(device),
        local_files_only=True,
        trust_remote_code=False,
        use_safetensors=True,
    )
    model.to(device).eval()
    return model, load_tokenizer(path)


def stored_dtype(path: str | os.PathLike[str]) -> torch.dtype:
    """The floating dtype a checkpoint's safetensors weights are stored in (the one holding the
    most elements; float32 when none is floating).

    Training keeps float32 master weights on every device and writes a cell back in the dtype
    of its initial weights, so a bf16 base LLM gives bf16 cells and a float32 one float32 cells.
    """
    from safetensors import safe_open

    elements: Counter[str] = Counter()
    for file in weight_files(Path(path)):
        with safe_open(file, framework="pt") as f:
            for name in f.keys():  # noqa: SIM118 (a safe_open handle is not a dict)
                tensor = f.get_slice(name)
                if tensor.get_dtype() in FLOAT_DTYPES:
                    elements[tensor.get_dtype()] += math.prod(tensor.get_shape())
    return FLOAT_DTYPES[elements.most_common(1)[0][0]] if elements else torch.float32


def weight_files(path: Path, where: str | None = None) -> list[Path]:
    """The safetensors files of a checkpoint directory (causal LM or HLLM): ``model.safetensors``,
    or the shards of ``model.safetensors.index.json``, each checked to be complete (its header
    read). Anything else is an :class:`InputError` that starts with ``where`` (default: the
    directory)."""
    from mmgrid.merge.safetensors_io import parse_header

    files = _weight_files(path, where or str(path))
    for file in files:
        try:
            parse_header(file)
        except InputError as err:
            raise InputError(f"{where or path}: {err}") from None
    return files


def _weight_files(path: Path, where: str) -> list[Path]:
    single = path / WEIGHTS
    index = path / WEIGHTS_INDEX
    if single.is_file():
        return [single]
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as err:
            raise InputError(f"{where}: {index.name} has no valid 'weight_map' ({err})") from err
        missing = [s for s in shards if not (path / s).is_file()]
        if missing:
            raise InputError(
                f"{where}: safetensors shard(s) listed in {index.name} are missing: "
                f"{', '.join(missing)}"
            )
        return [path / s for s in shards]
    if any((path / name).is_file() for name in PICKLE_WEIGHTS):
        raise InputError(
            f"{where} holds only pickle weights (pytorch_model.bin); for safety, mmgrid loads "
            "safetensors weights only: convert them once to model.safetensors (load the model "
            "yourself and call save_pretrained(..., safe_serialization=True))"
        )
    raise InputError(
        f"{where} has no weights: expected model.safetensors or "
        "model.safetensors.index.json with its shards"
    )


def _has_chat_template(path: Path) -> bool:
    if (path / "chat_template.jinja").is_file() or (path / "chat_template.json").is_file():
        return True
    config = path / "tokenizer_config.json"
    if not config.is_file():
        return False
    try:
        return bool(json.loads(config.read_text()).get("chat_template"))
    except (json.JSONDecodeError, AttributeError):
        return False
