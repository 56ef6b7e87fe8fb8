"""Print what title cells generate for a domain's first test users, next to their history and
target, and how many distinct titles each cell wrote (a collapsed cell writes one for everyone).

    .venv/bin/python bench/show_titles.py RESULTS_DIR DOMAIN [--users 30] [--periods pretrain phase2]

``RESULTS_DIR`` is a run's ``results/``; titles are greedy (``title_mode: beam``, one per user).
"""

from __future__ import annotations

import argparse
import json

import torch

from mmgrid.evaluate.generate import answer_prompt_ids, generate_titles
from mmgrid.evaluate.model_evaluation import read_test_samples
from mmgrid.items.index import read_items
from mmgrid.models.loading import load_causal_lm
from mmgrid.study.layout import Layout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a run's results/ directory")
    ap.add_argument("domain")
    ap.add_argument("--users", type=int, default=30)
    ap.add_argument("--periods", nargs="+", default=["pretrain", "phase1", "phase2"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    layout = Layout(root=args.results)
    samples = read_test_samples(layout.samples("title", args.domain, "test"))
    samples = samples.head(args.users)
    items = read_items(layout.item_table(args.domain))
    title_of = dict(zip(items["item_id"], items["title"], strict=True))
    catalogue = set(items["title"])
    generated = {}
    for period in args.periods:
        model, tokenizer = load_causal_lm(layout.checkpoint("title", args.domain, period), "cpu")
        prompts = [
            answer_prompt_ids(tokenizer, json.loads(m), "title") for m in samples["messages"]
        ]
        titles = generate_titles(
            model, tokenizer, prompts, mode="beam", samples=1, temperature=1.0,
            max_new_tokens=24, batch_size=64, seed=0,
        )  # fmt: skip
        generated[period] = [t[0] for t in titles]
    for i, (history, target) in enumerate(zip(samples["history"], samples["item_id"], strict=True)):
        print(
            f"user {i}: history (last 3) " + " | ".join(title_of.get(h, "?") for h in history[-3:])
        )
        print(f"  target: {title_of[target]}")
        for period, titles in generated.items():
            mark = " [catalogue title]" if titles[i] in catalogue else ""
            print(f"  {period}: {titles[i]}{mark}")
    for period, titles in generated.items():
        in_catalogue = sum(t in catalogue for t in titles)
        print(
            f"{period}: {len(set(titles))} distinct titles for {len(titles)} users, "
            f"{in_catalogue} of them catalogue titles"
        )


if __name__ == "__main__":
    main()
