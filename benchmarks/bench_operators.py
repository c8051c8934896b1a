"""Time and peak memory of the activation-guided pruning operators against a naive baseline.

``mut_prune_variance`` and ``mut_prune_conjunctive`` (deap_nnprune) run on
the paper autoencoder (``MaskedAutoencoder.from_preset("paper", n_dim)``)
with 1000 rows of binary-clustering training data. The baseline, written
here, is what the research code does: one forward pass *per sample*, with
forward hooks that append a copy of every layer's activation to a list, then
``torch.std`` (variance) or a lexicase filter over cases taken from the
record (conjunctive) over the stored activations. Both versions then decide
and apply the masks the same way.

Time: median wall-clock seconds of ``--repeats`` calls (the network is
cloned before each call, outside the timing). Memory: peak resident set
size (VmHWM) of the process during one call minus its resident size just
before it, in MiB, measured in a fresh process per (operator, version,
n_dim) after a warm-up call on a few rows; the peak is reset through
``/proc/self/clear_refs`` (Linux). It counts torch tensors, Python objects
and allocator overhead alike. So that freed memory goes back to the system
(and memory the setup freed is not silently reused), the worker runs with
glibc's ``MALLOC_MMAP_THRESHOLD_=65536`` and ``MALLOC_TRIM_THRESHOLD_=131072``.

Workers use ``--threads`` torch threads (default 1: on a small shared
machine, OpenMP threads competing for busy cores make timings erratic).

    python benchmarks/bench_operators.py [--dims 1000 4000] [--rows 1000] [--repeats 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from deap_nnprune import MaskedAutoencoder
from deap_nnprune._masking import apply_keep, masked_layers
from deap_nnprune.activations import activation_std
from deap_nnprune.datasets import binary_clustering
from deap_nnprune.pruning import mut_prune_conjunctive, mut_prune_variance

N_CASES = 100
THRESHOLD = 0.1


# --- the naive baseline --------------------------------------------------------------------


def record_every_activation(ae: MaskedAutoencoder, data: torch.Tensor) -> list[list[torch.Tensor]]:
    """One forward pass per row; hooks store a copy of every post-activation output."""
    record: list[list[torch.Tensor]] = []
    activations = list(ae.encoder.activations) + list(ae.decoder.activations)
    handles = []
    for module in activations:
        record.append([])
        handles.append(module.register_forward_hook(
            lambda _m, _inp, out, store=record[-1]: store.append(out.detach().clone())
        ))
    try:
        with torch.no_grad():
            for row in data:
                ae(row.unsqueeze(0))
    finally:
        for handle in handles:
            handle.remove()
    return record


def naive_std(ae: MaskedAutoencoder, data: torch.Tensor) -> list[torch.Tensor]:
    return [torch.cat(outputs).double().std(dim=0, unbiased=False) for outputs in record_every_activation(ae, data)]


def naive_variance(ae: MaskedAutoencoder, data: torch.Tensor, rng: np.random.Generator) -> None:
    for layer, std in zip(masked_layers(ae), naive_std(ae, data)):
        std = std.numpy()
        spread = std.max() - std.min()
        survive = 1.0 - (std - std.min()) / spread if spread > 0 else np.ones_like(std)
        apply_keep(layer, "weight", torch.from_numpy(rng.random(tuple(layer.weight.shape)) < survive[:, None]))
        apply_keep(layer, "bias", torch.from_numpy(rng.random(layer.out_features) < survive))


def naive_conjunctive(ae: MaskedAutoencoder, data: torch.Tensor, rng: np.random.Generator) -> None:
    record = record_every_activation(ae, data)
    cases = rng.choice(data.shape[0], size=min(N_CASES, data.shape[0]), replace=False)
    for layer, outputs in zip(masked_layers(ae), record):
        acts = torch.cat(outputs)[torch.from_numpy(cases)].double().numpy()
        low, high = acts.min(axis=1, keepdims=True), acts.max(axis=1, keepdims=True)
        candidates = (layer.weight_mask.bool().any(dim=1) | layer.bias_mask.bool()).numpy()
        for values, lo, hi in zip(acts, low, high):
            if candidates.sum() <= 1:
                break
            if hi > lo:
                candidates = candidates & ((values - lo) / (hi - lo) < THRESHOLD)
        keep = torch.from_numpy(~candidates)
        apply_keep(layer, "weight", keep[:, None].expand_as(layer.weight))
        apply_keep(layer, "bias", keep)


def ours_variance(ae, data, rng):
    mut_prune_variance(ae, data, min_alive=0, rng=rng)


def ours_conjunctive(ae, data, rng):
    mut_prune_conjunctive(ae, data, threshold=THRESHOLD, n_cases=N_CASES, min_alive=0, rng=rng)


VERSIONS = {
    ("variance", "ours"): ours_variance,
    ("variance", "naive"): naive_variance,
    ("conjunctive", "ours"): ours_conjunctive,
    ("conjunctive", "naive"): naive_conjunctive,
}


# --- measuring -----------------------------------------------------------------------------


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _setup(n_dim: int, rows: int):
    data = binary_clustering(n_samples=rows, n_dim=n_dim, n_clusters=10, seed=0).train
    ae = MaskedAutoencoder.from_preset("paper", n_dim, rng=np.random.default_rng(0))
    return ae, data


def worker(operator: str, version: str, n_dim: int, rows: int, repeats: int) -> dict:
    """Run in a fresh process: peak memory of one call, then the median time of *repeats*."""
    run = VERSIONS[operator, version]
    ae, data = _setup(n_dim, rows)
    run(copy.deepcopy(ae), data[:8], np.random.default_rng(0))  # warm-up: kernels, thread pools
    clone = copy.deepcopy(ae)
    gc.collect()
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset the peak resident size (VmHWM) to the current one
    before = _kib("VmRSS")
    run(clone, data, np.random.default_rng(1))
    peak_mib = (_kib("VmHWM") - before) / 1024
    times = []
    for i in range(repeats):
        clone = copy.deepcopy(ae)
        start = time.perf_counter()
        run(clone, data, np.random.default_rng(2 + i))
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "peak_mib": peak_mib}


WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}


def measure(operator: str, version: str, n_dim: int, rows: int, repeats: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--worker", operator, version, str(n_dim), str(rows), str(repeats)]
    env = {**os.environ, **WORKER_ENV, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def check_same_statistics(n_dim: int, rows: int) -> float:
    ae, data = _setup(n_dim, rows)
    return max(float((a - b).abs().max()) for a, b in zip(activation_std(ae, data), naive_std(ae, data)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[1000, 4000])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        operator, version, n_dim, rows, repeats = args.worker
        print(json.dumps(worker(operator, version, int(n_dim), int(rows), int(repeats))))
        return

    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.rows} rows, "
          f"median of {args.repeats} calls; memory = peak RSS over the call (VmHWM - VmRSS before)")
    print("| operator | n_dim | ours s | naive s | time naive/ours | ours peak MiB | naive peak MiB "
          "| memory naive/ours | max abs std diff |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n_dim in args.dims:
        diff = check_same_statistics(n_dim, args.rows)
        for operator in ("variance", "conjunctive"):
            ours = measure(operator, "ours", n_dim, args.rows, args.repeats, args.threads)
            naive = measure(operator, "naive", n_dim, args.rows, args.repeats, args.threads)
            print(f"| {operator} | {n_dim} | {ours['seconds']:.4f} | {naive['seconds']:.4f} "
                  f"| {naive['seconds'] / ours['seconds']:.1f}x | {ours['peak_mib']:.1f} | {naive['peak_mib']:.1f} "
                  f"| {naive['peak_mib'] / max(ours['peak_mib'], 0.1):.1f}x | {diff:.1e} |", flush=True)


if __name__ == "__main__":
    main()
