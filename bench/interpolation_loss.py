"""The target item's loss along the linear path between two checkpoints of a domain: the curve
behind a temporal weight sweep, measured without decoding.

    .venv/bin/python bench/interpolation_loss.py RUN_DIR [--paradigms title semid]
        [--old phase1] [--new phase2] [--weights 0 0.1 ... 1.5] [--draws 200]

``RUN_DIR`` holds a finished run's ``config.yaml`` (the whole config, as ``bench_recency.py
--keep`` writes it) and ``results/``. For every domain of each chat paradigm, each test prompt
gets its target's answer as training writes it (``Recommended Item Title: …`` or ``…Index:
<a_…>…``), and its summed negative log-likelihood (teacher forced, answer tokens only) is
computed under ``θ_old + λ (θ_new - θ_old)`` for every λ: the run's ``linear`` temporal merge,
for fully fine-tuned checkpoints (``train.adapter: full``) whose semantic-ID rows are merged like
the others (``merges.temporal.sid_rows: merged``, the default).

Per (paradigm, domain) it prints λ* (the grid weight of the lowest mean loss on the run's
selection users, ``analysis.selection: valid``), a 95 % percentile interval over ``--draws``
bootstrap resamples of those users, the mean loss at λ = 0, 1 and λ*, and, on all users, λ* per
target group (:func:`mmgrid.analysis.user_groups.target_groups`) with the group's share. Then
the pooled and per-paradigm regression of λ* on the run's recency statistic
(``analysis.recency_statistic``), with the analysis's two-level bootstrap interval.

Unlike ``ndcg@10``, which only users with a hit among the top K move, every user's loss moves
with λ, so λ* is far less noisy; it is the likelihood-optimal weight, not the ranking-optimal
one, and the two need not coincide.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from mmgrid.analysis.bootstrap import percentile_interval
from mmgrid.analysis.inputs import read_stats, recency_statistic
from mmgrid.analysis.regression import fit_line
from mmgrid.analysis.settings import settings_from_config
from mmgrid.analysis.split import split_masks
from mmgrid.analysis.user_groups import target_groups
from mmgrid.models.loading import load_causal_lm
from mmgrid.samples import prompts
from mmgrid.samples.build import Catalogue
from mmgrid.study.layout import Layout
from mmgrid.train.batching import IGNORE_INDEX
from mmgrid.train.chat import assistant_labels

WEIGHTS = [round(0.1 * i, 1) for i in range(16)]


def answers(paradigm: str, catalogue: Catalogue, targets: list[str]) -> list[dict[str, str]]:
    """The assistant turn training writes for each target item."""
    if paradigm == "title":
        return [prompts.title_task([], catalogue.title[t])[-1] for t in targets]
    return [prompts.sid_task([], catalogue.sid[t])[-1] for t in targets]


def answer_losses(model, tokenizer, conversations: list[list[dict]], batch: int = 64) -> np.ndarray:
    """Summed loss of each conversation's assistant turn (teacher forced), one per conversation."""
    encoded = [assistant_labels(tokenizer, c) for c in conversations]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    out = np.empty(len(encoded))
    for lo in range(0, len(encoded), batch):
        chunk = encoded[lo : lo + batch]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in chunk])
        labels = torch.tensor([y + [IGNORE_INDEX] * (width - len(y)) for _, y in chunk])
        mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in chunk])
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        loss = F.cross_entropy(
            logits.transpose(1, 2), labels[:, 1:], ignore_index=IGNORE_INDEX, reduction="none"
        )
        out[lo : lo + len(chunk)] = loss.sum(dim=1).numpy()
    return out


