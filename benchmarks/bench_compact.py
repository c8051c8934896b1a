"""What pruning buys: parameters, file size and inference time of compacted autoencoders against the dense one.

For the paper autoencoder (1000 dims) this builds the dense network and three pruned copies — magnitude
pruning of each layer to 50 % and to 35 % of its entries (unstructured), and structured
pruning that kills whole hidden neurons (half of each hidden layer) — compacts each with
``deap_nnprune.compact`` (dead neurons removed for real), and measures, against the dense network in the
same run: parameters of the compact model, the size of its saved ``state_dict``, and the median
inference time for a batch of 1 and of 1000 rows (one torch thread, CPU). Unstructured pruning zeroes
weights inside dense matrices, so it only shrinks what a whole dead neuron frees; structured pruning
shrinks the matrices.

    python benchmarks/bench_compact.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import statistics
import time

import numpy as np
import torch

import deap_nnprune as dnp


def median_seconds(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def saved_bytes(module: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell()


def kill_hidden_neurons(ae: dnp.MaskedAutoencoder, fraction: float, rng: np.random.Generator) -> None:
    """Structured pruning: *fraction* of every hidden layer's neurons lose all incoming entries."""
    layers = dnp.masked_layers(ae)
    for layer in layers[:-1]:  # never the output layer
        doomed = rng.choice(layer.out_features, size=int(fraction * layer.out_features), replace=False)
        for name, tensor in dnp.maskable_entries(layer):
            keep = torch.ones_like(tensor, dtype=torch.bool)
            keep[torch.from_numpy(doomed)] = False
            dnp.apply_keep(layer, name, keep)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n-dim", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    dense = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=rng)
    models = {"dense (compacted, nothing pruned)": dense}
    for target in (0.5, 0.35):
        ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=np.random.default_rng(0))
        dnp.mut_prune_magnitude(ae, amount=1 - target, min_alive=1)  # per layer: a global ranking of untrained
        models[f"unstructured, {target:.0%} of each layer (magnitude)"] = ae  # weights would empty whole layers
    structured = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=np.random.default_rng(0))
    kill_hidden_neurons(structured, 0.5, np.random.default_rng(1))
    models["structured, half of every hidden layer's neurons"] = structured

    x1, x1000 = torch.rand(1, args.n_dim), torch.rand(1000, args.n_dim)
    rows = []
    for name, model in models.items():
        small = dnp.compact(model)
        assert torch.allclose(small(x1000), model(x1000), atol=1e-5)
        with torch.no_grad():
            t1 = median_seconds(lambda: small(x1), args.repeats)
            t1000 = median_seconds(lambda: small(x1000), max(10, args.repeats // 10))
        rows.append((name, dnp.capacity(model), sum(p.numel() for p in small.parameters()), saved_bytes(small), t1,
                     t1000))
    base = rows[0]
    print(f"# Compaction: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, one thread; {datetime.date.today()}; load average {os.getloadavg()[0]:.2f}")
    print(f"# paper autoencoder, {args.n_dim} dims; medians of {args.repeats} (batch 1) and "
          f"{max(10, args.repeats // 10)} (batch 1000) calls\n")
    print("| model | capacity | parameters (ratio) | state_dict bytes (ratio) | batch 1 µs (ratio) | "
          "batch 1000 ms (ratio) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, cap, params, size, t1, t1000 in rows:
        print(f"| {name} | {cap:.3f} | {params} ({params / base[2]:.2f}) | {size} ({size / base[3]:.2f}) | "
              f"{t1 * 1e6:.0f} ({t1 / base[4]:.2f}) | {t1000 * 1e3:.2f} ({t1000 / base[5]:.2f}) |")


if __name__ == "__main__":
    main()
