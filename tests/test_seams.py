"""Extension seams: a user's own pruning operator and data set, written with public names only,
plugged into the toolbox, both algorithms, the CLI and a process pool without editing the package."""

import copy
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from deap import base, creator

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main
from test_cli import TINY

PLUGIN = '''
"""A user's plugin: one operator, one data set, public names only."""
import numpy as np
import torch

import deap_nnprune as dnp
from deap_nnprune.registry import DatasetSpec, OperatorSpec, TopologySpec


def decide_largest(layer, rng, amount=0.1):
    """Kill the largest-magnitude candidates of every entry (the opposite of magnitude pruning)."""
    decision = {}
    for name, tensor in dnp.maskable_entries(layer):
        candidates = dnp.prune_candidates(layer, name)
        k = dnp.validate_amount(amount, candidates.size)
        values = tensor.detach().abs().reshape(-1).numpy()[candidates]
        decision[name] = dnp.keep_all_but(tuple(tensor.shape), candidates[np.argsort(-values, kind="stable")[:k]])
    return decision


def mut_prune_largest(individual, amount=0.1, min_alive=1, rng=None, *, min_capacity=0.0):
    return dnp.prune_by(individual, lambda layer, g: decide_largest(layer, g, amount), min_alive=min_alive,
                        min_capacity=min_capacity, rng=rng)


def sine_waves(data):
    g = np.random.default_rng(data.seed)
    t = np.linspace(0, 1, data.n_dim)
    frequency, phase = g.uniform(1, 3, (data.n_samples, 1)), g.uniform(0, 1, (data.n_samples, 1))
    rows = 0.5 + 0.5 * np.sin(2 * np.pi * (frequency * t + phase))
    matrix = dnp.datasets.as_matrix(rows.astype(np.float32), "sine_waves")
    return dnp.datasets.split_rows(matrix, data.split, data.seed, "sine_waves")


def mut_prune_quietest(individual, data=None, min_alive=1, rng=None, *, min_capacity=0.0):
    """Kill each layer's neuron of lowest mean activation on *data* (declared needs_data; a default of None)."""
    if data is None:
        raise ValueError("mut_prune_quietest: data was not passed")
    means = {id(layer): out.mean(0).numpy() for layer, out in zip(dnp.masked_layers(individual),
                                                                    dnp.activations.layer_activations(individual, data))}

    def decide(layer, g):
        keep = np.ones(tuple(layer.weight.shape), dtype=bool)
        keep[int(np.argmin(means[id(layer)]))] = False
        return {"weight": keep}

    return dnp.prune_by(individual, decide, min_alive=min_alive, min_capacity=min_capacity, rng=rng)


OPERATORS = [OperatorSpec("largest", mut_prune_largest, base_probability=1.0, parameters=("amount",)),
             OperatorSpec("quietest", mut_prune_quietest, base_probability=1.0, needs_data=True)]
DATASETS = [DatasetSpec("sine_waves", sine_waves)]


def line(n_cells, radius, neighbourhood):
    """Cells on a line without wrap-around: the ends see fewer neighbours."""
    return [(i, *[j for j in range(i - radius, i + radius + 1) if j != i and 0 <= j < n_cells])
            for i in range(n_cells)]


TOPOLOGIES = [TopologySpec("line", line)]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "my_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(folder))
    return "my_plugin"


def test_a_user_operator_written_with_public_names_works_in_a_deap_toolbox(plugin):
    import my_plugin

    if not hasattr(creator, "SeamFitness"):
        creator.create("SeamFitness", base.Fitness, weights=(-1.0,))
        creator.create("SeamAE", dnp.MaskedAutoencoder, fitness=creator.SeamFitness)
    data = dnp.datasets.binary_clustering(n_samples=40, n_dim=16, seed=0)
    toolbox = base.Toolbox()
    toolbox.register("clone", copy.deepcopy)
    toolbox.register("map", map)
    toolbox.register("train", dnp.mut_train, data=data.train)
    toolbox.register("evaluate", dnp.evaluate_l1, data=data.validation)
    toolbox.register("prune", my_plugin.mut_prune_largest, amount=0.2)
    ae = creator.SeamAE.from_preset("paper", n_dim=16, rng=np.random.default_rng(0))
    (population, logbook) = dnp.algorithms.ea_one_plus_lambda(ae, toolbox, ngen=2, verbose=False, seed=1)
    assert population[0].fitness.valid and dnp.capacity(population[0]) < 0.7
    layer = population[0].encoder.layers[0]
    assert float(dnp.paper_capacity(population[0])) < 1.0 and bool((layer.weight_mask == 0).any())


@pytest.mark.parametrize("preset", ["quick", "paper-canonical-random-exponential"])
def test_a_plugin_operator_runs_from_the_cli_in_both_algorithms(plugin, tmp_path, preset):
    out = tmp_path / "run"
    small = [*TINY] if preset == "quick" else ["--set", "data.n_dim=16", "data.n_samples=20", "--epochs", "2",
                                               "--trials", "2", "--quiet"]
    assert main(["run", "--preset", preset, *small, "--plugin", plugin, "--set", "pruning.operator=largest",
                 "--set", "pruning.amount=0.3", "--out", str(out)]) == 0
    final = pd.read_csv(out / "final.csv")
    assert (final.capacity < 1.0).all()
    config = (out / "config.json").read_text()
    assert '"largest"' in config and '"my_plugin"' in config


def test_a_plugin_operator_and_data_set_give_the_serial_bytes_in_a_process_pool(plugin, tmp_path):
    args = ["run", "--preset", "quick", *TINY, "--plugin", plugin, "--data", "sine_waves",
            "--set", "pruning.operator=largest", "--set", "network.persistent_masks=false"]
    assert main([*args, "--out", str(tmp_path / "serial")]) == 0
    assert main([*args, "--executor", "processes", "--workers", "2", "--out", str(tmp_path / "pool")]) == 0
    for table in ("epochs.csv", "final.csv"):
        assert (tmp_path / "serial" / table).read_bytes() == (tmp_path / "pool" / table).read_bytes()
    assert '"sine_waves"' in (tmp_path / "serial" / "config.json").read_text()


@pytest.mark.parametrize("preset", ["quick", "paper-canonical-none"])
def test_a_plugin_operator_declared_as_needing_data_gets_it_in_both_algorithms(plugin, tmp_path, preset):
    small = [*TINY] if preset == "quick" else ["--set", "data.n_dim=16", "data.n_samples=20", "--epochs", "2",
                                               "--trials", "2", "--quiet"]
    out = tmp_path / "run"
    assert main(["run", "--preset", preset, *small, "--plugin", plugin, "--set", "pruning.operator=quietest",
                 "--set", "pruning.schedule=fixed", "--set", "pruning.p=1.0", "--out", str(out)]) == 0
    assert (pd.read_csv(out / "final.csv").paper_capacity < 1.0).all()


def test_a_plugin_topology_runs_from_the_cli_and_its_grid_is_used(plugin, tmp_path):
    out = tmp_path / "line"
    assert main(["run", "--preset", "quick", *TINY, "--plugin", plugin, "--set", "algorithm.topology=line",
                 "--set", "algorithm.cells=4", "--out", str(out)]) == 0
    assert len(pd.read_csv(out / "final.csv")) == 2
    grid = dnp.registry.topology_of("line", 4, 1, "moore", trials=2, plugins=[plugin])
    assert grid.neighbourhoods[:4] == ((0, 1), (1, 0, 2), (2, 1, 3), (3, 2)) and grid.neighbourhoods[4] == (4, 5)


def test_plugin_errors_are_one_line_and_exit_2(plugin, tmp_path, capsys):
    assert main(["run", "--preset", "quick", *TINY, "--plugin", "no_such_plugin_module", "--out",
                 str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "no_such_plugin_module" in err and err.count("\n") == 1
    assert main(["run", "--preset", "quick", *TINY, "--set", "pruning.operator=largest", "--out",
                 str(tmp_path / "b")]) == 2
    assert "pruning.operator" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_prune_by_refuses_a_bad_decision_and_changes_nothing():
    net = dnp.MaskedMLP((4, 3, 2))
    before = copy.deepcopy(net.state_dict())

    def wrong_shape(layer, rng):
        return {"weight": np.ones((1, 1), dtype=bool)}

    def wrong_name(layer, rng):
        return {"kernel": np.ones(tuple(layer.weight.shape), dtype=bool)}

    with pytest.raises(ValueError, match=r"wrong_shape for layer 0: keep\['weight'\] must be a boolean array"):
        dnp.prune_by(net, wrong_shape)
    with pytest.raises(ValueError, match="names entry 'kernel'"):
        dnp.prune_by(net, wrong_name)
    with pytest.raises(TypeError, match="decide must be a function"):
        dnp.prune_by(net, "random")
    for key, value in net.state_dict().items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, before[key])


def test_prune_by_applies_the_guard_the_floor_and_the_regrowth_mode():
    def everything(layer, rng):
        return {name: np.zeros(tuple(t.shape), dtype=bool) for name, t in dnp.maskable_entries(layer)}

    net = dnp.MaskedMLP((4, 3, 2))
    dnp.prune_by(net, everything, min_alive=1)
    assert [int(dnp.neurons_alive(layer).sum()) for layer in net.layers] == [1, 1]
    floor = dnp.MaskedMLP((4, 3, 2))
    dnp.prune_by(floor, everything, min_capacity=1.0)
    assert dnp.capacity(floor) == 1.0
    regrow = dnp.MaskedMLP((4, 3, 2), persistent_masks=False)
    dnp.prune_by(regrow, everything, min_alive=0)
    assert all(bool((layer.weight_mask == 1).all()) and not bool(layer.weight.any()) for layer in regrow.layers)
    assert int(regrow.pruned_count) == sum(p.numel() for p in regrow.parameters())


def test_the_registry_reads_plugins_without_changing_anything_global(plugin, tmp_path):
    before = set(dnp.registry.operators())
    assert "largest" in dnp.registry.operators([plugin]) and "sine_waves" in dnp.registry.datasets([plugin])
    assert set(dnp.registry.operators()) == before
    (tmp_path / "plugins" / "dup_plugin.py").write_text(
        "import deap_nnprune as dnp\nfrom deap_nnprune.registry import OperatorSpec\n"
        "OPERATORS = [OperatorSpec('random', dnp.mut_prune_magnitude)]\n")
    with pytest.raises(dnp.registry.PluginError, match="'random', which is already taken"):
        dnp.registry.operators(["dup_plugin"])
