"""Pruning operators (deap_nnprune/pruning.py): DEAP mutations that kill entries for good."""

from copy import deepcopy
from functools import partial

import numpy as np
import pytest
import torch
from deap import base, creator
from torch.nn.utils import prune as torch_prune

from deap_nnprune import MaskedAutoencoder, MaskedMLP, capacity
from deap_nnprune._masking import masked_layers
from deap_nnprune.pruning import (
    mut_prune_conjunctive,
    mut_prune_magnitude,
    mut_prune_random,
    mut_prune_variance,
    validate_amount,
)

if not hasattr(creator, "PruneTestFitness"):
    creator.create("PruneTestFitness", base.Fitness, weights=(-1.0,))
if not hasattr(creator, "PruneTestAE"):
    creator.create("PruneTestAE", MaskedAutoencoder, fitness=creator.PruneTestFitness)

N_DIM = 16


def _ae(seed=0, cls=MaskedAutoencoder):
    return cls.from_preset("paper", N_DIM, rng=np.random.default_rng(seed))


def _data(rows=64, n_dim=N_DIM, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).random((rows, n_dim)).astype(np.float32))


def _masks(module):
    return [(layer.weight_mask.clone(), layer.bias_mask.clone()) for layer in masked_layers(module)]


def _same_masks(a, b):
    return all(torch.equal(x, y) for pa, pb in zip(a, b) for x, y in zip(pa, pb))


def _alive_neurons(layer):
    return int((layer.weight_mask.bool().any(dim=1) | layer.bias_mask.bool()).sum())


DATA = _data()
OPERATORS = {
    "random": partial(mut_prune_random, amount=0.3),
    "magnitude": partial(mut_prune_magnitude, amount=0.3),
    "variance": partial(mut_prune_variance, data=DATA),
    "conjunctive": partial(mut_prune_conjunctive, data=DATA),
}
RANDOM_OPERATORS = {k: OPERATORS[k] for k in ("random", "variance", "conjunctive")}


# --- the DEAP mutation contract ------------------------------------------------------------


@pytest.mark.parametrize("name", OPERATORS)
def test_operator_returns_the_same_individual_in_a_one_tuple_and_leaves_fitness_alone(name):
    ind = _ae(cls=creator.PruneTestAE)
    ind.fitness.values = (0.25,)
    kwargs = {"rng": np.random.default_rng(0)} if name in RANDOM_OPERATORS else {}
    result = OPERATORS[name](ind, **kwargs)
    assert isinstance(result, tuple) and len(result) == 1
    assert result[0] is ind
    assert ind.fitness.valid and ind.fitness.values == (0.25,)


@pytest.mark.parametrize("name", OPERATORS)
def test_operator_prunes_one_half_alone(name):
    encoder = MaskedMLP.from_preset("paper", N_DIM, part="encoder", rng=np.random.default_rng(0))
    if name == "conjunctive":
        # A dead-ReLU neuron is what the conjunctive filter finds.
        with torch.no_grad():
            encoder.layers[0].weight[3].fill_(-1.0)
            encoder.layers[0].bias[3] = -1.0
    kwargs = {"rng": np.random.default_rng(0)} if name in RANDOM_OPERATORS else {}
    (result,) = OPERATORS[name](encoder, **kwargs)
    assert result is encoder and capacity(encoder) < 1.0


def test_operators_register_in_a_toolbox_with_bound_parameters():
    toolbox = base.Toolbox()
    toolbox.register("prune", mut_prune_random, amount=0.5, rng=np.random.default_rng(0))
    ind = _ae()
    (same,) = toolbox.prune(ind)
    assert same is ind and capacity(ind) == pytest.approx(0.5, abs=0.01)


# --- random --------------------------------------------------------------------------------


def test_random_prunes_amount_of_the_alive_weights_and_biases_of_every_layer():
    ae = _ae()
    mut_prune_random(ae, amount=0.4, min_alive=0, rng=np.random.default_rng(1))  # some already dead
    before = [(int(l.weight_mask.sum()), int(l.bias_mask.sum())) for l in masked_layers(ae)]
    mut_prune_random(ae, amount=0.25, min_alive=0, rng=np.random.default_rng(2))
    for layer, (w, b) in zip(masked_layers(ae), before):
        assert int(layer.weight_mask.sum()) == w - round(0.25 * w)
        assert int(layer.bias_mask.sum()) == b - round(0.25 * b)


