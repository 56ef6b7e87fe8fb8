"""Benchmark: base pre-training and fine-tuning throughput of the training loop on CPU.

Measures, in one run on one catalogue:
  1. fixed per-job overhead: ``import torch, transformers`` (fresh interpreter) and loading the
     built base with ``load_causal_lm``;
  2. ``build_base`` at the default ``base:`` settings (tokenizer + pre-training + save);
  3. training tokens/s of the loop on chat-formatted fine-tuning examples (only the answer is
     trained) for full fine-tuning and for LoRA (peft, r=8 on all 7 projections), and on
     packed pre-training blocks (every token trained).

The catalogue is the synthetic four-topic one used by the tests (``tests/models/catalog.py``).
With ``--qwen3-shape`` it instead trains a randomly initialised Qwen3-0.6B-shaped model (built
from a config, nothing downloaded) for a few steps on random tokens, on CUDA when present,
and reports tokens/s, the model FLOPs and MFU (``mmgrid.train.flops``) and peak GPU memory;
``--min-len`` and ``--answer`` make chat-like batches (variable lengths, loss on the answer).

Usage: .venv/bin/python bench/bench_train.py [--threads 1] [--items-per-domain 1500]
       .venv/bin/python bench/bench_train.py --packing-only [--steps 20] [--repeats 3]
       .venv/bin/python bench/bench_train.py --qwen3-shape [--adapter lora] [--layers 28]
       [--seq-len 512] [--min-len 128 --answer 16] [--packing] [--attention sdpa] [--compile]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_eval import QWEN3_06B as EVAL_QWEN3_06B

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROMPT = (
    "You are a recommendation system. Based on the user's purchase/interaction history shown "
    "below (arranged chronologically from oldest to newest), predict a new item title of the "
    "item that the user is most likely to interact with next.\n\nUser's historical interactive "
    "items:\n"
)
PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def import_overhead() -> float:
    code = "import torch, transformers; from transformers import Qwen3ForCausalLM"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def chat_examples(
    tokenizer, titles: list[str], n: int, history: int | tuple[int, int], seed: int
) -> list[dict]:
    """Title-mode-like samples: a prompt with ``history`` titles (or a number drawn uniformly
    from a ``(low, high)`` range per sample), the next title as answer."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(*history) if isinstance(history, tuple) else history
        items = rng.sample(titles, k + 1)
        messages = [
            {"role": "user", "content": PROMPT + "\n".join(f"Title: {t}" for t in items[:-1])},
            {"role": "assistant", "content": f"Recommended Item Title: {items[-1]}"},
        ]
        enc = tokenizer.apply_chat_template(
            messages, return_dict=True, return_assistant_tokens_mask=True
        )
        ids, mask = enc["input_ids"], enc["assistant_masks"]
        out.append(
            {"input_ids": ids, "labels": [t if m else -100 for t, m in zip(ids, mask, strict=True)]}
        )
    return out


def throughput(
    model, examples, pad_id: int, steps: int, batch_size: int, packing: bool = False
) -> dict:
    from mmgrid.train.loop import TrainConfig, train

    warm = TrainConfig(
        batch_size=batch_size, max_steps=2, device="cpu", progress=False, packing=packing
    )
    train(model, examples, warm, pad_id=pad_id)
    cfg = TrainConfig(
        epochs=100,
        lr=1e-3,
        batch_size=batch_size,
        max_steps=steps,
        device="cpu",
        progress=False,
        packing=packing,
    )
    s = train(model, examples, cfg, pad_id=pad_id)
    return {
        "tok/s": s["tokens_per_s"],
        "trained tok/s": round(s["trained_tokens"] / s["wall_s"], 1),
        "ms/step": round(1000 * s["wall_s"] / s["steps"], 1),
        "final loss": round(s["final_loss"], 3),
    }


def packing_comparison(
    base_dir: Path, examples: list[dict], pad_id: int, steps: int, batch_size: int, repeats: int
) -> dict[str, dict]:
    """Padded vs packed chat batches from the same initial weights, alternating, best of
    ``repeats``; the losses of both runs must agree."""
    from mmgrid.models.loading import load_causal_lm

    best: dict[str, dict] = {}
    for _ in range(repeats):
        for name, packing in (("padded", False), ("packed", True)):
            model, _ = load_causal_lm(base_dir, device="cpu")
            r = throughput(model, examples, pad_id, steps, batch_size, packing)
            if name not in best or r["tok/s"] > best[name]["tok/s"]:
                best[name] = r
    return best


QWEN3_06B = {  # Qwen3-0.6B's shape (its config.json), randomly initialised
    **EVAL_QWEN3_06B,
    "vocab_size": 151_936,
    "max_position_embeddings": 40_960,
    "tie_word_embeddings": True,
    "pad_token_id": 0,
}


