"""compact: dead neurons removed for real, outputs unchanged."""

import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep, masked_layers

ATOL = 1e-5


def n_parameters(module):
    return sum(p.numel() for p in module.parameters())


def inputs(width, seed=0):
    return torch.rand(32, width, generator=torch.Generator().manual_seed(seed))


def assert_same_outputs(masked, small):
    x = inputs(masked.in_features)
    with torch.no_grad():
        torch.testing.assert_close(small(x), masked(x), rtol=0, atol=ATOL)


def kill_rows(layer, rows, bias=True):
    keep = torch.ones(layer.out_features, dtype=torch.bool)
    keep[list(rows)] = False
    apply_keep(layer, "weight", keep.unsqueeze(1).expand_as(layer.weight))
    if bias:
        apply_keep(layer, "bias", keep)


def kill_columns(layer, columns):
    keep = torch.ones(layer.in_features, dtype=torch.bool)
    keep[list(columns)] = False
    apply_keep(layer, "weight", keep.unsqueeze(0).expand_as(layer.weight))


def linear_widths(module):
    return [m.out_features for m in module.modules() if isinstance(m, nn.Linear)]


@pytest.fixture
def mlp():
    return dnp.MaskedMLP((12, 10, 8, 6), nn.ReLU, nn.Sigmoid, rng=np.random.default_rng(0))


@pytest.fixture
def paper_ae():
    return dnp.MaskedAutoencoder.from_preset("paper", n_dim=16, rng=np.random.default_rng(0))


def test_compact_of_unpruned_mlp_keeps_every_neuron_and_the_outputs(mlp):
    small = compact_quietly(mlp)
    assert linear_widths(small) == [10, 8, 6]
    assert n_parameters(small) == n_parameters(mlp)
    assert_same_outputs(mlp, small)


def test_compact_returns_plain_torch_modules(mlp):
    small = compact_quietly(mlp)
    assert isinstance(small, nn.Sequential)
    assert not any(isinstance(m, dnp.MaskedLinear) for m in small.modules())
    assert not list(small.buffers())


def test_compact_after_killing_whole_neurons_removes_them(mlp):
    kill_rows(mlp.layers[0], [0, 3, 4])
    kill_rows(mlp.layers[1], [7])
    small = compact_quietly(mlp)
    assert linear_widths(small) == [7, 7, 6]
    assert n_parameters(small) < n_parameters(mlp)
    assert_same_outputs(mlp, small)


def test_compact_after_killing_all_outgoing_weights_of_a_neuron_removes_it(mlp):
    kill_columns(mlp.layers[1], [2, 5])  # hidden units 2 and 5 of layer 0 feed nothing
    small = compact_quietly(mlp)
    assert linear_widths(small) == [8, 8, 6]
    assert n_parameters(small) < n_parameters(mlp)
    assert_same_outputs(mlp, small)


def test_compact_folds_the_constant_of_a_dead_input_neuron_with_alive_bias(mlp):
    kill_rows(mlp.layers[0], [1], bias=False)
    with torch.no_grad():
        mlp.layers[0].bias[1] = 0.8  # ReLU passes it: a constant 0.8 flows on
    small = compact_quietly(mlp)
    assert linear_widths(small) == [9, 8, 6]
    assert_same_outputs(mlp, small)


def test_compact_folds_constants_through_a_sigmoid_hidden_layer():
    net = dnp.MaskedMLP((6, 5, 4, 3), nn.Sigmoid, None, rng=np.random.default_rng(1))
    kill_rows(net.layers[0], [0, 2], bias=False)  # sigmoid(bias) ≠ 0 whatever the bias
    kill_rows(net.layers[1], [1])
    small = compact_quietly(net)
    assert linear_widths(small) == [3, 3, 3]
    assert n_parameters(small) < n_parameters(net)
    assert_same_outputs(net, small)


def test_compact_folds_sigmoid_of_zero_for_a_dead_neuron_without_bias():
    net = dnp.MaskedMLP((6, 5, 3), nn.Sigmoid, None, bias=False, rng=np.random.default_rng(2))
    kill_rows(net.layers[0], [4], bias=False)  # emits sigmoid(0) = 0.5
    small = compact_quietly(net)
    assert linear_widths(small) == [4, 3]
    assert_same_outputs(net, small)