def test_random_with_an_int_prunes_that_many_entries_per_tensor():
    ae = _ae()
    mut_prune_random(ae, amount=3, rng=np.random.default_rng(0))
    for layer in masked_layers(ae):
        assert int((layer.weight_mask == 0).sum()) == 3
        assert int((layer.bias_mask == 0).sum()) == 3


def test_random_choice_is_uniform_over_alive_entries():
    counts = np.zeros(N_DIM * 30)
    for seed in range(200):
        ae = _ae()
        mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(seed))
        counts += (ae.encoder.layers[0].weight_mask == 0).numpy().reshape(-1)
    assert counts.mean() == pytest.approx(100)
    assert 60 < counts.min() and counts.max() < 140


def test_amount_zero_changes_nothing():
    ae = _ae()
    masks = _masks(ae)
    mut_prune_random(ae, amount=0.0, rng=np.random.default_rng(0))
    mut_prune_magnitude(ae, amount=0)
    assert _same_masks(masks, _masks(ae))


def test_random_prune_kills_nonzero_entries_in_regrowth_mode():
    ae = MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(0))
    layer = ae.encoder.layers[0]
    assert int((layer.weight != 0).sum()) == layer.weight.numel() - round(0.5 * layer.weight.numel())


# --- a pruned entry stays pruned -----------------------------------------------------------


def _train(ae, data, steps=5):
    optimizer = torch.optim.Adam(ae.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        (ae(data) - data).abs().mean().backward()
        optimizer.step()


def _dead(module):
    return [layer.weight_mask == 0 for layer in masked_layers(module)] + [
        layer.bias_mask == 0 for layer in masked_layers(module)
    ]


def test_a_pruned_entry_never_comes_back_after_pruning_and_training():
    ae, data = _ae(), _data(rows=32)
    mut_prune_random(ae, amount=0.3, rng=np.random.default_rng(0))
    dead = _dead(ae)
    steps = [
        lambda: mut_prune_magnitude(ae, amount=0.1),
        lambda: _train(ae, data),
        lambda: mut_prune_variance(ae, data, rng=np.random.default_rng(1)),
        lambda: _train(ae, data),
        lambda: mut_prune_conjunctive(ae, data, rng=np.random.default_rng(2)),
        lambda: mut_prune_random(ae, amount=0.2, rng=np.random.default_rng(3)),
        lambda: _train(ae, data),
    ]
    for step in steps:
        step()
        now = _dead(ae)
        assert all(bool((now_d | ~old_d).all()) for old_d, now_d in zip(dead, now))
        dead = now
    for layer in masked_layers(ae):
        for name in ("weight", "bias"):
            dead_entries = getattr(layer, f"{name}_mask") == 0
            assert bool((layer.effective(name)[dead_entries] == 0).all())
            assert bool((getattr(layer, name)[dead_entries] == 0).all())


# --- magnitude -----------------------------------------------------------------------------


def test_magnitude_removes_the_smallest_alive_entries_first():
    net = MaskedMLP((5, 4), bias=False)
    values = torch.randperm(20, generator=torch.Generator().manual_seed(0)).float() + 1
    signs = torch.where(torch.arange(20) % 2 == 0, 1.0, -1.0)
    with torch.no_grad():
        net.layers[0].weight.copy_((values * signs).reshape(4, 5))
    mut_prune_magnitude(net, amount=6)
    assert sorted(values[net.layers[0].weight_mask.reshape(-1) == 0].tolist()) == [1, 2, 3, 4, 5, 6]
    mut_prune_magnitude(net, amount=0.5)  # 7 of the 14 alive
    assert sorted(values[net.layers[0].weight_mask.reshape(-1) == 0].tolist()) == list(range(1, 14))


def test_magnitude_ranks_biases_separately_from_weights():
    net = MaskedMLP((2, 2))
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[0.1, 0.2], [0.3, 0.4]]))
        net.layers[0].bias.copy_(torch.tensor([5.0, 6.0]))
    mut_prune_magnitude(net, amount=1)
    assert net.layers[0].weight_mask.tolist() == [[0.0, 1.0], [1.0, 1.0]]
    assert net.layers[0].bias_mask.tolist() == [0.0, 1.0]