def random_examples(n: int, lengths: tuple[int, int], answer: int, seed: int) -> list[dict]:
    """Random-token examples with lengths uniform in ``lengths`` (inclusive); the last
    ``answer`` tokens are trained (0: every token), like chat samples' answers."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        ids = [rng.randrange(1, 151_000) for _ in range(rng.randint(*lengths))]
        labels = ids if answer == 0 else [-100] * (len(ids) - answer) + ids[-answer:]
        out.append({"input_ids": ids, "labels": labels})
    return out


def qwen3_shape(
    *,
    layers: int = 28,
    steps: int = 20,
    batch_size: int = 8,
    lengths: tuple[int, int] = (512, 512),
    answer: int = 0,
    adapter: str = "full",
    packing: bool = False,
    attention: str = "auto",
    compile: bool = False,
    warmup: int = 3,
    frozen_bf16: bool = False,
) -> dict:
    """Loop steps of a random Qwen3-0.6B-shaped model (float32 weights, bf16 autocast and fused
    AdamW on CUDA), fully fine-tuned or with a LoRA adapter (r=8 on the 7 projections; with
    ``frozen_bf16`` the frozen weights in bf16, the adapter in float32).
    Returns tokens/s, ms/step, the model FLOPs of the timed steps, TFLOP/s, MFU against the
    GPU's dense bf16 peak, peak memory and the final loss."""
    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from mmgrid.device import resolve_device
    from mmgrid.models.attention import use_attention
    from mmgrid.train.flops import Shape, peak_tflops, training_flops
    from mmgrid.train.loop import TrainConfig, train

    device = resolve_device("auto")
    config = Qwen3Config(**{**QWEN3_06B, "num_hidden_layers": layers})
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(config).to(device)
    implementation = use_attention(model, attention)
    if adapter == "lora":
        from peft import LoraConfig, get_peft_model

        if frozen_bf16:  # frozen weights need no float32 master copy; the adapter stays float32
            model.to(torch.bfloat16)
        lora = LoraConfig(r=8, lora_alpha=16, target_modules=PROJECTIONS, task_type="CAUSAL_LM")
        model = get_peft_model(model, lora)
    examples = random_examples(batch_size * (warmup + steps), lengths, answer, seed=0)
    common = {"batch_size": batch_size, "lr": 1e-5, "progress": False, "shuffle": False}
    common |= {"packing": packing, "compile": compile}
    train(model, examples[: batch_size * warmup], TrainConfig(**common), pad_id=0)
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    timed = examples[batch_size * warmup :]
    s = train(model, timed, TrainConfig(max_steps=steps, **common), pad_id=0)
    flops = training_flops(
        Shape.of(config), [len(e["input_ids"]) for e in timed], s["trained_tokens"]
    )
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = peak_tflops(name)
    achieved = flops / s["wall_s"] / 1e12
    result = {
        "device": name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "adapter": adapter + (", frozen weights bf16" if frozen_bf16 else ""),
        "attention": implementation,
        "packing": packing,
        "compile": compile,
        "batch": batch_size,
        "lengths": list(lengths),
        "answer_tokens": answer,
        "steps": s["steps"],
        "tokens_per_s": s["tokens_per_s"],
        "ms_per_step": round(1000 * s["wall_s"] / s["steps"], 1),
        "model_tflop": round(flops / 1e12, 2),
        "tflops": round(achieved, 1),
        "mfu": round(achieved / peak, 4) if peak else None,
        "peak_memory_gib": (
            round(torch.cuda.max_memory_allocated() / 2**30, 1) if device.type == "cuda" else None
        ),
        "final_loss": round(s["final_loss"], 4),
    }
    del model
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--items-per-domain", type=int, default=1500)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--qwen3-shape", action="store_true")
    parser.add_argument("--layers", type=int, default=28)
    parser.add_argument("--seq-len", type=int, default=512, help="--qwen3-shape: longest example")
    parser.add_argument(
        "--min-len", type=int, help="--qwen3-shape: shortest example (default: --seq-len)"
    )
    parser.add_argument(
        "--answer", type=int, default=0, help="--qwen3-shape: trained tokens per example (0: all)"
    )
    parser.add_argument("--adapter", choices=("full", "lora"), default="full")
    parser.add_argument("--packing", action="store_true", help="--qwen3-shape: packed batches")
    parser.add_argument("--attention", default="auto", help="--qwen3-shape: attention")
    parser.add_argument("--compile", action="store_true", help="--qwen3-shape: torch.compile")
    parser.add_argument(
        "--packing-only",
        action="store_true",
        help="only padded vs packed chat batches (histories of 1-10 titles)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="repeats of --packing-only")
    args = parser.parse_args()
    if args.qwen3_shape:
        import torch

        torch.set_num_threads(args.threads)
        result = qwen3_shape(
            layers=args.layers,
            steps=args.steps,
            batch_size=args.batch_size,
            lengths=(args.min_len or args.seq_len, args.seq_len),
            answer=args.answer,
            adapter=args.adapter,
            packing=args.packing,
            attention=args.attention,
            compile=args.compile,
        )
        print(json.dumps(result, indent=1))
        return

    overhead = import_overhead()
    import pandas as pd
    import torch
    from peft import LoraConfig, get_peft_model

    from mmgrid.models.loading import load_causal_lm
    from mmgrid.models.settings import settings_from_config
    from mmgrid.train.base_llm import build_base
    from tests.models.catalog import write_catalog

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="bench_train."))
    paths = write_catalog(work / "items", args.items_per_domain)
    settings = settings_from_config({})
    start = time.perf_counter()
    summary = build_base(
        paths,
        work / "base",
        settings,
        seed=0,
        log=lambda _: None,
        progress=False,
        extra_texts=[PROMPT] * 50,  # the fixed prompt wording becomes whole-word tokens
    )
    build_s = time.perf_counter() - start

    start = time.perf_counter()
    model, tok = load_causal_lm(work / "base", device="cpu")
    load_s = time.perf_counter() - start
    pad_id = tok.pad_token_id
    titles = sorted({t for p in paths for t in pd.read_parquet(p)["title"]})
    if args.packing_only:
        chats = chat_examples(tok, titles, 1000, history=(1, 10), seed=0)
        lengths = [len(e["input_ids"]) for e in chats]
        print(
            f"threads {args.threads}, torch {torch.__version__}; chat examples: {len(chats)}, "
            f"{min(lengths)}-{max(lengths)} tokens (mean {sum(lengths) / len(lengths):.0f}), "
            f"batch {args.batch_size}, {args.steps} steps, best of {args.repeats}"
        )
        compared = packing_comparison(
            work / "base", chats, pad_id, args.steps, args.batch_size, args.repeats
        )
        print("| batches | tok/s | trained tok/s | ms/step | final loss |")
        print("|---|---|---|---|---|")
        for name, r in compared.items():
            print(
                f"| {name} | {r['tok/s']:,.0f} | {r['trained tok/s']:,.0f} | {r['ms/step']} | "
                f"{r['final loss']} |"
            )
        return
    chats = chat_examples(tok, titles, 1000, history=5, seed=0)
    lengths = [len(e["input_ids"]) for e in chats]
    trained = [sum(x != -100 for x in e["labels"]) for e in chats]

    results = {}
    results["full FT, chat"] = throughput(model, chats, pad_id, args.steps, args.batch_size)
    model, _ = load_causal_lm(work / "base", device="cpu")
    lora = get_peft_model(
        model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=PROJECTIONS)
    )
    results["LoRA r=8, chat"] = throughput(lora, chats, pad_id, args.steps, args.batch_size)
    model, _ = load_causal_lm(work / "base", device="cpu")
    blocks = [{"input_ids": b} for b in _blocks(tok, paths, settings.pretrain.max_length)]
    results["full FT, packed blocks"] = throughput(
        model, blocks, pad_id, args.steps, settings.pretrain.batch_size
    )

    print(f"threads {args.threads}, torch {torch.__version__}")
    print(f"import torch+transformers (fresh process): {overhead:.2f} s")
    print(f"load_causal_lm(base, cpu): {load_s:.3f} s")
    t = summary["train"]
    print(
        f"build_base: {build_s:.1f} s total, pre-training {t['wall_s']:.1f} s, "
        f"{t['steps']} steps, {t['tokens_per_s']:,.0f} tok/s; {summary['documents']} items, "
        f"vocab {summary['vocab_size']}, {summary['parameters']:,} params; held-out loss "
        f"{summary['heldout_loss_init']:.3f} -> {summary['heldout_loss']:.3f}, unigram entropy "
        f"{summary['unigram_entropy']:.3f}"
    )
    print(
        f"chat examples: mean {sum(lengths) / len(lengths):.0f} tokens, "
        f"{sum(trained) / len(trained):.0f} trained (answer) tokens"
    )
    print("| run | batch | tok/s | trained tok/s | ms/step | final loss |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        batch = settings.pretrain.batch_size if "blocks" in name else args.batch_size
        print(
            f"| {name} | {batch} | {r['tok/s']:,.0f} | {r['trained tok/s']:,.0f} | "
            f"{r['ms/step']} | {r['final loss']} |"
        )


def _blocks(tok, paths, block: int) -> list[list[int]]:
    from mmgrid.train.base_llm import read_item_texts
    from mmgrid.train.batching import pack_blocks

    eot = tok.convert_tokens_to_ids("<|endoftext|>")
    docs = [d for texts in read_item_texts(paths).values() for d in texts]
    return pack_blocks([[*tok.encode(d), eot] for d in docs], block)


if __name__ == "__main__":
    main()
