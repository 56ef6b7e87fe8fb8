"""The tiny base LLM built here: a Qwen3 from config, pre-trained on item titles + descriptions.

``build_base`` writes one directory (atomically) that loads like any Hugging Face checkpoint::

    config.json  generation_config.json  model.safetensors      # the model (fp32, tied)
    tokenizer.json  tokenizer_config.json  chat_template.jinja  # the tokenizer
    pretrain_log.csv                                            # one row per optimizer step
    base.json                                                   # summary, see build_base

Pre-training is plain causal language modelling: every item becomes the document
``"{title}\\n{description}"`` (just the title when there is no description) followed by
``<|endoftext|>``; documents are shuffled with a seed-derived RNG, a ``heldout_fraction`` of
them is set aside to measure held-out loss, and the rest is packed into blocks of
``pretrain.max_length`` tokens.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import PreTrainedTokenizerBase, Qwen3Config, Qwen3ForCausalLM

from mmgrid.atomic import atomic_dir, write_json
from mmgrid.errors import InputError
from mmgrid.items.index import read_items
from mmgrid.models.settings import BaseSettings, ModelSettings
from mmgrid.models.tokenizer import ENDOFTEXT, IM_END, train_tokenizer
from mmgrid.seeding import derive_seed
from mmgrid.train.batching import pack_blocks
from mmgrid.train.loop import TrainConfig, evaluate_loss, train


def read_item_texts(items_parquets: Sequence[str | os.PathLike[str]]) -> dict[str, list[str]]:
    """Pre-training documents per items file, in file order: title, newline, description."""
    texts: dict[str, list[str]] = {}
    for path in items_parquets:
        items = read_items(path)
        titles = items["title"].str.strip()
        descriptions = items["description"].str.strip()
        texts[str(path)] = [
            f"{t}\n{d}" if d else t for t, d in zip(titles, descriptions, strict=True)
        ]
    return texts


PROMPT_REPEATS = 50
"""How often the samples' fixed prompt wording joins the tokenizer's corpus (``extra_texts`` of
:func:`build_base`): BPE merges need repeats, so frequent prompt words become single tokens."""


def train_base_tokenizer(
    per_file: dict[str, list[str]],
    settings: BaseSettings,
    seed: int,
    *,
    extra_texts: Sequence[str] = (),
) -> tuple[PreTrainedTokenizerBase, list[str]]:
    """The base's tokenizer, trained on the documents of every items file
    (:func:`read_item_texts`) in a seeded order, plus ``extra_texts``; returns it with the
    documents in that order."""
    documents = [doc for docs in per_file.values() for doc in docs]
    if not documents:
        raise InputError("the items files hold no items: nothing to pre-train the base on")
    random.Random(derive_seed(seed, "base", "order")).shuffle(documents)
    tokenizer = train_tokenizer([*documents, *extra_texts], settings.tokenizer.vocab_size)
    return tokenizer, documents


def build_model(
    settings: ModelSettings, tokenizer: PreTrainedTokenizerBase, seed: int
) -> Qwen3ForCausalLM:
    """A randomly initialised Qwen3 (fp32, tied embeddings) sized by ``settings``.

    The vocabulary is exactly ``len(tokenizer)``; ``<|im_end|>`` ends generation (as does
    ``<|endoftext|>``) and ``<|endoftext|>`` pads. Weights depend only on ``seed``.
    """
    eos_id = tokenizer.convert_tokens_to_ids(IM_END)
    pad_id = tokenizer.convert_tokens_to_ids(ENDOFTEXT)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=settings.hidden_size,
        intermediate_size=settings.intermediate_size,
        num_hidden_layers=settings.num_hidden_layers,
        num_attention_heads=settings.num_attention_heads,
        num_key_value_heads=settings.num_key_value_heads,
        head_dim=settings.head_dim,
        max_position_embeddings=settings.max_position_embeddings,
        rope_parameters={"rope_type": "default", "rope_theta": settings.rope_theta},
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = [eos_id, pad_id]
    model.generation_config.pad_token_id = pad_id
    return model.float()


def unigram_entropy(blocks: Sequence[Sequence[int]]) -> float:
    """Entropy (nats) of the token unigram distribution of ``blocks``: the loss to beat."""
    counts = Counter(t for block in blocks for t in block)
    total = sum(counts.values())
    return -sum(c / total * math.log(c / total) for c in counts.values())


def build_base(
    items_parquets: Sequence[Path],
    out_dir: Path,
    settings: BaseSettings,
    seed: int,
    log: Callable[[str], None] = print,
    *,
    extra_texts: Sequence[str] = (),
    device: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Train the tokenizer, build and pre-train the tiny Qwen3, save everything to ``out_dir``.

    ``extra_texts`` (e.g. the fixed prompt wording of the samples) are added to the tokenizer's
    training corpus only, so that frequent prompt words become single tokens; BPE merges need
    a pair to occur at least twice, so repeat a text to give it weight. The directory
    appears whole or not at all. Returns the summary also written to ``base.json``: document
    and token counts, vocabulary and parameter counts, the unigram entropy of the training
    tokens, held-out loss before and after pre-training, and the training summary.
    """
    started = time.perf_counter()
    per_file = read_item_texts(items_parquets)
    for path, docs in per_file.items():
        log(f"read {len(docs)} items from {path}")
    tokenizer, documents = train_base_tokenizer(per_file, settings, seed, extra_texts=extra_texts)
    log(f"trained a byte-level BPE tokenizer: {len(tokenizer)} tokens")
    eot = tokenizer.convert_tokens_to_ids(ENDOFTEXT)
    ids = [[*doc, eot] for doc in tokenizer(documents, add_special_tokens=False)["input_ids"]]

    pre = settings.pretrain
    n_held = round(pre.heldout_fraction * len(ids)) if len(ids) > 1 else 0
    held_blocks = pack_blocks(ids[:n_held], pre.max_length)
    train_blocks = pack_blocks(ids[n_held:], pre.max_length)
    train_examples = [{"input_ids": b} for b in train_blocks]
    held_examples = [{"input_ids": b} for b in held_blocks]

    model = build_model(settings.model, tokenizer, derive_seed(seed, "base", "init"))
    n_params = sum(p.numel() for p in model.parameters())
    log(
        f"built Qwen3 h{settings.model.hidden_size}/L{settings.model.num_hidden_layers}/"
        f"ff{settings.model.intermediate_size}: {n_params:,} parameters; "
        f"{len(train_blocks)} training blocks of <= {pre.max_length} tokens, "
        f"{len(held_blocks)} held-out blocks"
    )
    evaluate = dict(pad_id=eot, batch_size=pre.batch_size, device=device)
    held_init = evaluate_loss(model, held_examples, **evaluate) if held_examples else None
    config = TrainConfig(
        epochs=pre.epochs,
        lr=pre.lr,
        batch_size=pre.batch_size,
        warmup_ratio=pre.warmup_ratio,
        weight_decay=pre.weight_decay,
        grad_clip=pre.grad_clip,
        max_steps=pre.max_steps,
        shuffle=True,
        seed=derive_seed(seed, "base", "train"),
        device=device,
        progress=progress,
    )
    with atomic_dir(out_dir, marker="base.json") as tmp:
        run = train(
            model,
            train_examples,
            config,
            pad_id=eot,
            log_path=tmp / "pretrain_log.csv",
            desc="pre-train base",
        )
        held_final = evaluate_loss(model, held_examples, **evaluate) if held_examples else None
        model.to("cpu").save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        summary = {
            "seed": seed,
            "settings": settings.to_dict(),
            "items_files": {path: len(docs) for path, docs in per_file.items()},
            "documents": len(documents),
            "heldout_documents": n_held,
            "vocab_size": len(tokenizer),
            "parameters": n_params,
            "train_blocks": len(train_blocks),
            "train_tokens": sum(map(len, train_blocks)),
            "unigram_entropy": unigram_entropy(train_blocks),
            "heldout_loss_init": held_init,
            "heldout_loss": held_final,
            "train": {k: v for k, v in run.items() if k != "config"},
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            "wall_s": round(time.perf_counter() - started, 3),
        }
        write_json(tmp / "base.json", summary)
    held_text = f"{held_final:.3f}" if held_final is not None else "n/a"
    log(
        f"pre-trained in {run['wall_s']:.1f} s ({run['tokens_per_s']:,.0f} tok/s): train loss "
        f"{run['first_loss']:.3f} -> {run['final_loss']:.3f}, held-out {held_text}, "
        f"unigram entropy {summary['unigram_entropy']:.3f}; wrote {out_dir}"
    )
    return summary
