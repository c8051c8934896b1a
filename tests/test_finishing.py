"""Perturb, then compress: freeze_masks, mut_prune_finetune and the runs' ``finish`` step."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn.utils import prune

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.config import FinishConfig, from_dict, to_dict
from deap_nnprune.experiments.models import load_model
from deap_nnprune.experiments.outputs import FINAL_COLUMNS, FINISH_COLUMNS
from deap_nnprune.experiments.presets import PRESETS, get_preset
from deap_nnprune.experiments.report import network_steps

N_DIM = 16
TINY = ["--epochs", "4", "--trials", "2", "--quiet", "--set", f"data.n_dim={N_DIM}", "data.n_samples=20"]


def _data():
    return dnp.datasets.binary_clustering(n_samples=40, n_dim=N_DIM, n_clusters=4, seed=0)


def _regrown(seed=0):
    """A regrowth-mode autoencoder, trained, pruned once (some weights are zero), then trained again."""
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, learning_rate=1e-3,
                                           rng=np.random.default_rng(seed))
    data = _data().train
    dnp.mut_train(ae, data, epochs=2, rng=np.random.default_rng(seed))
    dnp.mut_prune_random(ae, amount=0.3, min_alive=0, rng=np.random.default_rng(seed))
    return ae


def _tensors(module):
    return {k: v.clone() for k, v in module.state_dict().items() if isinstance(v, torch.Tensor)}


def test_freeze_masks_makes_the_zero_entries_of_a_regrowth_network_dead_for_good():
    ae = _regrown()
    zero = [(layer.weight == 0).clone() for layer in dnp.masked_layers(ae)]
    assert any(bool(z.any()) for z in zero) and not ae.encoder.layers[0].persistent_masks
    dnp.freeze_masks(ae)
    for layer, z in zip(dnp.masked_layers(ae), zero):
        assert layer.persistent_masks and torch.equal(layer.weight_mask == 0, z)
    dnp.mut_train(ae, _data().train, epochs=2, rng=np.random.default_rng(1))  # regrowth would refill them
    for layer, z in zip(dnp.masked_layers(ae), zero):
        assert bool((layer.weight[z] == 0).all()) and bool((layer.weight[~z] != 0).all())


def test_freeze_masks_leaves_a_persistent_network_as_it_is():
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae, amount=0.4, min_alive=0, rng=np.random.default_rng(0))
    before = _tensors(ae)
    dnp.freeze_masks(ae)
    assert all(torch.equal(before[k], v) for k, v in _tensors(ae).items())


def test_weights_to_prune_counts_weights_and_biases_but_prunes_weights_only():
    net = dnp.MaskedMLP((10, 4))  # 40 weights + 4 biases
    assert dnp.weights_to_prune(net, 0.5) == 44 - 22
    assert dnp.weights_to_prune(net, 1.0) == 0
    assert dnp.weights_to_prune(net, 0.0) == 40  # biases cannot go
    with pytest.raises(ValueError, match="capacity"):
        dnp.weights_to_prune(net, 1.5)


def test_prune_finetune_reaches_the_capacity_by_global_magnitude_like_torch():
    ae = _regrown()
    linears = [nn.Linear(layer.in_features, layer.out_features) for layer in dnp.masked_layers(ae)]
    with torch.no_grad():
        for linear, layer in zip(linears, dnp.masked_layers(ae)):
            linear.weight.copy_(layer.weight)
    count = dnp.weights_to_prune(ae, 0.4)  # the zeros of the regrowth net count as dead already
    zeros = sum(int((linear.weight == 0).sum()) for linear in linears)
    prune.global_unstructured([(linear, "weight") for linear in linears], pruning_method=prune.L1Unstructured,
                              amount=zeros + count)
    dnp.mut_prune_finetune(ae, _data().train, capacity=0.4, epochs=0, min_alive=0)
    alive, total = dnp.count_alive(ae)
    assert alive == math.floor(0.4 * total) and dnp.capacity(ae) <= 0.4
    for linear, layer in zip(linears, dnp.masked_layers(ae)):
        assert torch.equal(linear.weight_mask, layer.weight_mask)


def test_fine_tuning_repairs_the_prune_and_keeps_the_dead_dead():
    data = _data()
    pruned, tuned = _regrown(), _regrown()
    dnp.mut_prune_finetune(pruned, data.train, capacity=0.3, epochs=0, lr=1e-3)
    dnp.mut_prune_finetune(tuned, data.train, capacity=0.3, epochs=8, lr=1e-3, rng=np.random.default_rng(0))
    for a, b in zip(dnp.masked_layers(pruned), dnp.masked_layers(tuned)):
        assert torch.equal(a.weight_mask, b.weight_mask)  # the same weights die
        assert bool((b.weight[b.weight_mask == 0] == 0).all())
    assert dnp.evaluate_l1(tuned, data.train)[0] < dnp.evaluate_l1(pruned, data.train)[0]
    assert int(tuned.encoder.layers[0].adam_step) == 8 * math.ceil(data.train.shape[0] / 5)  # a fresh Adam


def test_no_layer_is_cut_off_even_at_a_low_capacity():
    ae = dnp.MaskedAutoencoder.from_preset("paper", 1000, rng=np.random.default_rng(0))  # untrained: layer 0 smallest
    dnp.mut_prune_finetune(ae, torch.zeros(5, 1000), capacity=0.05, epochs=0)
    for layer in dnp.masked_layers(ae):
        assert int(layer.weight_mask.reshape(layer.out_features, -1).any(axis=1).sum()) >= 1
    plain = dnp.MaskedAutoencoder.from_preset("paper", 1000, rng=np.random.default_rng(0))
    dnp.mut_prune_magnitude(plain, dnp.weights_to_prune(plain, 0.05), min_alive=0, scope="global")
    assert not bool(plain.encoder.layers[0].weight_mask.any())  # without the spare weights: cut off


def test_the_fresh_adam_starts_from_zero_moments():
    ae = _regrown()
    dnp.mut_prune_finetune(ae, _data().train, capacity=0.6, epochs=0)
    for layer in dnp.masked_layers(ae):
        assert int(layer.adam_step) == 0
        for name, _ in dnp.maskable_entries(layer):
            assert all(float(m.abs().sum()) == 0.0 for m in layer.moments(name))


def test_the_capacity_target_is_rounded_down():
    net = dnp.MaskedMLP((10, 4))  # 44 entries: 0.55 * 44 = 24.2 -> keep 24; 0.57 * 44 = 25.08 -> keep 25
    for target, keep in ((0.55, 24), (0.57, 25), (0.5114, 22)):  # 22.5 would round up to 23
        assert 44 - dnp.weights_to_prune(net, target) == keep


def test_prune_finetune_is_reproducible_and_names_bad_arguments():
    data = _data().train
    a, b = _regrown(), _regrown()
    for ae in (a, b):
        dnp.mut_prune_finetune(ae, data, capacity=0.5, epochs=2, lr=1e-3, rng=np.random.default_rng(7))
    assert all(torch.equal(x, y) for x, y in zip(_tensors(a).values(), _tensors(b).values()))
    for bad, match in [(dict(capacity=1.5), "capacity"), (dict(capacity=0.0), "capacity"), (dict(epochs=-1), "epochs"),
                       (dict(lr=0.0), "lr")]:
        with pytest.raises(ValueError, match=match):
            dnp.mut_prune_finetune(_regrown(), data, **bad)


def test_finish_config_checks_its_fields_and_old_runs_read_with_it_off():
    with pytest.raises(ValueError, match=r"finish\.capacity"):
        FinishConfig(capacity=2.0)
    with pytest.raises(ValueError, match=r"finish\.epochs"):
        FinishConfig(epochs=-3)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match=r"finish\.lr"):
            FinishConfig(lr=bad)
    assert not FinishConfig().enabled and FinishConfig(epochs=1).enabled and FinishConfig(capacity=0.9).enabled
    old = to_dict(get_preset("quick"))
    del old["finish"]  # a config.json written before the section existed
    assert from_dict(old) == get_preset("quick")


def _run(tmp_path, name, *settings, flags=()):
    out = tmp_path / name
    assert main(["run", "--preset", "quick", *flags, "--out", str(out), *TINY, *settings]) == 0
    return out, pd.read_csv(out / "final.csv")


@pytest.mark.parametrize("algorithm", ["coevolution", "canonical"])
def test_a_run_with_a_finishing_step_reports_before_and_after(tmp_path, algorithm):
    plain_out, plain = _run(tmp_path, "plain", f"algorithm.name={algorithm}", "network.persistent_masks=false")
    out, final = _run(tmp_path, "finished", f"algorithm.name={algorithm}", "network.persistent_masks=false",
                      "finish.capacity=0.4", "finish.epochs=3", "finish.lr=1e-3")
    assert tuple(plain.columns) == FINAL_COLUMNS and tuple(final.columns) == FINAL_COLUMNS + FINISH_COLUMNS
    # the evolution is the same run; the finishing step starts from its result
    assert np.array_equal(final.unfinished_test_l1, plain.test_l1)
    assert np.array_equal(final.unfinished_capacity, plain.capacity)
    assert np.array_equal(final.paper_capacity, plain.paper_capacity)
    assert (final.capacity <= 0.4).all() and (plain.capacity > 0.4).all()
    assert pd.read_csv(out / "epochs.csv").equals(pd.read_csv(plain_out / "epochs.csv"))
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["finish"] == {"capacity": 0.4, "epochs": 3, "lr": 1e-3}
    batches = math.ceil(20 / 5)
    assert network_steps(config) == network_steps(json.loads((plain_out / "config.json").read_text())["config"]) \
        + 3 * batches
    data = dnp.datasets.binary_clustering(n_samples=20, n_dim=N_DIM, n_clusters=10, seed=0)
    for trial in final.trial:  # validation L1 is the finished model's, like test L1
        model = load_model(out, int(trial))
        with torch.no_grad():
            for column, rows in (("validation_l1", data.validation), ("test_l1", data.test)):
                assert float((model(rows) - rows).abs().mean()) == pytest.approx(final[column][trial], abs=1e-6)
    if algorithm == "coevolution":  # the saved model is compacted: dead units are gone
        def size(folder):
            return sum(int((p != 0).sum()) for p in load_model(folder, 0).parameters())
        assert size(out) < size(plain_out)


def test_the_finish_step_trains_at_its_own_rate(tmp_path):
    _, slow = _run(tmp_path, "slow", "finish.capacity=0.5", "finish.epochs=2", "finish.lr=1e-4")
    _, fast = _run(tmp_path, "fast", "finish.capacity=0.5", "finish.epochs=2", "finish.lr=3e-3")
    assert np.array_equal(slow.unfinished_test_l1, fast.unfinished_test_l1)
    assert not np.array_equal(slow.test_l1, fast.test_l1)


def test_finished_runs_are_the_same_batched_and_serial(tmp_path):
    finish = ["finish.capacity=0.5", "finish.epochs=2"]
    _, serial = _run(tmp_path, "serial", *finish)
    _, batched = _run(tmp_path, "batched", *finish, flags=["--batch-trials"])
    assert serial.equals(batched)


def test_a_bad_finish_setting_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "bad"
    assert main(["run", "--preset", "quick", "--out", str(out), *TINY, "finish.capacity=1.2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "finish.capacity" in err[0] and "1.2" in err[0] and not out.exists()


def test_the_regrow_then_prune_preset_is_the_headline_row_with_our_selection_and_a_finishing_step():
    ours, headline = PRESETS["ours-regrow-then-prune-35"], PRESETS["paper-coevolution-random-exponential"]
    assert ours.finish.capacity == 0.35 and ours.finish.epochs > 0 and not headline.finish.enabled
    for section in ("data", "network", "pruning"):
        assert getattr(ours, section) == getattr(headline, section)
    assert ours.algorithm.cells == headline.algorithm.cells and ours.algorithm.epochs == headline.algorithm.epochs
    assert ours.training.lr == headline.training.lr and ours.training.optimizer_state == "fresh_per_batch"


def test_the_perturbation_baseline_then_prune_is_one_network_with_the_same_finishing_step():
    baseline, ours = PRESETS["baseline-perturbation-then-prune-35"], PRESETS["ours-regrow-then-prune-35"]
    assert baseline.finish == ours.finish
    assert baseline.algorithm.name == "canonical" and not baseline.network.persistent_masks
    assert baseline.pruning == PRESETS["baseline-perturbation"].pruning


def test_the_digits_then_prune_rows_keep_the_digits_compute():
    steps = [network_steps(to_dict(PRESETS[name])) for name in
             ("baseline-digits-dense", "baseline-digits-dense-then-prune-50", "ours-digits-mlp",
              "ours-digits-mlp-then-prune-50")]
    assert len(set(steps)) == 1 and steps[0] is not None
    for name in ("baseline-digits-dense-then-prune-50", "ours-digits-mlp-then-prune-50"):
        assert PRESETS[name].finish.capacity == 0.5 and PRESETS[name].data.source == "digits"


def test_the_mnist1d_rows_share_one_compute_and_their_digits_rows_settings():
    names = ("baseline-mnist1d-dense", "baseline-mnist1d-gmp-50", "baseline-mnist1d-dense-then-prune-50",
             "ours-mnist1d-mlp", "ours-mnist1d-mlp-then-prune-50")
    configs = [PRESETS[name] for name in names]
    assert {c.data.source for c in configs} == {"mnist1d"}
    steps = {network_steps(to_dict(c)) for c in configs}
    assert len(steps) == 1 and None not in steps
    assert PRESETS["ours-mnist1d-mlp"].pruning == PRESETS["ours-digits-mlp"].pruning
    assert PRESETS["baseline-mnist1d-dense-then-prune-50"].finish.capacity == 0.5
