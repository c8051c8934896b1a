"""NSGA-II on two objectives, reconstruction L1 and capacity: the trade-off curve of pruning.

Individuals are ``creator.AEMulti``: autoencoders with a fitness of weights
(-1, -1), scored by :func:`deap_nnprune.evaluate_l1_capacity` on the
validation rows. Each generation every parent makes one child that trains
one epoch and then loses a random fraction (drawn in ``[0, --max-amount]``)
of its alive weights; ``tools.selNSGA2`` keeps the best of parents and
children. Writes, in ``--out``:

- ``pareto.csv``: the first non-dominated front (validation L1, capacity,
  and the test L1 of each member, computed once at the end);
- ``pareto.png``: a scatter of the final population with the front marked
  (needs matplotlib, the ``report`` extra; skipped with a message without it).

Example::

    python examples/nsga2_prune.py --generations 10 --out results/nsga2
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from deap import base, creator, tools
from tqdm.auto import tqdm

import deap_nnprune as dnp
import example_support as support
from deap_nnprune.atomic import atomic_open

support.use_one_thread()  # identical results serially and on SCOOP workers, no oversubscribed cores
if not hasattr(creator, "FitnessMulti"):
    creator.create("FitnessMulti", base.Fitness, weights=(-1.0, -1.0))
if not hasattr(creator, "AEMulti"):
    creator.create("AEMulti", dnp.MaskedAutoencoder, fitness=creator.FitnessMulti)


def mutate(individual, data, max_amount=0.3, batch_size=5, lr=None, optimizer_state="persistent", rng=None):
    """Train one epoch on *data*, then prune a fraction drawn uniformly in ``[0, max_amount]``."""
    dnp.mut_train(individual, data, epochs=1, batch_size=batch_size, lr=lr, optimizer_state=optimizer_state, rng=rng)
    dnp.mut_prune_random(individual, amount=float(rng.uniform(0.0, max_amount)), rng=rng)
    return (individual,)


def parse_args(argv=None):
    parser = support.make_parser(__doc__)
    parser.add_argument("--generations", type=support.integer(0), default=10, help="generations of NSGA-II")
    parser.add_argument("--mu", type=support.integer(2), default=12, help="population size")
    parser.add_argument("--max-amount", type=support.real(0.0, 1.0), default=0.3,
                        help="largest fraction of alive weights one mutation prunes")
    parser.add_argument("--lr", type=support.real(0.0, 1.0, low_open=True), default=None,
                        help="Adam learning rate (default: the individual's own, 1e-3 for the paper preset)")
    parser.add_argument("--optimizer-state", choices=dnp.training.OPTIMIZER_STATES, default="persistent",
                        help="keep Adam's moments (persistent) or rebuild Adam on every batch, "
                             "which makes every step lr*sign(gradient)")
    parser.add_argument("--n-dim", type=support.integer(1), default=64, help="width of a data row")
    parser.add_argument("--n-samples", type=support.integer(10), default=100, help="rows per split (a multiple of 10)")
    support.add_common_options(parser, out="results/nsga2")
    args = parser.parse_args(argv)
    if args.n_samples % 10:
        parser.error(f"argument --n-samples: must be a multiple of 10 (the clusters), got {args.n_samples}")
    return parser, args


def evaluate_all(toolbox, individuals) -> None:
    invalid = [ind for ind in individuals if not ind.fitness.valid]
    for ind, fitness in zip(invalid, toolbox.map(toolbox.evaluate, invalid)):
        ind.fitness.values = fitness


def nsga2(population, toolbox, ngen: int, seed: int, progress: bool) -> list:
    """(μ+μ) NSGA-II: every parent makes one mutated child; ``selNSGA2`` keeps μ of both."""
    mu = len(population)
    evaluate_all(toolbox, population)
    population = toolbox.select(population, mu)
    for gen in tqdm(range(1, ngen + 1), desc="NSGA-II", disable=None if progress else True, leave=False):
        offspring = [toolbox.clone(ind) for ind in population]
        for k, child in enumerate(offspring):
            toolbox.mutate(child, rng=np.random.default_rng([seed, gen, k]))
            del child.fitness.values
        evaluate_all(toolbox, offspring)
        population = toolbox.select(population + offspring, mu)
    return population


def plot_front(path: Path, population, front) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping pareto.png (pip install 'deap_nnprune[report]')")
        return
    figure, axes = plt.subplots(figsize=(5, 4))
    everyone = np.array([ind.fitness.values for ind in population])
    best = np.array(sorted(ind.fitness.values for ind in front))
    axes.scatter(everyone[:, 1], everyone[:, 0], color="0.7", label="final population")
    axes.plot(best[:, 1], best[:, 0], "o-", color="tab:red", label="Pareto front")
    axes.set_title(f"NSGA-II on (L1, capacity): final population of {len(population)}")
    axes.set_xlabel("capacity (fraction of weights alive)")
    axes.set_ylabel("validation L1 (mean absolute error)")
    axes.legend()
    figure.tight_layout()
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=120)
    plt.close(figure)


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    device = support.check_common(parser, args)
    data = dnp.datasets.binary_clustering(n_samples=args.n_samples, n_dim=args.n_dim, seed=args.seed).to(device)

    toolbox = base.Toolbox()
    support.register_map(toolbox)
    toolbox.register("individual", creator.AEMulti.from_preset, "paper", n_dim=args.n_dim,
                     rng=np.random.default_rng(args.seed))
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("mutate", mutate, data=data.train, max_amount=args.max_amount, lr=args.lr,
                     optimizer_state=args.optimizer_state)
    toolbox.register("evaluate", dnp.evaluate_l1_capacity, data=data.validation)
    toolbox.register("select", tools.selNSGA2)

    start = time.perf_counter()
    population = [individual.to(device) for individual in toolbox.population(n=args.mu)]
    population = nsga2(population, toolbox, args.generations, args.seed, progress=not args.quiet)
    seconds = time.perf_counter() - start
    front = tools.sortNondominated(population, len(population), first_front_only=True)[0]
    front = sorted(front, key=lambda ind: ind.fitness.values[1])
    table = pd.DataFrame([dict(validation_l1=ind.fitness.values[0], capacity=ind.fitness.values[1],
                               test_l1=dnp.evaluate_l1(ind, data.test)[0]) for ind in front])
    support.write_csv(args.out / "pareto.csv", table)
    plot_front(args.out / "pareto.png", population, front)
    print(table.to_string(index=False))
    print(f"{len(front)} non-dominated of {len(population)}, {seconds:.1f} s; results in {args.out}")


if __name__ == "__main__":
    main()
