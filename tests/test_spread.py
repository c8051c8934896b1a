"""The activation record of the authors' variance statistic, and mut_prune_spread / ``variance_batches``."""

import copy
import pickle

import numpy as np
import pytest
import torch

import deap_nnprune as dnp
from deap_nnprune import MaskedAutoencoder, batch_order, mut_prune_spread, mut_train
from deap_nnprune.batched import train_pairs
from deap_nnprune.experiments import config as cfg
from deap_nnprune.experiments.cli import main
from deap_nnprune.experiments.presets import get_preset
from deap_nnprune.spread import SpreadRecord, spread_record, start_recording

from test_cli import read_bytes, tiny

N_DIM = 16


def _ae(seed=0):
    torch.manual_seed(seed)
    ae = MaskedAutoencoder.from_preset("paper", n_dim=N_DIM)
    start_recording(ae)
    return ae


def _data(rows=42, seed=0):
    return (torch.rand(rows, N_DIM, generator=torch.Generator().manual_seed(seed)) > 0.5).float()


def _outputs(half, x, logits_last):
    """Each layer's output for rows *x*: after the activation, the last one before it when *logits_last*."""
    outs, h = [], x
    for i, (layer, act) in enumerate(zip(half.layers, half.activations)):
        pre = layer(h)
        h = act(pre)
        outs.append(pre if logits_last and i == len(half.layers) - 1 else h)
    return outs


def test_the_record_is_the_sum_over_batch_positions_of_the_std_over_passes():
    """Weights held still (a learning rate of 1e-12), so each pass's outputs can be recomputed by hand."""
    ae, data = _ae(), _data(rows=42)  # 8 batches of 5 and a short one of 2 per epoch
    mut_train(ae, data, epochs=3, lr=1e-12, rng=np.random.default_rng(7))
    batches = [b for b in batch_order(42, 5, 3, None, np.random.default_rng(7)) if len(b) == 5]
    with torch.no_grad():
        enc = [_outputs(ae.encoder, data[b], False) for b in batches]
        dec = [_outputs(ae.decoder, e[-1], True) for e in enc]
    for half, passes in ((ae.encoder, enc), (ae.decoder, dec)):
        record = spread_record(half)
        assert record.passes == 24 and record.rows == 5
        for li, got in enumerate(record.spread()):
            stacked = np.stack([p[li].double().numpy() for p in passes])  # [passes, 5, width]
            np.testing.assert_allclose(got, stacked.std(axis=0).sum(axis=0), rtol=1e-5, atol=1e-9)
    # the decoder's last layer is recorded before the sigmoid: logits range beyond [0, 1]
    last = np.stack([p[-1].numpy() for p in dec])
    assert last.min() < 0.0 or last.max() > 1.0


def test_a_record_is_the_same_bits_trained_alone_or_stacked_with_others():
    data = _data(rows=40)
    alone = [_ae(seed) for seed in range(3)]
    for k, ae in enumerate(alone):
        mut_train(ae, data, epochs=2, rng=np.random.default_rng(k))
    together = [_ae(seed) for seed in range(3)]
    train_pairs([a.encoder for a in together], [a.decoder for a in together], [data] * 3,
                [np.random.default_rng(k) for k in range(3)], epochs=2)
    for a, b in zip(alone, together):
        for half_a, half_b in ((a.encoder, b.encoder), (a.decoder, b.decoder)):
            ra, rb = spread_record(half_a), spread_record(half_b)
            assert ra.passes == rb.passes == 16
            assert all(np.array_equal(x, y) for x, y in zip(ra.spread(), rb.spread()))


def test_networks_that_do_not_record_train_to_the_same_bits():
    data = _data(rows=40)
    recording, plain = _ae(3), MaskedAutoencoder.from_preset("paper", n_dim=N_DIM)
    plain.load_state_dict(recording.state_dict())
    mut_train(recording, data, epochs=2, rng=np.random.default_rng(1))
    mut_train(plain, data, epochs=2, rng=np.random.default_rng(1))
    pairs = zip(recording.state_dict().values(), plain.state_dict().values())
    assert all(torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y for x, y in pairs)


def test_the_most_spread_neuron_of_a_layer_loses_everything_and_the_least_nothing():
    ae = _ae()
    mut_train(ae, _data(rows=40), epochs=2, rng=np.random.default_rng(0))
    spreads = [s for half in (ae.encoder, ae.decoder) for s in spread_record(half).spread()]
    mut_prune_spread(ae, min_alive=0, rng=np.random.default_rng(0))
    for layer, spread in zip(dnp.masked_layers(ae), spreads):
        most, least = int(np.argmax(spread)), int(np.argmin(spread))
        assert not layer.weight[most].any() and layer.bias[most] == 0
        assert layer.weight[least].all() and layer.bias[least] != 0
    assert spread_record(ae.encoder).passes == spread_record(ae.decoder).passes == 0  # cleared
    assert dnp.capacity(ae) < 1.0 and dnp.paper_capacity(ae) < 1.0


