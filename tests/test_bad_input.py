"""Every bad input is refused with a clear error naming the argument (or file) and the value.

One table over the public API; the command-line cases live at the end of the
table and check the CLI's contract: non-zero exit, one line on stderr, no traceback.
"""


import numpy as np
import pytest
import torch
from deap import base, creator

import deap_nnprune as dnp
from deap_nnprune.experiments.cli import main
from deap_nnprune.algorithms import CheckpointError, ea_one_plus_lambda, ea_spatial_coevolution

N_DIM = 8
DATA = dnp.datasets.binary_clustering(n_samples=8, n_dim=N_DIM, n_clusters=2, seed=0)


def _ae():
    return dnp.MaskedAutoencoder.from_preset("paper", N_DIM)


def _pairs(n=3):
    return ([creator.Encoder.from_preset("paper", N_DIM, "encoder") for _ in range(n)],
            [creator.Decoder.from_preset("paper", N_DIM, "decoder") for _ in range(n)])


def _coevolution_toolbox(**skip):
    tb = base.Toolbox()
    tb.register("evaluate_pair", dnp.evaluate_pair)
    tb.register("evaluate_pairs", dnp.batched.evaluate_pairs)
    tb.register("train_pairs", dnp.batched.train_pairs)
    for name in skip:
        tb.unregister(name)
    return tb


def _scheduled_prune_toolbox():
    tb = _coevolution_toolbox()
    tb.register("prune", dnp.Scheduled(dnp.mut_prune_random, dnp.schedules.exponential))
    return tb


def _with(rows, value):
    """A copy of *rows* with *value* in one entry."""
    rows = rows.clone()
    rows[-1, 2] = value
    return rows


def _file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, np.ndarray):
        np.save(path, content) if name.endswith(".npy") else np.savez(path, content)
    else:
        path.write_text(content)
    return path


