"""MaskedLinear, MaskedMLP, MaskedAutoencoder and the presets."""

import copy
import io
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep, masked_layers


def random_keep(shape, seed, p_keep):
    """A boolean keep pattern drawn from a seeded generator."""
    return torch.from_numpy(np.random.default_rng(seed).random(shape) < p_keep)


def prune_at_random(module, seed, p_keep=0.5):
    """Kill entries of every maskable tensor through apply_keep."""
    for i, layer in enumerate(masked_layers(module)):
        apply_keep(layer, "weight", random_keep(tuple(layer.weight.shape), seed + 2 * i, p_keep))
        apply_keep(layer, "bias", random_keep(tuple(layer.bias.shape), seed + 2 * i + 1, p_keep))


def masks_of(module):
    return [t.clone() for layer in masked_layers(module) for t in (layer.weight_mask, layer.bias_mask)]


# --- MaskedLinear --------------------------------------------------------------


def test_masked_linear_stores_masks_as_buffers_beside_parameters():
    layer = dnp.MaskedLinear(4, 3)
    buffers = dict(layer.named_buffers())
    assert torch.equal(buffers["weight_mask"], torch.ones(3, 4))
    assert torch.equal(buffers["bias_mask"], torch.ones(3))
    assert {"weight", "bias"} == {name for name, _ in layer.named_parameters()}


def test_masked_linear_without_bias_has_no_bias_mask():
    layer = dnp.MaskedLinear(4, 3, bias=False)
    assert layer.bias is None
    assert "bias_mask" not in dict(layer.named_buffers())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), p_keep=st.floats(0.0, 1.0))
def test_masked_linear_output_equals_linear_with_masked_weights(seed, p_keep):
    layer = dnp.MaskedLinear(6, 5)
    layer.weight_mask.copy_(random_keep((5, 6), seed, p_keep).float())
    layer.bias_mask.copy_(random_keep((5,), seed + 1, p_keep).float())
    x = torch.rand(7, 6, generator=torch.Generator().manual_seed(seed))
    expected = F.linear(x, layer.weight * layer.weight_mask, layer.bias * layer.bias_mask)
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), value=st.floats(-1e6, 1e6))
def test_masked_entries_have_no_effect_whatever_finite_value_they_hold(seed, value):
    layer = dnp.MaskedLinear(6, 5)
    dead_w = random_keep((5, 6), seed, 0.5)
    dead_b = random_keep((5,), seed + 1, 0.5)
    layer.weight_mask[dead_w] = 0
    layer.bias_mask[dead_b] = 0
    x = torch.rand(7, 6, generator=torch.Generator().manual_seed(seed))
    before = layer(x)
    with torch.no_grad():
        layer.weight[dead_w] = value
        layer.bias[dead_b] = value
    assert torch.equal(layer(x), before)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_masked_entry_holding_a_non_finite_value_has_no_effect(value):
    # "a masked entry has no effect whatever value its weight holds": a pruned
    # weight must be zero in the forward pass even if it holds NaN or inf.
    layer = dnp.MaskedLinear(3, 2)
    layer.weight_mask[0, 1] = 0
    layer.bias_mask[1] = 0
    x = torch.ones(1, 3)
    before = layer(x)
    with torch.no_grad():
        layer.weight[0, 1] = value
        layer.bias[1] = value
    assert torch.equal(layer(x), before)


def test_masked_entries_get_zero_gradient(ae, x):
    prune_at_random(ae, seed=3)
    ae(x).sum().backward()
    for layer in masked_layers(ae):
        for name in ("weight", "bias"):
            grad, mask = getattr(layer, name).grad, getattr(layer, f"{name}_mask")
            assert torch.all(grad[mask == 0] == 0)
            assert torch.any(grad[mask == 1] != 0)