def test_an_empty_record_prunes_nothing_and_a_network_without_one_is_refused():
    ae = _ae()
    before = copy.deepcopy(ae.state_dict())
    mut_prune_spread(ae, rng=np.random.default_rng(0))
    assert all(torch.equal(before[k], v) for k, v in ae.state_dict().items() if isinstance(v, torch.Tensor))
    with pytest.raises(ValueError, match="start_recording"):
        mut_prune_spread(MaskedAutoencoder.from_preset("paper", n_dim=N_DIM))
    with pytest.raises(TypeError, match="network must be a MaskedAutoencoder of MaskedMLP halves.*got Linear"):
        start_recording(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="individual must be .*got Linear"):
        mut_prune_spread(torch.nn.Linear(2, 2))


def test_clones_and_pickles_carry_the_record():
    ae = _ae()
    mut_train(ae, _data(rows=40), epochs=1, rng=np.random.default_rng(0))
    for copied in (copy.deepcopy(ae), pickle.loads(pickle.dumps(ae))):
        a, b = spread_record(ae.decoder), spread_record(copied.decoder)
        assert b is not a and b.passes == a.passes == 8
        assert all(np.array_equal(x, y) for x, y in zip(a.spread(), b.spread()))


def test_a_record_skips_passes_of_another_batch_size_and_refuses_malformed_outputs():
    record = SpreadRecord([3])
    record.update([torch.ones(5, 3)])
    record.update([torch.zeros(2, 3)])
    assert record.passes == 1 and record.rows == 5
    for bad, pattern in (([], r"0 layers, the record 1"), ([torch.ones(5)], r"outputs\[0\].*\[rows, 3\].*\[5\]"),
                         ([torch.ones(5, 4)], r"outputs\[0\].*\[5, 4\]")):
        with pytest.raises(ValueError, match=pattern):
            record.update(bad)
    assert record.passes == 1
    with pytest.raises(ValueError, match=r"widths.*\[0\]"):
        SpreadRecord([0])


def test_the_autograd_engine_refuses_a_network_that_records():
    ae = _ae()
    with pytest.raises(ValueError, match="engine='autograd' does not record"):
        mut_train(ae, _data(rows=40), engine="autograd", rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="half=network.encoder"):
        spread_record(ae)


def test_a_missing_record_is_named_by_half():
    ae = MaskedAutoencoder.from_preset("paper", n_dim=N_DIM)
    start_recording(ae.encoder)
    with pytest.raises(ValueError, match="individual.decoder keeps no activation record"):
        mut_prune_spread(ae)


def test_variance_batches_needs_the_stacked_engine_and_an_mlp():
    with pytest.raises(cfg.ConfigError, match=r"variance_batches.*run.engine = autograd"):
        cfg.apply_overrides(get_preset("quick"), ["pruning.operator=variance_batches", "run.engine=autograd"])
    with pytest.raises(cfg.ConfigError, match=r"variance_batches.*architecture = conv"):
        cfg.apply_overrides(get_preset("quick"), ["pruning.operator=variance_batches", "run.engine=autograd",
                                                  "network.architecture=conv"])


@pytest.mark.parametrize(
    "preset, other",
    [("paper-canonical-variance-exponential", ["--executor", "processes", "--workers", "2"]),
     ("quick", ["--batch-trials"])],
    ids=["canonical-in-worker-processes", "coevolution-trials-batched"],
)
def test_variance_batches_runs_end_to_end_with_the_same_bytes_however_trials_are_split(preset, other, tmp_path):
    args = tiny("pruning.operator=variance_batches", "pruning.p=1.0", epochs=3)
    assert main(["run", "--preset", preset, *args, "--out", str(tmp_path / "serial")]) == 0
    assert main(["run", "--preset", preset, *args, *other, "--out", str(tmp_path / "other")]) == 0
    tables = ("final.csv", "epochs.csv")
    assert read_bytes(tmp_path / "serial", *tables) == read_bytes(tmp_path / "other", *tables)
    final = np.genfromtxt(tmp_path / "serial" / "final.csv", delimiter=",", names=True)
    assert (final["paper_capacity"] < 1.0).all()  # it pruned
