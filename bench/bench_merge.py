"""Benchmark the streaming merge engine on synthetic ~100M-parameter bf16 checkpoints.

Usage: python bench/bench_merge.py [--workdir DIR] [--layers 6] [--threads 2] [--repeat 3]
                                   [--skip-naive] [--cache warm|cold]

Builds a Qwen3-like base and K=4 fine-tunes (bf16, tied embeddings), then runs every method
in its own subprocess, sampling /proc/self/status (RssAnon, RssFile) in a thread and reading
VmHWM at the end. Each task reports wall time and CPU time (user + system): on a shared
machine the wall time of a multi-threaded task depends on what else runs, its CPU time much
less, so ratios are printed for both. The raw read bandwidth of the same files (every byte
touched once, see ``raw_read``), the time to write one output file (``raw_write``) and a naive
whole-array implementation are measured in the same run. ``--cache cold`` evicts every input
file from the page cache before each task (``fsync`` + ``posix_fadvise(DONTNEED)``), so reads
come from storage; ``warm`` (default) reads cached files, where memory bandwidth and
arithmetic are what is measured. Importing ``mmgrid.merge`` happens before the clock starts
and is reported on its own. The time spent in the engine's per-block check of finite results
(``Streamer.check_finite``, summed over threads) is reported as a share of each merge's CPU time.
Temporary files are removed. With PYTHONPATH pointing at another copy of the package, the same
script measures that engine (e.g. the previous commit) under identical conditions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

K = 4
RAW_READS = ("memmap", "pread", "memmap-u16")
IO_BLOCK = 1 << 22
HIDDEN, INTER, KV, VOCAB = 1024, 2816, 256, 32768


def layout(layers: int) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (VOCAB, HIDDEN)}
    for i in range(layers):
        p = f"model.layers.{i}."
        out.update(
            {
                p + "self_attn.q_proj.weight": (HIDDEN, HIDDEN),
                p + "self_attn.k_proj.weight": (KV, HIDDEN),
                p + "self_attn.v_proj.weight": (KV, HIDDEN),
                p + "self_attn.o_proj.weight": (HIDDEN, HIDDEN),
                p + "self_attn.q_norm.weight": (128,),
                p + "self_attn.k_norm.weight": (128,),
                p + "mlp.gate_proj.weight": (INTER, HIDDEN),
                p + "mlp.up_proj.weight": (INTER, HIDDEN),
                p + "mlp.down_proj.weight": (HIDDEN, INTER),
                p + "input_layernorm.weight": (HIDDEN,),
                p + "post_attention_layernorm.weight": (HIDDEN,),
            }
        )
    out["model.norm.weight"] = (HIDDEN,)
    return out


def build(root: Path, layers: int) -> dict[str, Path]:
    from mmgrid.merge.dtypes import from_fp32, to_fp32
    from mmgrid.merge.safetensors_io import OutTensor, SafetensorsWriter

    shapes = layout(layers)
    dirs = {name: root / name for name in ["base", *[f"ft{i}" for i in range(K)]]}
    writers = {}
    for name, d in dirs.items():
        d.mkdir(parents=True)
        (d / "config.json").write_text(
            json.dumps({"vocab_size": VOCAB, "tie_word_embeddings": True})
        )
        writers[name] = SafetensorsWriter(
            d, [OutTensor(n, "BF16", s) for n, s in sorted(shapes.items())]
        )
    rng = np.random.default_rng(0)
    for n, s in sorted(shapes.items()):
        rows_per = max(1, (1 << 22) // int(np.prod(s[1:], dtype=np.int64)))
        for r0 in range(0, s[0], rows_per):
            r1 = min(s[0], r0 + rows_per)
            base = from_fp32(rng.normal(0, 0.02, (r1 - r0, *s[1:])).astype(np.float32), "BF16")
            writers["base"].write_rows(n, r0, base)
            b32 = to_fp32(base, "BF16")
            for i in range(K):
                ft = b32 + rng.normal(0, 1e-3, b32.shape).astype(np.float32)
                writers[f"ft{i}"].write_rows(n, r0, from_fp32(ft, "BF16"))
    for w in writers.values():
        w.close()
    return dirs


class RssSampler:
    """Peak RssAnon / RssFile of this process, sampled every few milliseconds."""

    def __init__(self) -> None:
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def status() -> dict[str, int]:
        out = {}
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmHWM"):
                out[key] = int(val.split()[0]) * 1024
        return out

    def _run(self) -> None:
        while not self._stop.is_set():
            s = self.status()
            for k in self.peak:
                self.peak[k] = max(self.peak[k], s[k])
            time.sleep(0.005)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def spec_for(dirs: dict[str, Path], method: str, options: dict) -> dict:
    spec = {
        "method": method,
        "options": options,
        "inputs": [{"name": f"ft{i}", "path": str(dirs[f"ft{i}"])} for i in range(K)],
    }
    if method != "linear":
        spec["reference"] = str(dirs["base"])
    return spec


def naive(dirs: dict[str, Path], method: str, out: Path) -> None:
    """Whole-array reference style: load every model in fp32, compute, save."""
    from safetensors.numpy import save_file

    from mmgrid.merge.dtypes import from_fp32, to_fp32
    from mmgrid.merge.safetensors_io import read_header

    def load(d: Path) -> dict[str, np.ndarray]:
        infos = read_header(d / "model.safetensors")  # numpy has no bf16: decode by hand
        out = {}
        with open(d / "model.safetensors", "rb") as f:
            data = f.read()
        for n, info in infos.items():
            arr = np.frombuffer(data, np.uint16, info.numel, info.offset).reshape(info.shape)
            out[n] = to_fp32(arr, "BF16")
        return out

    models = [load(dirs[f"ft{i}"]) for i in range(K)]
    names = sorted(models[0])
    if method == "linear":
        merged = {n: sum(m[n] for m in models) / np.float32(K) for n in names}
    else:
        base = load(dirs["base"])
        flat_base = np.concatenate([base[n].ravel() for n in names])
        tv = np.stack([np.concatenate([m[n].ravel() for n in names]) - flat_base for m in models])
        del models
        d = tv.shape[1]
        k = int(d * 0.8)
        kth = np.partition(np.abs(tv), k - 1, axis=1)[:, k - 1 : k]
        trimmed = np.where(np.abs(tv) >= kth, tv, 0)
        total = trimmed.sum(0)
        sign = np.sign(total)
        sign[total == 0] = np.sign(sign.sum())
        agree = np.where(sign > 0, trimmed > 0, trimmed < 0)
        merged_tv = np.where(agree, trimmed, 0).sum(0) / np.maximum(agree.sum(0), 1)
        flat = flat_base + merged_tv.astype(np.float32)
        merged, pos = {}, 0
        for n in names:
            merged[n] = flat[pos : pos + base[n].size].reshape(base[n].shape)
            pos += base[n].size
    out.mkdir()
    save_file({n: from_fp32(v, "BF16") for n, v in merged.items()}, out / "model.safetensors")


def raw_read(paths: list[Path], how: str) -> int:
    """Touch every byte of ``paths`` once with a cheap reduction; returns a checksum.

    ``memmap``: map the file and sum it as uint64 words (the reduction runs at memory speed,
    so this measures getting the bytes). ``pread``: ``os.preadv`` into one reused 4 MiB buffer,
    then the same sum (how the engine reads). ``memmap-u16``: the previous baseline, a uint16
    sum widened to uint64, whose widening loop (not the read) limits it to ~5 GB/s.
    """
    total = 0
    for path in paths:
        if how == "memmap-u16":
            total += int(np.memmap(path, dtype=np.uint16, mode="r").sum(dtype=np.uint64))
        elif how == "memmap":
            mm = np.memmap(path, dtype=np.uint8, mode="r")
            body = len(mm) // 8 * 8
            total += int(mm[:body].view(np.uint64).sum()) + int(mm[body:].sum())
            del mm
        else:
            buf = np.empty(IO_BLOCK, np.uint8)
            fd = os.open(path, os.O_RDONLY)
            try:
                pos = 0
                while n := os.preadv(fd, [memoryview(buf)], pos):
                    body = n // 8 * 8
                    total += int(buf[:body].view(np.uint64).sum()) + int(buf[body:n].sum())
                    pos += n
            finally:
                os.close(fd)
    return total & 0xFFFFFFFF


def raw_write(size: int, out: Path) -> None:
    """Write one new file of ``size`` bytes in 4 MiB blocks (``pwrite``), as the engine writes
    its output (into the page cache)."""
    out.mkdir()
    buf = np.zeros(IO_BLOCK, np.uint8)
    dst = os.open(out / "model.safetensors", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for pos in range(0, size, IO_BLOCK):
            os.pwrite(dst, memoryview(buf)[: min(IO_BLOCK, size - pos)], pos)
    finally:
        os.close(dst)


def evict(paths: list[Path]) -> None:
    """Drop ``paths`` from the page cache (no privileges needed; ``fsync`` first, since only
    clean pages can be dropped)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def worker(args: argparse.Namespace) -> None:
    dirs = json.loads(args.dirs)
    dirs = {k: Path(v) for k, v in dirs.items()}
    task = json.loads(args.task)
    out = Path(args.out)

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    t0 = time.perf_counter()
    check_seconds = [0.0]
    if task["kind"] == "merge":
        from mmgrid.merge import merge

        try:  # the engine's streaming machinery (mmgrid.merge.engine._Engine before it moved)
            from mmgrid.merge.streaming import Streamer as machinery
        except ImportError:
            from mmgrid.merge.engine import _Engine as machinery

        check = getattr(machinery, "check_finite", None)
        if check is not None:  # time the per-block finite check (an engine without it: 0)

            def timed_check(self, blk, x):
                t = time.perf_counter()
                try:
                    return check(self, blk, x)
                finally:
                    check_seconds[0] += time.perf_counter() - t  # summed over threads

            machinery.check_finite = timed_check
    import_seconds = time.perf_counter() - t0
    with RssSampler() as rss:
        t0, c0 = time.perf_counter(), cpu()
        if task["kind"] == "read":
            raw_read([dirs[name] / "model.safetensors" for name in task["files"]], task["how"])
        elif task["kind"] == "write":
            raw_write((dirs[task["files"][0]] / "model.safetensors").stat().st_size, out)
        elif task["kind"] == "naive":
            naive(dirs, task["method"], out)
        else:
            merge(
                spec_for(dirs, task["method"], task["options"]),
                out,
                threads=task["threads"],
                checksums=False,
            )
        seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
    status = RssSampler.status()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu_seconds,
                "import": import_seconds,
                "check": check_seconds[0],
                "VmHWM": status["VmHWM"],
                **rss.peak,
            }
        )
    )