@pytest.mark.parametrize("optimizer_class", [torch.optim.Adam, torch.optim.AdamW])
def test_fifty_steps_of_adam_with_weight_decay_leave_masked_entries_zero(optimizer_class, ae, data):
    prune_at_random(ae, seed=7)
    masks = masks_of(ae)
    optimizer = optimizer_class(ae.parameters(), lr=1e-2, weight_decay=0.1)
    batch = data.train[:10]
    for _ in range(50):
        optimizer.zero_grad()
        (ae(batch) - batch).abs().mean().backward()
        optimizer.step()
    for layer in masked_layers(ae):
        for name in ("weight", "bias"):
            param, mask = getattr(layer, name), getattr(layer, f"{name}_mask")
            assert torch.all(param[mask == 0] == 0)
    assert all(torch.equal(a, b) for a, b in zip(masks, masks_of(ae)))


def test_training_moves_alive_entries(ae, data):
    prune_at_random(ae, seed=7)
    before = [layer.weight.detach().clone() for layer in masked_layers(ae)]
    optimizer = torch.optim.Adam(ae.parameters(), lr=1e-2)
    batch = data.train[:10]
    for _ in range(5):
        optimizer.zero_grad()
        (ae(batch) - batch).abs().mean().backward()
        optimizer.step()
    for layer, old in zip(masked_layers(ae), before):
        alive = layer.weight_mask == 1
        assert not torch.equal(layer.weight[alive], old[alive])


def test_regrowth_mode_lets_training_revive_zeroed_entries(data):
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=16, persistent_masks=False)
    layer = ae.encoder.layers[0]
    apply_keep(layer, "weight", torch.zeros_like(layer.weight, dtype=torch.bool))
    assert not layer.alive("weight").any()
    optimizer = torch.optim.Adam(ae.parameters(), lr=1e-2)
    batch = data.train[:10]
    optimizer.zero_grad()
    (ae(batch) - batch).abs().mean().backward()
    optimizer.step()
    assert layer.alive("weight").any()


def test_apply_keep_only_ever_removes_ones():
    layer = dnp.MaskedLinear(4, 3)
    first = random_keep((3, 4), 0, 0.5)
    second = random_keep((3, 4), 1, 0.5)
    apply_keep(layer, "weight", first)
    apply_keep(layer, "weight", second)
    assert torch.equal(layer.weight_mask.bool(), first & second)


def test_apply_keep_zeroes_parameter_and_its_adam_moments():
    layer = dnp.MaskedLinear(4, 3)
    layer.weight_exp_avg.fill_(1.0)
    layer.weight_exp_avg_sq.fill_(1.0)
    keep = random_keep((3, 4), 0, 0.5)
    apply_keep(layer, "weight", keep)
    for name in ("weight", "weight_exp_avg", "weight_exp_avg_sq"):
        assert torch.all(getattr(layer, name)[~keep] == 0)
    assert torch.all(layer.weight_exp_avg[keep] == 1.0)


def test_masked_linear_refuses_non_positive_width():
    with pytest.raises(ValueError, match=r"in_features must be >= 1, got 0"):
        dnp.MaskedLinear(0, 3)


# --- MaskedMLP ------------------------------------------------------------------


def test_mlp_applies_activation_between_layers_and_output_activation_last():
    mlp = dnp.MaskedMLP((4, 3, 2), nn.ReLU, nn.Sigmoid)
    x = torch.rand(5, 4)
    hidden = torch.relu(mlp.layers[0](x))
    torch.testing.assert_close(mlp(x), torch.sigmoid(mlp.layers[1](hidden)))


def test_mlp_without_output_activation_is_linear_at_the_end():
    mlp = dnp.MaskedMLP((4, 3, 2), nn.ReLU, None)
    x = torch.rand(5, 4)
    torch.testing.assert_close(mlp(x), mlp.layers[1](torch.relu(mlp.layers[0](x))))


def test_mlp_reports_sizes_and_widths():
    mlp = dnp.MaskedMLP((8, 5, 3, 2))
    assert mlp.sizes == (8, 5, 3, 2)
    assert (mlp.in_features, mlp.out_features) == (8, 2)


def test_mlp_layer_outputs_yield_each_layer_after_its_activation():
    mlp = dnp.MaskedMLP((4, 3, 2), nn.ReLU, nn.Sigmoid)
    x = torch.rand(5, 4)
    outputs = list(mlp.layer_outputs(x))
    assert [layer for layer, _ in outputs] == list(mlp.layers)
    assert torch.all(outputs[0][1] >= 0)
    torch.testing.assert_close(outputs[-1][1], mlp(x))


