"""Presets and their typed configuration: the paper's settings, overrides, JSON/TOML."""

import json
import sys

import pytest

from deap_nnprune.experiments import config as cfg
from deap_nnprune.experiments.presets import PAPER_RESULTS, PRESETS, get_preset
from deap_nnprune.experiments.toolboxes import lr_step_size

PAPER_ROWS = [
    "paper-coevolution-none",
    "paper-coevolution-random-exponential",
    "paper-coevolution-conjunctive-final_n",
    "paper-coevolution-variance-population",
    "paper-canonical-none",
    "paper-canonical-conjunctive-exponential",
    "paper-canonical-random-exponential",
    "paper-canonical-variance-exponential",
    "paper-coevolution-small-random-exponential",
    "paper-coevolution-random-prune_after",
]


def test_there_is_a_preset_for_every_row_of_the_papers_table_plus_quick_and_ours():
    assert set(PAPER_ROWS) <= set(PRESETS)
    assert "quick" in PRESETS
    assert any(name.startswith("ours-") for name in PRESETS)


def test_every_preset_has_a_one_line_description_and_its_own_name():
    for name, config in PRESETS.items():
        assert config.name == name
        assert config.description and "\n" not in config.description


#: The paper's operator each of our operators implements, where the names differ.
PAPER_OPERATOR = {"variance_batches": "variance"}


def test_preset_names_spell_algorithm_operator_and_schedule():
    for name in PAPER_ROWS:
        config = PRESETS[name]
        assert name.startswith(f"paper-{config.algorithm.name}-")
        if config.pruning.operator != "none":
            operator = PAPER_OPERATOR.get(config.pruning.operator, config.pruning.operator)
            assert name.endswith(f"{operator}-{config.pruning.schedule}")


#: Cells and data dimensions of each coevolution row in the authors' experiment file.
AUTHORS_GRID = {
    "paper-coevolution-none": (5, 1000),
    "paper-coevolution-random-exponential": (5, 1000),
    "paper-coevolution-conjunctive-final_n": (5, 1000),
    "paper-coevolution-random-prune_after": (5, 1000),
    "paper-coevolution-variance-population": (10, 1000),
    "paper-coevolution-small-random-exponential": (10, 4000),
}


@pytest.mark.parametrize("name", [n for n in PAPER_ROWS if "coevolution" in n])
def test_paper_coevolution_presets_use_the_authors_settings(name):
    config = PRESETS[name]
    cells, n_dim = AUTHORS_GRID[name]
    assert config.algorithm.cells == cells and config.algorithm.topology == "ring" and config.algorithm.radius == 1
    assert config.algorithm.solution_concept == "best" and config.algorithm.update == "sequential"
    assert config.algorithm.epochs == 400
    assert config.training.lr == 1e-5 and config.training.lr_mutation_sigma == 1e-5
    assert config.training.batch_size == 5 and config.training.optimizer_state == "fresh_per_batch"
    assert config.network.persistent_masks is False
    assert (config.data.n_samples, config.data.n_dim, config.data.n_clusters, config.data.noise) == (1000, n_dim, 10, 0.05)


@pytest.mark.parametrize("name", [n for n in PAPER_ROWS if "coevolution" in n])
def test_paper_coevolution_presets_select_like_the_authors_code(name):
    config = PRESETS[name]
    assert config.algorithm.pair_selection == "same_index"
    assert config.algorithm.tournament_replacement is True
    assert config.training.lr_owner == "cell"
    assert config.pruning.min_alive == 0 and config.pruning.amount == 0.1


def test_ours_presets_keep_our_selection():
    for name, config in PRESETS.items():
        if name.startswith("ours-"):
            assert config.algorithm.pair_selection == "independent"
            assert config.algorithm.tournament_replacement is False
            assert config.training.lr_owner == "individual"


@pytest.mark.parametrize("name", [n for n in PAPER_ROWS if "canonical" in n])
def test_paper_canonical_presets_use_one_adam_with_steplr_every_quarter(name):
    config = PRESETS[name]
    assert config.algorithm.offspring == 1 and config.algorithm.elitist is False
    assert config.training.optimizer_state == "persistent"
    assert config.training.lr_decay_every == 0.25 and config.training.lr_gamma == 0.1
    assert config.network.persistent_masks is False
    # 1000 rows in batches of 5 = 200 steps per epoch; a quarter of 400 epochs = 100 epochs.
    assert lr_step_size(config, 1000) == 200 * 100


def test_paper_base_probabilities_are_resolved_per_operator():
    p = {name: cfg.resolved(PRESETS[name]).pruning.p for name in PAPER_ROWS}
    assert p["paper-coevolution-random-exponential"] == 0.5
    assert p["paper-coevolution-conjunctive-final_n"] == 0.5
    assert p["paper-coevolution-variance-population"] == 0.1
    assert p["paper-canonical-variance-exponential"] == 0.1
    assert PRESETS["paper-canonical-variance-exponential"].pruning.operator == "variance_batches"
    assert p["paper-coevolution-random-prune_after"] == 1.0


