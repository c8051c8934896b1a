"""Seconds per training epoch with and without the activation record of ``variance_batches``.

A network that records (:func:`deap_nnprune.spread.start_recording`) adds,
at every training step of the stacked engine, each layer's outputs to its
:class:`~deap_nnprune.spread.SpreadRecord` (and keeps a copy of the output
layer's logits). The baseline is the same epoch of the same network, not
recording. Shapes: the paper autoencoder on 1000-dimension data (the
canonical variance row) and the small one on 4000 dimensions; one epoch of
800 training rows in batches of 5, as in the paper.

Times are medians of ``--repeats`` epochs after a warm-up epoch, one torch
thread by default; each epoch trains a fresh copy of the same network.

    python benchmarks/bench_spread.py [--repeats 7] [--threads 1]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform

import numpy as np
import torch
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

import deap_nnprune as dnp
from deap_nnprune.spread import start_recording


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per row (default 7)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# Training with the activation record: {os.cpu_count()} CPUs, torch {torch.__version__} with "
        f"{args.threads} thread(s), Python {platform.python_version()}, load average {load}, "
        f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; medians of {args.repeats}\n"
    )
    print("| architecture, dims | not recording (baseline) s/epoch | recording s/epoch | recording / baseline |")
    print("|---|---:|---:|---:|")
    for architecture, n_dim in (("paper", 1000), ("small", 4000)):
        train = dnp.datasets.binary_clustering(n_samples=1000, n_dim=n_dim, seed=0).train
        torch.manual_seed(0)
        plain = dnp.MaskedAutoencoder.from_preset(architecture, n_dim)
        recording = copy.deepcopy(plain)
        start_recording(recording)

        def epoch(network, train=train):
            dnp.mut_train(copy.deepcopy(network), train, epochs=1, rng=np.random.default_rng(0))

        before = median_seconds(lambda plain=plain: epoch(plain), args.repeats)
        now = median_seconds(lambda recording=recording: epoch(recording), args.repeats)
        print(f"| {architecture}, {n_dim} | {before:.3f} | {now:.3f} | {now / before:.2f} |")
    print(f"\n# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