# (case id, callable taking tmp_path, expected exception, regex the message must match)
API_CASES = [
    ("missing data file", lambda p: dnp.datasets.load(p / "nope.npy"), FileNotFoundError, r"nope\.npy"),
    ("unsupported extension", lambda p: dnp.datasets.load(_file(p, "d.txt", "1,0")), ValueError, r"d\.txt.*'\.txt'"),
    ("data not 2-D", lambda p: dnp.datasets.load(_file(p, "d.npy", np.zeros(5))), ValueError, r"d\.npy.*2-D.*\(5,\)"),
    ("NaN in data", lambda p: dnp.datasets.load(_file(p, "d.csv", "0,1\nnan,0\n")), ValueError, r"d\.csv.*NaN"),
    ("values above 1", lambda p: dnp.datasets.load(_file(p, "d.csv", "0,1\n2,0\n0,0\n")), ValueError, r"d\.csv.*\[0, 2\]"),
    ("too few rows for the split", lambda p: dnp.datasets.load(_file(p, "d.csv", "0,1\n1,0\n")), ValueError,
     r"d\.csv.*2 rows.*empty"),
    ("split not summing to 1", lambda p: dnp.datasets.load(_file(p, "d.csv", "0,1\n" * 10), split=(0.5, 0.1, 0.1)),
     ValueError, r"sum to 1.*0\.5"),
    ("negative split", lambda p: dnp.datasets.digits(split=(1.2, -0.1, -0.1)), ValueError, r"non-negative.*-0\.1"),
    ("n_samples not a multiple", lambda p: dnp.datasets.binary_clustering(n_samples=10, n_clusters=3), ValueError,
     r"n_samples=10.*n_clusters=3"),
    ("n_dim zero", lambda p: dnp.datasets.binary_clustering(n_dim=0), ValueError, r"n_dim.*0"),
    ("noise above 1", lambda p: dnp.datasets.binary_clustering(noise=1.5), ValueError, r"noise.*1\.5"),
    ("unknown preset", lambda p: dnp.MaskedAutoencoder.from_preset("papr", N_DIM), ValueError,
     r"'papr'.*paper, small, large.*Did you mean 'paper'"),
    ("unknown preset override", lambda p: dnp.MaskedAutoencoder.from_preset("paper", N_DIM, width=3), TypeError,
     r"'width'.*valid overrides"),
    ("evaluation width mismatch", lambda p: dnp.evaluate_l1(_ae(), torch.rand(3, 5)), ValueError, r"width 5.*8"),
    ("prune amount above 1", lambda p: dnp.mut_prune_random(_ae(), amount=1.5), ValueError, r"amount.*1\.5"),
    ("prune amount negative", lambda p: dnp.mut_prune_magnitude(_ae(), amount=-1), ValueError, r"amount.*-1"),
    ("prune floor above 1", lambda p: dnp.mut_prune_magnitude(_ae(), min_capacity=1.2), ValueError,
     r"min_capacity must be <= 1.0, got 1.2"),
    ("prune count above alive", lambda p: dnp.mut_prune_random(_ae(), amount=10_000), ValueError,
     r"amount=10000.*alive"),
    ("conjunctive threshold", lambda p: dnp.mut_prune_conjunctive(_ae(), DATA.train, threshold=2.0), ValueError,
     r"threshold.*2\.0"),
    ("conjunctive n_cases", lambda p: dnp.mut_prune_conjunctive(_ae(), DATA.train, n_cases=0), ValueError,
     r"n_cases.*0"),
    ("variance batch_size", lambda p: dnp.mut_prune_variance(_ae(), DATA.train, batch_size=0), ValueError,
     r"batch_size.*0"),
    ("no masked layers", lambda p: dnp.mut_prune_random(torch.nn.Linear(2, 2)), TypeError, r"Linear"),
    ("train epochs negative", lambda p: dnp.mut_train(_ae(), DATA.train, epochs=-1), ValueError, r"epochs.*-1"),
    ("train lr not finite", lambda p: dnp.mut_train(_ae(), DATA.train, lr=float("inf")), ValueError, r"lr.*inf"),
    ("lr mutation bounds", lambda p: dnp.mut_learning_rate(_ae(), low=1.0, high=0.1), ValueError,
     r"low=1\.0.*high=0\.1"),
    ("crossover shapes", lambda p: dnp.cx_masked_uniform(_ae(), dnp.MaskedAutoencoder.from_preset("small", N_DIM)),
     ValueError, r"same shape"),
    ("schedule p", lambda p: dnp.schedules.fixed(1, 10, p=-0.5), ValueError, r"p.*-0\.5"),
    ("ngen negative", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), -1, DATA), ValueError,
     r"ngen.*-1"),
    ("lambda_ zero", lambda p: ea_one_plus_lambda(creator.AE.from_preset("paper", N_DIM), base.Toolbox(), lambda_=0),
     ValueError, r"lambda_.*0"),
    ("unknown solution concept", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA,
                                                                  solution_concept="median"),
     ValueError, r"solution_concept.*'best'.*'median'"),
    ("unknown update", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA, update="async"),
     ValueError, r"update.*'sequential'.*'async'"),
    ("neighbourhood larger than ring", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA,
                                                                        radius=2),
     ValueError, r"radius=2.*3"),
    ("tournament larger than neighbourhood", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1,
                                                                              DATA, tournament_size=5),
     ValueError, r"tournament_size=5.*3 cells"),
    ("missing toolbox alias", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(evaluate_pair=1), 1,
                                                               DATA),
     ValueError, r"'evaluate_pair'"),
    ("mismatched populations", lambda p: ea_spatial_coevolution(_pairs()[0], _pairs(2)[1], _coevolution_toolbox(), 1,
                                                                DATA),
     ValueError, r"3 encoders but 2 decoders"),
    ("unavailable device", lambda p: dnp.resolve_device("cuda:7"), ValueError, r"cuda:7.*not available"),
    ("invalid device", lambda p: dnp.resolve_device("gpu0"), ValueError, r"gpu0"),
    ("missing checkpoint", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA,
                                                            resume=str(p / "none.ckpt")),
     CheckpointError, r"none\.ckpt.*no such file"),
    ("data given as a tensor to coevolution", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1,
                                                                              DATA.train),
     TypeError, r"data must be a DataSplits.*Tensor"),
    ("checkpoint folder missing", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA,
                                                                   checkpoint=str(p / "no" / "c.ckpt")),
     ValueError, r"checkpoint=.*c\.ckpt.*does not exist"),
    ("Scheduled registered as prune", lambda p: ea_spatial_coevolution(*_pairs(), _scheduled_prune_toolbox(), 1, DATA),
     ValueError, r"Scheduled.*prune_probability"),
    ("NaN in training data", lambda p: dnp.mut_train(_ae(), torch.full((4, N_DIM), float("nan"))), ValueError,
     r"data contains NaN"),
    # the evaluations look for NaN and inf only when the L1 comes out non-finite; a bad row always makes it so
    ("NaN in scored data", lambda p: dnp.evaluate_l1(_ae(), _with(DATA.validation, float("nan"))), ValueError,
     r"data contains NaN or inf"),
    ("inf in data scored by a pair", lambda p: dnp.evaluate_pair(*(h[0] for h in _pairs()),
                                                                 _with(DATA.validation, float("inf"))),
     ValueError, r"data contains NaN or inf"),
    ("-inf in data scored by pairs", lambda p: dnp.batched.evaluate_pairs(*_pairs(2),
                                                                          _with(DATA.validation, -float("inf"))),
     ValueError, r"data contains NaN or inf"),
    # training passes once over each distinct tensor: a second, different one is still read
    ("NaN in a second training tensor", lambda p: dnp.batched.train_pairs(
        *_pairs(2), [DATA.train, _with(DATA.train, float("nan"))], [np.random.default_rng(k) for k in range(2)]),
     ValueError, r"datas\[1\] contains NaN or inf"),
    ("splits passed where a tensor is needed", lambda p: dnp.evaluate_l1(_ae(), DATA), TypeError,
     r"data must be a torch\.Tensor.*DataSplits.*data\.train"),
    ("not a module", lambda p: dnp.evaluate_l1(None, DATA.train), TypeError, r"individual.*NoneType"),
    ("encoder alone scored as an autoencoder", lambda p: dnp.evaluate_l1(dnp.MaskedMLP((N_DIM, 3)), DATA.train),
     ValueError, r"output width 3.*data width 8"),
    ("load seed negative", lambda p: dnp.datasets.load(_file(p, "d.csv", "0,1\n" * 10), seed=-1), ValueError,
     r"seed.*-1"),
    ("string for a bool", lambda p: dnp.MaskedAutoencoder.from_preset("paper", N_DIM, persistent_masks="no"),
     TypeError, r"persistent_masks.*'no'"),
    ("truncated checkpoint", lambda p: ea_spatial_coevolution(*_pairs(), _coevolution_toolbox(), 1, DATA,
                                                              resume=str(_file(p, "t.ckpt", "garbage"))),
     CheckpointError, r"t\.ckpt.*cannot be read"),
]


