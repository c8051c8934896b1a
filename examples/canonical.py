"""Canonical (1+λ) training of one autoencoder that is pruned while it trains (the paper's canonical setting).

Each epoch makes λ offspring of the parent, trains each one epoch with Adam
(the rate divided by 10 every quarter of the run), prunes it with the
schedule's probability and keeps the best by validation L1. Writes, in
``--out``:

- ``epochs.csv``: per epoch, the parent's train and validation L1, capacity
  (overall, encoder, decoder) and learning rate;
- ``final.csv``: the final parent's test, validation and train L1 and capacities;
- ``model.pt``: the ``state_dict`` of the compacted final parent;
- ``timings.csv``: wall-clock seconds (the only file with timings, so a
  serial and a SCOOP run with the same seed write identical results).

Examples::

    python examples/canonical.py --epochs 20 --prune conjunctive --schedule exponential --out results/canonical
    python -m scoop -n 2 examples/canonical.py --epochs 20 --lambda 2 --out results/canonical-scoop
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import pandas as pd
from deap import base, creator, tools

import deap_nnprune as dnp
import example_support as support

support.use_one_thread()  # identical results serially and on SCOOP workers, no oversubscribed cores
if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "AE"):
    creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)


def parse_args(argv=None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = support.make_parser(__doc__)
    parser.add_argument("--epochs", type=support.integer(0), default=400, help="number of generations (epochs)")
    parser.add_argument("--lambda", dest="lambda_", metavar="LAMBDA", type=support.integer(1), default=1,
                        help="offspring per epoch")
    parser.add_argument("--elitist", action="store_true", help="keep the parent when no offspring is better")
    support.add_pruning_options(parser)
    parser.add_argument("--n-dim", type=support.integer(1), default=1000, help="width of a data row")
    parser.add_argument("--n-samples", type=support.integer(1), default=1000, help="rows per split")
    parser.add_argument("--clusters", type=support.integer(1), default=10, help="cluster centres of the data")
    parser.add_argument("--batch-size", type=support.integer(1), default=5, help="rows per Adam step")
    parser.add_argument("--lr", type=support.real(0.0, 10.0, low_open=True), default=dnp.DEFAULT_LEARNING_RATE,
                        help="initial learning rate")
    support.add_common_options(parser, out="results/canonical")
    args = parser.parse_args(argv)
    if args.n_samples % args.clusters:
        parser.error(f"argument --n-samples: must be a multiple of --clusters ({args.clusters}), got {args.n_samples}")
    return parser, args


def lr_step_size(args: argparse.Namespace) -> int:
    """Adam steps between two divisions of the learning rate by 10: a quarter of the run."""
    return math.ceil(args.n_samples / args.batch_size) * max(1, args.epochs // 4)


def make_toolbox(args: argparse.Namespace, data: dnp.datasets.DataSplits) -> base.Toolbox:
    """The (1+λ) loop's aliases: train, evaluate (validation rows), prune on a schedule, map."""
    toolbox = base.Toolbox()
    support.register_map(toolbox)
    toolbox.register("train", support.on_split, operator=dnp.mut_train, data=data, split="train",
                     epochs=1, batch_size=args.batch_size, betas=(0.5, 0.999),
                     lr_step_size=lr_step_size(args), lr_gamma=0.1)
    toolbox.register("evaluate", support.on_split, operator=dnp.evaluate_l1, data=data, split="validation")
    support.register_pruning(toolbox, args, data=data, n=args.lambda_)  # "population" schedule: n = λ
    return toolbox


class ParentRecord:
    """A ``tools.Statistics`` stand-in that logs the parent the (1+λ) loop keeps.

    The loop compiles the statistics of each generation's offspring (of the
    parent at generation 0) and keeps ``selBest(offspring [+ parent], 1)``.
    This makes the same choice and records that parent's training L1,
    capacities and learning rate in effect, which the loop does not log.
    """

    fields = ("train_l1", "validation_l1", "capacity_encoder", "capacity_decoder", "learning_rate")

    def __init__(self, data: dnp.datasets.DataSplits, elitist: bool, step_size: int) -> None:
        self.data, self.elitist, self.step_size = data, elitist, step_size
        self.parent = None

    def compile(self, offspring) -> dict:
        pool = list(offspring) + ([self.parent] if self.elitist and self.parent is not None else [])
        self.parent = parent = tools.selBest(pool, 1)[0]
        steps = int(parent.encoder.layers[0].adam_step)
        return dict(
            train_l1=dnp.evaluate_l1(parent, self.data.train)[0],
            validation_l1=parent.fitness.values[0],
            capacity_encoder=dnp.capacity(parent.encoder),
            capacity_decoder=dnp.capacity(parent.decoder),
            learning_rate=parent.learning_rate * 0.1 ** (max(steps - 1, 0) // self.step_size),
        )


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    device = support.check_common(parser, args)
    data = dnp.datasets.binary_clustering(n_samples=args.n_samples, n_dim=args.n_dim, n_clusters=args.clusters,
                                          seed=args.seed)
    toolbox = make_toolbox(args, data)
    parent = creator.AE.from_preset("paper", n_dim=args.n_dim, rng=np.random.default_rng(args.seed),
                                    learning_rate=args.lr)
    record = ParentRecord(data, args.elitist, lr_step_size(args))

    start = time.perf_counter()
    population, logbook = dnp.algorithms.ea_one_plus_lambda(
        parent, toolbox, lambda_=args.lambda_, ngen=args.epochs, elitist=args.elitist, stats=record,
        verbose=False, seed=args.seed, device=device, progress=not args.quiet)
    seconds = time.perf_counter() - start
    best = population[0]
    if best is not record.parent:
        raise RuntimeError("ParentRecord lost track of the parent the loop kept")

    epochs = pd.DataFrame(logbook)[["gen", "train_l1", "validation_l1", "capacity", "capacity_encoder",
                                    "capacity_decoder", "learning_rate"]]
    final = pd.DataFrame([dict(
        test_l1=dnp.evaluate_l1(best, data.test)[0], validation_l1=best.fitness.values[0],
        train_l1=dnp.evaluate_l1(best, data.train)[0], capacity=dnp.capacity(best),
        capacity_encoder=dnp.capacity(best.encoder), capacity_decoder=dnp.capacity(best.decoder))])
    per_epoch = seconds / args.epochs if args.epochs else float("nan")
    timings = pd.DataFrame([dict(epochs=args.epochs, seconds=seconds, seconds_per_epoch=per_epoch,
                                 executor="scoop" if support.under_scoop() else "serial", device=str(device))])
    support.write_results(args.out, epochs, final, timings, best)
    row = final.iloc[0]
    print(f"test L1 {row.test_l1:.4f}, validation L1 {row.validation_l1:.4f}, capacity {row.capacity:.3f} "
          f"(encoder {row.capacity_encoder:.3f}, decoder {row.capacity_decoder:.3f}), "
          f"{per_epoch:.3f} s per epoch; results in {args.out}")


if __name__ == "__main__":
    main()