def test_compact_with_all_but_one_neuron_of_a_layer_dead(mlp):
    kill_rows(mlp.layers[1], range(1, 8))
    small = compact_quietly(mlp)
    assert linear_widths(small)[1] == 1
    assert n_parameters(small) < n_parameters(mlp)
    assert_same_outputs(mlp, small)


def test_compact_cascades_through_neurons_fed_only_by_dead_ones():
    net = dnp.MaskedMLP((6, 4, 4, 2), nn.ReLU, None, rng=np.random.default_rng(3))
    kill_rows(net.layers[0], [0, 1])  # hidden-1 units 0 and 1 are dead
    keep = torch.ones(4, 4, dtype=torch.bool)
    keep[:2, 2:] = False  # hidden-2 units 0 and 1 read only the dead units
    apply_keep(net.layers[1], "weight", keep)
    small = compact_quietly(net)
    assert linear_widths(small) == [2, 2, 2]
    assert_same_outputs(net, small)


def test_compact_of_autoencoder_removes_dead_latent_units(paper_ae):
    kill_rows(paper_ae.encoder.layers[1], [0, 4, 9])
    small = compact_quietly(paper_ae)
    assert isinstance(small, dnp.CompactAutoencoder)
    assert small.encode(inputs(16)).shape == (32, 7)
    assert n_parameters(small) < n_parameters(paper_ae)
    assert_same_outputs(paper_ae, small)


def test_compact_of_autoencoder_removes_latent_units_the_decoder_ignores(paper_ae):
    kill_columns(paper_ae.decoder.layers[0], [1, 2])
    small = compact_quietly(paper_ae)
    assert small.encode(inputs(16)).shape == (32, 8)
    assert_same_outputs(paper_ae, small)


def test_compact_autoencoder_decode_of_encode_is_its_forward(paper_ae):
    kill_rows(paper_ae.decoder.layers[0], [3, 5])
    small = compact_quietly(paper_ae)
    x = inputs(16)
    with torch.no_grad():
        torch.testing.assert_close(small.decode(small.encode(x)), small(x))


def test_compact_keeps_input_and_output_widths(paper_ae):
    kill_columns(paper_ae.encoder.layers[0], [0, 1, 2])  # inputs 0-2 unused
    small = compact_quietly(paper_ae)
    assert small(inputs(16)).shape == (32, 16)
    assert_same_outputs(paper_ae, small)


def test_compact_does_not_change_the_original(mlp):
    kill_rows(mlp.layers[0], [2])
    before = copy.deepcopy(mlp.state_dict())
    compact_quietly(mlp)
    after = mlp.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if not k.endswith("_extra_state"))


def test_compact_of_regrowth_mode_network_removes_zeroed_neurons():
    net = dnp.MaskedMLP((6, 5, 3), persistent_masks=False, rng=np.random.default_rng(4))
    with torch.no_grad():
        net.layers[0].weight[2] = 0.0
        net.layers[0].bias[2] = 0.0
    small = compact_quietly(net)
    assert linear_widths(small) == [4, 3]
    assert_same_outputs(net, small)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), p_row=st.floats(0.0, 0.9), p_entry=st.floats(0.0, 0.9))
def test_compact_of_randomly_pruned_autoencoder_matches_and_never_grows(seed, p_row, p_entry):
    rng = np.random.default_rng(seed)
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=8, hidden=(6,), latent=4, rng=rng)
    for layer in masked_layers(ae):
        rows = torch.from_numpy(rng.random(layer.out_features) >= p_row)
        entries = torch.from_numpy(rng.random(tuple(layer.weight.shape)) >= p_entry)
        apply_keep(layer, "weight", entries & rows.unsqueeze(1))
        apply_keep(layer, "bias", torch.from_numpy(rng.random(layer.out_features) >= p_entry))
    small = compact_quietly(ae)
    assert n_parameters(small) <= n_parameters(ae)
    assert_same_outputs(ae, small)


def test_compact_refuses_a_module_that_is_not_masked():
    with pytest.raises(TypeError, match=r"compact expects a MaskedMLP or MaskedAutoencoder, got Linear"):
        dnp.compact(nn.Linear(3, 2))


def compact_quietly(module):
    """compact, ignoring torch's warning about initialising zero-width layers."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
        return dnp.compact(module)


def test_compact_with_every_neuron_of_a_layer_dead_gives_the_constant_output(mlp):
    kill_rows(mlp.layers[0], range(10))
    small = compact_quietly(mlp)
    assert linear_widths(small)[0] == 0
    assert_same_outputs(mlp, small)
