"""load_model: a run folder's saved compact models come back as working autoencoders."""

import pandas as pd
import pytest

import deap_nnprune as dnp
from deap_nnprune.experiments import ModelError, get_preset, load_model
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.toolboxes import load_data


@pytest.fixture(scope="module")
def pruned_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    settings = ["data.n_dim=24", "data.n_samples=40", "pruning.p=1.0", "pruning.amount=0.5", "network.activation=tanh"]
    assert main(["run", "--preset", "ours-coevolution-random-exponential", "--epochs", "3", "--trials", "2",
                 "--quiet", "--overwrite", "--out", str(out), "--set", *settings]) == 0
    return out


def test_loaded_models_give_the_test_l1_of_final_csv(pruned_run):
    final = pd.read_csv(pruned_run / "final.csv")
    config = get_preset("ours-coevolution-random-exponential")
    from deap_nnprune.experiments.config import apply_overrides
    config = apply_overrides(config, ["data.n_dim=24", "data.n_samples=40"])
    data = load_data(config.data)
    for trial in final.trial:
        model = load_model(pruned_run, trial)
        assert isinstance(model.encoder[1], dnp.network.ACTIVATIONS["tanh"])
        assert dnp.evaluate_l1(model, data.test)[0] == pytest.approx(final.test_l1[trial], abs=1e-6)


def test_missing_or_foreign_models_are_refused_with_the_path(pruned_run, tmp_path):
    with pytest.raises(ModelError, match="trial-7.pt"):
        load_model(pruned_run, 7)
    with pytest.raises(ModelError, match="config.json"):
        load_model(tmp_path, 0)
