"""Perturbation at a fixed sparsity: mut_perturb_random and random pruning's floor_action="perturb"."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main

N_DIM = 16


def _pair(persistent=True, seed=0):
    return dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=persistent,
                                             rng=np.random.default_rng(seed))


def _train(ae, seed=0):
    data = dnp.datasets.binary_clustering(n_samples=20, n_dim=N_DIM, n_clusters=4, seed=0).train
    dnp.mut_train_pair(ae.encoder, ae.decoder, data, rng=np.random.default_rng(seed))


def test_perturbation_zeroes_the_entries_random_pruning_would_kill_but_keeps_masks_and_moments():
    perturbed, pruned = _pair(), _pair()
    _train(perturbed), _train(pruned)
    moments = [m.clone() for layer in dnp.masked_layers(perturbed) for m in layer.moments("weight")]
    dnp.mut_perturb_random(perturbed, amount=0.3, rng=np.random.default_rng(4))
    dnp.mut_prune_random(pruned, amount=0.3, rng=np.random.default_rng(4), min_alive=0)
    assert dnp.capacity(perturbed) == 1.0 and dnp.capacity(pruned) < 1.0
    for a, b in zip(dnp.masked_layers(perturbed), dnp.masked_layers(pruned)):
        assert torch.equal(a.weight == 0, b.weight_mask == 0)  # the same draw
        assert bool((a.weight_mask == 1).all())
    after = [m for layer in dnp.masked_layers(perturbed) for m in layer.moments("weight")]
    assert all(torch.equal(x, y) for x, y in zip(moments, after))


def test_training_regrows_perturbed_weights_but_never_pruned_ones():
    ae = _pair()
    dnp.mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(1), min_alive=0)
    dead = [layer.weight_mask == 0 for layer in dnp.masked_layers(ae)]
    dnp.mut_perturb_random(ae, amount=0.5, rng=np.random.default_rng(2))
    zeroed = [(layer.weight == 0) & (layer.weight_mask == 1) for layer in dnp.masked_layers(ae)]
    assert sum(int(z.sum()) for z in zeroed) > 0
    _train(ae)
    for layer, d, z in zip(dnp.masked_layers(ae), dead, zeroed):
        assert bool((layer.weight[d] == 0).all())
        assert bool((layer.weight[z] != 0).any())


def test_random_pruning_perturbs_instead_of_stopping_at_the_floor():
    ae = _pair()
    dnp.mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(0), min_capacity=0.6)
    at = dnp.capacity(ae)
    before = [layer.weight.detach().clone() for layer in dnp.masked_layers(ae)]
    stopped = [t.clone() for t in before]
    dnp.mut_prune_random(ae, amount=0.2, rng=np.random.default_rng(1), min_capacity=0.6)  # stop: no change
    assert dnp.capacity(ae) == at
    assert all(torch.equal(layer.weight, w) for layer, w in zip(dnp.masked_layers(ae), stopped))
    dnp.mut_prune_random(ae, amount=0.2, rng=np.random.default_rng(1), min_capacity=0.6, floor_action="perturb")
    assert dnp.capacity(ae) == at
    newly_zero = sum(int(((layer.weight == 0) & (w != 0)).sum()) for layer, w in zip(dnp.masked_layers(ae), before))
    alive = sum(int(layer.weight_mask.sum()) for layer in dnp.masked_layers(ae))
    assert newly_zero == pytest.approx(0.2 * alive, rel=0.1)


def test_bad_floor_action_is_named():
    with pytest.raises(ValueError, match=r"floor_action.*'regrow'"):
        dnp.mut_prune_random(_pair(), floor_action="regrow")
    with pytest.raises(ValueError, match=r"amount"):
        dnp.mut_perturb_random(_pair(), amount=1.5)


def test_floor_action_runs_from_the_cli_and_changes_the_run(tmp_path, capsys):
    tiny = ["--epochs", "4", "--trials", "1", "--quiet", "--set", "data.n_dim=16", "data.n_samples=20",
            "data.n_clusters=4", "algorithm.cells=3", "pruning.min_capacity=0.95", "pruning.p=1.0"]
    finals = {}
    for action in ("stop", "perturb"):
        out = tmp_path / action
        assert main(["run", "--preset", "ours-coevolution-random-exponential", *tiny,
                     f"pruning.floor_action={action}", "--out", str(out)]) == 0
        assert json.loads((out / "config.json").read_text())["config"]["pruning"]["floor_action"] == action
        finals[action] = pd.read_csv(out / "final.csv")
    assert finals["stop"].validation_l1[0] != finals["perturb"].validation_l1[0]
    assert main(["run", "--preset", "quick", "--set", "pruning.floor_action=regrow", "--out",
                 str(tmp_path / "bad")]) == 2
    assert "pruning.floor_action" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
