"""Interop: our masks in torch.nn.utils.prune's layout and back, and ONNX files of the compacted model."""

import numpy as np
import pytest
import torch
from deap import creator
from torch.nn.utils import prune

import deap_nnprune as dnp
from deap_nnprune.export import from_torch_prune, to_onnx, to_torch_prune


@pytest.fixture
def pruned():
    ae = dnp.MaskedAutoencoder.from_preset("paper", 20, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae, amount=0.4, rng=np.random.default_rng(1))
    return ae


def test_to_torch_prune_gives_plain_linear_layers_with_torch_prunes_parametrisation(pruned):
    theirs = to_torch_prune(pruned)
    linears = [m for m in theirs.modules() if isinstance(m, torch.nn.Linear)]
    ours = [m for m in pruned.modules() if isinstance(m, dnp.MaskedLinear)]
    assert len(linears) == len(ours) and not any(isinstance(m, dnp.MaskedLinear) for m in linears)
    for linear, layer in zip(linears, ours):
        assert prune.is_pruned(linear) and hasattr(linear, "weight_orig") and hasattr(linear, "bias_orig")
        assert torch.equal(linear.weight_mask, layer.weight_mask) and torch.equal(linear.bias_mask, layer.bias_mask)
    x = torch.rand(7, 20)
    assert torch.allclose(theirs(x), pruned(x), atol=1e-7)


def test_the_torch_prune_model_trains_without_reviving_pruned_weights(pruned):
    theirs = to_torch_prune(pruned)
    optimiser = torch.optim.SGD(theirs.parameters(), lr=0.1)
    loss = (theirs(torch.rand(8, 20)) - torch.rand(8, 20)).abs().mean()
    loss.backward()
    optimiser.step()
    first = theirs.encoder[0]
    assert bool((first.weight[first.weight_mask == 0] == 0).all())  # torch prune's hook keeps them dead


def test_round_trip_keeps_masks_weights_and_outputs(pruned):
    back = from_torch_prune(to_torch_prune(pruned))
    assert isinstance(back, dnp.MaskedAutoencoder) and dnp.capacity(back) == dnp.capacity(pruned)
    for a, b in zip(back.modules(), pruned.modules()):
        if isinstance(a, dnp.MaskedLinear):
            assert torch.equal(a.weight_mask, b.weight_mask) and torch.equal(a.weight, b.weight)
    x = torch.rand(5, 20)
    assert torch.allclose(back(x), pruned(x), atol=1e-7)


def test_a_model_pruned_by_torch_comes_in_with_its_masks_as_a_creator_individual():
    model = torch.nn.Sequential(torch.nn.Linear(10, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3), torch.nn.Tanh())
    prune.l1_unstructured(model[0], "weight", amount=0.5)
    net = from_torch_prune(model, cls=creator.Encoder)
    assert isinstance(net, creator.Encoder) and hasattr(net, "fitness")
    assert torch.equal(net.layers[0].weight_mask, model[0].weight_mask)
    assert int(net.layers[1].weight_mask.sum()) == 18  # unpruned layer: all alive
    x = torch.rand(4, 10)
    assert torch.allclose(net(x), model(x), atol=1e-7)


@pytest.mark.parametrize("module, message", [
    (torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3)), "does not follow an nn.Linear"),
    (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LeakyReLU(0.3)), "only activations built with no arguments"),
    (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(),
                         torch.nn.Linear(3, 2)), "mixes hidden activations"),
    (torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(5, 2)), "gives 3 outputs to a layer of 5 inputs"),
    (torch.nn.Linear(4, 3), "must be an nn.Sequential"),
])
def test_incompatible_architectures_are_refused_by_name(module, message):
    with pytest.raises((TypeError, ValueError), match=message):
        from_torch_prune(module)


def test_to_onnx_writes_the_compacted_model_and_onnxruntime_gives_our_outputs(pruned, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    for layer in pruned.encoder.layers[1:]:
        layer.weight_mask[:4] = 0  # four latent units dead: the file must be smaller than the dense one
        layer.bias_mask[:4] = 0
    path = to_onnx(pruned, tmp_path / "model.onnx")
    dense = to_onnx(dnp.MaskedAutoencoder.from_preset("paper", 20), tmp_path / "dense.onnx")
    assert path.stat().st_size < dense.stat().st_size
    session = ort.InferenceSession(str(path))
    for rows in (1, 33):  # a dynamic batch axis
        x = torch.rand(rows, 20)
        (out,) = session.run(None, {"x": x.numpy()})
        assert np.abs(out - pruned(x).detach().numpy()).max() < 1e-6


def test_to_onnx_refuses_other_models(tmp_path):
    pytest.importorskip("onnx", reason="the onnx extra is not installed")
    with pytest.raises(TypeError, match="to_onnx expects"):
        to_onnx(torch.nn.Linear(3, 3), tmp_path / "x.onnx")


def test_the_cli_writes_an_onnx_model_per_trial_when_asked(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    from deap_nnprune.experiments.cli import main

    out = tmp_path / "run"
    assert main(["run", "--preset", "quick", "--set", "data.n_dim=16", "data.n_samples=20", "--epochs", "2",
                 "--trials", "2", "--quiet", "--export", "onnx", "--out", str(out)]) == 0
    for k in range(2):
        session = ort.InferenceSession(str(out / "models" / f"trial-{k}.onnx"))
        state = torch.load(out / "models" / f"trial-{k}.pt", weights_only=True)
        assert session.get_inputs()[0].shape[1] == 16 and state
