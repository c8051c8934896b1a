"""Seconds per coevolution epoch: batched engine vs an eager per-network loop vs the arithmetic floor.

One synchronous coevolution epoch of the paper trains one encoder-decoder
pair per cell (10 cells) for one epoch: 200 Adam steps of batch 5 on 1000
rows of ``binary_clustering`` data, paper autoencoder (``n_dim→30→10`` ReLU,
ReLU; ``10→30→n_dim`` ReLU, sigmoid), learning rate 1e-5, betas (0.5, 0.999).

Rows:

* **baseline** — the obvious implementation, written here: per cell four
  ``nn.Linear`` layers whose weights and biases are multiplied by their masks
  in ``forward``, a ``torch.optim.Adam`` per cell created once, one
  mini-batch step at a time, cell after cell;
* **ours** — ``deap_nnprune.batched.train_pairs`` for K pairs at once
  (K = 10 is one synchronous epoch; 10/30/100 cells show the scaling;
  K = 300 is 30 trials × 10 cells, reported per trial-epoch; 4000 dims);
* **floor** — the epoch's floating-point operations (counted below) divided
  by (a) the rate of batched matrix products of the same shapes and (b) a
  large square sgemm, both measured in this run;
* **engine variants** — forward+backward of one step for K = 10, three ways:
  the hand-written backward ``train_pairs`` uses, autograd over the stacked
  ``bmm`` graph, ``torch.func.vmap(grad(...))``; and the two Adam paths;
* **memory** — peak resident set size of a fresh process that builds 100
  cells of 4000 dims and trains them one epoch.

Times are medians of several epochs after a warm-up epoch, wall clock
(on a GPU, each timed call ends with ``torch.cuda.synchronize()``).
``--device cuda`` puts every network and tensor on the GPU; the memory
section then reports the GPU's peak allocation, and the whole-algorithm rows
are skipped.

    python benchmarks/bench_epoch.py [--quick] [--threads N] [--device cuda]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import deap_nnprune as dnp
from deap_nnprune import batched
from deap_nnprune.batched import train_pairs

from _timing import median_seconds, timed  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

BATCH = 5
ROWS = 1000
LR = 1e-5
BETAS = (0.5, 0.999)


# --- helpers ---------------------------------------------------------------------------------


def training_data(n_dim: int, device: str = "cpu") -> torch.Tensor:
    return dnp.datasets.binary_clustering(n_samples=ROWS, n_dim=n_dim, seed=0).train.to(device)


def cells(k: int, n_dim: int, seed: int = 0, prune: float = 0.0, device: torch.device | str = "cpu"):
    """k paper pairs on *device*, each with its own learning rate near LR (as after learning-rate mutation)."""
    rng = np.random.default_rng(seed)
    rates = LR * (1 + 0.1 * rng.random(k))
    encoders = [dnp.MaskedMLP.from_preset("paper", n_dim, part="encoder", rng=rng, learning_rate=float(r))
                for r in rates]
    decoders = [dnp.MaskedMLP.from_preset("paper", n_dim, part="decoder", rng=rng, learning_rate=float(r))
                for r in rates]
    if prune:
        from deap_nnprune._masking import apply_keep
        for net in encoders + decoders:
            for layer in net.layers:
                apply_keep(layer, "weight", torch.from_numpy(rng.random(tuple(layer.weight.shape)) >= prune))
    return [net.to(device) for net in encoders], [net.to(device) for net in decoders]


def paper_sizes(n_dim: int) -> list[int]:
    return [n_dim, 30, 10, 30, n_dim]


def flops_per_step(sizes: list[int], batch: int = BATCH) -> tuple[int, int]:
    """(matrix-product FLOPs, Adam FLOPs) of one training step of one network.

    Per layer: forward ``2·in·out·B``, weight gradient ``2·in·out·B``, input
    gradient ``2·in·out·B`` (not for the first layer); bias terms ignored.
    Adam: about 12 operations per parameter (weights and biases).
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    products = sum((6 if l else 4) * i * o * batch for l, (i, o) in enumerate(pairs))
    params = sum(i * o + o for i, o in pairs)
    return products, 12 * params


# --- the eager baseline ----------------------------------------------------------------------


