"""Every operator of deap_nnprune in one DEAP toolbox, driven by a hand-written loop.

Registers, each with its parameters bound: the four pruning operators
(random, magnitude, variance, conjunctive), training, learning-rate
mutation, masked uniform crossover, and random pruning on an exponential
schedule through :class:`deap_nnprune.Scheduled`. A (μ+λ)-style loop of 20
generations on the paper's binary clustering data (200 dims) prints the
best validation L1 and capacities per generation::

    python examples/compose_toolbox.py --seed 0
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from deap import base, creator, tools

import deap_nnprune as dnp
import example_support as support
from deap_nnprune import schedules

support.use_one_thread()  # identical results serially and on SCOOP workers, no oversubscribed cores
if not hasattr(creator, "FitnessMin"):
    creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "AE"):
    creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)


def parse_args(argv=None):
    parser = support.make_parser(__doc__)
    parser.add_argument("--generations", type=support.integer(1), default=20, help="generations of the loop")
    parser.add_argument("--mu", type=support.integer(2), default=4, help="population size (offspring: as many)")
    parser.add_argument("--cxpb", type=support.real(0.0, 1.0), default=0.5,
                        help="probability that two consecutive offspring are crossed")
    parser.add_argument("--guided-every", type=support.integer(1), default=5,
                        help="apply magnitude, variance and conjunctive pruning every this many generations")
    parser.add_argument("--n-dim", type=support.integer(1), default=200, help="width of a data row")
    parser.add_argument("--n-samples", type=support.integer(10), default=200, help="rows per split (a multiple of 10)")
    parser.add_argument("--lr", type=support.real(0.0, 10.0, low_open=True), default=1e-3,
                        help="initial learning rate")
    support.add_common_options(parser, out=None)  # --out DIR: also write DIR/generations.csv
    args = parser.parse_args(argv)
    if args.n_samples % 10:
        parser.error(f"argument --n-samples: must be a multiple of 10 (the clusters), got {args.n_samples}")
    return parser, args


def make_toolbox(args, data: dnp.datasets.DataSplits) -> base.Toolbox:
    """One toolbox holding every operator, parameters bound at registration (no lambdas: it pickles)."""
    toolbox = base.Toolbox()
    support.register_map(toolbox)
    toolbox.register("individual", creator.AE.from_preset, "paper", n_dim=args.n_dim, learning_rate=args.lr,
                     rng=np.random.default_rng(args.seed))
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("evaluate", dnp.evaluate_l1, data=data.validation)
    toolbox.register("select", tools.selBest)
    toolbox.register("mate", dnp.cx_masked_uniform, indpb=0.5)
    toolbox.register("train", dnp.mut_train, data=data.train, epochs=1, batch_size=5, betas=(0.5, 0.999))
    toolbox.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-5, low=1e-9, high=10.0)
    toolbox.register("prune_random", dnp.mut_prune_random, amount=0.1)
    toolbox.register("prune_magnitude", dnp.mut_prune_magnitude, amount=0.05)
    toolbox.register("prune_variance", dnp.mut_prune_variance, data=data.train)
    toolbox.register("prune_conjunctive", dnp.mut_prune_conjunctive, data=data.train, threshold=0.1, n_cases=100)
    # Random pruning that fires with probability p·(1 − e^{−2t/T}) at generation t of T.
    toolbox.register("prune", dnp.Scheduled(dnp.mut_prune_random, functools.partial(schedules.exponential, p=0.5)),
                     amount=0.1)
    return toolbox


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    device = support.check_common(parser, args)
    data = dnp.datasets.binary_clustering(n_samples=args.n_samples, n_dim=args.n_dim, seed=args.seed).to(device)
    toolbox = make_toolbox(args, data)
    ngen = args.generations

    population = [individual.to(device) for individual in toolbox.population(n=args.mu)]
    for ind, fitness in zip(population, toolbox.map(toolbox.evaluate, population)):
        ind.fitness.values = fitness
    rows = []
    if not args.quiet:
        print(f"{'gen':>4} {'best L1':>9} {'capacity':>9} {'encoder':>8} {'decoder':>8} {'mean capacity':>14}")
    for gen in range(1, ngen + 1):
        rng = np.random.default_rng([args.seed, gen])
        offspring = [toolbox.clone(ind) for ind in population]
        for a, b in zip(offspring[::2], offspring[1::2]):
            if rng.random() < args.cxpb:
                toolbox.mate(a, b, rng=rng)
        for child in offspring:
            toolbox.train(child, rng=rng)
            toolbox.mutate_lr(child, rng=rng)
            toolbox.prune(child, gen=gen, ngen=ngen, rng=rng)
        if gen % args.guided_every == 0:  # now and then, the other three operators on one child each
            toolbox.prune_magnitude(offspring[0], rng=rng)
            toolbox.prune_variance(offspring[1 % len(offspring)], rng=rng)
            toolbox.prune_conjunctive(offspring[2 % len(offspring)], rng=rng)
        for child, fitness in zip(offspring, toolbox.map(toolbox.evaluate, offspring)):
            child.fitness.values = fitness
        population = toolbox.select(population + offspring, args.mu)

        best = population[0]
        rows.append(dict(gen=gen, validation_l1=best.fitness.values[0], capacity=dnp.capacity(best),
                         capacity_encoder=dnp.capacity(best.encoder), capacity_decoder=dnp.capacity(best.decoder),
                         mean_capacity=float(np.mean([dnp.capacity(ind) for ind in population]))))
        row = rows[-1]
        if not args.quiet:
            print(f"{gen:>4} {row['validation_l1']:>9.4f} {row['capacity']:>9.3f} {row['capacity_encoder']:>8.3f} "
                  f"{row['capacity_decoder']:>8.3f} {row['mean_capacity']:>14.3f}", flush=True)
    best = population[0]
    print(f"best: test L1 {dnp.evaluate_l1(best, data.test)[0]:.4f}, capacity {dnp.capacity(best):.3f}")
    if args.out is not None:
        support.write_csv(args.out / "generations.csv", pd.DataFrame(rows))


if __name__ == "__main__":
    main()
