"""The GPU benchmarks of training and evaluation throughput, in one process, in under 10 minutes.

On a randomly initialised Qwen3-0.6B shape (nothing downloaded):

1. training (float32 master weights, bf16 autocast, fused AdamW; ``bench_train.qwen3_shape``):
   every token trained at 8 x 512 (the earlier measurement's setting), then chat-like batches
   (lengths uniform in 128-1024 tokens, loss on the last 16): padded vs packed, per attention
   implementation, with torch.compile, and LoRA; tokens/s, ms/step, model FLOPs and MFU
   against the dense bf16 peak (``mmgrid.train.flops``);
2. evaluation (bf16; ``bench_eval``): semid trie-constrained beam search with 20 beams over
   20,000 items, and title sampling (5 samples of up to 24 tokens), per backend and batch
   size, each backend's results checked against the ``generate`` backend's; queries/s.

Writes ``gpu_results.json`` (every number, and the throughputs ``bench/calibrate.py
--gpu-results`` turns into calibration rows) and ``gpu_results.md`` into ``--out``. Optional
steps are skipped once ``--budget-s`` seconds have passed.

Usage: python bench/bench_gpu.py --out DIR [--budget-s 480] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import subprocess
import sys
import time
import traceback
from functools import partial
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


class StepTimeout(Exception):
    """An optional step ran out of the time left to it."""


class Runner:
    """Runs steps, records their results or errors (``save`` after each), and gives optional
    steps only the time left in the budget."""

    def __init__(self, budget_s: float, save) -> None:
        self.start, self.budget_s, self.save = time.perf_counter(), budget_s, save
        self.results: dict[str, dict] = {}

    def __call__(self, name: str, fn, *, optional: bool = True) -> dict | None:
        elapsed = time.perf_counter() - self.start
        left = int(self.budget_s - elapsed)
        if optional and left < 20:
            print(f"[{elapsed:6.0f} s] skip {name}: past the budget", flush=True)
            self.results[name] = {"skipped": "time budget"}
            return None
        print(f"[{elapsed:6.0f} s] {name}", flush=True)

        def stop(*_):
            raise StepTimeout(f"stopped after {left} s (the budget's rest)")

        signal.signal(signal.SIGALRM, stop)
        signal.alarm(left if optional else 0)
        try:
            result = fn()
        except Exception as err:  # a failed variant must not lose the others' numbers
            traceback.print_exc()
            result = {"error": f"{type(err).__name__}: {err}"}
        finally:
            signal.alarm(0)
        self.results[name] = result
        print(json.dumps(result), flush=True)
        self.save(self)
        return result


def import_seconds() -> float:
    """A job's fixed start: importing torch, transformers and the package in a fresh process."""
    code = "import torch, transformers, peft; import mmgrid.train.chat_cell, mmgrid.evaluate.model_evaluation"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=BENCH.parent)
    return time.perf_counter() - start


