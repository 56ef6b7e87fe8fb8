"""Byte-level BPE tokenizer trained on item texts, with Qwen-style chat tokens and template.

Conventions follow Qwen3 so that a real Qwen3 directory and the tiny base behave alike:

- ``<|endoftext|>`` ends a plain document and pads batches; ``<|im_start|>``/``<|im_end|>``
  delimit chat turns and ``<|im_end|>`` is the end-of-sequence token of a chat answer.
- ``<think>`` and ``</think>`` are ordinary (non-special) added tokens: they survive
  ``decode(skip_special_tokens=True)``.
- The chat template renders every assistant turn as
  ``<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n{answer}<|im_end|>\\n``: the empty think
  block is inserted when the content does not start with ``<think>`` already. The generation
  prompt ends with the same empty think block (pass ``enable_thinking=True`` to leave it out),
  so a rendered training conversation starts with exactly the generation prompt.
  Assistant turns are wrapped in ``{% generation %}`` so that
  ``apply_chat_template(..., return_assistant_tokens_mask=True)`` marks the trained tokens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    trainers,
)
from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from mmgrid.errors import InputError

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK_TOKENS = ("<think>", "</think>")
EMPTY_THINK = "<think>\n\n</think>\n\n"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END)
# Qwen2/3 pre-tokenizer split: runs of newlines form one piece, so the generation prompt
# ("...</think>\n\n") tokenizes as a prefix of the rendered conversation; digits split singly.
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}"
    "{%- if not message['content'].startswith('<think>') %}{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{{- message['content'] + '<|im_end|>' }}"
    "{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if not (enable_thinking is defined and enable_thinking) %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)


def train_tokenizer(
    texts: Iterable[str], vocab_size: int, out_dir: str | os.PathLike[str] | None = None
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on ``texts`` and wrap it for ``transformers``.

    ``vocab_size`` bounds the BPE vocabulary including the 256 byte symbols and the special
    tokens; training stops earlier when no pair occurs twice. Deterministic for a given
    sequence of texts. When ``out_dir`` is given the tokenizer is also saved there.
    """
    texts = list(texts)
    if not texts:
        raise InputError("cannot train a tokenizer on an empty corpus: no item texts were given")
    tk = Tokenizer(models.BPE())
    tk.normalizer = normalizers.NFC()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tk.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator(texts, trainer=trainer, length=len(texts))
    tk.add_tokens([AddedToken(t, special=False, normalized=False) for t in THINK_TOKENS])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        eos_token=IM_END,
        pad_token=ENDOFTEXT,
        additional_special_tokens=[IM_START],
        clean_up_tokenization_spaces=False,
        model_max_length=1_000_000,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    if out_dir is not None:
        tokenizer.save_pretrained(out_dir)
    return tokenizer


def load_tokenizer(path: str | os.PathLike[str]) -> PreTrainedTokenizerBase:
    """Load a fast tokenizer from a local directory, offline; it must carry a chat template."""
    path = Path(path)
    if not (path / "tokenizer.json").is_file():
        raise InputError(
            f"no tokenizer.json in '{path}': save a fast tokenizer there "
            "(tokenizer.save_pretrained) or point to a complete model directory"
        )
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    if not tokenizer.chat_template:
        raise InputError(
            f"the tokenizer in '{path}' has no chat template: add 'chat_template' to "
            "tokenizer_config.json or a chat_template.jinja file"
        )
    return tokenizer
