"""Whole runs under each executor, against the serial run measured in the same session, and the
projected wall time of the paper's table.

Part 1 runs one short configuration (the headline preset, ``--epochs E --trials T``) through
the CLI serially, batched (``--batch-trials``), in a process pool and on a Dask LocalCluster
(``--workers W``), and prints seconds per trial-epoch, the ratio to the serial run, and whether
``epochs.csv``/``final.csv`` are byte-identical to the serial run's.

Part 2 times every ``paper-…`` preset for a few epochs (trials batched, one process) and projects
the full table — 30 trials × 400 epochs per row — onto ``W`` cores, assuming the rows' trials
spread evenly over the cores.

    python benchmarks/bench_executors.py [--epochs 4] [--trials 4] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADLINE = "paper-coevolution-random-exponential"
TABLES = ("epochs.csv", "final.csv")


def cli_run(out: Path, preset: str, epochs: int, trials: int, *extra: str) -> float:
    """Wall seconds of one CLI run (a fresh process, one torch thread)."""
    command = [sys.executable, "-m", "deap_nnprune", "run", "--preset", preset, "--epochs", str(epochs),
               "--trials", str(trials), "--quiet", "--out", str(out), *extra]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return time.perf_counter() - start


def same_bytes(a: Path, b: Path) -> bool:
    return all((a / t).read_bytes() == (b / t).read_bytes() for t in TABLES)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="part 1 only, 2 epochs")
    args = parser.parse_args()
    epochs = 2 if args.quick else args.epochs
    trial_epochs = epochs * args.trials
    print(f"# Executors: {machine()}; {datetime.date.today()}; load average {os.getloadavg()[0]:.2f}")
    print(f"# {HEADLINE}, {args.trials} trials x {epochs} epochs, {args.workers} workers\n")
    rows = [("serial", ()), ("serial, --batch-trials", ("--batch-trials",)),
            ("processes", ("--executor", "processes", "--workers", str(args.workers)))]
    if importlib.util.find_spec("distributed") is not None:
        rows.append(("dask LocalCluster", ("--executor", "dask", "--workers", str(args.workers))))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        results = []
        for i, (name, extra) in enumerate(rows):
            out = tmp / f"run{i}"
            results.append((name, cli_run(out, HEADLINE, epochs, args.trials, *extra), out))
        serial = results[0][1]
        print("| executor | wall s | s per trial-epoch | serial / this | same bytes as serial |")
        print("|---|---:|---:|---:|---|")
        for name, seconds, out in results:
            print(f"| {name} | {seconds:.1f} | {seconds / trial_epochs:.3f} | {serial / seconds:.2f} | "
                  f"{'yes' if same_bytes(out, results[0][2]) else 'NO'} |")
        if args.quick:
            return
        from deap_nnprune.experiments.presets import PRESETS

        print(f"\n## Projected wall time of the paper's table on {args.workers} cores\n")
        print("| preset | s per trial-epoch (batched) | projected hours, 30 trials x 400 epochs |")
        print("|---|---:|---:|")
        total = 0.0
        for name in (p for p in PRESETS if p.startswith("paper-")):
            batched = ("--batch-trials",) if PRESETS[name].algorithm.name == "coevolution" else ()
            seconds = cli_run(tmp / name, name, 2, 2, *batched) / 4
            hours = seconds * 30 * 400 / args.workers / 3600
            total += hours
            print(f"| {name} | {seconds:.3f} | {hours:.1f} |")
        print(f"| **all ten rows** | | **{total:.1f}** |")
        print("\n(short runs include start-up and data generation, so they overstate the per-epoch cost a little)")


if __name__ == "__main__":
    main()
