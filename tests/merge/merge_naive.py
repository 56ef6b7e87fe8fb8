"""A deliberately naive whole-array reference for every merge method (plain numpy, fp32).

It follows docs/merging.md formula by formula on fully loaded models, shares no code with the
engine (the DARE mask is recomputed with Python integers), and is only meant for tiny models.
"""

from __future__ import annotations

import numpy as np

from mmgrid.seeding import derive_seed

F = np.float32
MASK64 = (1 << 64) - 1


def _wsum(arrays, weights):
    acc = arrays[0] * F(weights[0])
    for x, w in zip(arrays[1:], weights[1:], strict=True):
        acc = acc + x * F(w)
    return acc


def linear(values, weights, normalize=True):
    return {
        n: (_wsum([v[n] for v in values], weights) / F(sum(weights)))
        if normalize
        else _wsum([v[n] for v in values], weights)
        for n in values[0]
    }


def deltas(inputs, ref):
    return [{n: x[n] - ref[n] for n in x} for x in inputs]


def task_arithmetic(target, taus, weights, scale=1.0, normalize=False):
    out = {}
    for n in target:
        acc = _wsum([t[n] for t in taus], weights)
        if normalize:
            acc = acc / F(sum(weights))
        out[n] = target[n] + F(scale) * acc
    return out


def extrapolate(values, strategy, alpha=None, beta=0.5):
    out = {}
    for n in values[0]:
        c = [v[n] for v in values]
        if strategy == "linear_velocity":
            out[n] = c[-1] + F(alpha) * (c[-1] - c[-2])
        elif strategy == "moving_average":
            acc = c[1] - c[0]
            for j in range(2, len(c)):
                acc = acc + (c[j] - c[j - 1])
            out[n] = c[-1] + F(alpha) * (acc / F(len(c) - 1))
        else:
            v1, v0 = c[-1] - c[-2], c[-2] - c[-3]
            out[n] = c[-1] + F(alpha) * v1 + F(beta) * (v1 - v0)
    return out


def exponential_decay(target, taus, decay):
    n = len(taus)
    raw = [decay ** (n - i) for i in range(1, n + 1)]
    w = [r / sum(raw) for r in raw]
    return {k: target[k] + _wsum([t[k] for t in taus], w) for k in target}


def _splitmix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def dare(taus, seed, p, rescale=True):
    out = []
    limit = min(int(p * 2**32), 2**32 - 1)
    for i, tau in enumerate(taus):
        d = {}
        for n, x in tau.items():
            key = derive_seed(seed, "dare", n, i)
            words = []
            for c in range(x.size // 2 + 1):
                h = _splitmix(((c + 1) * 0x9E3779B97F4A7C15 + key) & MASK64)
                words += [h & 0xFFFFFFFF, h >> 32]
            drop = (np.array(words[: x.size]) < limit).reshape(x.shape)
            kept = x / F(1.0 - p) if rescale else x
            d[n] = np.where(drop, F(0), kept)
        out.append(d)
    return out


def ties(
    target,
    taus,
    weights,
    *,
    density=None,
    mask_rate=None,
    scope="global",
    select="ge_threshold",
    weighting="pre_trim",
    elect="mass",
    divisor="count",
    zero_sign="majority",
    scale=1.0,
):
    names = sorted(target)
    groups = [names] if scope == "global" else [[n] for n in names]
    out = {}
    for group in groups:
        sizes = [target[n].size for n in group]
        flat = []
        for i, tau in enumerate(taus):
            v = np.concatenate([tau[n].reshape(-1) for n in group])
            flat.append(v * F(weights[i]) if weighting == "pre_trim" else v)
        d = flat[0].size
        trimmed = []
        for v in flat:
            a = np.abs(v)
            if select == "ge_threshold":
                k = int(d * mask_rate) if mask_rate is not None else d - int(d * density)
                thr = F(0) if k == 0 else np.sort(a)[k - 1]
                keep = a >= thr
            else:
                n_keep = int(d * density) if density is not None else d - int(d * mask_rate)
                order = np.argsort(-a, kind="stable")  # ties: lower index first
                keep = np.zeros(d, bool)
                keep[order[:n_keep]] = True
            trimmed.append(np.where(keep, v, F(0)))
        stack = np.stack(trimmed)
        if elect == "mass":
            total = stack.sum(axis=0)
        else:
            total = (stack * np.array(weights, F)[:, None]).sum(axis=0)
        sign = np.sign(total)
        if zero_sign == "majority":
            sign[total == 0] = np.sign(np.sign(total).sum())
        else:
            sign[total == 0] = 1
        agree = np.where(sign > 0, stack > 0, stack < 0)
        contrib = stack * np.array(weights, F)[:, None] if weighting == "in_merge" else stack
        num = np.where(agree, contrib, F(0)).sum(axis=0)
        if divisor == "count":
            den = agree.sum(axis=0).astype(F)
        elif divisor == "weight_sum":
            den = np.where(agree, np.array(weights, F)[:, None], F(0)).sum(axis=0)
        merged = num if divisor == "none" else num / np.where(den == 0, F(1), den)
        pos = 0
        for n, size in zip(group, sizes, strict=True):
            m = merged[pos : pos + size].reshape(target[n].shape)
            out[n] = target[n] + F(scale) * m
            pos += size
    return out


def study_ties(base, finetuned, source_coeff, mask_rate=0.8):
    """The study's ``ties_merging`` on two models, step by step as its code runs it (torch,
    float32; paper_notes §4.2): task vectors of every parameter, sorted by name and flattened;
    weighted by [1 - c, c] (the last model is the source); per model, values below the k-th
    smallest magnitude (k = int(P * mask_rate), kthvalue) zeroed; the sign of the sum elected
    (zeros get the sign of the sum of signs); the agreeing values summed, halved where both
    models keep one; added onto the base."""
    import torch

    names = sorted(base)
    flat = torch.stack(
        [
            torch.cat([torch.from_numpy(m[n] - base[n]).reshape(-1) for n in names])
            for m in finetuned
        ]
    )
    coeff = torch.tensor([float(1 - source_coeff), float(source_coeff)]).unsqueeze(1)
    flat = flat * coeff
    k = int(flat.shape[1] * mask_rate)
    kth, _ = flat.abs().kthvalue(k=k, dim=1, keepdim=True)
    flat = flat * (flat.abs() >= kth)
    signs = torch.sign(flat.sum(dim=0))
    signs[signs == 0] = torch.sign(signs.sum())
    keep = ((signs > 0) & (flat > 0)) | ((signs < 0) & (flat < 0))
    kept = flat * keep
    both = torch.all(kept != 0, dim=0)
    merged = torch.where(both, kept / 2, kept).sum(dim=0)
    out, pos = {}, 0
    for n in names:
        size = base[n].size
        out[n] = base[n] + merged[pos : pos + size].reshape(base[n].shape).numpy()
        pos += size
    return out