# --- variance ------------------------------------------------------------------------------


def _three_variance_net():
    """Linear neurons on 32 inputs: outputs with std ∝ 1, 0.5 and 0.01."""
    net = MaskedMLP((32, 3), activation=None, output_activation=None)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([1.0, 0.5, 0.01]).unsqueeze(1).expand(3, 32))
        net.layers[0].bias.fill_(0.3)
    return net


def test_variance_prunes_more_from_high_variance_neurons_than_from_low():
    net = _three_variance_net()
    mut_prune_variance(net, _data(rows=200, n_dim=32), min_alive=0, rng=np.random.default_rng(0))
    layer = net.layers[0]
    lost = (33 - layer.weight_mask.sum(dim=1) - layer.bias_mask).tolist()
    assert lost[0] == 33  # normalised std 1: keeps nothing
    assert 0 < lost[1] < 33  # about half
    assert lost[2] == 0  # normalised std 0: keeps everything


def test_variance_guard_spares_the_most_varying_neuron_when_it_is_the_last():
    net = _three_variance_net()
    net.layers[0].weight_mask[1:] = 0
    net.layers[0].bias_mask[1:] = 0
    mut_prune_variance(net, _data(rows=50, n_dim=32), rng=np.random.default_rng(0))
    assert _alive_neurons(net.layers[0]) == 1


@pytest.mark.parametrize("make_data", [
    lambda: torch.full((20, 4), 0.5),  # every neuron constant: all stds 0
    lambda: torch.rand(20, 4),  # identical neurons: all stds equal
])
def test_variance_prunes_nothing_in_a_layer_whose_stds_are_all_equal(make_data):
    net = MaskedMLP((4, 3), activation=None)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([0.2, -0.1, 0.4, 0.3]).expand(3, 4))
        net.layers[0].bias.fill_(0.1)
    mut_prune_variance(net, make_data(), rng=np.random.default_rng(0))
    assert capacity(net) == 1.0


# --- conjunctive ---------------------------------------------------------------------------


def _conjunctive_net(bias=0.0):
    """Neuron 0 = relu(x0), neuron 1 = relu(x1), neuron 2 = relu(0.5 + 0·x)."""
    net = MaskedMLP((2, 3), output_activation=torch.nn.ReLU)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
        net.layers[0].bias.copy_(torch.tensor([bias, bias, 0.5]))
    return net


ALTERNATING = torch.tensor([[1.0, 0.0], [0.0, 1.0]])


def test_conjunctive_prunes_the_neuron_left_after_the_first_case():
    # Case (1, 0): outputs (1, 0, 0.5), normalised (1, 0, 0.5): only neuron 1 is below 0.1,
    # so the filter stops there and neuron 1 loses its row. Case (0, 1) dooms neuron 0.
    outcomes = set()
    for seed in range(20):
        net = _conjunctive_net()
        mut_prune_conjunctive(net, ALTERNATING, rng=np.random.default_rng(seed))
        pruned = tuple(int(i) for i in torch.nonzero(net.layers[0].bias_mask == 0))
        assert net.layers[0].weight_mask[list(pruned)].sum() == 0
        outcomes.add(pruned)
    assert outcomes == {(0,), (1,)}  # which one depends on the case order drawn from rng


def test_conjunctive_prunes_every_neuron_that_stays_quiet_on_all_cases():
    net = MaskedMLP((2, 4), output_activation=torch.nn.ReLU)
    with torch.no_grad():  # neurons 1 and 3 never fire on positive inputs
        net.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, -1.0], [0.0, 1.0], [-2.0, 0.0]]))
        net.layers[0].bias.zero_()
    mut_prune_conjunctive(net, torch.rand(30, 2) + 0.5, rng=np.random.default_rng(0))
    assert net.layers[0].bias_mask.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert net.layers[0].weight_mask.sum(dim=1).tolist() == [2.0, 0.0, 2.0, 0.0]


