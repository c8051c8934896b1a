"""Quickstart: masked autoencoders as DEAP individuals, pruned by hand and compacted.

Builds a small population of ``creator.AE`` individuals, evaluates them on the
paper's binary clustering data, prunes the best one by hand, prints how much
of it is still alive, and compacts it into a smaller dense network whose
outputs are the same. Runs in a few seconds on a CPU::

    python examples/quickstart.py --seed 0 --n-dim 200
"""

import argparse

import numpy as np
import torch
from deap import base, creator, tools

import deap_nnprune as dnp

creator.create("FitnessMin", base.Fitness, weights=(-1.0,))
creator.create("AE", dnp.MaskedAutoencoder, fitness=creator.FitnessMin)


def prune_smallest_weights(layer, fraction):
    """Kill the ``fraction`` of ``layer``'s alive weights with the smallest magnitude."""
    alive = layer.weight_mask.bool()
    magnitudes = layer.weight.detach().abs()[alive]
    n_kill = int(fraction * magnitudes.numel())
    if n_kill == 0:
        return
    threshold = magnitudes.kthvalue(n_kill).values
    dnp.apply_keep(layer, "weight", ~alive | (layer.weight.detach().abs() > threshold))


def prune_neurons(layer, neurons):
    """Kill whole neurons: every incoming weight and the bias of each one."""
    keep = torch.ones(layer.out_features, dtype=torch.bool)
    keep[list(neurons)] = False
    dnp.apply_keep(layer, "weight", keep.unsqueeze(1).expand_as(layer.weight))
    dnp.apply_keep(layer, "bias", keep)


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the networks")
    parser.add_argument("--n-dim", type=int, default=200, help="width of a data row")
    parser.add_argument("--population", type=int, default=4, help="number of individuals")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = dnp.datasets.binary_clustering(n_samples=100, n_dim=args.n_dim, n_clusters=10, seed=args.seed)

    toolbox = base.Toolbox()
    toolbox.register("individual", creator.AE.from_preset, "paper", n_dim=args.n_dim, rng=rng)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("evaluate", dnp.evaluate_l1, data=data.validation)

    population = toolbox.population(n=args.population)
    for ind, fitness in zip(population, toolbox.map(toolbox.evaluate, population)):
        ind.fitness.values = fitness
    for i, ind in enumerate(population):
        print(f"individual {i}: validation L1 = {ind.fitness.values[0]:.4f}")

    best = toolbox.clone(tools.selBest(population, 1)[0])
    print(f"best: validation L1 = {best.fitness.values[0]:.4f}, capacity = {dnp.capacity(best):.3f}")

    # Prune by hand: half the smallest input weights, a third of the first hidden
    # layer's neurons, and two latent units.
    prune_smallest_weights(best.encoder.layers[0], 0.5)
    prune_neurons(best.encoder.layers[0], range(0, 30, 3))
    prune_neurons(best.encoder.layers[1], [0, 1])
    del best.fitness.values
    best.fitness.values = toolbox.evaluate(best)
    print(
        f"pruned: capacity = {dnp.capacity(best):.3f} "
        f"(encoder {dnp.capacity(best.encoder):.3f}, decoder {dnp.capacity(best.decoder):.3f}), "
        f"validation L1 = {best.fitness.values[0]:.4f}"
    )

    small = dnp.compact(best)
    before, after = n_parameters(best), n_parameters(small)
    print(f"compacted: {before} -> {after} parameters ({1 - after / before:.1%} fewer)")
    print(f"latent units: {best.encoder.out_features} -> {small.encode(data.test[:1]).shape[1]}")
    with torch.no_grad():
        difference = (small(data.test) - best(data.test)).abs().max().item()
    print(f"outputs match: {difference <= 1e-5} (max difference {difference:.2e})")


if __name__ == "__main__":
    main()
