"""mut_train, mut_train_pair, mut_learning_rate: DEAP-shaped training operators."""

import copy
import pickle

import numpy as np
import pytest
import torch
from deap import creator

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep

N_DIM = 16


def _data(rows=40, seed=0):
    return dnp.datasets.binary_clustering(n_samples=rows, n_dim=N_DIM, n_clusters=4, seed=seed).train


def _params(module):
    return [t.detach().clone() for t in module.state_dict().values() if isinstance(t, torch.Tensor)]


def test_returns_same_individual_and_leaves_fitness(individual):
    individual.fitness.values = (1.0,)
    result = dnp.mut_train(individual, _data(), rng=np.random.default_rng(0))
    assert isinstance(result, tuple) and len(result) == 1 and result[0] is individual
    assert individual.fitness.values == (1.0,)


def test_training_lowers_l1(ae):
    data = _data()
    ae.learning_rate = 1e-2
    before = dnp.evaluate_l1(ae, data)[0]
    dnp.mut_train(ae, data, epochs=10, rng=np.random.default_rng(0))
    assert dnp.evaluate_l1(ae, data)[0] < before - 0.05


def test_matches_torch_adam_with_weight_decay(ae):
    data = _data()
    reference = copy.deepcopy(ae)
    dnp.mut_train(ae, data, epochs=2, lr=1e-2, weight_decay=0.01, rng=np.random.default_rng(3))
    optimizer = torch.optim.Adam(reference.parameters(), lr=1e-2, betas=(0.5, 0.999), weight_decay=0.01)
    for rows in dnp.batch_order(data.shape[0], 5, epochs=2, rng=np.random.default_rng(3)):
        batch = data[torch.from_numpy(rows)]
        loss = (reference(batch) - batch).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for ours, theirs in zip(ae.parameters(), reference.parameters()):
        torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=1e-5)


def test_pruned_entries_stay_zero_through_training(ae):
    layer = ae.encoder.layers[0]
    keep = torch.rand(layer.weight.shape, generator=torch.Generator().manual_seed(1)) > 0.5
    dnp.mut_train(ae, _data(), lr=1e-2, rng=np.random.default_rng(0))  # moments become non-zero first
    apply_keep(layer, "weight", keep)
    dnp.mut_train(ae, _data(), epochs=5, lr=1e-2, weight_decay=0.1, rng=np.random.default_rng(1))
    assert torch.all(layer.weight[~keep] == 0)
    assert torch.all(layer.weight_exp_avg[~keep] == 0)


def test_regrowth_compatibility_mode_lets_pruned_weights_grow_back():
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    layer = ae.encoder.layers[0]
    keep = torch.zeros(layer.weight.shape, dtype=torch.bool)
    keep[:, 0] = True
    apply_keep(layer, "weight", keep)
    assert torch.all(layer.weight[~keep] == 0)
    dnp.mut_train(ae, _data(), epochs=2, lr=1e-2, rng=np.random.default_rng(0))
    assert (layer.weight[~keep] != 0).float().mean() > 0.5


def test_adam_state_survives_pickle_and_training_continues_identically(ae):
    data = _data()  # 40 rows: one epoch is 8 batches, one permutation
    uninterrupted = copy.deepcopy(ae)
    dnp.mut_train(uninterrupted, data, epochs=2, lr=1e-2, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    dnp.mut_train(ae, data, epochs=1, lr=1e-2, rng=rng)
    revived = pickle.loads(pickle.dumps(ae))
    assert int(revived.encoder.layers[0].adam_step) == 8
    assert torch.count_nonzero(revived.encoder.layers[0].weight_exp_avg_sq) > 0
    dnp.mut_train(revived, data, epochs=1, lr=1e-2, rng=rng)
    for a, b in zip(_params(revived), _params(uninterrupted)):
        assert torch.equal(a, b)


def test_fresh_per_batch_restarts_adam_every_batch(ae):
    data = _data()
    dnp.mut_train(ae, data, steps=3, lr=1e-2, optimizer_state="fresh_per_batch", rng=np.random.default_rng(0))
    # With a fresh Adam each step, every update has magnitude ~lr on entries with a non-zero gradient.
    probe = copy.deepcopy(ae)
    batch = data[:5]
    before = probe.decoder.layers[-1].bias.detach().clone()
    dnp.mut_train(probe, batch, steps=1, batch_size=5, lr=1e-2, optimizer_state="fresh_per_batch",
                  rng=np.random.default_rng(0))
    change = (probe.decoder.layers[-1].bias - before).abs()
    torch.testing.assert_close(change[change > 0], torch.full_like(change[change > 0], 1e-2), atol=1e-6, rtol=1e-3)


def test_step_lr_divides_rate_every_step_size_steps(ae):
    data = _data(rows=20)
    a, b = copy.deepcopy(ae), copy.deepcopy(ae)
    dnp.mut_train(a, data, steps=8, lr=1e-2, lr_step_size=4, lr_gamma=0.1, rng=np.random.default_rng(0))
    dnp.mut_train(b, data, steps=4, lr=1e-2, rng=np.random.default_rng(0))
    # the first four steps are identical; the last four move 10x less than an unscheduled run would
    c = copy.deepcopy(ae)
    dnp.mut_train(c, data, steps=8, lr=1e-2, rng=np.random.default_rng(0))
    moved_scheduled = (a.encoder.layers[0].weight - b.encoder.layers[0].weight).abs().sum()
    moved_plain = (c.encoder.layers[0].weight - b.encoder.layers[0].weight).abs().sum()
    assert moved_scheduled < 0.2 * moved_plain


def test_steps_counts_mini_batches(ae):
    dnp.mut_train(ae, _data(), steps=7, rng=np.random.default_rng(0))
    assert int(ae.encoder.layers[0].adam_step) == 7
    assert int(ae.decoder.layers[-1].adam_step) == 7


def test_same_rng_same_result_different_rng_different(ae):
    a, b, c = copy.deepcopy(ae), copy.deepcopy(ae), copy.deepcopy(ae)
    for net, seed in ((a, 1), (b, 1), (c, 2)):
        dnp.mut_train(net, _data(), lr=1e-2, rng=np.random.default_rng(seed))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), c.parameters()))


