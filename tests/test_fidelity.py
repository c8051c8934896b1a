"""The paper authors' semantics in the compatibility mode: fresh-mask pruning, their counter, their selection."""

import copy

import numpy as np
import pytest
import torch
from deap import base, creator

import deap_nnprune as dnp
from deap_nnprune.algorithms import ea_spatial_coevolution, tournament

N_DIM = 16


def regrow_everything(net):
    """Training may regrow any zeroed weight: make every entry non-zero again."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.where(p == 0, torch.full_like(p, 0.01), p))


def zeros_per_tensor(net):
    return [int((p == 0).sum()) for p in net.parameters()]


@pytest.mark.parametrize("amount", [0.1, 0.25])
def test_regrowth_mode_prunes_round_amount_numel_of_every_tensor_afresh_after_regrowth(amount):
    net = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    expected = [round(amount * p.numel()) for p in net.parameters()]
    dnp.mut_prune_random(net, amount=amount, min_alive=0, rng=np.random.default_rng(1))
    assert zeros_per_tensor(net) == expected
    regrow_everything(net)
    dnp.mut_prune_random(net, amount=amount, min_alive=0, rng=np.random.default_rng(2))
    assert zeros_per_tensor(net) == expected  # never the union of the two prunes


def test_regrowth_mode_counts_amount_over_all_entries_even_already_zero_ones():
    net = dnp.MaskedMLP((10, 10), bias=False, persistent_masks=False)
    with torch.no_grad():
        net.layers[0].weight[:, :5] = 0  # 50 of the 100 entries are zero already
    dnp.mut_prune_random(net, amount=60, min_alive=0, rng=np.random.default_rng(0))  # more than the non-zero ones
    zero = int((net.layers[0].weight == 0).sum())
    assert 60 <= zero < 100 and net.pruned_count == zero
    persistent = dnp.MaskedMLP((10, 10), bias=False)
    persistent.layers[0].weight_mask[:, :5] = 0
    with pytest.raises(ValueError, match="more than the 50 alive entries"):
        dnp.mut_prune_random(persistent, amount=60, min_alive=0, rng=np.random.default_rng(0))


def test_persistent_masks_keep_the_union_of_prunes_dead_through_regrowth():
    net = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, rng=np.random.default_rng(0))
    dnp.mut_prune_random(net, amount=0.1, min_alive=0, rng=np.random.default_rng(1))
    first = [layer.weight_mask.clone() for layer in net.modules() if isinstance(layer, dnp.MaskedLinear)]
    regrow_everything(net)
    dnp.mut_prune_random(net, amount=0.1, min_alive=0, rng=np.random.default_rng(2))
    layers = [layer for layer in net.modules() if isinstance(layer, dnp.MaskedLinear)]
    for layer, before in zip(layers, first):
        dead = layer.weight_mask == 0
        assert bool(dead[before == 0].all())  # what died first is still dead
        assert int(dead.sum()) > int((before == 0).sum())  # and more died


def test_regrowth_mode_prune_leaves_masks_and_adam_moments_alone():
    net = dnp.MaskedMLP((6, 4), persistent_masks=False)
    layer = net.layers[0]
    with torch.no_grad():
        layer.weight_exp_avg.fill_(0.5)
    dnp.mut_prune_random(net, amount=0.5, min_alive=0, rng=np.random.default_rng(0))
    assert bool((layer.weight_mask == 1).all())
    assert bool((layer.weight_exp_avg == 0.5).all())  # as torch.nn.utils.prune, which knows no optimiser


@pytest.mark.parametrize("operator", ["variance", "conjunctive"])
def test_guided_operators_in_regrowth_mode_do_not_zero_again_what_regrew(operator):
    torch.manual_seed(0)
    data = torch.rand(64, N_DIM)
    prune = {"variance": dnp.mut_prune_variance, "conjunctive": dnp.mut_prune_conjunctive}[operator]
    net = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    prune(net, data, min_alive=0, rng=np.random.default_rng(1))
    regrow_everything(net)
    # a network that was never pruned, with the same weights
    reference = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False)
    with torch.no_grad():
        for theirs, ours in zip(reference.parameters(), net.parameters()):
            theirs.copy_(ours)
    prune(net, data, min_alive=0, rng=np.random.default_rng(2))
    prune(reference, data, min_alive=0, rng=np.random.default_rng(2))
    # the second prune depends only on the current weights, not on what the first one removed
    assert zeros_per_tensor(net) == zeros_per_tensor(reference)
    assert all(bool((layer.weight_mask == 1).all()) for layer in net.modules() if isinstance(layer, dnp.MaskedLinear))


def quiet_net(persistent):
    """Neuron 0 is dead (zero row and bias), neuron 1 = relu(x0 - 0.5), neuron 2 = x1."""
    net = dnp.MaskedMLP((2, 3), output_activation=torch.nn.ReLU, persistent_masks=persistent)
    with torch.no_grad():
        net.layers[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
        net.layers[0].bias.copy_(torch.tensor([0.0, -0.5, 0.0]))
        if persistent:
            net.layers[0].weight_mask[0] = 0
            net.layers[0].bias_mask[0] = 0
    return net


def test_conjunctive_in_regrowth_mode_takes_every_neuron_as_a_candidate():
    # On rows (0.5, 1) neurons 0 and 1 are quiet; on rows (1, 1) only neuron 0 is.
    data = torch.tensor([[0.5, 1.0]] * 5 + [[1.0, 1.0]] * 5)
    survived_regrowth, survived_persistent = [], []
    for seed in range(10):
        net = quiet_net(persistent=False)
        dnp.mut_prune_conjunctive(net, data, min_alive=0, rng=np.random.default_rng(seed))
        survived_regrowth.append(bool(net.layers[0].weight[1, 0] != 0))
        net = quiet_net(persistent=True)
        dnp.mut_prune_conjunctive(net, data, min_alive=0, rng=np.random.default_rng(seed))
        survived_persistent.append(bool(net.layers[0].weight_mask[1, 0] != 0))
    # regrowth: the dead neuron 0 is a candidate too, so two candidates go on to a (1, 1) case that
    # leaves neuron 0 alone; persistent: neuron 1 is the only candidate after a (0.5, 1) case and is cut
    assert all(survived_regrowth)
    assert not all(survived_persistent)


# -- the authors' capacity counter ------------------------------------------------------
def test_paper_capacity_is_one_for_a_network_never_pruned_even_with_zero_weights():
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False)
    with torch.no_grad():
        ae.decoder.layers[0].weight.zero_()
    assert dnp.paper_capacity(ae) == 1.0 and dnp.capacity(ae) < 1.0


def test_paper_capacity_is_counted_after_a_prune_and_not_recounted_after_regrowth():
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae, amount=0.25, min_alive=0, rng=np.random.default_rng(1))
    after_prune = dnp.capacity(ae)
    assert dnp.paper_capacity(ae) == pytest.approx(after_prune)
    regrow_everything(ae)
    assert dnp.capacity(ae) == 1.0
    assert dnp.paper_capacity(ae) == pytest.approx(after_prune)  # the counter remembers the prune


def test_paper_capacity_travels_with_clones_pickles_and_state_dicts():
    import pickle

    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae, amount=0.2, min_alive=0, rng=np.random.default_rng(1))
    value = dnp.paper_capacity(ae)
    assert value < 1.0
    assert dnp.paper_capacity(copy.deepcopy(ae)) == value
    assert dnp.paper_capacity(pickle.loads(pickle.dumps(ae))) == value
    fresh = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks=False)
    fresh.load_state_dict(ae.state_dict())
    assert dnp.paper_capacity(fresh) == value


def test_pruning_one_half_counts_only_that_half():
    ae = dnp.MaskedAutoencoder.from_preset("paper", N_DIM, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae.decoder, amount=0.5, min_alive=0, rng=np.random.default_rng(1))
    assert ae.encoder.pruned_count == 0 and ae.decoder.pruned_count > 0


# -- the authors' selection -----------------------------------------------------------
def test_tournament_with_replacement_may_draw_one_candidate_twice():
    scores = np.array([0.0, 1.0])
    picks = {tournament(scores, 2, np.random.default_rng(s), replace=True) for s in range(40)}
    assert picks == {0, 1}  # without replacement a tournament of the whole neighbourhood always returns 0
    assert {tournament(scores, 2, np.random.default_rng(s)) for s in range(40)} == {0}


def tagged_population(n, lr=1e-2, seed=0):
    rng = np.random.default_rng(seed)
    encoders = [creator.Encoder.from_preset("paper", N_DIM, "encoder", rng=rng, learning_rate=lr) for _ in range(n)]
    decoders = [creator.Decoder.from_preset("paper", N_DIM, "decoder", rng=rng, learning_rate=lr) for _ in range(n)]
    for i, (e, d) in enumerate(zip(encoders, decoders)):
        e.origin, d.origin = i, i  # a plain attribute: clones carry it, training does not touch it
    return encoders, decoders


def coevolution_toolbox():
    tb = base.Toolbox()
    tb.register("map", map)
    tb.register("clone", copy.deepcopy)
    tb.register("evaluate_pair", dnp.evaluate_pair)
    tb.register("evaluate_pairs", dnp.batched.evaluate_pairs)
    tb.register("train_pairs", dnp.batched.train_pairs, epochs=1, batch_size=5)
    tb.register("mutate_lr", dnp.mut_learning_rate, sigma=1e-3)
    return tb


@pytest.fixture(scope="module")
def splits():
    return dnp.datasets.binary_clustering(n_samples=40, n_dim=N_DIM, n_clusters=4, seed=0)


def origins(splits, seeds, **kwargs):
    pairs = []
    for seed in seeds:
        encoders, decoders = tagged_population(5)
        encoders, decoders, _ = ea_spatial_coevolution(encoders, decoders, coevolution_toolbox(), 1, splits,
                                                       seed=seed, verbose=False, **kwargs)
        pairs += [(e.origin, d.origin) for e, d in zip(encoders, decoders)]
    return pairs


def test_same_index_selection_takes_both_halves_from_one_neighbour(splits):
    assert all(a == b for a, b in origins(splits, range(4), pair_selection="same_index"))
    assert any(a != b for a, b in origins(splits, range(4), pair_selection="independent"))


def test_cell_owned_learning_rate_is_one_rate_for_both_halves(splits):
    encoders, decoders = tagged_population(5)
    encoders, decoders, logbook = ea_spatial_coevolution(encoders, decoders, coevolution_toolbox(), 3, splits,
                                                         seed=1, verbose=False, lr_owner="cell")
    assert all(e.learning_rate == d.learning_rate for e, d in zip(encoders, decoders))
    assert len({e.learning_rate for e in encoders}) > 1  # the cells' rates walk apart
    encoders, decoders = tagged_population(5)
    encoders, decoders, _ = ea_spatial_coevolution(encoders, decoders, coevolution_toolbox(), 3, splits,
                                                   seed=1, verbose=False, lr_owner="individual")
    assert any(e.learning_rate != d.learning_rate for e, d in zip(encoders, decoders))


def test_cell_owned_learning_rate_trains_the_chosen_pair_at_the_cells_rate(splits):
    encoders, decoders = tagged_population(3)
    encoders[1].learning_rate = decoders[1].learning_rate = 0.5  # a neighbour carrying a very different rate
    tb = coevolution_toolbox()
    tb.unregister("mutate_lr")
    encoders, decoders, _ = ea_spatial_coevolution(encoders, decoders, tb, 1, splits, seed=0, verbose=False,
                                                   lr_owner="cell", update="synchronous")
    assert [e.learning_rate for e in encoders] == [1e-2, 0.5, 1e-2]  # each cell keeps its own rate


def test_paper_l1_is_the_mean_training_l1_of_the_cells_centre_pairs(splits):
    encoders, decoders = tagged_population(5)
    tb = coevolution_toolbox()
    tb.register("prune", dnp.mut_prune_random, amount=0.2)
    encoders, decoders, logbook = ea_spatial_coevolution(encoders, decoders, tb, 2, splits, seed=3, verbose=False)
    last = logbook[-1]
    expected = np.mean([dnp.evaluate_pair(e, d, splits.train)[0] for e, d in zip(encoders, decoders)])
    assert last["paper_l1"] == pytest.approx(expected, rel=1e-12)
    expected_capacity = np.mean([dnp.paper_capacity(dnp.MaskedAutoencoder(e, d)) for e, d in zip(encoders, decoders)])
    assert last["paper_capacity"] == pytest.approx(expected_capacity) and last["paper_capacity"] < 1.0


@pytest.mark.parametrize("argument, value", [("pair_selection", "same"), ("lr_owner", "pair"),
                                             ("tournament_replacement", "yes")])
def test_selection_switches_refuse_bad_values_by_name(splits, argument, value):
    encoders, decoders = tagged_population(3)
    with pytest.raises((TypeError, ValueError), match=argument):
        ea_spatial_coevolution(encoders, decoders, coevolution_toolbox(), 1, splits, seed=0, verbose=False,
                               **{argument: value})
