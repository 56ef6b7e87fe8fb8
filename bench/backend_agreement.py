"""How far the evaluation backends' results agree on a device, and how far one backend agrees
with itself at another batch size (the control: in bf16 a GPU's matrix kernels change with the
batch shape, so two runs of the *same* backend can differ by rounding alone).

On the benchmark of ``bench_eval.build`` (random Qwen3-0.6B shape, 20,000 semantic-ID items,
20 beams), for each dtype: the share of prompts whose top-20 lists are identical, whose top-1
agree, and the mean overlap of the top-20 sets, for
``generate@64`` vs ``generate@128`` (control) and ``generate@64`` vs ``static@64``; and the
share of identical sampled titles for the same pairs; and each backend's semid lists against
float32 ``generate``'s (the reference that bf16 rounding moves both backends away from).
Writes ``backend_agreement.json``.

Usage: python bench/backend_agreement.py --out DIR [--queries 128] [--smoke]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--queries", type=int, default=128)
    parser.add_argument("--smoke", action="store_true", help="1-layer model on a CPU")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import torch
    from bench_eval import agreement, build

    from mmgrid.device import resolve_device
    from mmgrid.evaluate.backends import prepare

    device = resolve_device("auto")
    items, layers = (300, 1) if args.smoke else (20_000, None)
    model, tokenizer, trie, prompts = build(items, 5, args.queries, 0, True, layers)
    sizes = (2, 4) if args.smoke else (64, 128)
    title = {"mode": "sample", "samples": 5, "temperature": 0.6, "seed": 0, "max_new_tokens": 24}
    report: dict = {"device": str(device), "queries": len(prompts), "batch_sizes": sizes}
    reference: list[list[int]] = []  # float32 generate's lists (the first dtype's)
    for dtype in (torch.float32, torch.bfloat16):
        model.to(device=device, dtype=dtype)
        start = time.perf_counter()
        semid, titles = {}, {}
        for name, size in (("generate", sizes[0]), ("generate", sizes[1]), ("static", sizes[0])):
            decoder = prepare(model, name, False)
            key = f"{name}@{size}"
            semid[key] = decoder.semid_beam_search(
                model, tokenizer, prompts, trie=trie, beams=20, batch_size=size
            )
            titles[key] = decoder.generate_titles(
                model, tokenizer, prompts, batch_size=size, **title
            )
        g0, g1, s0 = (f"generate@{sizes[0]}", f"generate@{sizes[1]}", f"static@{sizes[0]}")
        if dtype == torch.float32:
            reference = semid[g0]
        report[str(dtype).removeprefix("torch.")] = {
            "semid: generate vs float32 generate": agreement(semid[g0], reference),
            "semid: static vs float32 generate": agreement(semid[s0], reference),
            "semid: generate vs generate (batch sizes)": agreement(semid[g0], semid[g1]),
            "semid: generate vs static (same batch)": agreement(semid[g0], semid[s0]),
            "titles: generate vs generate (batch sizes)": agreement(
                titles[g0], titles[g1], ranked=False
            ),
            "titles: generate vs static (same batch)": agreement(
                titles[g0], titles[s0], ranked=False
            ),
            "seconds": round(time.perf_counter() - start, 1),
        }
        print(json.dumps(report, indent=1), flush=True)
        out.joinpath("backend_agreement.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