def test_conjunctive_prunes_nothing_when_the_filter_empties():
    net = _conjunctive_net()
    mut_prune_conjunctive(net, ALTERNATING, threshold=0.0, rng=np.random.default_rng(0))
    assert capacity(net) == 1.0


def test_conjunctive_candidates_are_alive_neurons_only():
    net = MaskedMLP((2, 4), output_activation=torch.nn.ReLU)
    with torch.no_grad():  # neuron 1 is quiet; neuron 3 is dead already (outputs relu(0) = 0)
        net.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, -1.0], [0.0, 1.0], [1.0, 1.0]]))
        net.layers[0].bias.zero_()
    net.layers[0].weight_mask[3] = 0
    net.layers[0].bias_mask[3] = 0
    mut_prune_conjunctive(net, torch.rand(10, 2) + 0.5, rng=np.random.default_rng(0))
    assert net.layers[0].bias_mask.tolist() == [1.0, 0.0, 1.0, 0.0]


def test_conjunctive_draws_at_most_n_cases_rows():
    # Neurons 0 and 1 are both quiet on every row but row 0, where neuron 0 fires. With
    # every row as a case, row 0 always separates them and only neuron 1 is pruned; with
    # one case, row 0 is usually not drawn, the cases run out with both left, and both go.
    net = MaskedMLP((2, 3), output_activation=torch.nn.ReLU)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, -1.0], [0.0, 1.0]]))
        net.layers[0].bias.zero_()
    data = torch.tensor([[1.0, 1.0]] + [[0.0, 1.0]] * 9)
    outcomes = {n_cases: set() for n_cases in (1, 10, 100)}
    for n_cases, seen in outcomes.items():
        for seed in range(60):  # row 0 is the one case in about 6 of 60 draws
            copy = deepcopy(net)
            mut_prune_conjunctive(copy, data, n_cases=n_cases, rng=np.random.default_rng(seed))
            seen.add(tuple(copy.layers[0].bias_mask.tolist()))
    assert outcomes[10] == outcomes[100] == {(1.0, 0.0, 1.0)}
    assert outcomes[1] == {(1.0, 0.0, 1.0), (0.0, 0.0, 1.0)}


# --- reproducibility -----------------------------------------------------------------------


@pytest.mark.parametrize("name", RANDOM_OPERATORS)
def test_same_rng_seed_gives_the_same_masks(name):
    a, b = _ae(), _ae()
    OPERATORS[name](a, rng=np.random.default_rng(7))
    OPERATORS[name](b, rng=np.random.default_rng(7))
    assert _same_masks(_masks(a), _masks(b))


@pytest.mark.parametrize("name", ["random", "variance"])
def test_different_rng_seeds_give_different_masks(name):
    a, b = _ae(), _ae()
    OPERATORS[name](a, rng=np.random.default_rng(1))
    OPERATORS[name](b, rng=np.random.default_rng(2))
    assert not _same_masks(_masks(a), _masks(b))


def test_without_rng_torch_manual_seed_makes_a_call_repeatable():
    a, b = _ae(), _ae()
    torch.manual_seed(3)
    mut_prune_random(a, amount=0.5)
    torch.manual_seed(3)
    mut_prune_random(b, amount=0.5)
    assert _same_masks(_masks(a), _masks(b))


# --- the min_alive guard -------------------------------------------------------------------


@pytest.mark.parametrize("prune", [
    partial(mut_prune_random, amount=1.0, rng=np.random.default_rng(0)),
    partial(mut_prune_magnitude, amount=1.0),
])
def test_guard_keeps_one_alive_neuron_per_layer_even_when_pruning_everything(prune):
    ae = _ae()
    prune(ae)
    assert [_alive_neurons(layer) for layer in masked_layers(ae)] == [1, 1, 1, 1]
    prune(ae)
    assert [_alive_neurons(layer) for layer in masked_layers(ae)] == [1, 1, 1, 1]


def test_guard_spares_the_neuron_with_the_largest_alive_magnitude():
    net = MaskedMLP((3, 3))
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[0.1, 0.1, 0.1], [-2.0, 0.0, 0.1], [0.5, 0.5, 0.5]]))
        net.layers[0].bias.zero_()
    mut_prune_random(net, amount=1.0, rng=np.random.default_rng(0))
    assert net.layers[0].weight_mask.tolist() == [[0, 0, 0], [1, 1, 1], [0, 0, 0]]
    assert net.layers[0].bias_mask.tolist() == [0, 1, 0]


