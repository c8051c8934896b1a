"""Spatial cooperative coevolution of encoders and decoders, pruned while they train (the paper's main setting).

Cells on a ring (or torus) each hold an encoder and a decoder. Every epoch a
cell scores all encoder×decoder pairs of its neighbourhood on one batch,
picks a pair by tournament on the solution concept, trains it one epoch,
prunes it with the schedule's probability and mutates its learning rates.
The defaults are the paper's: 10 cells, ring of radius 1, best-case
solution concept, sequential update, 1000 dims, 1000 rows per split,
batch 5, learning rate 1e-5, Adam betas (0.5, 0.999). Writes, in ``--out``:

- ``epochs.csv``: per epoch, the best pair's train and validation L1,
  capacities, learning rates, and the cells' mean capacities;
- ``final.csv``: test, validation and train L1 and capacities of the best
  pair by validation L1 (the test rows are used only here, at the end);
- ``model.pt``: the ``state_dict`` of that pair, compacted;
- ``timings.csv``: wall-clock seconds (the only file with timings, so a
  serial and a SCOOP run with the same seed write identical results).

Examples::

    python examples/coevolution.py --epochs 50 --prune random --schedule exponential
    python -m scoop -n 2 examples/coevolution.py --epochs 50 --update synchronous --out results/coevolution-scoop
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from deap import base, creator

import deap_nnprune as dnp
import example_support as support
from deap_nnprune import batched

support.use_one_thread()  # identical results serially and on SCOOP workers, no oversubscribed cores
if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "Encoder"):
    creator.create("Encoder", dnp.MaskedMLP, fitness=creator.FitnessMin)
if not hasattr(creator, "Decoder"):
    creator.create("Decoder", dnp.MaskedMLP, fitness=creator.FitnessMin)

BETAS = (0.5, 0.999)
ENGINES = ("auto", "batched", "map")


def parse_args(argv=None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = support.make_parser(__doc__)
    parser.add_argument("--epochs", type=support.integer(0), default=400, help="number of generations (epochs)")
    parser.add_argument("--cells", type=support.integer(1), default=10, help="number of cells")
    parser.add_argument("--radius", type=support.integer(0), default=1, help="neighbourhood radius")
    parser.add_argument("--topology", choices=dnp.algorithms.TOPOLOGIES, default="ring",
                        help="grid of the cells; a torus is the most square rows x cols grid of --cells and needs "
                             "2*radius+1 <= min(rows, cols), e.g. --cells 9")
    parser.add_argument("--update", choices=dnp.algorithms.UPDATES, default="sequential",
                        help="sequential: cells in random order, each seeing the newest state (the paper's); "
                             "synchronous: all cells read the previous epoch")
    parser.add_argument("--solution-concept", choices=dnp.algorithms.SOLUTION_CONCEPTS, default="best",
                        help="score of an encoder or decoder over its partners")
    parser.add_argument("--tournament-size", type=support.integer(1), default=2, help="tournament size")
    support.add_pruning_options(parser)
    parser.add_argument("--n-dim", type=support.integer(1), default=1000, help="width of a data row")
    parser.add_argument("--n-samples", type=support.integer(1), default=1000, help="rows per split")
    parser.add_argument("--clusters", type=support.integer(1), default=10, help="cluster centres of the data")
    parser.add_argument("--batch-size", type=support.integer(1), default=5,
                        help="rows per Adam step and per pair-scoring batch")
    parser.add_argument("--lr", type=support.real(0.0, 10.0, low_open=True), default=1e-5,
                        help="initial learning rate of every encoder and decoder")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="how the pairs of a step train: 'batched' all at once (deap_nnprune.batched), 'map' "
                             "one by one through toolbox.map (SCOOP's futures.map under python -m scoop); 'auto' "
                             "is map under SCOOP, else batched")
    support.add_common_options(parser, out="results/coevolution")
    args = parser.parse_args(argv)
    if args.n_samples % args.clusters:
        parser.error(f"argument --n-samples: must be a multiple of --clusters ({args.clusters}), got {args.n_samples}")
    try:
        topology = dnp.algorithms.make_topology(args.topology, args.cells, args.radius)
    except ValueError as error:
        parser.error(f"arguments --cells/--radius/--topology: {error}")
    try:
        dnp.algorithms.check_tournament_size(args.tournament_size, min(len(h) for h in topology.neighbourhoods))
    except ValueError as error:
        parser.error(f"argument --tournament-size: {error}")
    if args.engine == "auto":
        args.engine = "map" if support.under_scoop() else "batched"
    return parser, args


def make_toolbox(args: argparse.Namespace) -> base.Toolbox:
    """The coevolution's aliases: pair scoring and training, pruning on a schedule, lr mutation, map.

    All neighbourhood pairs are scored at once (``evaluate_pairs``) with every
    engine. The ``batched`` engine also trains the pairs of a step together
    (``train_pairs``); the ``map`` engine trains them one by one
    (``algorithms.train_each``) through ``toolbox.map``, which SCOOP spreads
    over its workers.
    """
    toolbox = base.Toolbox()
    support.register_map(toolbox)
    toolbox.register("evaluate_pair", dnp.evaluate_pair)
    toolbox.register("evaluate_pairs", batched.evaluate_pairs)
    if args.engine == "batched":
        toolbox.register("train_pairs", batched.train_pairs, epochs=1, batch_size=args.batch_size, betas=BETAS)
    else:
        toolbox.register("train_pair", dnp.mut_train_pair, epochs=1, batch_size=args.batch_size, betas=BETAS)
        toolbox.register("train_pairs", dnp.algorithms.train_each, train_pair=toolbox.train_pair, map=toolbox.map)
    # Guided operators keep ``data`` unbound: the algorithm gives each cell's training rows.
    # "population" schedule: n is the neighbourhood a cell breeds from, as in the paper authors' code
    hood = dnp.algorithms.make_topology(args.topology, args.cells, args.radius).neighbourhoods[0]
    support.register_pruning(toolbox, args, n=len(hood))
    toolbox.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-5, low=1e-9, high=10.0)
    return toolbox


def best_pair(encoders, decoders):
    """The cell whose centre pair has the lowest validation L1 (the first on ties)."""
    cell = min(range(len(encoders)), key=lambda c: encoders[c].fitness.values[0])
    return cell, encoders[cell], decoders[cell]


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    device = support.check_common(parser, args)
    data = dnp.datasets.binary_clustering(n_samples=args.n_samples, n_dim=args.n_dim, n_clusters=args.clusters,
                                          seed=args.seed)
    toolbox = make_toolbox(args)
    rng = np.random.default_rng(args.seed)
    encoders = [creator.Encoder.from_preset("paper", args.n_dim, part="encoder", rng=rng, learning_rate=args.lr)
                for _ in range(args.cells)]
    decoders = [creator.Decoder.from_preset("paper", args.n_dim, part="decoder", rng=rng, learning_rate=args.lr)
                for _ in range(args.cells)]

    start = time.perf_counter()
    encoders, decoders, logbook = dnp.algorithms.ea_spatial_coevolution(
        encoders, decoders, toolbox, ngen=args.epochs, data=data, radius=args.radius, topology=args.topology,
        solution_concept=args.solution_concept, tournament_size=args.tournament_size, update=args.update,
        verbose=False, seed=args.seed, score_batch_size=args.batch_size, device=device, progress=not args.quiet,
        prune_data=args.prune != "none" and dnp.registry.operators()[args.prune].needs_data)
    seconds = time.perf_counter() - start

    epochs = pd.DataFrame(logbook).rename(columns={"best_train": "train_l1", "best_validation": "validation_l1"})
    epochs = epochs[["gen", "best_cell", "train_l1", "validation_l1", "capacity", "capacity_encoder",
                     "capacity_decoder", "lr_encoder", "lr_decoder", "mean_capacity_encoder",
                     "mean_capacity_decoder"]]
    cell, encoder, decoder = best_pair(encoders, decoders)
    pair = dnp.MaskedAutoencoder(encoder, decoder)
    final = pd.DataFrame([dict(
        test_l1=dnp.evaluate_pair(encoder, decoder, data.test)[0], validation_l1=encoder.fitness.values[0],
        train_l1=dnp.evaluate_pair(encoder, decoder, data.train)[0], capacity=dnp.capacity(pair),
        capacity_encoder=dnp.capacity(encoder), capacity_decoder=dnp.capacity(decoder), best_cell=cell)])
    per_epoch = seconds / args.epochs if args.epochs else float("nan")
    timings = pd.DataFrame([dict(epochs=args.epochs, seconds=seconds, seconds_per_epoch=per_epoch,
                                 update=args.update, engine=args.engine,
                                 executor="scoop" if support.under_scoop() else "serial",
                                 device=str(device))])
    support.write_results(args.out, epochs, final, timings, pair)
    row = final.iloc[0]
    print(f"test L1 {row.test_l1:.4f}, capacity {row.capacity:.3f} (encoder {row.capacity_encoder:.3f}, "
          f"decoder {row.capacity_decoder:.3f}), {per_epoch:.3f} s per epoch ({args.update}, {args.engine}); "
          f"results in {args.out}")


if __name__ == "__main__":
    main()