@pytest.mark.parametrize("case, call, error, pattern", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_refuses_bad_input(tmp_path, case, call, error, pattern):
    if case == "unavailable device" and torch.cuda.device_count() > 7:
        pytest.skip("this machine has cuda:7")
    with pytest.raises(error, match=pattern):
        call(tmp_path)


# -- the command line: one line on stderr, exit status 2, nothing written ----------------------------
def _npy(folder, values):
    path = folder / "data.npy"
    np.save(path, values)
    return str(path)


CLI_CASES = {
    "unknown preset": (["--preset", "quik"], "did you mean quick"),
    "unknown --set key": (["--preset", "quick", "--set", "training.lrr=1"], "valid keys"),
    "--set without a value": (["--preset", "quick", "--set", "training.lr"], "expected key=value"),
    "--set value of the wrong type": (["--preset", "quick", "--set", "algorithm.cells=three"], "expected an integer"),
    "--set value out of range": (["--preset", "quick", "--set", "pruning.p=1.5"], "pruning.p must be <= 1.0"),
    "--set floor out of range": (["--preset", "quick", "--set", "pruning.min_capacity=-0.5"],
                                 "pruning.min_capacity must be >= 0.0"),
    "--trials 0": (["--preset", "quick", "--trials", "0"], "--trials: must be an integer >= 1"),
    "--epochs -1": (["--preset", "quick", "--epochs", "-1"], "--epochs: must be an integer >= 0"),
    "unavailable device": (["--preset", "quick", "--device", "cuda:7"], "cuda:7"),
    "missing data file": (["--preset", "quick", "--data", "/nonexistent/data.npy"], "no such file"),
    "data with NaN": (["--preset", "quick", "--data", lambda d: _npy(d, np.full((30, 4), np.nan))], "NaN"),
    "data outside [0, 1]": (["--preset", "quick", "--data", lambda d: _npy(d, np.full((30, 4), 3.0))], "[0, 1]"),
    "unwritable folder": (["--preset", "quick", "--out", "/proc/deap-nnprune-test"], "cannot write"),
    "out is a file": (["--preset", "quick", "--out", "/etc/hostname"], "not a folder"),
    "resume without a run": (["--preset", "quick", "--resume"], "no run to resume"),
    "too little memory": (["--preset", "quick", "--set", "data.n_dim=2000000", "algorithm.cells=2000"], "GiB"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_refuses_bad_input_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    args, message = CLI_CASES[case]
    args = [a(tmp_path) if callable(a) else a for a in args]
    out = tmp_path / "out"
    if "--out" not in args:
        args += ["--out", str(out)]
    assert main(["run", *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("deap-nnprune: error: ")
    assert message in captured.err and "Traceback" not in captured.err
    assert not out.exists()