def run_task(dirs, task, workdir: Path, cold: bool) -> dict:
    out = workdir / "out"
    os.sync()  # earlier tasks' writeback must not run during this one
    if cold:
        evict([d / "model.safetensors" for d in dirs.values()])
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--dirs",
        json.dumps({k: str(v) for k, v in dirs.items()}),
        "--task",
        json.dumps(task),
        "--out",
        str(out),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    shutil.rmtree(out, ignore_errors=True)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-3000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--cache", choices=("warm", "cold"), default="warm")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repeats (best time)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dirs", help=argparse.SUPPRESS)
    ap.add_argument("--task", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="mmgrid-bench-", dir=args.workdir))
    try:
        t0 = time.perf_counter()
        dirs = build(workdir, args.layers)
        params = sum(int(np.prod(s)) for s in layout(args.layers).values())
        in_bytes = {name: (d / "model.safetensors").stat().st_size for name, d in dirs.items()}
        print(
            f"built base + {K} fine-tunes, {params / 1e6:.1f} M params each, bf16, "
            f"{in_bytes['base'] / 2**20:.0f} MiB per file, in {time.perf_counter() - t0:.1f} s"
        )
        fts = [f"ft{i}" for i in range(K)]
        tasks = [("raw write: 1 output", {"kind": "write", "files": ["ft0"]}, ["ft0"])]
        for how in RAW_READS:
            tasks += [
                (f"raw read: {how}, K inputs", {"kind": "read", "how": how, "files": fts}, fts),
                (
                    f"raw read: {how}, K inputs + base",
                    {"kind": "read", "how": how, "files": [*fts, "base"]},
                    [*fts, "base"],
                ),
            ]
        for threads in sorted({1, args.threads}):
            tasks += [
                (
                    f"linear (t={threads})",
                    {"kind": "merge", "method": "linear", "options": {}, "threads": threads},
                    fts,
                ),
                (
                    f"task_arithmetic (t={threads})",
                    {
                        "kind": "merge",
                        "method": "task_arithmetic",
                        "options": {},
                        "threads": threads,
                    },
                    [*fts, "base"],
                ),
                (
                    f"ties global, study (t={threads})",
                    {"kind": "merge", "method": "ties", "options": {}, "threads": threads},
                    [*fts, "base"],
                ),
            ]
        t = args.threads
        tasks += [
            (
                f"ties global exact_k (t={t})",
                {
                    "kind": "merge",
                    "method": "ties",
                    "options": {"select": "exact_k", "density": 0.2},
                    "threads": t,
                },
                [*fts, "base"],
            ),
            (
                f"ties per_tensor, mergekit preset (t={t})",
                {
                    "kind": "merge",
                    "method": "ties",
                    "options": {"preset": "mergekit", "density": 0.2},
                    "threads": t,
                },
                [*fts, "base"],
            ),
            (
                f"dare + ties (mask_merging) (t={t})",
                {"kind": "merge", "method": "mask_merging", "options": {}, "threads": t},
                [*fts, "base"],
            ),
            (
                f"dare + task_arithmetic (t={t})",
                {
                    "kind": "merge",
                    "method": "dare",
                    "options": {"merge": {"method": "task_arithmetic"}},
                    "threads": t,
                },
                [*fts, "base"],
            ),
        ]
        if not args.skip_naive:
            tasks += [
                ("naive whole-array linear", {"kind": "naive", "method": "linear"}, fts),
                (
                    "naive whole-array global ties",
                    {"kind": "naive", "method": "ties"},
                    [*fts, "base"],
                ),
            ]
        best: dict[str, dict] = {}
        for rep in range(args.repeat):  # interleaved repeats; best time, worst memory
            for label, task, files in tasks:
                if task["kind"] == "naive" and rep > 0:
                    continue
                r = run_task(dirs, task, workdir, args.cache == "cold")
                r["input_GB"] = sum(in_bytes[f] for f in files) / 1e9
                b = best.setdefault(label, r)
                b["seconds"] = min(b["seconds"], r["seconds"])
                b["cpu"] = min(b["cpu"], r["cpu"])
                b["import"] = min(b["import"], r["import"])
                b["check"] = min(b["check"], r["check"])
                for key in ("VmHWM", "RssAnon", "RssFile"):
                    b[key] = max(b[key], r[key])
                print(
                    f"rep {rep}: {label:45s} {r['seconds']:7.2f} s  cpu {r['cpu']:7.2f} s",
                    flush=True,
                )
        mib = 2**20
        imports = [r["import"] for label, r in best.items() if "(t=" in label]
        print(f"\ncache {args.cache}; importing mmgrid.merge (not timed): {min(imports):.2f} s")
        print(
            "\n| task | best time (s) | best CPU (s) | input GB/s | VmHWM (MiB) "
            "| peak RssAnon (MiB) | peak RssFile (MiB) |"
        )
        print("|---|---|---|---|---|---|---|")
        for label, r in best.items():
            print(
                f"| {label} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
                f"{r['input_GB'] / r['seconds']:.2f} | {r['VmHWM'] / mib:.0f} | "
                f"{r['RssAnon'] / mib:.0f} | {r['RssFile'] / mib:.0f} |"
            )

        print("\nthe engine's per-block check of finite results, share of each merge's CPU time:")
        for label, r in best.items():
            if "(t=" in label:
                print(f"  {label}: {r['check']:.3f} s, {r['check'] / r['cpu']:.1%}")

        def rate(label: str, key: str = "seconds") -> float:
            return best[label]["input_GB"] / best[label][key]

        print()
        for t in sorted({1, args.threads}):
            for key, what in (("seconds", "wall"), ("cpu", "CPU")):
                lin, ta = rate(f"linear (t={t})", key), rate(f"task_arithmetic (t={t})", key)
                ties_x = best[f"ties global, study (t={t})"][key] / best[f"linear (t={t})"][key]
                print(f"threads={t}, {what} time: global TIES / linear = {ties_x:.2f}x")
                io = best["raw read: pread, K inputs"][key] + best["raw write: 1 output"][key]
                print(f"  linear at {io / best[f'linear (t={t})'][key]:.0%} of raw read + write")
                for how in RAW_READS:
                    print(
                        f"  vs raw read ({how}): "
                        f"linear {lin / rate(f'raw read: {how}, K inputs', key):.0%}, "
                        f"task_arithmetic {ta / rate(f'raw read: {how}, K inputs + base', key):.0%}"
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