def test_train_pair_keeps_each_halfs_own_state():
    rng = np.random.default_rng(0)
    enc = creator.Encoder.from_preset("paper", N_DIM, "encoder", rng=rng, learning_rate=1e-2)
    dec1 = creator.Decoder.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=1e-2)
    dec2 = creator.Decoder.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=1e-3)
    result = dnp.mut_train_pair(enc, dec1, _data(), rng=np.random.default_rng(1))
    assert result[0] is enc and result[1] is dec1
    dnp.mut_train_pair(enc, dec2, _data(), rng=np.random.default_rng(2))
    assert int(enc.layers[0].adam_step) == 16
    assert int(dec1.layers[0].adam_step) == 8 and int(dec2.layers[0].adam_step) == 8


def test_train_pair_uses_each_halfs_learning_rate():
    rng = np.random.default_rng(0)
    enc = dnp.MaskedMLP.from_preset("paper", N_DIM, "encoder", rng=rng, learning_rate=1e-2)
    dec = dnp.MaskedMLP.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=1e-9)
    dec_before = copy.deepcopy(dec)
    dnp.mut_train_pair(enc, dec, _data(), steps=1, rng=np.random.default_rng(0))
    moved = max((a - b).abs().max().item() for a, b in zip(dec.parameters(), dec_before.parameters()))
    assert moved < 1e-8


def test_learning_rate_mutation_is_clamped_and_seeded():
    net = dnp.MaskedMLP((4, 2), learning_rate=1e-3)
    dnp.mut_learning_rate(net, sigma=100.0, low=1e-9, high=10.0, rng=np.random.default_rng(0))
    assert net.learning_rate in (1e-9, 10.0)
    a, b = dnp.MaskedMLP((4, 2)), dnp.MaskedMLP((4, 2))
    dnp.mut_learning_rate(a, rng=np.random.default_rng(3))
    dnp.mut_learning_rate(b, rng=np.random.default_rng(3))
    assert a.learning_rate == b.learning_rate != 1e-3


def test_learning_rate_mutation_sets_both_halves_of_an_autoencoder(ae):
    dnp.mut_learning_rate(ae, sigma=1e-4, rng=np.random.default_rng(0))
    assert ae.encoder.learning_rate == ae.decoder.learning_rate != dnp.DEFAULT_LEARNING_RATE


@pytest.mark.parametrize(
    "kwargs, error, pattern",
    [
        (dict(epochs=-1), ValueError, r"epochs.*-1"),
        (dict(batch_size=0), ValueError, r"batch_size.*0"),
        (dict(lr=0.0), ValueError, r"lr.*0\.0"),
        (dict(lr=float("nan")), ValueError, r"lr.*nan"),
        (dict(lr=-1e-3), ValueError, r"lr.*-0\.001"),
        (dict(steps=-2), ValueError, r"steps.*-2"),
        (dict(optimizer_state="rebuild"), ValueError, r"optimizer_state.*rebuild"),
        (dict(betas=(1.5, 0.9)), ValueError, r"betas\[0\].*1\.5"),
    ],
)
def test_bad_training_arguments_are_refused(ae, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        dnp.mut_train(ae, _data(), **kwargs)


def test_wrong_data_width_is_refused(ae):
    with pytest.raises(ValueError, match=r"width 5.*16"):
        dnp.mut_train(ae, torch.rand(10, 5))


def test_empty_data_is_refused(ae):
    with pytest.raises(ValueError, match="no rows"):
        dnp.mut_train(ae, torch.rand(0, N_DIM))


def test_module_without_masked_layers_is_refused():
    with pytest.raises(TypeError, match="Linear"):
        dnp.mut_train(torch.nn.Linear(4, 4), torch.rand(3, 4))


@pytest.mark.parametrize(
    "kwargs, pattern",
    [(dict(sigma=-1.0), r"sigma.*-1\.0"), (dict(low=1.0, high=0.5), r"low.*1\.0.*high.*0\.5"), (dict(low=0.0), r"low.*0\.0")],
)
def test_bad_learning_rate_mutation_arguments_are_refused(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        dnp.mut_learning_rate(dnp.MaskedMLP((4, 2)), **kwargs)