class EagerAutoencoder(nn.Module):
    """nn.Linear layers multiplied by their masks in forward: the obvious masked network."""

    def __init__(self, n_dim: int) -> None:
        super().__init__()
        sizes = paper_sizes(n_dim)
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        for i, layer in enumerate(self.layers):
            self.register_buffer(f"weight_mask_{i}", torch.ones_like(layer.weight))
            self.register_buffer(f"bias_mask_{i}", torch.ones_like(layer.bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            weight = layer.weight * getattr(self, f"weight_mask_{i}")
            x = F.linear(x, weight, layer.bias * getattr(self, f"bias_mask_{i}"))
            x = torch.sigmoid(x) if i == last else torch.relu(x)
        return x


def baseline_epoch_runner(n_cells: int, data: torch.Tensor, steps: int) -> Callable[[], None]:
    torch.manual_seed(0)
    models = [EagerAutoencoder(data.shape[1]).to(data.device) for _ in range(n_cells)]
    optimisers = [torch.optim.Adam(m.parameters(), lr=LR, betas=BETAS) for m in models]
    rng = np.random.default_rng(0)

    def epoch() -> None:
        for model, optimiser in zip(models, optimisers):
            order = torch.from_numpy(rng.permutation(data.shape[0])).to(data.device)
            for start in range(0, steps * BATCH, BATCH):
                x = data[order[start:start + BATCH]]
                loss = (model(x) - x).abs().mean()
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()

    return epoch


# --- ours ------------------------------------------------------------------------------------


def ours_epoch_runner(k: int, data: torch.Tensor, steps: int, prune: float = 0.0) -> Callable[[], None]:
    encoders, decoders = cells(k, data.shape[1], prune=prune, device=data.device)
    rngs = [np.random.default_rng(i) for i in range(k)]
    datas = [data] * k

    def epoch() -> None:
        train_pairs(encoders, decoders, datas, rngs, steps=steps, batch_size=BATCH, betas=BETAS)

    return epoch


# --- the floor -------------------------------------------------------------------------------


def bmm_rate(k: int, n_dim: int, repeats: int, device: str = "cpu") -> float:
    """FLOP/s of one step's batched products, written plainly ([K,5,1000]x[K,1000,30] ...)."""
    sizes, total, ops = paper_sizes(n_dim), 0, []
    for l, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
        x, w, d = (torch.rand(shape, device=device) for shape in ((k, BATCH, i), (k, o, i), (k, BATCH, o)))
        ops.append(lambda x=x, w=w: torch.bmm(x, w.transpose(1, 2)))       # forward
        ops.append(lambda x=x, d=d: torch.bmm(d.transpose(1, 2), x))       # weight gradient
        total += 4 * i * o * BATCH * k
        if l:
            ops.append(lambda w=w, d=d: torch.bmm(d, w))                    # input gradient
            total += 2 * i * o * BATCH * k

    def step() -> None:
        for _ in range(20):
            for op in ops:
                op()

    return 20 * total / median_seconds(step, repeats)


def sgemm_rate(repeats: int, n: int = 2048, device: str = "cpu") -> float:
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    return 2 * n**3 / median_seconds(lambda: torch.mm(a, b), repeats)


# --- engine variants: forward+backward of one step --------------------------------------------


def gradient_variants(k: int, data: torch.Tensor, repeats: int, steps: int = 50) -> dict[str, float]:
    """Seconds per step of forward+backward for K pairs: hand-written, autograd, vmap."""
    encoders, decoders = cells(k, data.shape[1], device=data.device)
    x = data[torch.from_numpy(np.random.default_rng(0).integers(0, data.shape[0], k * BATCH)).to(data.device)]
    x = x.view(k, BATCH, -1).contiguous()
    results = {}

    stack = batched._StackedPairs(list(zip(encoders, decoders)))
    grads = [torch.zeros_like(p) for p in stack.params]
    acts = [batched._Activation(a) for a in list(encoders[0].activations) + list(decoders[0].activations)]
    buf = batched._Buffers(stack, k, BATCH, x.shape[2])

    def hand() -> None:
        with torch.no_grad():
            for _ in range(steps):
                batched._gradients(x, stack, grads, acts, buf)

    results["hand-written backward (ours)"] = median_seconds(hand, repeats) / steps

    layers = [list(e.layers) + list(d.layers) for e, d in zip(encoders, decoders)]
    weights = [torch.stack([net[l].weight.detach() for net in layers]).requires_grad_() for l in range(4)]
    biases = [torch.stack([net[l].bias.detach() for net in layers]).unsqueeze(1).requires_grad_() for l in range(4)]

    def stacked_forward(ws, bs, inp):
        h = inp
        for l, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w.transpose(-1, -2))
            h = torch.sigmoid(h) if l == 3 else torch.relu(h)
        return h

    def autograd() -> None:
        for _ in range(steps):
            loss = (stacked_forward(weights, biases, x) - x).abs().mean(dim=(1, 2)).sum()
            torch.autograd.grad(loss, weights + biases)

    results["autograd over stacked bmm"] = median_seconds(autograd, repeats) / steps

    def one_network_loss(ws, bs, inp):
        h = inp
        for l, (w, b) in enumerate(zip(ws, bs)):
            h = F.linear(h, w, b.squeeze(0))
            h = torch.sigmoid(h) if l == 3 else torch.relu(h)
        return (h - inp).abs().mean()

    per_network_grad = torch.func.vmap(torch.func.grad(one_network_loss, argnums=(0, 1)))
    plain_w = [w.detach() for w in weights]
    plain_b = [b.detach() for b in biases]

    def vmapped() -> None:
        for _ in range(steps):
            per_network_grad(plain_w, plain_b, x)

    results["torch.func vmap(grad)"] = median_seconds(vmapped, repeats) / steps
    return results


def adam_variants(k: int, data: torch.Tensor, steps: int, repeats: int) -> dict[str, float]:
    """Seconds per epoch of train_pairs with each Adam path (CPU default: one fused call per rate)."""
    results = {}
    for label, one_call in (("fused Adam call per learning rate (CPU default)", False),
                            ("one fused call, rate*mask scaling (GPU default)", True)):
        batched._ONE_ADAM_CALL = one_call
        try:
            results[label] = median_seconds(ours_epoch_runner(k, data, steps), repeats)
        finally:
            batched._ONE_ADAM_CALL = False
    return results


# --- peak memory, in a fresh process ----------------------------------------------------------


def memory_child(k: int, n_dim: int, steps: int) -> None:
    """Build k cells of n_dim, train one epoch, print JSON with seconds and memory."""
    def status(field: str) -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    data = training_data(n_dim)
    encoders, decoders = cells(k, n_dim)
    state = sum(t.numel() * t.element_size() for net in encoders + decoders for t in net.state_dict().values()
                if isinstance(t, torch.Tensor)) / 2**20
    before = status("VmRSS")
    start = time.perf_counter()
    train_pairs(encoders, decoders, [data] * k, [np.random.default_rng(i) for i in range(k)], steps=steps)
    seconds = time.perf_counter() - start
    peak = status("VmHWM")
    if peak != peak:  # no /proc: fall back to getrusage (KiB on Linux)
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(seconds=seconds, state_mib=state, rss_before_mib=before, peak_mib=peak)))


