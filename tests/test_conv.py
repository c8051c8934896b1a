"""Convolutional autoencoders through the layer seam: masked convolutions, every operator, compaction,
both algorithms, checkpoints and the CLI."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main

N_DIM = 64
CLI = ["--data", "digits", "--set", "network.architecture=conv", "--set", "run.engine=autograd", "--epochs", "2",
       "--trials", "2", "--quiet"]


def conv_ae(seed=0, **overrides):
    return dnp.MaskedAutoencoder.from_preset("conv", n_dim=N_DIM, rng=np.random.default_rng(seed), **overrides)


def rows(n=24, seed=1):
    return torch.rand(n, N_DIM, generator=torch.Generator().manual_seed(seed))


def test_masked_convolutions_compute_torch_convolutions_of_the_effective_weights():
    x = torch.rand(3, 2, 6, 6)
    conv = dnp.MaskedConv2d(2, 3, 3, stride=2, padding=1)
    conv.weight_mask[1, 0] = 0
    expected = F.conv2d(x, conv.weight * conv.weight_mask, conv.bias, 2, 1)
    assert torch.allclose(conv(x), expected)
    up = dnp.MaskedConvTranspose2d(3, 2, 4, stride=2, padding=1)
    torch_up = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    with torch.no_grad():
        torch_up.weight.copy_(up.weight.transpose(0, 1))
        torch_up.bias.copy_(up.bias)
    z = torch.rand(3, 3, 3, 3)
    assert torch.allclose(up(z), torch_up(z), atol=1e-6)
    one_d = dnp.MaskedConv1d(1, 4, 5, padding=2)
    assert one_d(torch.rand(2, 1, 40)).shape == (2, 4, 40)
    assert conv.out_features == 3 and up.weight.shape[:2] == (2, 3)  # neurons first: output channels


def test_the_conv_preset_takes_flat_rows_or_images():
    ae = conv_ae()
    x = rows(5)
    assert torch.equal(ae(x), ae(x.view(5, 1, 8, 8)))
    assert ae.encoder.out_features == 16 and ae.decoder.out_features == N_DIM
    with pytest.raises(ValueError, match="side divisible by 4"):
        dnp.MaskedAutoencoder.from_preset("conv", n_dim=100)


@pytest.mark.parametrize("name", ["random", "magnitude", "variance", "conjunctive"])
def test_every_operator_prunes_a_conv_autoencoder_and_compaction_keeps_the_outputs(name):
    ae = conv_ae()
    data = rows()
    operator = {"random": dnp.mut_prune_random, "magnitude": dnp.mut_prune_magnitude,
                "variance": dnp.mut_prune_variance, "conjunctive": dnp.mut_prune_conjunctive}[name]
    args = (data,) if name in ("variance", "conjunctive") else ()
    kwargs = {"amount": 0.4} if name in ("random", "magnitude") else {}
    for k in range(4):
        operator(ae, *args, rng=np.random.default_rng(k), **kwargs)
    assert dnp.capacity(ae) < 1.0
    assert dnp.paper_capacity(ae) == pytest.approx(dnp.capacity(ae))
    if name == "conjunctive":  # whole output channels die: every entry of a pruned channel together
        for layer in dnp.masked_layers(ae):
            per_channel = layer.weight_mask.flatten(1)
            assert bool(((per_channel == 0).all(1) | (per_channel == 1).all(1)).all())
    small = dnp.compact(ae)
    x = rows(7, seed=5)
    assert torch.allclose(small(x), ae(x), atol=1e-6)


def test_compaction_removes_dead_channels_for_real():
    ae = conv_ae()
    layer = ae.encoder.layers[0]
    for c in (1, 4, 6):
        dnp.apply_keep(layer, "weight", torch.ones_like(layer.weight, dtype=torch.bool).index_fill_(0,
                       torch.tensor([c]), False))
        dnp.apply_keep(layer, "bias", torch.ones_like(layer.bias, dtype=torch.bool).index_fill_(0,
                       torch.tensor([c]), False))
    small = dnp.compact(ae)
    convs = [m for m in small.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert convs[0].out_channels == 5 and convs[1].in_channels == 5
    assert sum(p.numel() for p in small.parameters()) < sum(p.numel() for p in ae.parameters())
    x = rows(6)
    assert torch.allclose(small(x), ae(x), atol=1e-6)


def test_training_a_conv_autoencoder_needs_the_autograd_engine_and_lowers_the_loss():
    ae = conv_ae(learning_rate=1e-2)
    data = rows(40)
    with pytest.raises(ValueError, match="engine='autograd'"):
        dnp.mut_train(ae, data)
    before = dnp.evaluate_l1(ae, data)[0]
    dnp.mut_train(ae, data, epochs=5, engine="autograd", rng=np.random.default_rng(0))
    assert dnp.evaluate_l1(ae, data)[0] < before
    assert int(ae.encoder.layers[0].adam_step) == 5 * 8


def test_a_conv_individual_survives_clone_pickle_and_state_dict():
    import pickle

    ae = conv_ae()
    dnp.mut_prune_random(ae, amount=0.3, rng=np.random.default_rng(0))
    for twin in (copy.deepcopy(ae), pickle.loads(pickle.dumps(ae))):
        assert torch.equal(twin(rows(3)), ae(rows(3))) and twin.encoder.pruned_count == ae.encoder.pruned_count
    fresh = conv_ae(seed=9)
    fresh.load_state_dict(ae.state_dict())
    assert torch.equal(fresh(rows(3)), ae(rows(3)))


@pytest.mark.parametrize("operator", ["random", "magnitude", "variance", "conjunctive"])
def test_the_conv_preset_runs_in_coevolution_from_the_cli_with_every_operator(tmp_path, operator):
    out = tmp_path / operator
    assert main(["run", "--preset", "quick", *CLI, "--set", f"pruning.operator={operator}", "--set", "pruning.p=1.0",
                 "--out", str(out)]) == 0
    final = pd.read_csv(out / "final.csv")
    assert len(final) == 2 and (final.paper_capacity < 1.0).all()  # the cells were pruned
    assert set(pd.read_csv(out / "timings.csv").engine) == {"autograd"}


def test_the_conv_preset_runs_in_the_canonical_loop_from_the_cli(tmp_path):
    args = ["run", "--preset", "paper-canonical-random-exponential", *CLI, "--set", "network.persistent_masks=true",
            "--set", "pruning.schedule=fixed", "--set", "pruning.p=1.0"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    final = pd.read_csv(tmp_path / "a" / "final.csv")
    assert (final.capacity < 1.0).all() and (final.test_l1 < 0.5).all()


def test_a_stopped_conv_run_resumes_from_its_checkpoint_to_the_same_logbook(tmp_path):
    from deap_nnprune.experiments import toolboxes
    from deap_nnprune.experiments.config import apply_overrides
    from deap_nnprune.experiments.presets import get_preset

    config = apply_overrides(get_preset("paper-canonical-random-exponential"),
                             ["data.source=digits", "network.architecture=conv", "run.engine=autograd"])
    data = toolboxes.load_data(config.data)
    toolbox = toolboxes.canonical_toolbox(config, data)

    def run(stop_at=None, resume=None):
        parent = toolboxes.initial_autoencoder(config, data.n_dim, 3, torch.device("cpu"))
        return dnp.algorithms.ea_one_plus_lambda(
            parent, toolbox, ngen=3, verbose=False, seed=3, checkpoint=str(tmp_path / "ckpt"), resume=resume,
            stop_when=None if stop_at is None else (lambda gen: gen == stop_at))

    _, whole = run()
    _, part = run(stop_at=1)
    assert part[-1]["gen"] == 1
    population, resumed = run(resume=str(tmp_path / "ckpt"))
    assert [r["fitness"] for r in resumed] == [r["fitness"] for r in whole]
    assert isinstance(population[0].encoder, dnp.MaskedConvNet)


def test_a_conv_architecture_refuses_mlp_widths_and_the_stacked_engine(tmp_path, capsys):
    assert main(["run", "--preset", "quick", "--data", "digits", "--set", "network.architecture=conv",
                 "--out", str(tmp_path / "x")]) == 2
    assert "--set run.engine=autograd" in capsys.readouterr().err
    assert main(["run", "--preset", "quick", *CLI, "--set", "network.hidden=[8]", "--out", str(tmp_path / "y")]) == 2
    assert "network.hidden" in capsys.readouterr().err