def evaluation(args, titles: bool, compile: bool = False) -> dict:
    """Queries/s per backend and batch size on the Qwen3-0.6B shape in bf16 (``compile``: the
    static backend's decoding through torch.compile)."""
    import torch
    from bench_eval import build, timed_rows

    from mmgrid.device import dtype_for, resolve_device

    queries = 4 if args.smoke else 128 if args.quick else 512
    items = 300 if args.smoke else 20_000
    layers = 1 if args.smoke else None
    model, tokenizer, trie, prompts = build(items, 5, queries, 0, True, layers)
    device = resolve_device("auto")
    model.to(device=device, dtype=dtype_for(device))
    options = argparse.Namespace(
        backends=["generate", "static"],
        batch_sizes=[2] if args.smoke else [64] if args.quick else [64, 128],
        repeats=1 if args.smoke else 2,
        titles=titles,
        samples=5,
        max_new_tokens=4 if args.smoke else 24,
        beams=20,
        compile=compile,
    )
    rows = timed_rows(options, model, tokenizer, trie, prompts)
    result = {
        "queries": queries,
        "prompt_tokens": len(prompts[0]),
        "items": len(trie),
        "rows": [
            {
                "setting": name,
                "seconds": round(s, 3),
                "queries_per_s": round(queries / s, 1),
                "same_as_generate": same,
            }
            for name, s, same in rows
        ],
    }
    del model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--budget-s", type=float, default=480.0)
    parser.add_argument("--quick", action="store_true", help="fewer steps and queries")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1-layer model, a step each: checks the script on a CPU",
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    import torch
    import transformers
    from bench_train import QWEN3_06B, qwen3_shape

    from mmgrid.estimate.calibration import device_kind, shape_key

    steps = 1 if args.smoke else 8 if args.quick else 20
    env = {
        "device": device_kind("auto"),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": sys.version.split()[0],
        "date": dt.date.today().isoformat(),
        "model": shape_key({**QWEN3_06B, "model_type": "qwen3"}),
    }
    print(json.dumps(env), flush=True)

    def save(runner: Runner) -> None:
        results = {
            "environment": env,
            "steps": runner.results,
            "calibration": calibration(runner, env),
        }
        (out / "gpu_results.json").write_text(json.dumps(results, indent=1))
        (out / "gpu_results.md").write_text(markdown(results))

    run = Runner(args.budget_s, save)
    run("import", lambda: {"seconds": round(import_seconds(), 2)}, optional=False)
    chat = {"lengths": (128, 1024), "answer": 16, "batch_size": 16, "steps": steps}
    train = qwen3_shape
    if args.smoke:
        chat = {"lengths": (16, 64), "answer": 4, "batch_size": 2, "steps": 1}
        train = partial(qwen3_shape, layers=1, warmup=1, lengths=(32, 32))
    # the measurements the targets need first, then the evaluations; the variants that compile
    # (and may take minutes to) last, each stopped when the budget runs out
    run(
        "train: every token, 8 x 512, padded",
        lambda: train(batch_size=8, steps=steps),
        optional=False,
    )
    run("train: chat, padded", lambda: train(**chat), optional=False)
    run("train: chat, packed", lambda: train(**chat, packing=True), optional=False)
    run("train: chat, packed, LoRA r=8", lambda: train(**chat, packing=True, adapter="lora"))
    run("evaluate: semid", lambda: evaluation(args, False), optional=False)
    run("evaluate: title", lambda: evaluation(args, True))
    run("train: chat, padded, LoRA r=8", lambda: train(**chat, adapter="lora"))
    lora_bf16 = {"packing": True, "adapter": "lora", "frozen_bf16": True}
    run("train: chat, packed, LoRA r=8, frozen weights bf16", lambda: train(**chat, **lora_bf16))
    run("train: chat, packed, compile", lambda: train(**chat, packing=True, compile=True))
    flex = {"packing": True, "attention": "flex_attention"}
    run("train: chat, packed, flex_attention", lambda: train(**chat, **flex))
    run("evaluate: semid, compiled", lambda: evaluation(args, False, compile=True))
    print(markdown({"environment": env, "steps": run.results}))
    print(f"total {time.perf_counter() - run.start:.0f} s; wrote {out}/gpu_results.json and .md")


def calibration(run: Runner, env: dict) -> dict:
    """What ``bench/calibrate.py --gpu-results`` needs: the defaults' throughputs (packed chat
    batches; the static backend at its best batch size)."""
    steps = run.results
    train = steps.get("train: chat, packed") or {}
    evaluate = {}
    for paradigm in ("semid", "title"):
        rows = (steps.get(f"evaluate: {paradigm}") or {}).get("rows", [])
        static = [r for r in rows if "static" in r["setting"]]
        if static:
            best = max(static, key=lambda r: r["queries_per_s"])
            evaluate[paradigm] = {
                "queries_per_s": best["queries_per_s"],
                "per_model_s": 0.0,
                "what": f"{best['setting']}, random Qwen3-0.6B shape, bf16",
            }
    return {
        "device": env["device"],
        "model": env["model"],
        "date": env["date"],
        "job_overhead_s": (steps.get("import") or {}).get("seconds"),
        "train": {
            "tokens_per_s": train.get("tokens_per_s"),
            "what": "packed chat batches of 16 samples (128-1024 tokens, 16 trained), "
            f"{train.get('attention')} attention",
        },
        "evaluate": evaluate,
    }


def markdown(results: dict) -> str:
    env = results["environment"]
    lines = [
        f"{env['device']}; torch {env['torch']}, transformers {env['transformers']}, "
        f"Python {env['python']}; {env['date']}",
        "",
        "| training run | tokens/s | ms/step | model TFLOP | TFLOP/s | MFU | peak GiB | loss |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["steps"].items():
        if not name.startswith("train"):
            continue
        if "tokens_per_s" not in r:
            lines.append(f"| {name} | {r} | | | | | | |")
            continue
        mfu = f"{100 * r['mfu']:.1f} %" if r["mfu"] is not None else "n/a"
        lines.append(
            f"| {name} ({r['attention']}) | {r['tokens_per_s']:,.0f} | {r['ms_per_step']} | "
            f"{r['model_tflop']} | {r['tflops']} | {mfu} | {r['peak_memory_gib']} | "
            f"{r['final_loss']} |"
        )
    lines += [
        "",
        "| evaluation | seconds | queries/s | same as generate |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in results["steps"].items():
        if name.startswith("evaluate"):
            for row in r.get(
                "rows",
                [
                    {
                        "setting": f"{name}: {r}",
                        "seconds": "",
                        "queries_per_s": "",
                        "same_as_generate": "",
                    }
                ],
            ):
                lines.append(
                    f"| {row['setting']} | {row['seconds']} | {row['queries_per_s']} | "
                    f"{row['same_as_generate']} |"
                )
    lines.append(f"\nimport of torch + transformers + mmgrid: {results['steps']['import']}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
