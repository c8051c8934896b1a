"""Property-based tests: arbitrary sequences of operators never undo pruning."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deap_nnprune as dnp
from deap_nnprune._masking import masked_layers

N_DIM = 6
DATA = dnp.datasets.binary_clustering(n_samples=12, n_dim=N_DIM, n_clusters=3, seed=0).train

OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("random"), st.floats(0.0, 1.0)),
        st.tuples(st.just("magnitude"), st.floats(0.0, 1.0)),
        st.tuples(st.just("variance"), st.none()),
        st.tuples(st.just("conjunctive"), st.floats(0.0, 1.0)),
        st.tuples(st.just("train"), st.floats(1e-3, 1.0)),
        st.tuples(st.just("crossover"), st.floats(0.0, 1.0)),
        st.tuples(st.just("clone"), st.none()),
        st.tuples(st.just("pickle"), st.none()),
    ),
    min_size=1,
    max_size=8,
)


def _network(seed):
    return dnp.MaskedAutoencoder.from_preset("paper", N_DIM, hidden=(5,), latent=3, rng=np.random.default_rng(seed))


def _apply(net, operation, value, rng):
    if operation == "random":
        dnp.mut_prune_random(net, amount=value, rng=rng)
    elif operation == "magnitude":
        dnp.mut_prune_magnitude(net, amount=value)
    elif operation == "variance":
        dnp.mut_prune_variance(net, DATA, rng=rng)
    elif operation == "conjunctive":
        dnp.mut_prune_conjunctive(net, DATA, threshold=value, n_cases=5, rng=rng)
    elif operation == "train":
        dnp.mut_train(net, DATA, steps=2, batch_size=4, lr=value, weight_decay=0.1, rng=rng)
    elif operation == "crossover":
        dnp.cx_masked_uniform(net, _network(99), indpb=value, rng=rng)
    elif operation == "clone":
        net = copy.deepcopy(net)
    else:
        net = pickle.loads(pickle.dumps(net))
    return net


def _masks(net):
    return [getattr(layer, f"{name}_mask").clone() for layer in masked_layers(net) for name in ("weight", "bias")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=OPERATIONS, seed=st.integers(0, 2**16))
def test_operator_sequences_never_undo_pruning(operations, seed):
    net = _network(seed)
    rng = np.random.default_rng(seed)
    masks, cap = _masks(net), dnp.capacity(net)
    for operation, value in operations:
        net = _apply(net, operation, value, rng)
        new_masks = _masks(net)
        for old, new in zip(masks, new_masks):
            assert torch.all(new <= old), operation  # masks only lose ones
        for layer in masked_layers(net):
            for name in ("weight", "bias"):
                dead = getattr(layer, f"{name}_mask") == 0
                for tensor in (name, f"{name}_exp_avg", f"{name}_exp_avg_sq"):
                    assert torch.all(getattr(layer, tensor)[dead] == 0), (operation, tensor)
        assert dnp.capacity(net) <= cap
        masks, cap = new_masks, dnp.capacity(net)
    x = torch.rand(4, N_DIM, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(dnp.compact(net)(x), net(x), atol=1e-5, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), garbage=st.floats(-1e3, 1e3, allow_nan=False))
def test_masked_entries_have_no_effect_whatever_their_value(seed, garbage):
    net = _network(seed)
    dnp.mut_prune_random(net, amount=0.5, rng=np.random.default_rng(seed))
    x = torch.rand(3, N_DIM, generator=torch.Generator().manual_seed(seed))
    before = net(x)
    with torch.no_grad():
        for layer in masked_layers(net):
            layer.weight[layer.weight_mask == 0] = garbage
            layer.bias[layer.bias_mask == 0] = garbage
    assert torch.equal(net(x), before)


@settings(max_examples=200, deadline=None)
@given(amount=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 20), st.booleans()),
       n_alive=st.integers(0, 15))
def test_amount_validation_accepts_exactly_the_documented_domain(amount, n_alive):
    valid_float = isinstance(amount, float) and math.isfinite(amount) and 0.0 <= amount <= 1.0
    valid_int = isinstance(amount, int) and not isinstance(amount, bool) and 0 <= amount <= n_alive
    if valid_float or valid_int:
        count = dnp.validate_amount(amount, n_alive)
        assert 0 <= count <= n_alive
        assert count == (amount if valid_int else round(amount * n_alive))
    else:
        with pytest.raises((ValueError, TypeError), match="amount"):
            dnp.validate_amount(amount, n_alive)