def test_ours_presets_keep_masks_and_adam_state():
    from deap_nnprune.experiments.presets import BEST

    for name, config in PRESETS.items():
        if name.startswith("ours-"):
            # masks for good: during the evolution, or (a regrowth-mode evolution) from its finishing step on,
            # which then trains like the paper's coevolution (sign steps)
            regrow = not config.network.persistent_masks
            assert not regrow or config.finish.capacity < 1, name
            sign = name.endswith("-sign") or regrow or (name == "ours-best" and BEST.endswith("-sign"))
            assert config.training.optimizer_state == ("fresh_per_batch" if sign else "persistent")


def test_ours_best_is_the_best_preset_under_another_name():
    from dataclasses import replace

    from deap_nnprune.experiments.presets import BEST

    best = PRESETS["ours-best"]
    assert replace(best, name=BEST, description=PRESETS[BEST].description) == PRESETS[BEST]


def test_published_figures_are_keyed_by_paper_preset():
    assert set(PAPER_RESULTS) == set(PAPER_ROWS)
    assert PAPER_RESULTS["paper-coevolution-random-exponential"].test_l1 == 0.104
    assert PAPER_RESULTS["paper-canonical-none"].test_l1 == 0.267


def test_unknown_preset_suggests_the_closest_names():
    with pytest.raises(cfg.ConfigError, match="did you mean quick"):
        get_preset("quik")


def test_overrides_are_parsed_by_the_fields_type():
    config = cfg.apply_overrides(get_preset("quick"), [
        "training.lr=0.01", "algorithm.cells=5", "network.persistent_masks=false", "training.betas=0.9,0.99",
        "pruning.p=none", "data.key=x"])
    assert config.training.lr == 0.01 and config.algorithm.cells == 5
    assert config.network.persistent_masks is False and config.training.betas == (0.9, 0.99)
    assert config.pruning.p is None and config.data.key == "x"


def test_unknown_override_key_lists_the_valid_keys():
    with pytest.raises(cfg.ConfigError, match=r"unknown key \(did you mean training.lr\?\); valid keys: .*algorithm.cells"):
        cfg.apply_overrides(get_preset("quick"), ["training.lrr=1"])


@pytest.mark.parametrize("assignment, message", [
    ("training.lr=abc", "expected a number"),
    ("algorithm.cells=2.5", "expected an integer"),
    ("network.persistent_masks=maybe", "expected true or false"),
    ("training.lr=-1", "training.lr must be > 0"),
    ("pruning.operator=lexicase", "pruning.operator must be one of"),
    ("algorithm.radius=5", "neighbourhood"),
    ("data.n_samples=25", "multiple of data.n_clusters"),
    ("training.lr", "expected key=value"),
])
def test_bad_override_values_are_refused_with_the_key(assignment, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.apply_overrides(get_preset("quick"), [assignment])


def test_config_round_trips_through_a_dict_and_json():
    for config in PRESETS.values():
        data = json.loads(cfg.to_json(config))
        assert cfg.from_dict(data) == config


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is new in Python 3.11")
def test_toml_output_parses_to_the_same_settings():
    import tomllib

    config = cfg.resolved(get_preset("paper-coevolution-random-exponential"))
    parsed = tomllib.loads(cfg.to_toml(config))
    data = cfg.to_dict(config)
    for section in cfg.SECTIONS:
        expected = {k: v for k, v in data[section].items() if v is not None}
        assert parsed[section] == expected


def test_resume_identity_ignores_checkpoint_interval_only():
    config = get_preset("quick")
    a = cfg.apply_overrides(config, ["run.checkpoint_every=1"])
    b = cfg.apply_overrides(config, ["training.lr=0.5"])
    assert cfg.identity(a) == cfg.identity(config)
    assert cfg.identity(b) != cfg.identity(config)


@pytest.mark.parametrize("operator", ["random", "magnitude", "variance", "conjunctive"])
def test_the_capacity_floor_reaches_every_operator_of_a_toolbox(operator):
    import numpy as np
    import torch

    from deap_nnprune import MaskedAutoencoder, capacity
    from deap_nnprune.experiments.toolboxes import canonical_toolbox, load_data

    config = cfg.apply_overrides(get_preset("quick"), [
        f"pruning.operator={operator}", "pruning.amount=0.5", "pruning.min_capacity=0.8"])
    data = load_data(config.data)
    toolbox = canonical_toolbox(config, data)
    ae = MaskedAutoencoder.from_preset("paper", data.n_dim, rng=np.random.default_rng(0))
    torch.manual_seed(0)
    sizes = []
    for seed in range(12):
        toolbox.prune(ae, rng=np.random.default_rng(seed))
        sizes.append(capacity(ae))
    assert sizes[0] < 1.0
    assert sizes[-1] == sizes[-2] <= 0.8  # stopped at the floor
    assert sizes[-1] > 0.05  # instead of pruning on to almost nothing
