"""Benchmark trie-constrained beam search (semid evaluation): batched vs one query at a time.

Usage: python bench/bench_eval.py [--threads 2] [--queries 64] [--items 1000] [--history 5]
       python bench/bench_eval.py --qwen3-shape --device cuda [--batch-sizes 8 32 64]
       python bench/bench_eval.py --backends static generate [--titles] [--compile]
Prints a markdown table; numbers are recorded in bench/EVAL.md.

A random tiny Qwen3 (hidden 64, 2 layers, the sizes of the default config's model family; with
``--qwen3-shape`` a Qwen3-0.6B shape with its vocabulary size, bf16 on ``--device cuda``) with
a byte-level BPE tokenizer and 3 x 32 semantic-ID tokens decodes ``--queries`` test prompts
(``--history`` semantic IDs each) with beam width 20 over a catalogue of ``--items`` random
semantic IDs. Every setting runs in the same process after one warm-up; the best of
``--repeats`` runs is reported. The last row is the same batched search through plain
``generate`` (no shared prompt cache: the prompt is re-run once per beam), for reference.
``--backends`` times each evaluation backend (``mmgrid.evaluate.backends``) and checks that
its ranked lists equal the first backend's; ``--titles`` times title sampling instead (a random
model rarely writes a newline, so every sample runs to ``--max-new-tokens``).
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
from timing import best_time

os.environ["HF_HUB_OFFLINE"] = "1"

LEVELS, CODEBOOK = 3, 32
WORDS = [
    "wireless",
    "stainless",
    "organic",
    "portable",
    "compact",
    "ergonomic",
    "speaker",
    "bottle",
    "skillet",
    "lamp",
    "keyboard",
    "novel",
    "puzzle",
    "tent",
    "backpack",
    "black",
    "large",
    "edition",
    "pack",
    "set",
    "travel",
    "kids",
]


QWEN3_06B = {  # Qwen3-0.6B's shape; the vocabulary is padded to its 151,936 rows after the SID tokens
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "head_dim": 128,
}
TINY = {
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 16,
}


def build(
    items: int,
    history: int,
    queries: int,
    seed: int,
    qwen3_shape: bool = False,
    layers: int | None = None,
):
    """Tokenizer, model, trie and prompts for the benchmark (all seeded); ``layers`` overrides
    the shape's number of layers."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from mmgrid.evaluate.generate import answer_prompt_ids, sid_token_ids
    from mmgrid.evaluate.trie import SidTrie
    from mmgrid.items.tokens import format_sid, semantic_id_tokens
    from mmgrid.models.tokenizer import train_tokenizer
    from mmgrid.models.vocab import add_semantic_id_tokens
    from mmgrid.samples.prompts import prompt_vocabulary, sid_task

    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(WORDS, 8)) for _ in range(500)] + prompt_vocabulary() * 4
    tokenizer = train_tokenizer(texts, vocab_size=1000)
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        tie_word_embeddings=True,
        max_position_embeddings=2048,
        **{
            **(QWEN3_06B if qwen3_shape else TINY),
            **({"num_hidden_layers": layers} if layers else {}),
        },
    )
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).float().eval()
    add_semantic_id_tokens(model, tokenizer, semantic_id_tokens(LEVELS, CODEBOOK), seed=seed)
    if qwen3_shape:  # the language-model head costs what it costs on the real vocabulary
        model.resize_token_embeddings(151_936, mean_resizing=False)
    codes = np.unique(rng.integers(0, CODEBOOK, size=(2 * items, LEVELS)), axis=0)
    codes = codes[rng.choice(len(codes), items, replace=False)]
    trie = SidTrie.from_codes(
        codes, sid_token_ids(tokenizer, LEVELS, CODEBOOK), tokenizer.eos_token_id
    )
    sids = [format_sid(c) for c in codes]
    prompts = [
        answer_prompt_ids(
            tokenizer, sid_task([sids[j] for j in rng.choice(items, history)], None), "semid"
        )
        for _ in range(queries)
    ]
    return model, tokenizer, trie, prompts


def plain_generate(model, tokenizer, prompts, trie, beams: int, batch_size: int) -> None:
    """Reference: the same constrained beam search through ``generate`` without a shared cache."""
    from mmgrid.evaluate.generate import left_pad

    for i in range(0, len(prompts), batch_size):
        ids, mask = left_pad(prompts[i : i + batch_size], tokenizer.pad_token_id, model.device)
        start = ids.shape[1]
        model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=LEVELS + 1,
            num_beams=beams,
            num_return_sequences=beams,
            do_sample=False,
            prefix_allowed_tokens_fn=lambda _b, seq, start=start: trie.allowed(
                seq[start:].tolist()
            ),
            eos_token_id=trie.eos_id,
            pad_token_id=tokenizer.pad_token_id,
        )


