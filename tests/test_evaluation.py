"""evaluate_l1, evaluate_pair, evaluate_l1_capacity: DEAP fitness tuples of floats."""

import math
import warnings

import numpy as np
import pytest
import torch

import deap_nnprune as dnp
from deap_nnprune._masking import apply_keep


def test_evaluate_l1_returns_a_one_tuple_of_a_python_float(ae, data):
    fitness = dnp.evaluate_l1(ae, data.validation)
    assert isinstance(fitness, tuple) and len(fitness) == 1
    assert type(fitness[0]) is float


def test_evaluate_l1_is_the_mean_absolute_reconstruction_error(ae, data):
    with torch.no_grad():
        expected = (ae(data.test) - data.test).abs().mean().item()
    assert dnp.evaluate_l1(ae, data.test)[0] == pytest.approx(expected, rel=1e-6)


def test_evaluate_l1_does_not_depend_on_batch_size(ae, data):
    whole = dnp.evaluate_l1(ae, data.train)[0]
    assert dnp.evaluate_l1(ae, data.train, batch_size=7)[0] == pytest.approx(whole, rel=1e-6)


def test_evaluate_l1_of_a_perfect_reconstruction_is_zero():
    identity = dnp.MaskedAutoencoder(dnp.MaskedMLP((3, 3), None, None), dnp.MaskedMLP((3, 3), None, None))
    with torch.no_grad():
        for half in identity.halves():
            half.layers[0].weight.copy_(torch.eye(3))
            half.layers[0].bias.zero_()
    assert dnp.evaluate_l1(identity, torch.rand(5, 3)) == (0.0,)


def test_evaluate_l1_sees_pruning(ae, data):
    before = dnp.evaluate_l1(ae, data.test)[0]
    last = ae.decoder.layers[-1]
    apply_keep(last, "weight", torch.zeros_like(last.weight, dtype=torch.bool))
    apply_keep(last, "bias", torch.zeros_like(last.bias, dtype=torch.bool))
    # every output is now sigmoid(0) = 0.5 and every bit is 0 or 1
    assert dnp.evaluate_l1(ae, data.test)[0] == pytest.approx(0.5)
    assert dnp.evaluate_l1(ae, data.test)[0] != before


def test_evaluate_l1_computes_no_gradients(ae, data):
    dnp.evaluate_l1(ae, data.test)
    assert all(p.grad is None for p in ae.parameters())


def test_evaluate_l1_restores_training_mode_and_leaves_weights_alone(ae, data):
    ae.train()
    before = {k: v.clone() for k, v in ae.state_dict().items() if not k.endswith("_extra_state")}
    dnp.evaluate_l1(ae, data.test)
    assert ae.training
    after = ae.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_evaluate_l1_runs_in_eval_mode():
    class ModeSpy(torch.nn.Module):
        def forward(self, x):
            self.seen_training = self.training
            return x

    ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=6)
    ae.decoder.activations[-1] = ModeSpy()
    dnp.evaluate_l1(ae, torch.rand(4, 6))
    assert ae.decoder.activations[-1].seen_training is False


def test_evaluate_l1_on_an_explicit_cpu_device(ae, data):
    assert dnp.evaluate_l1(ae, data.test, device="cpu") == dnp.evaluate_l1(ae, data.test)


def test_network_with_nan_output_gets_infinite_fitness_and_a_warning(ae, data):
    with torch.no_grad():
        ae.encoder.layers[0].weight[0, 0] = float("nan")
    with pytest.warns(dnp.NonFiniteOutputWarning, match="not finite"):
        fitness = dnp.evaluate_l1(ae, data.test)
    assert fitness == (math.inf,)


def test_network_with_inf_output_gets_infinite_fitness_and_a_warning():
    mlp = dnp.MaskedMLP((4, 4), None, None)
    ae = dnp.MaskedAutoencoder(dnp.MaskedMLP((4, 4), None, None), mlp)
    with torch.no_grad():
        mlp.layers[0].bias[0] = float("inf")
    with pytest.warns(dnp.NonFiniteOutputWarning):
        assert dnp.evaluate_l1(ae, torch.rand(3, 4)) == (math.inf,)


