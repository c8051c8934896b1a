"""Streaming activation statistics (deap_nnprune/activations.py)."""

import numpy as np
import pytest
import torch

from deap_nnprune import MaskedAutoencoder, MaskedLinear, MaskedMLP
from deap_nnprune._masking import masked_layers
from deap_nnprune.activations import RunningMoments, activation_moments, activation_std, layer_activations


def _ae(n_dim=16, seed=0):
    return MaskedAutoencoder.from_preset("paper", n_dim, rng=np.random.default_rng(seed))


def _data(rows=50, n_dim=16, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((rows, n_dim)).astype(np.float32))


def test_streaming_std_equals_torch_std_over_all_activations():
    ae, data = _ae(), _data(rows=53)
    full = layer_activations(ae, data)
    streamed = activation_std(ae, data, batch_size=7)
    assert len(streamed) == len(full) == 4
    for s, outputs in zip(streamed, full):
        expected = outputs.double().std(dim=0, unbiased=False)
        torch.testing.assert_close(s, expected, rtol=0, atol=1e-5)


def test_result_does_not_depend_on_batch_size():
    ae, data = _ae(), _data(rows=40)
    one_batch = activation_std(ae, data, batch_size=40)
    for batch_size in (1, 3, 39, None, 1000):
        for a, b in zip(activation_std(ae, data, batch_size=batch_size), one_batch):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)  # float32 forward passes


def test_variance_stays_accurate_with_a_large_mean():
    rng = np.random.default_rng(1)
    values = 1e4 + rng.normal(0.0, 1e-2, size=(1000, 3))
    moments = RunningMoments(3)
    for start in range(0, 1000, 64):
        moments.update(torch.from_numpy(values[start:start + 64]))
    np.testing.assert_allclose(moments.var().numpy(), values.var(axis=0), rtol=1e-6)
    np.testing.assert_allclose(moments.var(unbiased=True).numpy(), values.var(axis=0, ddof=1), rtol=1e-6)
    assert moments.count == 1000


def test_one_layer_per_masked_layer_in_forward_order():
    ae, data = _ae(), _data()
    layers = masked_layers(ae)
    moments = activation_moments(ae, data)
    assert [m.width for m in moments] == [layer.out_features for layer in layers]
    assert all(m.count == data.shape[0] for m in moments)


def test_last_layer_activations_are_the_network_output():
    ae, data = _ae(), _data(rows=5)
    with torch.no_grad():
        torch.testing.assert_close(layer_activations(ae, data)[-1], ae(data))
        torch.testing.assert_close(layer_activations(ae, data)[1], ae.encode(data))


def test_works_on_one_half_and_on_a_single_layer():
    data = _data(rows=20, n_dim=8)
    encoder = MaskedMLP((8, 5, 3), torch.nn.ReLU)
    assert [s.shape[0] for s in activation_std(encoder, data)] == [5, 3]
    layer = MaskedLinear(8, 4)
    expected = layer(data).detach().double().std(dim=0, unbiased=False)
    torch.testing.assert_close(activation_std(layer, data)[0], expected, rtol=0, atol=1e-6)


def test_pruned_entries_are_not_seen():
    layer = MaskedLinear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, 1.0]]))
    layer.weight_mask[0, 0] = 0
    data = torch.tensor([[0.0, 1.0], [4.0, 3.0]])
    assert float(activation_std(layer, data)[0][0]) == pytest.approx(1.0)


def test_network_mode_and_gradients_are_left_alone():
    ae, data = _ae(), _data()
    ae.train()
    activation_std(ae, data)
    assert ae.training
    assert all(p.grad is None for p in ae.parameters())
    ae.eval()
    layer_activations(ae, data)
    assert not ae.training


def test_data_is_not_changed():
    ae, data = _ae(), _data()
    copy = data.clone()
    activation_std(ae, data, batch_size=8)
    assert torch.equal(data, copy)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_the_network_device():
    ae, data = _ae().cuda(), _data()
    stds = activation_std(ae, data)
    assert all(s.device.type == "cuda" for s in stds)
    for a, b in zip(stds, activation_std(_ae(), data)):
        torch.testing.assert_close(a.cpu(), b, rtol=0, atol=1e-5)


@pytest.mark.parametrize("batch_size, error, match", [
    (0, ValueError, r"batch_size must be >= 1, got 0"),
    (-3, ValueError, r"batch_size must be >= 1, got -3"),
    (2.5, TypeError, r"batch_size must be an integer, got 2.5"),
])
def test_bad_batch_size_is_refused(batch_size, error, match):
    with pytest.raises(error, match=match):
        activation_std(_ae(), _data(), batch_size=batch_size)


@pytest.mark.parametrize("data, match", [
    (torch.rand(5, 7), r"data has width 7 but the network input width is 16"),
    (torch.rand(0, 16), r"data has no rows"),
    (torch.rand(16), r"data must be 2-D"),
])
def test_bad_data_is_refused(data, match):
    with pytest.raises(ValueError, match=match):
        activation_std(_ae(), data)


def test_module_without_masked_layers_is_refused():
    with pytest.raises(TypeError, match="Linear has no MaskedLinear layers"):
        activation_std(torch.nn.Linear(4, 2), torch.rand(3, 4))


def test_running_moments_refuses_a_batch_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"shape \(rows, 3\), got \(2, 4\)"):
        RunningMoments(3).update(torch.zeros(2, 4))
