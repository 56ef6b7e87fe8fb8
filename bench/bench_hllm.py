"""Benchmark the HLLM paradigm: item embedding, training and full-catalogue scoring.

Measures, in one process, on the synthetic four-topic catalogue of the tests
(``tests/models/catalog.py``) and a random Qwen3 built with ``mmgrid.train.base_llm.build_model``
(sizes of the default config, of ``tests/config.tiny.yaml`` with ``--model tiny``, or
Qwen3-0.6B's with ``--model qwen3-0.6b``; on ``--device cuda`` the HLLM is evaluated in bf16
and trained in float32 weights under bf16 autocast, as the workflow does), turned
into an HLLM with the study's ``hllm:`` defaults (64 text tokens, 25 items, 512 negatives):

  1. item-embedding throughput of the item LLM over the whole catalogue (items/s);
  2. training throughput of the loop (InfoNCE, batch 16 sequences of 26 items + 512 negatives
     per batch), full fine-tuning and LoRA (sequences/s);
  3. full-catalogue scoring: user-LLM states + batched ranking with history masking (users/s),
     against a per-user loop (numpy scores + ``rank_by_key``, the way one would write it
     naively); and the batched ranking alone at the study's largest catalogue and width
     (57,727 items x 1024).

Every measurement runs after a warm-up; the best of ``--repeats`` runs is reported.

Usage: .venv/bin/python bench/bench_hllm.py [--threads 1] [--model default|tiny|qwen3-0.6b]
       [--device cpu|cuda] [--items-per-domain 1500] [--steps 10] [--users 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from timing import best_time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {
    "default": {},
    "tiny": {  # tests/config.tiny.yaml, base.model
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
    },
    "qwen3-0.6b": {  # Qwen3-0.6B's shape (the item and user LLMs come from it)
        "hidden_size": 1024,
        "num_hidden_layers": 28,
        "intermediate_size": 3072,
        "num_attention_heads": 16,
        "num_key_value_heads": 8,
        "head_dim": 128,
    },
}


def best(fn: Callable[[], object], repeats: int) -> float:
    """Seconds of the fastest of ``repeats`` calls, after one warm-up call (GPU work included:
    CUDA is synchronised before the clock stops)."""
    import torch

    def run() -> object:
        result = fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return result

    return best_time(run, repeats, warmup=True)[0]


def build(work: Path, model_name: str, items_per_domain: int, device: str):
    """Catalogue, base LLM and HLLM; return (model, tokens, n_items)."""
    import pandas as pd

    from mmgrid.hllm.checkpoint import build_hllm_base, load_hllm
    from mmgrid.hllm.item_sequences import item_texts, read_catalogue
    from mmgrid.hllm.model import tokenize_items
    from mmgrid.hllm.settings import STUDY_PROMPT, HllmSettings
    from mmgrid.models.settings import ModelSettings
    from mmgrid.models.tokenizer import train_tokenizer
    from mmgrid.train.base_llm import build_model
    from tests.models.catalog import write_catalog

    paths = write_catalog(work / "items", items_per_domain)
    items = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    items.to_parquet(work / "items.parquet", index=False)
    texts = [f"{t}\n{d}" for t, d in zip(items["title"], items["description"], strict=True)]
    tokenizer = train_tokenizer([*texts, *[STUDY_PROMPT] * 50], vocab_size=2048)
    sizes = ModelSettings(**SIZES[model_name])
    base = build_model(sizes, tokenizer, seed=0)
    base.save_pretrained(work / "base")
    tokenizer.save_pretrained(work / "base")
    build_hllm_base(work / "base", work / "hllm", HllmSettings(), seed=0, log=lambda _: None)
    model, tokenizer = load_hllm(work / "hllm", device)
    catalogue = read_catalogue(work / "items.parquet")
    tokens = tokenize_items(
        tokenizer, item_texts(catalogue, model.config.item_prompt), model.config
    )
    return model, tokens, sizes


def random_walks(n_items: int, n: int, length: int, seed: int) -> list:
    import numpy as np

    rng = np.random.default_rng(seed)
    successor = rng.permutation(n_items)
    out = []
    for _ in range(n):
        seq = [int(rng.integers(n_items))]
        for _ in range(length - 1):
            seq.append(
                int(successor[seq[-1]]) if rng.random() < 0.8 else int(rng.integers(n_items))
            )
        out.append(np.array(seq))
    return out


def training(
    model, tokens, adapter: str, steps: int, seed: int, item_batch_size: int, device: str
) -> dict:
    """Sequences/s of the training loop on full-length sequences (max_items + 1 items)."""
    import copy

    from mmgrid.hllm.loss import SequenceCollate, hllm_loss
    from mmgrid.hllm.settings import HllmSettings
    from mmgrid.train.loop import TrainConfig, train

    h = HllmSettings()
    model = copy.deepcopy(model).float()  # float32 master weights, as cells train
    if adapter == "lora":
        from peft import LoraConfig, get_peft_model

        from mmgrid.train.settings import LORA_TARGETS

        lora = LoraConfig(
            r=8,
            lora_alpha=16,
            target_modules=list(LORA_TARGETS),
            modules_to_save=["item_emb_tokens", "logit_scale"],
        )
        model = get_peft_model(model, lora)
    batch = 16
    sequences = random_walks(len(tokens.lengths), batch * (steps + 2), h.max_items + 1, seed)
    collate = SequenceCollate(tokens, h.num_negatives, seed)
    loss = hllm_loss(h.max_logit_scale, h.nce_threshold, item_batch_size)
    warm = TrainConfig(batch_size=batch, max_steps=2, device=device, progress=False)
    train(model, sequences, warm, collate=collate, loss_fn=loss)
    config = TrainConfig(
        batch_size=batch, max_steps=steps, lr=1e-4, device=device, progress=False, shuffle=False
    )
    summary = train(model, sequences, config, collate=collate, loss_fn=loss)
    unique = len(collate(sequences[:batch])["item_rows"])
    return {
        "sequences/s": round(batch * summary["steps"] / summary["wall_s"], 1),
        "ms/step": round(1000 * summary["wall_s"] / summary["steps"], 1),
        "items embedded per step": unique,
    }


def naive_ranks(states, items, targets, histories) -> list:
    """One user at a time: numpy scores over the catalogue, history to +inf, rank_by_key."""
    import numpy as np

    from mmgrid.evaluate.metrics import rank_by_key

    s, v = states.cpu().numpy(), items.cpu().numpy()
    out = []
    for state, target, history in zip(s, targets, histories, strict=True):
        keys = -(v @ state).astype(np.float64)
        keys[history] = np.inf
        out.append(rank_by_key(keys, target))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", choices=tuple(SIZES), default="default")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (bf16 weights on CUDA)")
    parser.add_argument("--items-per-domain", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    from mmgrid.hllm.ranking import embed_catalogue, rank_targets, user_states
    from mmgrid.hllm.settings import HllmSettings

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench_hllm."))
    model, tokens, sizes = build(work, args.model, args.items_per_domain, args.device)
    device = next(model.parameters()).device
    n_items = len(tokens.lengths)
    h = HllmSettings()
    n_params = sum(p.numel() for p in model.parameters())
    where = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU {platform.processor() or platform.machine()}, threads {args.threads}"
    )
    print(f"{where}, torch {torch.__version__}, weights {next(model.parameters()).dtype}")
    print(
        f"model {args.model}: h{sizes.hidden_size}/L{sizes.num_hidden_layers}/"
        f"ff{sizes.intermediate_size}; HLLM {n_params:,} parameters (item LLM "
        f"{len(model.config.item_layers)} layers, user LLM {len(model.config.user_layers)})"
    )
    print(
        f"catalogue {n_items} items, {tokens.lengths.float().mean():.1f} text tokens per item "
        f"(max {h.max_text_tokens})"
    )
    print()
    print("| what | number |")
    print("|---|---|")
    for batch in (64, 256):
        seconds = best(lambda b=batch: embed_catalogue(model, tokens, b), args.repeats)
        print(f"| item embedding, batch {batch} | {n_items / seconds:,.0f} items/s |")
    # item batch 256: the batch's items in forwards of similar length (the default);
    # 4096: one forward padded to the longest item (the baseline without length grouping)
    for adapter, item_batch in (("full", 256), ("full", 4096), ("lora", 256)):
        result = training(model, tokens, adapter, args.steps, 0, item_batch, args.device)
        print(
            f"| training, {adapter}, item batch {item_batch}, 16 x 26 items + 512 negatives "
            f"({result['items embedded per step']} items embedded per step) | "
            f"{result['sequences/s']} sequences/s ({result['ms/step']} ms/step) |"
        )

    gen = torch.Generator().manual_seed(0)
    embeddings = embed_catalogue(model, tokens, 256)
    vectors = F.normalize(embeddings, dim=-1)
    histories = [torch.randint(0, n_items, (h.max_items,), generator=gen).tolist()] * args.users
    targets = torch.randint(0, n_items, (args.users,), generator=gen).tolist()

    def states():
        return user_states(model, embeddings, histories, h.user_batch_size)

    seconds = best(states, args.repeats)
    print(
        f"| user states ({h.max_items} history items), batch 256 | {args.users / seconds:,.0f} users/s |"
    )
    user = states()
    seconds = best(lambda: rank_targets(user, vectors, targets, histories), args.repeats)
    print(f"| ranking, batched, {n_items} items | {args.users / seconds:,.0f} users/s |")
    seconds = best(lambda: rank_targets(states(), vectors, targets, histories), args.repeats)
    print(
        f"| scoring end to end (states + ranking), {n_items} items | {args.users / seconds:,.0f} users/s |"
    )
    few = 200
    args_few = (user[:few], vectors, targets[:few], histories[:few])
    agree = sum(
        a == b for a, b in zip(naive_ranks(*args_few), rank_targets(*args_few), strict=True)
    )
    seconds = best(lambda: naive_ranks(*args_few), args.repeats)
    print(
        f"| ranking, per-user loop (numpy + rank_by_key), {n_items} items | "
        f"{few / seconds:,.0f} users/s (same rank for {agree}/{few} users; the rest differ "
        "by float32 rounding of near-tied scores) |"
    )

    big_items, width, users = 57_727, 1024, 512
    big = F.normalize(torch.randn(big_items, width, generator=gen), dim=-1).to(device)
    big_states = F.normalize(torch.randn(users, width, generator=gen), dim=-1).to(device)
    big_targets = torch.randint(0, big_items, (users,), generator=gen).tolist()
    big_hist = [torch.randint(0, big_items, (h.max_items,), generator=gen).tolist()] * users
    seconds = best(lambda: rank_targets(big_states, big, big_targets, big_hist), args.repeats)
    print(f"| ranking, batched, {big_items} items x {width} | {users / seconds:,.0f} users/s |")
    args_few = (big_states[:64], big, big_targets[:64], big_hist[:64])
    seconds = best(lambda: naive_ranks(*args_few), args.repeats)
    print(f"| ranking, per-user loop, {big_items} items x {width} | {64 / seconds:,.0f} users/s |")


if __name__ == "__main__":
    main()