def test_guard_keeps_min_alive_neurons():
    ae = _ae()
    mut_prune_random(ae, amount=1.0, min_alive=3, rng=np.random.default_rng(0))
    assert [_alive_neurons(layer) for layer in masked_layers(ae)] == [3, 3, 3, 3]


def test_guard_guards_the_conjunctive_operator():
    net = MaskedMLP((2, 3), output_activation=torch.nn.ReLU)
    with torch.no_grad():  # every neuron is quiet, so all are left after the filter
        net.layers[0].weight.fill_(-1.0)
    mut_prune_conjunctive(net, torch.rand(5, 2), rng=np.random.default_rng(0))
    assert _alive_neurons(net.layers[0]) == 1
    mut_prune_conjunctive(net, torch.rand(5, 2), min_alive=0, rng=np.random.default_rng(0))
    assert _alive_neurons(net.layers[0]) == 0


def test_min_alive_zero_allows_killing_everything():
    ae = _ae()
    mut_prune_random(ae, amount=1.0, min_alive=0, rng=np.random.default_rng(0))
    assert capacity(ae) == 0.0


# --- the min_capacity floor ----------------------------------------------------------------


@pytest.mark.parametrize("name", OPERATORS)
def test_an_operator_at_the_floor_changes_nothing(name):
    ae = _ae()
    mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(3))
    masks, weights = _masks(ae), [p.detach().clone() for p in ae.parameters()]
    OPERATORS[name](ae, rng=np.random.default_rng(0), min_capacity=capacity(ae))
    assert _same_masks(masks, _masks(ae))
    assert all(torch.equal(a, b) for a, b in zip(weights, ae.parameters()))


@pytest.mark.parametrize("name", ["random", "magnitude"])
def test_repeated_pruning_stops_one_step_below_the_floor(name):
    ae = _ae()
    sizes = [capacity(ae)]
    for seed in range(40):
        OPERATORS[name](ae, rng=np.random.default_rng(seed), min_capacity=0.5)
        sizes.append(capacity(ae))
    above = [c for c in sizes if c > 0.5]
    assert sizes[len(above)] <= 0.5 < sizes[len(above) - 1]  # the first step that reached the floor
    assert len(set(sizes[len(above):])) == 1  # and nothing after it
    assert sizes[-1] >= 0.5 * 0.7 - 0.02  # at most one step of 30 % below the floor (per-layer rounding)


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_min_capacity_outside_unit_interval_is_refused(bad):
    ae = _ae()
    masks = _masks(ae)
    with pytest.raises(ValueError, match=r"min_capacity must be"):
        mut_prune_random(ae, amount=0.3, rng=np.random.default_rng(0), min_capacity=bad)
    assert _same_masks(masks, _masks(ae))


# --- devices -------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", OPERATORS)
def test_operators_prune_a_network_on_cuda_like_on_the_cpu(name):
    cpu, gpu = _ae(), _ae().cuda()
    kwargs = {"rng": np.random.default_rng(0)} if name in RANDOM_OPERATORS else {}
    OPERATORS[name](cpu, **kwargs)
    kwargs = {"rng": np.random.default_rng(0)} if name in RANDOM_OPERATORS else {}
    OPERATORS[name](gpu, **kwargs)
    assert all(layer.weight_mask.is_cuda for layer in masked_layers(gpu))
    if name in ("random", "magnitude"):
        assert _same_masks(_masks(cpu), [(w.cpu(), b.cpu()) for w, b in _masks(gpu)])


# --- validate_amount and bad input ---------------------------------------------------------


@pytest.mark.parametrize("amount, n", [(0.5, 5), (0.25, 10), (0.3, 7), (1.0, 9), (0.0, 4), (2, 5), (0, 0)])
def test_validate_amount_follows_torch_prune(amount, n):
    torch_prune._validate_pruning_amount_init(amount)
    torch_prune._validate_pruning_amount(amount, n)
    assert validate_amount(amount, n) == torch_prune._compute_nparams_toprune(amount, n)