@pytest.mark.parametrize("sizes", [(8,), ()])
def test_mlp_refuses_fewer_than_two_sizes(sizes):
    with pytest.raises(ValueError, match=r"sizes must be a sequence of at least two"):
        dnp.MaskedMLP(sizes)


def test_mlp_refuses_a_non_positive_width_naming_its_position():
    with pytest.raises(ValueError, match=r"sizes\[1\] must be >= 1, got 0"):
        dnp.MaskedMLP((4, 0, 2))


def test_mlp_refuses_an_activation_instance():
    with pytest.raises(TypeError, match=r"activation must be a class or zero-argument factory"):
        dnp.MaskedMLP((4, 3, 2), activation=nn.ReLU())


def test_mlp_refuses_non_positive_learning_rate():
    with pytest.raises(ValueError, match=r"learning_rate must be > 0.0, got 0.0"):
        dnp.MaskedMLP((4, 2), learning_rate=0.0)


def test_seeded_initialisation_is_reproducible():
    a = dnp.MaskedMLP((6, 4, 2), rng=np.random.default_rng(1))
    b = dnp.MaskedMLP((6, 4, 2), rng=np.random.default_rng(1))
    c = dnp.MaskedMLP((6, 4, 2), rng=np.random.default_rng(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


def test_seeded_initialisation_stays_within_linear_bounds():
    mlp = dnp.MaskedMLP((9, 4), rng=np.random.default_rng(0))
    assert mlp.layers[0].weight.abs().max() <= 1 / 3
    assert mlp.layers[0].bias.abs().max() <= 1 / 3


def test_reset_parameters_keeps_masked_entries_zero():
    layer = dnp.MaskedLinear(4, 3)
    apply_keep(layer, "weight", random_keep((3, 4), 0, 0.5))
    layer.reset_parameters(np.random.default_rng(0))
    assert torch.all(layer.weight[layer.weight_mask == 0] == 0)


def test_mlp_state_dict_carries_masks_and_learning_rate():
    mlp = dnp.MaskedMLP((6, 4, 2), learning_rate=3e-4)
    prune_at_random(mlp, seed=0)
    buffer = io.BytesIO()
    torch.save(mlp.state_dict(), buffer)
    buffer.seek(0)
    fresh = dnp.MaskedMLP((6, 4, 2))
    fresh.load_state_dict(torch.load(buffer))
    assert fresh.learning_rate == 3e-4
    assert all(torch.equal(a, b) for a, b in zip(masks_of(mlp), masks_of(fresh)))


def test_deepcopy_of_a_network_copies_masks_independently(ae):
    prune_at_random(ae, seed=0)
    clone = copy.deepcopy(ae)
    assert all(torch.equal(a, b) for a, b in zip(masks_of(ae), masks_of(clone)))
    clone.encoder.layers[0].weight_mask.fill_(0)
    assert ae.encoder.layers[0].weight_mask.any()


def test_pickle_of_a_network_keeps_masks_and_outputs(ae, x):
    prune_at_random(ae, seed=0)
    loaded = pickle.loads(pickle.dumps(ae))
    assert all(torch.equal(a, b) for a, b in zip(masks_of(ae), masks_of(loaded)))
    assert torch.equal(loaded(x), ae(x))


# --- MaskedAutoencoder and presets ------------------------------------------------


def test_paper_preset_has_the_paper_shape():
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=20)
    assert ae.encoder.sizes == (20, 30, 10)
    assert ae.decoder.sizes == (10, 30, 20)


def test_small_preset_has_latent_two():
    ae = dnp.MaskedAutoencoder.from_preset("small", n_dim=20)
    assert ae.encoder.sizes == (20, 30, 2)
    assert ae.decoder.sizes == (2, 30, 20)


def test_large_preset_has_an_extra_hidden_layer_of_sixty():
    ae = dnp.MaskedAutoencoder.from_preset("large", n_dim=20)
    assert ae.encoder.sizes == (20, 60, 30, 10)
    assert ae.decoder.sizes == (10, 30, 60, 20)


def test_paper_preset_uses_relu_everywhere_and_sigmoid_output():
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=20)
    assert [type(a) for a in ae.encoder.activations] == [nn.ReLU, nn.ReLU]
    assert [type(a) for a in ae.decoder.activations] == [nn.ReLU, nn.Sigmoid]