def path_losses(layout: Layout, paradigm: str, domain: str, old: str, new: str, weights, wording):
    """(test samples, loss [weights, users]) along the path from ``old``'s to ``new``'s cell."""
    test = pd.read_parquet(layout.samples(paradigm, domain, "test"))
    sids = Path(layout.item_index(domain), "semantic_ids.parquet") if paradigm == "semid" else None
    catalogue = Catalogue(Path(layout.item_table(domain)), sids, 0, wording)
    conversations = [
        [*json.loads(m), a]
        for m, a in zip(
            test["messages"], answers(paradigm, catalogue, test["item_id"].tolist()), strict=True
        )
    ]
    model, tokenizer = load_causal_lm(layout.checkpoint(paradigm, domain, new), device="cpu")
    old_model, _ = load_causal_lm(layout.checkpoint(paradigm, domain, old), device="cpu")
    start = {k: v.clone() for k, v in old_model.state_dict().items()}
    end = {k: v.clone() for k, v in model.state_dict().items()}
    del old_model
    losses = np.empty((len(weights), len(test)))
    for row, lam in enumerate(weights):
        model.load_state_dict(
            {
                k: start[k] + lam * (end[k] - start[k]) if v.is_floating_point() else v
                for k, v in end.items()
            }
        )
        losses[row] = answer_losses(model, tokenizer, conversations)
    return test, losses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="a finished run: its config.yaml and results/")
    ap.add_argument("--paradigms", nargs="+", default=["title", "semid"])
    ap.add_argument("--old", default="phase1")
    ap.add_argument("--new", default="phase2")
    ap.add_argument("--weights", nargs="+", type=float, default=WEIGHTS)
    ap.add_argument("--draws", type=int, default=200)
    args = ap.parse_args()
    cfg = yaml.safe_load((args.run / "config.yaml").read_text())
    if cfg.get("train", {}).get("adapter", "full") != "full":
        raise SystemExit("the path is taken between full checkpoints: train.adapter must be full")
    if (cfg.get("merges", {}).get("temporal") or {}).get("sid_rows", "merged") != "merged":
        raise SystemExit("merges.temporal.sid_rows is not 'merged': the run's merges differ")
    seed = int(cfg.get("seed", 0))
    analysis = settings_from_config(cfg.get("analysis"))
    wording = prompts.WORDINGS[cfg.get("samples", {}).get("prompt_wording", "mmgrid")]
    layout = Layout(root=str(args.run / "results"))
    weights = np.asarray(args.weights)
    rng = np.random.default_rng(seed)
    print(
        "| paradigm | domain | recency | selection users | λ* [95 % CI] | loss at 0, 1, λ* "
        "| λ* per target group (share), all users |\n|---|---|---|---|---|---|---|"
    )
    points = []
    for paradigm in args.paradigms:
        for domain in cfg["domains"]:
            test, losses = path_losses(
                layout, paradigm, domain, args.old, args.new, weights, wording
            )
            selection, _ = split_masks(
                test["user_id"].tolist(), domain, seed, "valid", analysis.valid_fraction
            )
            chosen = losses[:, selection]
            mean = chosen.mean(axis=1)
            best = weights[mean.argmin()]
            n = chosen.shape[1]
            draws = np.array(
                [
                    weights[chosen[:, rng.integers(0, n, n)].mean(axis=1).argmin()]
                    for _ in range(args.draws)
                ]
            )
            low, high = percentile_interval(draws, 0.95)
            groups = target_groups(
                test["item_id"].tolist(),
                pd.read_parquet(layout.shard(domain, args.old))["item_id"].tolist(),
                pd.read_parquet(layout.shard(domain, args.new))["item_id"].tolist(),
                args.old,
                args.new,
            )
            by_group = ", ".join(
                f"{name} {weights[losses[:, m].mean(axis=1).argmin()]:g} ({m.mean():.2f})"
                for name, m in groups.items()
                if m.any()
            )
            stats_path = Path(layout.stats_dir, f"{domain}.json")
            x = recency_statistic(
                read_stats(Path(layout.stats_dir), domain),
                stats_path,
                analysis,
                analysis.recency_period or args.new,
            ).value
            points.append((paradigm, x, best, draws, domain))
            print(
                f"| {paradigm} | {domain} | {x:.3f} | {n} | {best:g} [{low:.2f}, {high:.2f}] "
                f"| {mean[0]:.2f}, {mean[np.argmin(np.abs(weights - 1))]:.2f}, {mean.min():.2f} "
                f"| {by_group} |",
                flush=True,
            )
    print("\n| fit | n | slope | 95 % CI |\n|---|---|---|---|")
    for name in ["pooled", *args.paradigms]:
        chosen = [p for p in points if name in ("pooled", p[0])]
        fit = fit_line(
            [p[1] for p in chosen],
            [p[2] for p in chosen],
            bootstrap=1000,
            confidence=0.95,
            seed=seed,
            y_samples=[p[3] for p in chosen],
            domains=[p[4] for p in chosen],
        )
        ci = fit["slope_ci"] or [float("nan")] * 2
        slope = float("nan") if fit["slope"] is None else fit["slope"]
        print(f"| {name} | {fit['n']} | {slope:+.2f} | [{ci[0]:+.2f}, {ci[1]:+.2f}] |")


if __name__ == "__main__":
    main()
