"""Where a whole coevolution generation spends its time: a profile table by step.

Runs ``ea_spatial_coevolution`` on the paper autoencoder (1000 dims, 10 cells, one torch thread) for a
few generations under ``cProfile`` and prints, for the steps a generation is made of, the cumulative
seconds per generation and the share of the whole: training (``train_pairs``), neighbourhood scoring
(``evaluate_pairs``), cell assessment and logbook scoring (``evaluate_pair``), clones
(``copy.deepcopy``), pruning and the rest.

    python benchmarks/profile_generation.py [--update synchronous|sequential] [--generations 3]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import datetime
import os
import pstats

import numpy as np
import torch
from deap import base, creator

import deap_nnprune as dnp
from deap_nnprune.batched import evaluate_pairs, train_pairs

STEPS = {
    "training (train_pairs)": ("batched.py", "train_pairs"),
    "neighbourhood scoring (evaluate_pairs)": ("batched.py", "evaluate_pairs"),
    "assessment and logbook scoring (evaluate_pair)": ("evaluation.py", "evaluate_pair"),
    "clones (deepcopy)": ("copy.py", "deepcopy"),
    "pruning (mut_prune_random)": ("pruning.py", "mut_prune_random"),
    "capacities for the logbook (capacity)": ("capacity.py", "capacity"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", default="synchronous", choices=("synchronous", "sequential"))
    parser.add_argument("--generations", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not hasattr(creator, "ProfileFitness"):
        creator.create("ProfileFitness", base.Fitness, weights=(-1.0,))
        creator.create("ProfileHalf", dnp.MaskedMLP, fitness=creator.ProfileFitness)
    data = dnp.datasets.binary_clustering(n_samples=1000, n_dim=1000, seed=0)
    toolbox = base.Toolbox()
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("map", map)
    toolbox.register("evaluate_pair", dnp.evaluate_pair)
    toolbox.register("evaluate_pairs", evaluate_pairs)
    toolbox.register("train_pairs", train_pairs, epochs=1, batch_size=5)
    toolbox.register("prune", dnp.mut_prune_random, amount=0.1)
    toolbox.register("prune_probability", dnp.schedules.exponential, p=0.5)
    toolbox.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-5)
    rng = np.random.default_rng(0)
    encoders = [creator.ProfileHalf.from_preset("paper", 1000, "encoder", rng=rng, learning_rate=1e-3)
                for _ in range(10)]
    decoders = [creator.ProfileHalf.from_preset("paper", 1000, "decoder", rng=rng, learning_rate=1e-3)
                for _ in range(10)]
    profile = cProfile.Profile()
    profile.enable()
    dnp.algorithms.ea_spatial_coevolution(encoders, decoders, toolbox, args.generations, data, update=args.update,
                                          seed=0, verbose=False)
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(t for (_, _, _), (_, _, _, t, _) in stats.stats.items())
    print(f"# Profile of ea_spatial_coevolution ({args.update}, 10 cells, 1000 dims, {args.generations} generations "
          f"plus the initial assessment), {datetime.date.today()}, load average {os.getloadavg()[0]:.2f}\n")
    print("| step | s per generation | share |")
    print("|---|---:|---:|")
    counted = 0.0
    for label, (file, name) in STEPS.items():
        seconds = sum(t for (f, _, n), (_, _, _, t, _) in stats.stats.items() if f.endswith(file) and n == name)
        counted += seconds if label != "capacities for the logbook (capacity)" else 0.0
        print(f"| {label} | {seconds / args.generations:.3f} | {seconds / total:.0%} |")
    print(f"| everything else | {(total - counted) / args.generations:.3f} | {(total - counted) / total:.0%} |")
    print(f"| **whole run** | {total / args.generations:.3f} | 100% |")


if __name__ == "__main__":
    main()
