"""cx_masked_uniform: uniform crossover that moves masks and Adam state with weights."""

import numpy as np
import pytest
import torch

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    return (dnp.MaskedAutoencoder.from_preset("paper", 12, rng=rng),
            dnp.MaskedAutoencoder.from_preset("paper", 12, rng=rng))


def test_returns_both_parents_in_place():
    a, b = _pair()
    result = dnp.cx_masked_uniform(a, b, rng=np.random.default_rng(0))
    assert result[0] is a and result[1] is b


def test_entries_are_swapped_not_invented():
    a, b = _pair()
    wa, wb = a.encoder.layers[0].weight.detach().clone(), b.encoder.layers[0].weight.detach().clone()
    dnp.cx_masked_uniform(a, b, indpb=0.5, rng=np.random.default_rng(1))
    new_a, new_b = a.encoder.layers[0].weight, b.encoder.layers[0].weight
    swapped = new_a == wb
    assert torch.all(swapped | (new_a == wa))
    assert torch.equal(torch.where(swapped, wa, wb), new_b)
    assert 0.3 < swapped.float().mean() < 0.7


def test_indpb_zero_changes_nothing():
    a, b = _pair()
    before = [t.clone() for t in a.buffers()] + [t.detach().clone() for t in a.parameters()]
    dnp.cx_masked_uniform(a, b, indpb=0.0, rng=np.random.default_rng(0))
    after = list(a.buffers()) + list(a.parameters())
    assert all(torch.equal(x, y) for x, y in zip(before, after))


def test_pruned_entries_stay_pruned_in_both_children():
    a, b = _pair()
    layer = a.decoder.layers[1]
    keep = torch.rand(layer.weight.shape, generator=torch.Generator().manual_seed(0)) > 0.3
    apply_keep(layer, "weight", keep)
    capacity_before = dnp.capacity(a), dnp.capacity(b)
    dnp.cx_masked_uniform(a, b, indpb=0.5, rng=np.random.default_rng(2))
    for child in (a, b):
        assert torch.all(child.decoder.layers[1].weight_mask[~keep] == 0)
        assert torch.all(child.decoder.layers[1].weight[~keep] == 0)
    assert dnp.capacity(a) <= capacity_before[0] and dnp.capacity(b) <= capacity_before[1]


def test_adam_moments_move_with_their_weights():
    a, b = _pair()
    a.encoder.layers[0].weight_exp_avg.fill_(1.0)
    b.encoder.layers[0].weight_exp_avg.fill_(2.0)
    wb = b.encoder.layers[0].weight.detach().clone()
    dnp.cx_masked_uniform(a, b, rng=np.random.default_rng(3))
    from_b = a.encoder.layers[0].weight == wb
    assert torch.all(a.encoder.layers[0].weight_exp_avg[from_b] == 2.0)
    assert torch.all(a.encoder.layers[0].weight_exp_avg[~from_b] == 1.0)


def test_same_rng_same_children():
    a1, b1 = _pair()
    a2, b2 = _pair()
    dnp.cx_masked_uniform(a1, b1, rng=np.random.default_rng(9))
    dnp.cx_masked_uniform(a2, b2, rng=np.random.default_rng(9))
    assert all(torch.equal(x, y) for x, y in zip(a1.parameters(), a2.parameters()))


def test_different_shapes_are_refused():
    a = dnp.MaskedAutoencoder.from_preset("paper", 12)
    b = dnp.MaskedAutoencoder.from_preset("small", 12)
    with pytest.raises(ValueError, match="same shape"):
        dnp.cx_masked_uniform(a, b)


def test_bad_indpb_is_refused():
    a, b = _pair()
    with pytest.raises(ValueError, match=r"indpb.*1\.5"):
        dnp.cx_masked_uniform(a, b, indpb=1.5)
