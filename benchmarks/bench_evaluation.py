"""Seconds per fitness evaluation: with and without an up-front pass over every data value.

``evaluate_pair`` and ``evaluate_l1`` look for NaN and inf in the data of
this library's networks only when the L1 comes out non-finite (a bad value
always makes it so: their forward never changes its input). Before,
every call first read every value with ``torch.isfinite``; the baseline row
reconstructs that cost by calling ``check_finite`` on the data before the
same ``evaluate_pair``. Shapes: the paper autoencoder on 1000-dimension data
and the small one (latent 2) on 4000 dimensions, each scored on the
training split (what the coevolution's log reads every epoch) and on the
validation split (what selection reads), 1000 rows each as in the paper.

Times are medians of ``--repeats`` calls after a warm-up call, one torch
thread by default.

    python benchmarks/bench_evaluation.py [--repeats 30] [--threads 1]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform

import torch
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

import deap_nnprune as dnp
from deap_nnprune.evaluation import check_finite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per row (default 30)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# Fitness evaluation: {os.cpu_count()} CPUs, torch {torch.__version__} with {args.threads} thread(s), "
        f"Python {platform.python_version()}, load average {load}, "
        f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; medians of {args.repeats}\n"
    )
    print(
        "| architecture, dims | split (rows) | up-front check + evaluate_pair (baseline) ms | evaluate_pair ms | "
        "ours / baseline |"
    )
    print("|---|---|---:|---:|---:|")
    for architecture, n_dim in (("paper", 1000), ("small", 4000)):
        splits = dnp.datasets.binary_clustering(n_samples=1000, n_dim=n_dim, seed=0)
        ae = dnp.MaskedAutoencoder.from_preset(architecture, n_dim)
        for split in ("train", "validation"):
            data = getattr(splits, split)

            def baseline(data=data, ae=ae):
                check_finite(data)
                return dnp.evaluate_pair(ae.encoder, ae.decoder, data)

            def ours(data=data, ae=ae):
                return dnp.evaluate_pair(ae.encoder, ae.decoder, data)

            before, now = median_seconds(baseline, args.repeats), median_seconds(ours, args.repeats)
            print(
                f"| {architecture}, {n_dim} | {split} ({data.shape[0]}) | {before * 1e3:.2f} | {now * 1e3:.2f} | "
                f"{now / before:.2f} |"
            )
    print(f"\n# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