def agreement(a: list, b: list, ranked: bool = True, k: int = 20) -> dict[str, float]:
    """How far two backends' results agree, as shares of prompts: identical results
    (``identical``), and for ``ranked`` lists (semid rankings, not sampled titles) the same first
    item (``top1``) and the mean overlap of the top-``k`` sets (``overlap``)."""
    pairs = list(zip(a, b, strict=True))
    shares = {"identical": sum(x[:k] == y[:k] for x, y in pairs) / len(pairs)}
    if ranked:
        shares["top1"] = sum(x[:1] == y[:1] for x, y in pairs) / len(pairs)
        shares["overlap"] = sum(
            len(set(x[:k]) & set(y[:k])) / max(len(x[:k]), 1) for x, y in pairs
        ) / len(pairs)
    return {name: round(share, 3) for name, share in shares.items()}


def agreement_text(results: list, reference: list, titles: bool) -> str:
    """``yes`` when ``results`` equal ``reference``, else the shares of :func:`agreement` (in
    bf16, rounding alone reorders a random model's near-tied beams: see bench/GPU.md)."""
    if results == reference:
        return "yes"
    shares = agreement(results, reference, ranked=not titles)
    if titles:
        return f"no: {100 * shares['identical']:.1f} % of prompts' samples identical"
    return (
        f"no: identical lists {100 * shares['identical']:.1f} %, same top-1 "
        f"{100 * shares['top1']:.1f} %, top-20 overlap {100 * shares['overlap']:.1f} %"
    )


def timed_rows(args, model, tokenizer, trie, prompts) -> list[tuple[str, float, str]]:
    """(setting, best seconds, same result as the first backend at that batch size) for every
    backend and batch size: semid beam search, or title sampling with ``--titles``."""
    from mmgrid.evaluate.backends import prepare

    if args.titles:
        task = "title sampling"
        options = {"mode": "sample", "samples": args.samples, "temperature": 0.6, "seed": 0}
        options["max_new_tokens"] = args.max_new_tokens
    else:
        task = "semid beam search"
        options = {"trie": trie, "beams": args.beams}
    rows, reference = [], {}
    for name in args.backends:
        compiled = args.compile and name == "static"
        decoder = prepare(model, name, compiled)
        search = decoder.generate_titles if args.titles else decoder.semid_beam_search
        search(model, tokenizer, prompts[:2], batch_size=2, **options)  # warm-up
        for batch_size in args.batch_sizes:
            results: list = []

            def run(batch_size=batch_size, results=results, search=search) -> None:
                results[:] = search(model, tokenizer, prompts, batch_size=batch_size, **options)

            seconds, _ = best_time(run, args.repeats)
            # titles are seeded per batch: compare backends at the same batch size
            same = agreement_text(results, reference.setdefault(batch_size, results), args.titles)
            label = f"{name} backend" + (", compiled" if compiled else "")
            rows.append((f"{task}, {label}, batch {batch_size}", seconds, same))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--history", type=int, default=5)
    parser.add_argument("--beams", type=int, default=20)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (bf16 weights on CUDA)")
    parser.add_argument("--qwen3-shape", action="store_true", help="a random Qwen3-0.6B shape")
    parser.add_argument(
        "--backends", nargs="+", default=["generate"], choices=["static", "generate"]
    )
    parser.add_argument("--compile", action="store_true", help="static backend: torch.compile")
    parser.add_argument("--titles", action="store_true", help="title sampling instead of semid")
    parser.add_argument("--samples", type=int, default=5, help="--titles: samples per prompt")
    parser.add_argument("--max-new-tokens", type=int, default=24, help="--titles: token budget")
    parser.add_argument("--no-plain", action="store_true", help="skip the plain-generate row")
    args = parser.parse_args()

    import torch

    from mmgrid.device import dtype_for, resolve_device

    torch.set_num_threads(args.threads)
    model, tokenizer, trie, prompts = build(
        args.items, args.history, args.queries, args.seed, args.qwen3_shape
    )
    device = resolve_device(args.device)
    model.to(device=device, dtype=dtype_for(device))
    lengths = [len(p) for p in prompts]
    where = (
        torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    )
    task = f"{args.samples} samples of <= {args.max_new_tokens} tokens" if args.titles else ""
    print(
        f"{platform.machine()} {os.cpu_count()} cpus, torch {torch.__version__}, {where}, "
        f"{model.dtype}; {'Qwen3-0.6B shape' if args.qwen3_shape else 'tiny model'}; "
        f"{args.queries} queries, prompt {min(lengths)}-{max(lengths)} tokens, {len(trie)} items, "
        f"beams {args.beams} {task}\n"
    )
    rows = timed_rows(args, model, tokenizer, trie, prompts)
    if not args.no_plain and not args.titles:
        batch_size = max(args.batch_sizes)
        seconds, _ = best_time(
            lambda: plain_generate(model, tokenizer, prompts, trie, args.beams, batch_size),
            args.repeats,
        )
        rows.append((f"plain generate (prompt per beam), batch {batch_size}", seconds, ""))
    base = rows[0][1]
    print(
        f"| setting | seconds (best) | queries/s | speed-up vs {rows[0][0]} | same result as "
        f"{args.backends[0]} at that batch size |"
    )
    print("| --- | --- | --- | --- | --- |")
    for name, seconds, same in rows:
        print(
            f"| {name} | {seconds:.3f} | {args.queries / seconds:.1f} | {base / seconds:.2f}x | {same} |"
        )


if __name__ == "__main__":
    main()
