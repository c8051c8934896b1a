"""capacity and count_alive: the fraction of weights and biases still alive."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep, masked_layers

# paper preset, n_dim = 8: encoder 8·30+30 + 30·10+10 = 580, decoder 10·30+30 + 30·8+8 = 578
ENCODER_TOTAL, DECODER_TOTAL = 580, 578


@pytest.fixture
def paper_ae():
    return dnp.MaskedAutoencoder.from_preset("paper", n_dim=8)


def kill_all(layer, name):
    apply_keep(layer, name, torch.zeros_like(getattr(layer, name), dtype=torch.bool))


def test_unpruned_network_has_capacity_one(paper_ae):
    assert dnp.capacity(paper_ae) == 1.0
    assert dnp.capacity(paper_ae.encoder) == 1.0


def test_capacity_is_a_python_float(paper_ae):
    assert type(dnp.capacity(paper_ae)) is float


def test_count_alive_counts_weights_and_biases(paper_ae):
    assert dnp.count_alive(paper_ae) == (ENCODER_TOTAL + DECODER_TOTAL, ENCODER_TOTAL + DECODER_TOTAL)
    assert dnp.count_alive(paper_ae.decoder) == (DECODER_TOTAL, DECODER_TOTAL)


def test_capacity_of_hand_built_mask_on_one_layer():
    net = dnp.MaskedMLP((4, 3, 2))  # 4·3+3 + 3·2+2 = 23 entries
    keep_rows = torch.tensor([False, True, True])
    apply_keep(net.layers[0], "weight", keep_rows.unsqueeze(1).expand(3, 4))
    apply_keep(net.layers[0], "bias", keep_rows)
    assert dnp.count_alive(net) == (18, 23)
    assert dnp.capacity(net) == 18 / 23


def test_capacity_of_autoencoder_and_each_half_after_pruning_the_encoder(paper_ae):
    kill_all(paper_ae.encoder.layers[1], "weight")  # 300 weights
    assert dnp.capacity(paper_ae.encoder) == (ENCODER_TOTAL - 300) / ENCODER_TOTAL
    assert dnp.capacity(paper_ae.decoder) == 1.0
    assert dnp.capacity(paper_ae) == (ENCODER_TOTAL + DECODER_TOTAL - 300) / (ENCODER_TOTAL + DECODER_TOTAL)


def test_capacity_of_autoencoder_and_each_half_after_pruning_the_decoder_biases(paper_ae):
    kill_all(paper_ae.decoder.layers[0], "bias")  # 30 biases
    kill_all(paper_ae.decoder.layers[1], "bias")  # 8 biases
    assert dnp.capacity(paper_ae.encoder) == 1.0
    assert dnp.capacity(paper_ae.decoder) == (DECODER_TOTAL - 38) / DECODER_TOTAL
    assert dnp.capacity(paper_ae) == (ENCODER_TOTAL + DECODER_TOTAL - 38) / (ENCODER_TOTAL + DECODER_TOTAL)


def test_fully_pruned_network_has_capacity_zero():
    net = dnp.MaskedMLP((4, 3, 2))
    for layer in net.layers:
        kill_all(layer, "weight")
        kill_all(layer, "bias")
    assert dnp.capacity(net) == 0.0


def test_capacity_of_network_without_biases_counts_weights_only():
    net = dnp.MaskedMLP((4, 3), bias=False)
    net.layers[0].weight_mask[0, :2] = 0
    assert dnp.count_alive(net) == (10, 12)


def test_capacity_in_regrowth_mode_counts_non_zero_entries():
    net = dnp.MaskedMLP((4, 3), persistent_masks=False)
    with torch.no_grad():
        net.layers[0].weight[0] = 0.0
    assert dnp.count_alive(net) == (11, 15)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), p_keep=st.floats(0.0, 1.0))
def test_capacity_equals_the_mean_of_all_masks(seed, p_keep):
    net = dnp.MaskedMLP((5, 4, 3))
    rng = np.random.default_rng(seed)
    for layer in net.layers:
        for name in ("weight", "bias"):
            shape = tuple(getattr(layer, name).shape)
            apply_keep(layer, name, torch.from_numpy(rng.random(shape) < p_keep))
    masks = torch.cat([m.flatten() for layer in net.layers for m in (layer.weight_mask, layer.bias_mask)])
    assert dnp.capacity(net) == pytest.approx(masks.mean().item())
    assert 0.0 <= dnp.capacity(net) <= 1.0


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**31), min_size=1, max_size=4))
def test_capacity_never_grows_under_repeated_pruning(seeds):
    net = dnp.MaskedMLP((5, 4, 3))
    previous = dnp.capacity(net)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for layer in masked_layers(net):
            apply_keep(layer, "weight", torch.from_numpy(rng.random(tuple(layer.weight.shape)) < 0.7))
        current = dnp.capacity(net)
        assert current <= previous
        previous = current


def test_capacity_refuses_a_module_without_masked_layers():
    with pytest.raises(TypeError, match=r"Linear has no MaskedLinear layers"):
        dnp.capacity(nn.Linear(3, 2))


def test_capacity_refuses_something_that_is_not_a_module():
    with pytest.raises(TypeError, match=r"expected a torch.nn.Module.*got list"):
        dnp.capacity([1, 2])