def measure_memory(k: int, n_dim: int, steps: int, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--memory-child", str(k), str(n_dim), str(steps)]
    if threads:
        command += ["--threads", str(threads)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# --- hook: whole-algorithm rows ---------------------------------------------------------------


def algorithm_rows(data_splits, n_cells: int, repeats: int) -> list[tuple[str, float]]:
    """Seconds per generation of ea_spatial_coevolution, both update modes, batched toolbox.

    HOOK for whole-algorithm rows: skipped (with the reason printed) when
    ``deap_nnprune.algorithms.ea_spatial_coevolution`` is missing or fails.
    One generation's time is (time of 2 generations - time of 0) / 2, which
    leaves out the setup and the initial assessment of every cell.
    """
    try:
        from deap import base, creator
        from deap_nnprune.algorithms import ea_spatial_coevolution
    except ImportError as error:
        print(f"(algorithm rows skipped: {error})")
        return []
    if not hasattr(creator, "BenchFitness"):
        creator.create("BenchFitness", base.Fitness, weights=(-1.0,))
        creator.create("BenchEncoder", dnp.MaskedMLP, fitness=creator.BenchFitness)
        creator.create("BenchDecoder", dnp.MaskedMLP, fitness=creator.BenchFitness)
    toolbox = base.Toolbox()
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("map", map)
    toolbox.register("evaluate_pair", dnp.evaluate_pair)
    toolbox.register("evaluate_pairs", batched.evaluate_pairs)
    toolbox.register("train_pairs", train_pairs, epochs=1, batch_size=BATCH, betas=BETAS)
    toolbox.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-5)
    n_dim = data_splits.train.shape[1]

    def run(update: str, ngen: int) -> None:
        rng = np.random.default_rng(0)
        encoders = [creator.BenchEncoder.from_preset("paper", n_dim, "encoder", rng=rng, learning_rate=LR)
                    for _ in range(n_cells)]
        decoders = [creator.BenchDecoder.from_preset("paper", n_dim, "decoder", rng=rng, learning_rate=LR)
                    for _ in range(n_cells)]
        ea_spatial_coevolution(encoders, decoders, toolbox, ngen, data_splits, update=update, seed=0, verbose=False)

    rows = []
    for update in ("sequential", "synchronous"):
        try:
            none = median_seconds(lambda: run(update, 0), repeats)
            two = median_seconds(lambda: run(update, 2), repeats)
        except Exception as error:  # the algorithm is developed alongside; never block the benchmark
            print(f"(algorithm row '{update}' skipped: {type(error).__name__}: {error})")
            continue
        rows.append((f"ea_spatial_coevolution update={update}, {n_cells} cells (s/generation)", (two - none) / 2))
    return rows


# --- main ------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"{os.cpu_count()} CPUs ({model}), torch {torch.__version__} with {torch.get_num_threads()} "
            f"threads, numpy {np.__version__}, Python {platform.python_version()}, load average {load}, "
            f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: 20 steps, small K, few repeats")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own default)")
    parser.add_argument("--no-algorithms", action="store_true", help="skip the whole-algorithm rows")
    parser.add_argument("--device", default="cpu", help="torch device for networks and data (default cpu)")
    parser.add_argument("--memory-child", nargs=3, type=int, metavar=("K", "N_DIM", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(*args.memory_child)
        return

    quick = args.quick
    device = str(dnp.resolve_device(args.device))
    on_gpu = device != "cpu"
    steps = 20 if quick else ROWS // BATCH
    repeats = 1 if quick else 5
    scale = (10, 30) if quick else (10, 30, 100)
    gpu = f", on {torch.cuda.get_device_name(device)} (torch CUDA {torch.version.cuda})" if on_gpu else ""
    print(f"# Epoch speed: {machine()}{gpu}")
    print(f"# {'QUICK smoke run: ' if quick else ''}{steps} steps of batch {BATCH} per epoch; "
          f"median of {repeats} epoch(s) after a warm-up epoch\n")

    data = training_data(1000, device)
    mm, adam = flops_per_step(paper_sizes(1000))
    epoch_flops = 10 * steps * (mm + adam)
    rows: list[tuple[str, tuple[float, float], str]] = []

    baseline = timed(baseline_epoch_runner(10, data, steps), max(1, repeats // 2))
    rows.append(("baseline: eager loop, 10 cells, 1000 dims", baseline, ""))
    ours = {}
    for k in scale:
        ours[k] = timed(ours_epoch_runner(k, data, steps), repeats if k <= 30 else max(1, repeats // 2))
        rows.append((f"ours: train_pairs K={k}, 1000 dims", ours[k], f"{ours[k][0] / k * 10:.3f} s per 10 cells"))
    pruned = timed(ours_epoch_runner(10, data, steps, prune=0.5), repeats)
    rows.append(("ours: K=10, half the weights pruned", pruned, ""))
    if not quick:
        trials = timed(ours_epoch_runner(300, data, steps), 3)
        rows.append(("ours: K=300 (30 trials x 10 cells)", trials, f"{trials[0] / 30:.3f} s per trial-epoch"))
        wide = timed(ours_epoch_runner(10, training_data(4000, device), steps), 3)
        rows.append(("ours: K=10, 4000 dims", wide, f"{wide[0] / ours[10][0]:.2f}x the 1000-dim epoch"))

    rate_bmm = bmm_rate(10, 1000, repeats, device=device)
    rate_sgemm = sgemm_rate(repeats, n=8192 if on_gpu else 2048, device=device)
    floor_bmm, floor_sgemm = epoch_flops / rate_bmm, epoch_flops / rate_sgemm
    gflop = epoch_flops / 1e9
    rows.append((f"floor: {gflop:.2f} GFLOP / bmm rate {rate_bmm / 1e9:.1f} GFLOP/s", (floor_bmm,) * 2, ""))
    rows.append((f"floor: {gflop:.2f} GFLOP / sgemm peak {rate_sgemm / 1e9:.1f} GFLOP/s", (floor_sgemm,) * 2, ""))
    # HOOK: whole-algorithm rows (one generation of each update mode) are added here when available.
    if not args.no_algorithms and not quick and not on_gpu:
        splits = dnp.datasets.binary_clustering(n_samples=ROWS, n_dim=1000, seed=0)
        for label, seconds in algorithm_rows(splits, 10, 3):
            rows.append((label, (seconds, float("nan")), ""))

    print("| epoch (10 cells unless stated) | median s | best s | note |")
    print("|---|---:|---:|---|")
    for label, (median, best), note in rows:
        print(f"| {label} | {median:.3f} | {best:.3f} | {note} |")
    print(f"\nFLOPs per network step: {mm / 1e6:.3f} M (matrix products) + {adam / 1e6:.3f} M (Adam); "
          f"per 10-cell epoch: {gflop:.2f} GFLOP")
    print(f"baseline / ours (K=10): {baseline[0] / ours[10][0]:.1f}x (medians), {baseline[1] / ours[10][1]:.1f}x (best)")
    print(f"ours (K=10) / floor: {ours[10][0] / floor_bmm:.1f}x the bmm-rate floor, "
          f"{ours[10][0] / floor_sgemm:.1f}x the sgemm-peak floor (medians)")
    per_step = {k: v[0] for k, v in ours.items()}
    if not quick:
        per_step[300] = trials[0]
    print("ms per step (median): " + ", ".join(f"K={k}: {t / steps * 1e3:.2f}" for k, t in per_step.items()))
    print("scaling, s per 10 cells (median): " + ", ".join(f"K={k}: {t / k * 10:.3f}" for k, t in per_step.items()))

    print("\n## Engine variants (K=10, 1000 dims)\n")
    print("| variant | ms per step |")
    print("|---|---:|")
    for label, seconds in gradient_variants(10, data, repeats).items():
        print(f"| forward+backward: {label} | {seconds * 1e3:.3f} |")
    if not on_gpu:  # on a GPU the engine always takes the one-call path: there is nothing to compare
        for label, seconds in adam_variants(10, data, steps, repeats).items():
            print(f"| whole step, {label} | {seconds / steps * 1e3:.3f} |")

    if on_gpu and not quick:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device) / 2**20
        seconds = median_seconds(ours_epoch_runner(100, training_data(4000, device), steps), 1, warmup=0)
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        print("\n## GPU memory: 100 cells x 4000 dims, one epoch\n")
        print(f"allocated before {before:.0f} MiB; peak {peak:.0f} MiB; first epoch {seconds:.2f} s "
              f"({seconds / 10:.3f} s per 10 cells, warm-up included)")
    elif not quick:
        memory = measure_memory(100, 4000, steps, args.threads)
        print("\n## Memory: 100 cells x 4000 dims, one epoch in a fresh process\n")
        print(f"network state (weights, masks, moments): {memory['state_mib']:.0f} MiB; "
              f"RSS before training {memory['rss_before_mib']:.0f} MiB; peak RSS {memory['peak_mib']:.0f} MiB "
              f"(+{memory['peak_mib'] - memory['rss_before_mib']:.0f} MiB for training); "
              f"epoch {memory['seconds']:.2f} s ({memory['seconds'] / 10:.3f} s per 10 cells)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"\n# load average at the end: {load}")


if __name__ == "__main__":
    main()
