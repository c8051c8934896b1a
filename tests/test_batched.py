"""train_pairs and evaluate_pairs: many networks at once, bit-identical to one at a time."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

import deap_nnprune as dnp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deap_nnprune import _adam, batched
from deap_nnprune._masking import apply_keep
from deap_nnprune.batched import evaluate_pairs, train_pairs
from deap_nnprune.training import mut_train_pair

N_DIM = 16
TOLERANCE = 1e-5


def make_pairs(k, seed=0, n_dim=N_DIM, prune=True, **overrides):
    """k seeded pairs with different learning rates; some pruned, some already trained."""
    g = np.random.default_rng(seed)
    encoders, decoders = [], []
    for i in range(k):
        enc = dnp.MaskedMLP.from_preset("paper", n_dim, part="encoder", rng=g,
                                        learning_rate=float(g.uniform(1e-3, 1e-2)), **overrides)
        dec = dnp.MaskedMLP.from_preset("paper", n_dim, part="decoder", rng=g,
                                        learning_rate=float(g.uniform(1e-3, 1e-2)), **overrides)
        if prune and i % 2 == 0:
            for net in (enc, dec):
                for layer in net.layers:
                    apply_keep(layer, "weight", torch.from_numpy(g.random(layer.weight.shape) > 0.4))
                    apply_keep(layer, "bias", torch.from_numpy(g.random(layer.bias.shape) > 0.3))
        encoders.append(enc)
        decoders.append(dec)
    return encoders, decoders


def binary_rows(n, seed=1, n_dim=N_DIM):
    return (torch.rand(n, n_dim, generator=torch.Generator().manual_seed(seed)) > 0.5).float()


def warm_up(encoders, decoders, data):
    """Give each pair a different Adam step count and non-zero moments."""
    for k, (enc, dec) in enumerate(zip(encoders, decoders)):
        mut_train_pair(enc, dec, data, steps=k, rng=np.random.default_rng(100 + k))


def max_difference(nets_a, nets_b):
    worst = 0.0
    for a, b in zip(nets_a, nets_b):
        for (name_a, x), (name_b, y) in zip(a.state_dict().items(), b.state_dict().items()):
            assert name_a == name_b
            if isinstance(x, torch.Tensor):
                worst = max(worst, (x.double() - y.double()).abs().max().item())
    return worst


def train_both(encoders, decoders, datas, seeds, **kwargs):
    """train_pairs on the networks, the autograd engine on deep copies; return both sets."""
    enc_ref, dec_ref = copy.deepcopy(encoders), copy.deepcopy(decoders)
    train_pairs(encoders, decoders, datas, [np.random.default_rng(s) for s in seeds], **kwargs)
    for enc, dec, data, seed in zip(enc_ref, dec_ref, datas, seeds):
        mut_train_pair(enc, dec, data, rng=np.random.default_rng(seed), engine="autograd", **kwargs)
    return encoders + decoders, enc_ref + dec_ref


def same_bytes(nets_a, nets_b):
    """Every tensor of every network equal bit for bit (weights, masks, moments, step counts)."""
    for a, b in zip(nets_a, nets_b):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            if isinstance(x, torch.Tensor) and not torch.equal(x, y):
                return False
    return True


@pytest.fixture(params=["adam_per_rate", "one_adam_call", "foreach_fallback"])
def adam_path(request, monkeypatch):
    """Run a test with each Adam path: the CPU one, the GPU one (one fused call), the old-torch fallback."""
    monkeypatch.setattr(batched, "_ONE_ADAM_CALL", request.param == "one_adam_call")
    if request.param == "foreach_fallback":
        monkeypatch.setattr(batched, "has_fused_adam", lambda device_type: False)
        monkeypatch.setattr(_adam, "has_fused_adam", lambda device_type: False)
    return request.param


@pytest.mark.parametrize("kwargs", [
    {},
    {"epochs": 3},
    {"epochs": 2, "weight_decay": 0.01},
    {"epochs": 2, "optimizer_state": "fresh_per_batch"},
    {"epochs": 3, "lr_step_size": 7, "lr_gamma": 0.5},
    {"steps": 13, "lr": 3e-3, "batch_size": 4},
], ids=["default", "epochs", "weight_decay", "fresh_per_batch", "step_lr", "steps_and_lr"])
def test_train_pairs_agrees_with_the_autograd_engine(adam_path, kwargs):
    encoders, decoders = make_pairs(5)
    data = binary_rows(23)
    warm_up(encoders, decoders, data)
    batched_nets, reference = train_both(encoders, decoders, [data] * 5, range(5), **kwargs)
    assert max_difference(batched_nets, reference) < TOLERANCE
    for a, b in zip(batched_nets, reference):
        assert [int(layer.adam_step) for layer in a.layers] == [int(layer.adam_step) for layer in b.layers]


def test_pruned_weights_and_moments_stay_exactly_zero(adam_path):
    encoders, decoders = make_pairs(4)
    data = binary_rows(20)
    train_pairs(encoders, decoders, [data] * 4, [np.random.default_rng(k) for k in range(4)], epochs=3)
    for net in encoders + decoders:
        for layer in net.layers:
            for name in ("weight", "bias"):
                dead = getattr(layer, f"{name}_mask") == 0
                for suffix in ("", "_exp_avg", "_exp_avg_sq"):
                    assert torch.all(getattr(layer, name + suffix)[dead] == 0)
    assert any(bool((layer.weight_mask == 0).any()) for layer in encoders[0].layers)


def test_each_pair_trains_on_its_own_data(adam_path):
    encoders, decoders = make_pairs(3)
    datas = [binary_rows(15, seed=s) for s in (1, 2, 3)]
    batched_nets, reference = train_both(encoders, decoders, datas, [7, 8, 9], epochs=2)
    assert max_difference(batched_nets, reference) < TOLERANCE


def test_regrowth_mode_matches_mut_train_pair(adam_path):
    encoders, decoders = make_pairs(3, persistent_masks=False)
    zeroed = [layer.weight == 0 for layer in encoders[0].layers]
    assert all(bool(z.any()) for z in zeroed)
    data = binary_rows(20)
    batched_nets, reference = train_both(encoders, decoders, [data] * 3, range(3), epochs=2)
    assert max_difference(batched_nets, reference) < TOLERANCE
    regrown = [bool((layer.weight[z] != 0).any()) for layer, z in zip(encoders[0].layers, zeroed)]
    assert any(regrown)


def test_rngs_are_consumed_as_mut_train_pair_consumes_them():
    encoders, decoders = make_pairs(2)
    data = binary_rows(12)
    rngs = [np.random.default_rng(s) for s in (3, 4)]
    train_pairs(encoders, decoders, [data] * 2, rngs, epochs=2)
    for rng, seed in zip(rngs, (3, 4)):
        reference = np.random.default_rng(seed)
        enc, dec = make_pairs(1, seed=9)
        mut_train_pair(enc[0], dec[0], data, epochs=2, rng=reference)
        assert rng.random() == reference.random()


def test_small_chunks_give_the_same_result(monkeypatch):
    encoders, decoders = make_pairs(5)
    data = binary_rows(20)
    twins = copy.deepcopy((encoders, decoders))
    train_pairs(encoders, decoders, [data] * 5, [np.random.default_rng(k) for k in range(5)])
    monkeypatch.setattr(batched, "_CPU_CHUNK_BYTES", 1)
    train_pairs(*twins, [data] * 5, [np.random.default_rng(k) for k in range(5)])
    assert same_bytes(encoders + decoders, twins[0] + twins[1])


def test_different_architectures_are_batched_in_groups():
    enc_a, dec_a = make_pairs(2, seed=0)
    enc_b, dec_b = make_pairs(2, seed=1, latent=2)
    enc_c, dec_c = make_pairs(1, seed=2, activation=nn.Tanh)
    encoders, decoders = enc_a + enc_b + enc_c, dec_a + dec_b + dec_c
    batched_nets, reference = train_both(encoders, decoders, [binary_rows(20)] * 5, range(5), epochs=2)
    assert max_difference(batched_nets, reference) < TOLERANCE


def test_other_activations_and_no_bias_match_mut_train_pair():
    g = np.random.default_rng(0)
    encoders = [dnp.MaskedMLP((N_DIM, 8, 3), nn.ELU, nn.LeakyReLU, rng=g, learning_rate=5e-3) for _ in range(2)]
    decoders = [dnp.MaskedMLP((3, 8, N_DIM), nn.Softplus, nn.Sigmoid, bias=False, rng=g, learning_rate=5e-3)
                for _ in range(2)]
    batched_nets, reference = train_both(encoders, decoders, [binary_rows(20)] * 2, range(2), epochs=2)
    assert max_difference(batched_nets, reference) < TOLERANCE


def test_a_pruned_weight_edited_by_hand_is_zeroed_before_training():
    encoders, decoders = make_pairs(2)
    clean = copy.deepcopy((encoders, decoders))
    layer = encoders[0].layers[0]
    dead = layer.weight_mask == 0
    with torch.no_grad():
        layer.weight[dead] = 0.5     # invisible to the forward pass (it multiplies by the mask)
        layer.weight_exp_avg[dead] = 0.1
    data = binary_rows(20)
    for e, d in ((encoders, decoders), clean):
        train_pairs(e, d, [data] * 2, [np.random.default_rng(k) for k in range(2)], weight_decay=0.1)
    assert torch.all(layer.weight[dead] == 0) and torch.all(layer.weight_exp_avg[dead] == 0)
    assert same_bytes(encoders + decoders, clean[0] + clean[1])


def test_soft_masks_are_refused_with_the_way_out():
    encoders, decoders = make_pairs(2, prune=False)
    with torch.no_grad():
        decoders[1].layers[0].weight_mask[0, 0] = 0.5
    with pytest.raises(ValueError, match=r"pair 1: layer 2's weight_mask .*engine='autograd'"):
        train_pairs(encoders, decoders, [binary_rows(10)] * 2, [np.random.default_rng(0)] * 2)
    enc, dec = mut_train_pair(encoders[1], decoders[1], binary_rows(10), rng=np.random.default_rng(0),
                              engine="autograd")
    assert decoders[1].layers[0].weight_mask[0, 0] == 0.5


def test_mut_train_pair_is_the_engine_with_one_pair():
    encoders, decoders = make_pairs(3)
    data = binary_rows(20)
    warm_up(encoders, decoders, data)
    twins = copy.deepcopy((encoders, decoders))
    train_pairs(encoders, decoders, [data] * 3, [np.random.default_rng(k) for k in range(3)], epochs=2)
    for k, (enc, dec) in enumerate(zip(*twins)):
        mut_train_pair(enc, dec, data, epochs=2, rng=np.random.default_rng(k))
    assert same_bytes(encoders + decoders, twins[0] + twins[1])


def test_mut_train_is_the_engine_with_one_pair_and_refuses_other_modules():
    encoders, decoders = make_pairs(1)
    data = binary_rows(20)
    ae = dnp.MaskedAutoencoder(copy.deepcopy(encoders[0]), copy.deepcopy(decoders[0]))
    dnp.mut_train(ae, data, epochs=2, rng=np.random.default_rng(5))
    train_pairs(encoders, decoders, [data], [np.random.default_rng(5)], epochs=2)
    assert same_bytes([ae.encoder, ae.decoder], encoders + decoders)
    seq = nn.Sequential(dnp.MaskedLinear(N_DIM, 4), nn.ReLU(), dnp.MaskedLinear(4, N_DIM))
    with pytest.raises(ValueError, match="engine='autograd'"):
        dnp.mut_train(seq, data, lr=1e-3)
    before = seq[0].weight.clone()
    dnp.mut_train(seq, data, lr=1e-3, engine="autograd", rng=np.random.default_rng(0))
    assert not torch.equal(before, seq[0].weight)


ACTIVATION_PAIRS = [(nn.ReLU, nn.Sigmoid), (nn.Tanh, nn.Tanh), (nn.ELU, nn.Softplus)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cuts=st.lists(st.booleans(), min_size=6, max_size=6), activations=st.sampled_from(ACTIVATION_PAIRS),
       n_dim=st.sampled_from([13, 16, 37]), steps=st.integers(1, 6), fresh=st.booleans())
def test_partition_invariance_any_chunks_give_the_same_bytes(cuts, activations, n_dim, steps, fresh):
    """Seven pairs trained together, or split into any chunks (chunks of one included): the same bytes."""
    g = np.random.default_rng(n_dim)
    hidden, out = activations
    encoders = [dnp.MaskedMLP((n_dim, 9, 3), hidden, hidden, rng=g, learning_rate=float(g.uniform(1e-3, 1e-2)))
                for _ in range(7)]
    decoders = [dnp.MaskedMLP((3, 9, n_dim), hidden, out, rng=g, learning_rate=float(g.uniform(1e-3, 1e-2)))
                for _ in range(7)]
    for net in encoders[::2] + decoders[1::3]:
        for layer in net.layers:
            apply_keep(layer, "weight", torch.from_numpy(g.random(layer.weight.shape) > 0.3))
    data = binary_rows(17, n_dim=n_dim)
    kwargs = dict(steps=steps, batch_size=5, optimizer_state="fresh_per_batch" if fresh else "persistent")
    whole = copy.deepcopy((encoders, decoders))
    train_pairs(*whole, [data] * 7, [np.random.default_rng(k) for k in range(7)], **kwargs)
    bounds = [0] + [i + 1 for i, cut in enumerate(cuts) if cut] + [7]
    for a, b in zip(bounds[:-1], bounds[1:]):
        train_pairs(encoders[a:b], decoders[a:b], [data] * (b - a), [np.random.default_rng(k) for k in range(a, b)],
                    **kwargs)
    assert same_bytes(encoders + decoders, whole[0] + whole[1])
def test_batched_training_is_deterministic():
    runs = []
    for _ in range(2):
        encoders, decoders = make_pairs(4)
        train_pairs(encoders, decoders, [binary_rows(20)] * 4, [np.random.default_rng(k) for k in range(4)],
                    epochs=2)
        runs.append(encoders + decoders)
    for a, b in zip(*runs):
        for x, y in zip(a.state_dict().values(), b.state_dict().values()):
            if isinstance(x, torch.Tensor):
                assert torch.equal(x, y)


def test_no_steps_change_nothing():
    encoders, decoders = make_pairs(2)
    before = copy.deepcopy(encoders + decoders)
    pairs = train_pairs(encoders, decoders, [binary_rows(10)] * 2, [np.random.default_rng(0)] * 2, epochs=0)
    assert pairs == list(zip(encoders, decoders))
    assert max_difference(encoders + decoders, before) == 0.0
    assert train_pairs([], [], [], []) == []


def test_train_pairs_refuses_data_of_different_row_counts():
    encoders, decoders = make_pairs(2)
    with pytest.raises(ValueError, match=r"same number of rows.*\[10, 12\]"):
        train_pairs(encoders, decoders, [binary_rows(10), binary_rows(12)], [None, None])


def test_train_pairs_refuses_a_network_given_twice():
    encoders, decoders = make_pairs(2)
    with pytest.raises(ValueError, match=r"encoders\[1\] shares a module with encoders\[0\]"):
        train_pairs([encoders[0], encoders[0]], decoders, [binary_rows(10)] * 2, [None, None])


@pytest.mark.parametrize("argument", ["decoders", "datas", "rngs"])
def test_train_pairs_refuses_lists_of_different_lengths(argument):
    encoders, decoders = make_pairs(2)
    arguments = {"decoders": decoders, "datas": [binary_rows(10)] * 2, "rngs": [None, None]}
    arguments[argument] = arguments[argument][:1]
    with pytest.raises(ValueError, match=f"{argument} has 1 entries but encoders has 2"):
        train_pairs(encoders, **arguments)


def test_train_pairs_names_the_bad_argument():
    encoders, decoders = make_pairs(2)
    with pytest.raises(TypeError, match=r"decoders\[1\] must be a MaskedMLP"):
        train_pairs(encoders, [decoders[0], "x"], [binary_rows(10)] * 2, [None, None])
    with pytest.raises(ValueError, match=r"datas\[1\] has width 8"):
        train_pairs(encoders, decoders, [binary_rows(10), binary_rows(10, n_dim=8)], [None, None])
    with pytest.raises(TypeError, match=r"rngs\[0\] must be a numpy.random.Generator"):
        train_pairs(encoders, decoders, [binary_rows(10)] * 2, [1, 2])


def test_evaluate_pairs_equals_the_pairwise_loop():
    encoders, decoders = make_pairs(4)
    warm_up(encoders, decoders, binary_rows(20))
    data = binary_rows(30, seed=5)
    scores = evaluate_pairs(encoders, decoders[:3], data)
    assert scores.shape == (4, 3) and scores.dtype == torch.float64
    for i, enc in enumerate(encoders):
        for j, dec in enumerate(decoders[:3]):
            assert scores[i, j].item() == pytest.approx(dnp.evaluate_pair(enc, dec, data)[0], abs=1e-6)


def test_evaluate_pairs_groups_different_architectures():
    enc_a, dec_a = make_pairs(2, seed=0)
    enc_b, dec_b = make_pairs(1, seed=1, activation=nn.Tanh)
    encoders, decoders, data = enc_a + enc_b, dec_a + dec_b, binary_rows(9)
    scores = evaluate_pairs(encoders, decoders, data)
    for i, enc in enumerate(encoders):
        for j, dec in enumerate(decoders):
            assert scores[i, j].item() == pytest.approx(dnp.evaluate_pair(enc, dec, data)[0], abs=1e-6)


def test_evaluate_pairs_scores_a_non_finite_output_inf():
    encoders, decoders = make_pairs(2)
    with torch.no_grad():
        decoders[1].layers[0].bias.fill_(float("nan"))
    with pytest.warns(dnp.NonFiniteOutputWarning):
        scores = evaluate_pairs(encoders, decoders, binary_rows(8))
    assert math.isinf(scores[0, 1]) and math.isinf(scores[1, 1])
    assert math.isfinite(scores[0, 0]) and math.isfinite(scores[1, 0])


def test_evaluate_pairs_refuses_mismatched_widths():
    encoders, decoders = make_pairs(1)
    with pytest.raises(ValueError, match="data has width 8"):
        evaluate_pairs(encoders, decoders, binary_rows(4, n_dim=8))
    small, _ = make_pairs(1, latent=2)
    with pytest.raises(ValueError, match=r"encoders\[1\] .* and decoders\[0\]"):
        evaluate_pairs(encoders + small, decoders, binary_rows(4))