def test_autoencoder_output_lies_in_unit_interval(ae, x):
    out = ae(x * 100)
    assert out.shape == x.shape
    assert torch.all((out >= 0) & (out <= 1))


def test_autoencoder_forward_is_decode_of_encode(ae, x):
    assert ae.encode(x).shape == (x.shape[0], 10)
    torch.testing.assert_close(ae(x), ae.decode(ae.encode(x)))


def test_preset_overrides_replace_fields():
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=12, hidden=(7,), latent=3, learning_rate=1e-5)
    assert ae.encoder.sizes == (12, 7, 3)
    assert ae.learning_rate == 1e-5
    assert ae.decoder.learning_rate == 1e-5


def test_preset_with_persistent_masks_off_builds_regrowth_layers():
    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=12, persistent_masks=False)
    assert not any(layer.persistent_masks for layer in masked_layers(ae))


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'papr'.*paper, small, large"):
        dnp.MaskedAutoencoder.from_preset("papr", n_dim=10)


def test_unknown_preset_override_is_refused():
    with pytest.raises(TypeError, match=r"unknown preset override 'width'"):
        dnp.MaskedAutoencoder.from_preset("paper", n_dim=10, width=3)


def test_preset_refuses_non_positive_n_dim():
    with pytest.raises(ValueError, match=r"n_dim must be >= 1, got 0"):
        dnp.MaskedAutoencoder.from_preset("paper", n_dim=0)


def test_half_from_preset_builds_encoder_and_decoder():
    encoder = dnp.MaskedMLP.from_preset("large", 20, part="encoder")
    decoder = dnp.MaskedMLP.from_preset("large", 20, part="decoder")
    assert encoder.sizes == (20, 60, 30, 10)
    assert decoder.sizes == (10, 30, 60, 20)
    assert isinstance(decoder.activations[-1], nn.Sigmoid)


def test_half_from_preset_refuses_unknown_part():
    with pytest.raises(ValueError, match=r"part must be one of 'encoder', 'decoder'; got 'middle'"):
        dnp.MaskedMLP.from_preset("paper", 20, part="middle")


def test_half_from_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'tiny'.*paper, small, large"):
        dnp.MaskedMLP.from_preset("tiny", 20)


def test_autoencoder_shares_its_halves_rather_than_copying():
    encoder = dnp.MaskedMLP.from_preset("paper", 12, part="encoder")
    decoder = dnp.MaskedMLP.from_preset("paper", 12, part="decoder")
    ae = dnp.MaskedAutoencoder(encoder, decoder)
    assert ae.encoder is encoder and ae.decoder is decoder
    assert ae.halves() == (encoder, decoder)
    encoder.layers[0].weight_mask.fill_(0)
    assert not ae.encoder.layers[0].weight_mask.any()


def test_autoencoder_learning_rate_setter_sets_both_halves(ae):
    ae.learning_rate = 2e-4
    assert ae.encoder.learning_rate == ae.decoder.learning_rate == 2e-4


def test_autoencoder_refuses_mismatched_latent_widths():
    encoder = dnp.MaskedMLP((12, 5))
    decoder = dnp.MaskedMLP((4, 12))
    with pytest.raises(ValueError, match=r"encoder output width 5 does not match decoder input width 4"):
        dnp.MaskedAutoencoder(encoder, decoder)


def test_autoencoder_refuses_output_width_different_from_input():
    with pytest.raises(ValueError, match=r"decoder output width 11 does not match encoder input width 12"):
        dnp.MaskedAutoencoder(dnp.MaskedMLP((12, 5)), dnp.MaskedMLP((5, 11)))


def test_autoencoder_refuses_a_half_that_is_not_a_masked_mlp():
    with pytest.raises(TypeError, match=r"encoder must be a MaskedMLP \(or another MaskedNetwork\), got Linear"):
        dnp.MaskedAutoencoder(nn.Linear(12, 5), dnp.MaskedMLP((5, 12)))
