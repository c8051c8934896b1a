"""Our autoencoders and operators inside DEAP's own ``eaMuPlusLambda``, unchanged.

The individuals are ``creator.AE`` (a :class:`deap_nnprune.MaskedAutoencoder`
with a fitness); ``mate`` is :func:`deap_nnprune.cx_masked_uniform`;
``mutate`` trains one epoch and then prunes at random; ``evaluate`` is the
validation L1; ``select`` is ``tools.selBest``. DEAP's ``Statistics`` and
``HallOfFame`` work as usual, and the ``Logbook`` is printed at the end. Runs in
seconds with the defaults::

    python examples/mix_with_deap.py --seed 0
"""

from __future__ import annotations

import argparse
import random

import numpy as np
import pandas as pd
import torch
from deap import algorithms, base, creator, tools

import deap_nnprune as dnp
import example_support as support

support.use_one_thread()  # identical results serially and on SCOOP workers, no oversubscribed cores
if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "AE"):
    creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)


def mutate(individual, data, amount=0.1, batch_size=5):
    """A DEAP mutation: train one epoch on *data*, then prune *amount* of the alive weights at random."""
    dnp.mut_train(individual, data, epochs=1, batch_size=batch_size)
    dnp.mut_prune_random(individual, amount=amount)
    return (individual,)


def l1(individual) -> float:
    return individual.fitness.values[0]


def parse_args(argv=None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = support.make_parser(__doc__)
    parser.add_argument("--generations", type=support.integer(0), default=5, help="generations of eaMuPlusLambda")
    parser.add_argument("--mu", type=support.integer(1), default=4, help="parents kept per generation")
    parser.add_argument("--lambda", dest="lambda_", metavar="LAMBDA", type=support.integer(1), default=8,
                        help="offspring per generation")
    parser.add_argument("--cxpb", type=support.real(0.0, 1.0), default=0.3, help="crossover probability")
    parser.add_argument("--mutpb", type=support.real(0.0, 1.0), default=0.6, help="mutation probability")
    parser.add_argument("--amount", type=support.real(0.0, 1.0), default=0.1,
                        help="fraction of alive weights a mutation prunes")
    parser.add_argument("--n-dim", type=support.integer(1), default=64, help="width of a data row")
    parser.add_argument("--n-samples", type=support.integer(10), default=100,
                        help="rows per split (a multiple of 10)")
    support.add_common_options(parser, out=None)  # --out DIR: also write DIR/logbook.csv
    args = parser.parse_args(argv)
    if args.cxpb + args.mutpb > 1.0:
        parser.error(f"arguments --cxpb/--mutpb: their sum must be <= 1, got {args.cxpb + args.mutpb:g}")
    if args.n_samples % 10:
        parser.error(f"argument --n-samples: must be a multiple of 10 (the clusters), got {args.n_samples}")
    return parser, args


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    device = support.check_common(parser, args)
    random.seed(args.seed)  # DEAP's varOr draws from the random module
    torch.manual_seed(args.seed)  # operators called without rng draw from torch's generator
    data = dnp.datasets.binary_clustering(n_samples=args.n_samples, n_dim=args.n_dim, seed=args.seed).to(device)

    toolbox = base.Toolbox()
    support.register_map(toolbox)
    toolbox.register("individual", creator.AE.from_preset, "paper", n_dim=args.n_dim,
                     rng=np.random.default_rng(args.seed))
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("mate", dnp.cx_masked_uniform, indpb=0.5)
    toolbox.register("mutate", mutate, data=data.train, amount=args.amount)
    toolbox.register("evaluate", dnp.evaluate_l1, data=data.validation)
    toolbox.register("select", tools.selBest)

    stats = tools.MultiStatistics(l1=tools.Statistics(l1), capacity=tools.Statistics(dnp.capacity))
    stats.register("min", np.min)
    stats.register("avg", np.mean)
    stats.register("max", np.max)
    halloffame = tools.HallOfFame(1)

    population = [individual.to(device) for individual in toolbox.population(n=args.mu)]
    population, logbook = algorithms.eaMuPlusLambda(
        population, toolbox, mu=args.mu, lambda_=args.lambda_, cxpb=args.cxpb, mutpb=args.mutpb,
        ngen=args.generations, stats=stats, halloffame=halloffame, verbose=False)
    for chapter in logbook.chapters.values():
        chapter.header = ("min", "avg", "max")
    if not args.quiet:
        print(logbook)

    best = halloffame[0]
    test_l1 = dnp.evaluate_l1(best, data.test)[0]
    print(f"hall of fame: validation L1 {best.fitness.values[0]:.4f}, test L1 {test_l1:.4f}, "
          f"capacity {dnp.capacity(best):.3f}")
    if args.out is not None:
        rows = [dict(gen=record["gen"], nevals=record["nevals"],
                     **{f"{chapter}_{field}": logbook.chapters[chapter][i][field]
                        for chapter in ("l1", "capacity") for field in ("min", "avg", "max")})
                for i, record in enumerate(logbook)]
        support.write_csv(args.out / "logbook.csv", pd.DataFrame(rows))


if __name__ == "__main__":
    main()