def test_finite_network_gives_no_warning(ae, data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dnp.evaluate_l1(ae, data.test)


def test_evaluate_l1_refuses_data_of_the_wrong_width_naming_both(ae):
    with pytest.raises(ValueError, match=r"data has width 7 but the network input width is 16"):
        dnp.evaluate_l1(ae, torch.rand(4, 7))


def test_evaluate_l1_refuses_data_that_is_not_2d(ae):
    with pytest.raises(ValueError, match=r"data must be 2-D.*\(16,\)"):
        dnp.evaluate_l1(ae, torch.rand(16))


def test_evaluate_l1_refuses_data_without_rows(ae):
    with pytest.raises(ValueError, match=r"data has no rows \(shape \(0, 16\)\)"):
        dnp.evaluate_l1(ae, torch.rand(0, 16))


def test_evaluate_l1_refuses_data_that_is_not_a_tensor(ae):
    with pytest.raises(TypeError, match=r"data must be a torch.Tensor, got list"):
        dnp.evaluate_l1(ae, [[0.0] * 16])


def test_evaluate_l1_refuses_a_non_positive_batch_size(ae, data):
    with pytest.raises(ValueError, match=r"batch_size must be >= 1, got 0"):
        dnp.evaluate_l1(ae, data.test, batch_size=0)


def test_evaluate_l1_refuses_an_unknown_device(ae, data):
    with pytest.raises(ValueError, match=r"device='tpu'"):
        dnp.evaluate_l1(ae, data.test, device="tpu")


def test_evaluate_pair_equals_evaluate_l1_of_the_assembled_autoencoder(ae, data):
    encoder, decoder = ae.halves()
    assert dnp.evaluate_pair(encoder, decoder, data.test) == pytest.approx(dnp.evaluate_l1(ae, data.test))


def test_evaluate_pair_returns_a_one_tuple_of_a_python_float(ae, data):
    fitness = dnp.evaluate_pair(ae.encoder, ae.decoder, data.test, batch_size=3)
    assert len(fitness) == 1 and type(fitness[0]) is float


def test_evaluate_pair_refuses_halves_that_do_not_fit():
    encoder = dnp.MaskedMLP((16, 5))
    decoder = dnp.MaskedMLP((4, 16))
    with pytest.raises(ValueError, match=r"encoder output width 5 does not match decoder input width 4"):
        dnp.evaluate_pair(encoder, decoder, torch.rand(3, 16))


def test_evaluate_pair_refuses_data_of_the_wrong_width_naming_both(ae):
    with pytest.raises(ValueError, match=r"data has width 9 but the encoder input width is 16"):
        dnp.evaluate_pair(ae.encoder, ae.decoder, torch.rand(3, 9))


def test_evaluate_pair_refuses_a_decoder_of_the_wrong_output_width():
    with pytest.raises(ValueError, match=r"decoder output width 15 does not match data width 16"):
        dnp.evaluate_pair(dnp.MaskedMLP((16, 5)), dnp.MaskedMLP((5, 15)), torch.rand(3, 16))


def test_evaluate_l1_capacity_returns_l1_and_capacity_as_floats(ae, data):
    layer = ae.encoder.layers[0]
    apply_keep(layer, "weight", torch.zeros_like(layer.weight, dtype=torch.bool))
    l1, alive = dnp.evaluate_l1_capacity(ae, data.test)
    assert type(l1) is float and type(alive) is float
    assert l1 == pytest.approx(dnp.evaluate_l1(ae, data.test)[0])
    assert alive == dnp.capacity(ae) < 1.0


def test_evaluate_l1_accepts_float64_data_as_numpy_gives_it(ae, data):
    # SPEC §2: users bring "any float tensor"; torch.from_numpy(array) is float64.
    expected = dnp.evaluate_l1(ae, data.test)[0]
    assert dnp.evaluate_l1(ae, data.test.double())[0] == pytest.approx(expected, rel=1e-5)


def test_a_compacted_network_is_scored_like_the_masked_one():
    ae = dnp.MaskedAutoencoder.from_preset("paper", 16, rng=np.random.default_rng(0))
    dnp.mut_prune_random(ae, amount=0.5, rng=np.random.default_rng(1))
    x = torch.rand(6, 16, generator=torch.Generator().manual_seed(0))
    assert dnp.evaluate_l1(dnp.compact(ae), x)[0] == pytest.approx(dnp.evaluate_l1(ae, x)[0], abs=1e-6)


def test_finite_data_that_overflow_the_networks_dtype_score_inf_with_a_warning_not_an_error(ae, data):
    """The data as given are finite: the overflow is the cast's, so every evaluation warns and scores inf."""
    rows = data.train.double()
    rows[0, 0] = 1e39  # finite in float64, inf once cast to the networks' float32
    with pytest.warns(dnp.NonFiniteOutputWarning):
        assert dnp.evaluate_pair(ae.encoder, ae.decoder, rows) == (math.inf,)
    with pytest.warns(dnp.NonFiniteOutputWarning):
        assert dnp.batched.evaluate_pairs([ae.encoder], [ae.decoder], rows)[0, 0].item() == math.inf
    with pytest.warns(dnp.NonFiniteOutputWarning):
        assert dnp.evaluate_l1(ae, rows) == (math.inf,)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_module_that_cleans_its_input_in_place_cannot_hide_bad_data(data, bad):
    """Any module may be scored; one that is not this library's network has its data read up front."""
    rows = data.train.clone()
    rows[1, 3] = bad
    cleaner = torch.nn.Hardtanh(0.0, 1.0, inplace=True)  # clamps the rows themselves: inf becomes 1
    with pytest.raises(ValueError, match="data contains NaN or inf"):
        dnp.evaluate_l1(cleaner, rows)
    assert dnp.evaluate_l1(cleaner, data.train)[0] < 0.01  # the rows (binary plus a little noise) barely change