@pytest.mark.parametrize("amount, error, match", [
    (-1, ValueError, r"amount must be a float in \[0, 1\] or an int >= 0, got -1"),
    (-0.1, ValueError, r"amount must be a float in \[0, 1\] or an int >= 0, got -0.1"),
    (1.5, ValueError, r"amount must be a float in \[0, 1\] or an int >= 0, got 1.5"),
    (float("nan"), ValueError, r"amount must be a float in \[0, 1\] or an int >= 0, got nan"),
    (11, ValueError, r"amount=11 is more than the 10 alive entries"),
    (True, TypeError, r"amount must be .* got True \(bool\)"),
    ("0.1", TypeError, r"amount must be .* got '0.1' \(str\)"),
])
def test_validate_amount_refuses_bad_amounts(amount, error, match):
    with pytest.raises(error, match=match):
        validate_amount(amount, 10)


def test_validate_amount_names_the_argument():
    with pytest.raises(ValueError, match=r"fraction must be .* got 2.0"):
        validate_amount(2.0, 10, argument="fraction")


@pytest.mark.parametrize("prune", [mut_prune_random, mut_prune_magnitude])
@pytest.mark.parametrize("amount, error, match", [
    (-1, ValueError, r"amount must be .* got -1"),
    (1.5, ValueError, r"amount must be .* got 1.5"),
    (10**6, ValueError, r"amount=1000000 is more than the \d+ alive entries"),
    (True, TypeError, r"amount must be .* got True"),
])
def test_prune_refuses_bad_amount(prune, amount, error, match):
    with pytest.raises(error, match=match):
        prune(_ae(), amount=amount)


def test_a_refused_call_changes_nothing():
    ae = _ae()
    masks = _masks(ae)
    with pytest.raises(ValueError, match=r"amount=12 is more than the 10 alive entries"):
        mut_prune_random(ae, amount=12, rng=np.random.default_rng(0))  # fits the weights, not the 10 latent biases
    assert _same_masks(masks, _masks(ae))


@pytest.mark.parametrize("name", OPERATORS)
def test_negative_min_alive_is_refused(name):
    with pytest.raises(ValueError, match=r"min_alive must be >= 0, got -1"):
        OPERATORS[name](_ae(), min_alive=-1)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_threshold_outside_unit_interval_is_refused(threshold):
    with pytest.raises(ValueError, match=rf"threshold must be .*, got {threshold}"):
        mut_prune_conjunctive(_ae(), DATA, threshold=threshold)


@pytest.mark.parametrize("n_cases", [0, -5])
def test_n_cases_below_one_is_refused(n_cases):
    with pytest.raises(ValueError, match=rf"n_cases must be >= 1, got {n_cases}"):
        mut_prune_conjunctive(_ae(), DATA, n_cases=n_cases)


def test_batch_size_below_one_is_refused():
    with pytest.raises(ValueError, match=r"batch_size must be >= 1, got 0"):
        mut_prune_variance(_ae(), DATA, batch_size=0)


@pytest.mark.parametrize("prune", [mut_prune_variance, mut_prune_conjunctive])
@pytest.mark.parametrize("data, match", [
    (torch.rand(5, N_DIM + 1), rf"data has width {N_DIM + 1} but the network input width is {N_DIM}"),
    (torch.rand(0, N_DIM), r"data has no rows"),
    (torch.rand(N_DIM), r"data must be 2-D"),
])
def test_bad_data_is_refused(prune, data, match):
    with pytest.raises(ValueError, match=match):
        prune(_ae(), data)


@pytest.mark.parametrize("name", OPERATORS)
@pytest.mark.parametrize("individual, match", [
    (torch.nn.Linear(N_DIM, 2), "Linear has no MaskedLinear layers"),
    (torch.nn.Sequential(torch.nn.Linear(N_DIM, 2)), "Sequential has no MaskedLinear layers"),
    ([1, 2, 3], "got list"),
])
def test_individual_without_masked_layers_is_refused(name, individual, match):
    with pytest.raises(TypeError, match=match):
        OPERATORS[name](individual)


def test_rng_of_the_wrong_type_is_refused():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or None, got int"):
        mut_prune_random(_ae(), amount=0.1, rng=42)
