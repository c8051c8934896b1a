"""Standard non-evolutionary pruning: global magnitude ranking (checked against torch.nn.utils.prune),
Zhu & Gupta's gradual schedule, and the baseline presets at the compute of a coevolution row."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn.utils import prune

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.presets import PRESETS
from deap_nnprune.pruning import gradual_sparsity, mut_prune_gradual

TINY = ["--set", "data.n_dim=16", "data.n_samples=20", "--epochs", "6", "--trials", "2", "--quiet"]


def test_global_magnitude_pruning_matches_torch_global_unstructured():
    torch.manual_seed(0)
    net = dnp.MaskedMLP((12, 7, 3), rng=np.random.default_rng(1))
    linears = [nn.Linear(layer.in_features, layer.out_features) for layer in net.layers]
    with torch.no_grad():
        for linear, layer in zip(linears, net.layers):
            linear.weight.copy_(layer.weight)
    prune.global_unstructured([(linear, "weight") for linear in linears], pruning_method=prune.L1Unstructured,
                              amount=40)
    dnp.mut_prune_magnitude(net, amount=40, scope="global", min_alive=0)
    for linear, layer in zip(linears, net.layers):
        assert torch.equal(linear.weight_mask, layer.weight_mask)
    assert all(bool((layer.bias_mask == 1).all()) for layer in net.layers)  # biases are not ranked
    fractions = [float(layer.weight_mask.mean()) for layer in net.layers]
    assert fractions[0] != fractions[1]  # layers lose different fractions


def test_gradual_sparsity_is_zhu_and_guptas_cubic():
    steps = np.arange(0, 101)
    s = np.array([gradual_sparsity(int(t), 100, 0.4, start=0.1, end=0.6) for t in steps])
    assert s[:11].max() == 0.0 and np.allclose(s[60:], 0.6)
    assert np.all(np.diff(s) >= 0) and np.all(np.diff(s[10:61], 2) <= 1e-12)  # rising, ever more slowly
    assert gradual_sparsity(35, 100, 0.4, start=0.1, end=0.6) == pytest.approx(0.6 * (1 - 0.5 ** 3))


def test_gradual_pruning_follows_the_schedule_while_training():
    data = dnp.datasets.binary_clustering(n_samples=40, n_dim=16, seed=0)
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=16, rng=np.random.default_rng(0), learning_rate=1e-3)
    weights = sum(layer.weight.numel() for layer in dnp.masked_layers(ae))
    total = 10 * 3  # 10 epochs of 3 batches of 5 rows (14 training rows)
    seen = []
    for epoch in range(10):
        dnp.mut_train(ae, data.train, epochs=1, rng=np.random.default_rng(epoch))
        mut_prune_gradual(ae, final_capacity=0.3, total_steps=total, min_alive=0)
        dead = weights - sum(int(layer.weight_mask.sum()) for layer in dnp.masked_layers(ae))
        step = int(ae.encoder.layers[0].adam_step)
        seen.append(dead)
        assert dead == round(gradual_sparsity(step, total, 0.3) * weights)
    assert seen == sorted(seen) and seen[-1] == round(0.7 * weights)


def test_gradual_pruning_refuses_regrowth_mode_and_a_schedule_that_ends_before_it_starts(tmp_path, capsys):
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=8, persistent_masks=False)
    with pytest.raises(ValueError, match="persistent masks"):
        mut_prune_gradual(ae, final_capacity=0.5, total_steps=10)
    with pytest.raises(ValueError, match=r"start must be before end.*start=0.9, end=0.1"):
        mut_prune_gradual(dnp.MaskedMLP((4, 2)), total_steps=10, start=0.9, end=0.1)
    out = tmp_path / "regrow"
    assert main(["run", "--preset", "baseline-gmp-50", *TINY, "--set", "network.persistent_masks=false",
                 "--out", str(out)]) == 2
    assert "network.persistent_masks = true" in capsys.readouterr().err and not out.exists()


def test_baselines_take_the_network_steps_of_a_coevolution_row():
    row = PRESETS["ours-coevolution-random-exponential"].algorithm
    for name in ("baseline-dense", "baseline-gmp-50", "baseline-gmp-35", "baseline-perturbation"):
        config = PRESETS[name]
        assert config.algorithm.name == "canonical" and config.algorithm.offspring == 1
        assert config.algorithm.epochs * 1 == row.cells * row.epochs
        assert config.data == PRESETS["ours-coevolution-random-exponential"].data
        assert config.network.architecture == PRESETS["ours-coevolution-random-exponential"].network.architecture
    assert PRESETS["ours-best"].finish == PRESETS["ours-regrow-then-prune-35"].finish


@pytest.mark.parametrize("name,capacity", [("baseline-dense", (1.0, 1.0)), ("baseline-gmp-35", (0.3, 0.45)),
                                           ("baseline-perturbation", (0.5, 1.0))])
def test_baseline_presets_run_from_the_cli(tmp_path, name, capacity):
    out = tmp_path / name
    assert main(["run", "--preset", name, *TINY, "--out", str(out)]) == 0
    final = pd.read_csv(out / "final.csv")
    low, high = capacity
    assert final.capacity.between(low, high).all(), final.capacity.tolist()
    assert (final.test_l1 > 0).all() and (final.test_l1 < 0.6).all()
