"""Architectures from the config: widths, mirrored or explicit halves, activations by name."""

import pytest
import torch

from deap_nnprune.experiments import config as cfg
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.presets import get_preset
from deap_nnprune.experiments.toolboxes import initial_autoencoder, initial_cells, parameter_count

from test_cli import TINY


def configured(*settings):
    return cfg.apply_overrides(get_preset("quick"), list(settings))


def test_hidden_widths_give_an_encoder_and_its_mirror():
    config = configured("network.hidden=256,64")
    encoders, decoders = initial_cells(config, 784, [0], torch.device("cpu"))
    assert encoders[0].sizes == (784, 256, 64) and decoders[0].sizes == (64, 256, 784)
    assert parameter_count(config, 784) == sum(p.numel() for p in encoders[0].parameters()) + sum(
        p.numel() for p in decoders[0].parameters())


def test_explicit_halves_and_activations_by_name():
    config = configured("network.encoder=[40, 12]", "network.decoder=[24]", "network.activation=tanh",
                        "network.output_activation=identity")
    ae = initial_autoencoder(config, 50, 0, torch.device("cpu"))
    assert ae.encoder.sizes == (50, 40, 12) and ae.decoder.sizes == (12, 24, 50)
    assert all(isinstance(a, torch.nn.Tanh) for a in ae.encoder.activations)
    assert isinstance(ae.decoder.activations[0], torch.nn.Tanh)
    assert isinstance(ae.decoder.activations[-1], torch.nn.Identity)


def test_an_encoder_alone_gets_a_mirrored_decoder():
    assert cfg.NetworkConfig(encoder=(40, 20, 5)).sizes(60) == ((60, 40, 20, 5), (5, 20, 40, 60))


def test_the_default_widths_are_the_presets():
    for name in ("paper", "small", "large"):
        config = configured(f"network.architecture={name}")
        encoders, decoders = initial_cells(config, 20, [0], torch.device("cpu"))
        assert (encoders[0].sizes, decoders[0].sizes) == config.network.sizes(20)


def test_a_run_with_a_configured_architecture_trains_and_writes_its_model(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--preset", "quick", *TINY, "--set", "network.hidden=12,3", "network.activation=elu",
                 "--out", str(out)]) == 0
    state = torch.load(out / "models" / "trial-0.pt", weights_only=True)
    assert any(tensor.shape[-1] == 16 or tensor.shape[0] == 16 for tensor in state.values())


@pytest.mark.parametrize("setting, message", [
    ("network.activation=swish", "network.activation must be one of"),
    ("network.hidden=0", "network.hidden[0] must be >= 1"),
    ("network.decoder=8", "network.decoder needs network.encoder"),
    ("network.hidden=1.5", "expected an integer"),
])
def test_bad_architectures_are_refused_in_one_line(capsys, tmp_path, setting, message):
    assert main(["run", "--preset", "quick", *TINY, "--set", setting, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_hidden_with_explicit_halves_is_refused():
    with pytest.raises(cfg.ConfigError, match="contradict"):
        cfg.NetworkConfig(hidden=(8,), encoder=(8,))
