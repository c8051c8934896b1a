"""datasets: the paper's binary clustering set, user files, digits."""

import math
import re

import numpy as np
import pytest
import torch

import deap_nnprune as dnp
from deap_nnprune.datasets import DataSplits, as_matrix, binary_clustering, load, split_rows

SPLITS = ("train", "validation", "test")


def nearest_centre(rows, centres):
    """Index of the nearest centre (Hamming distance) of every row."""
    return torch.cdist(rows, centres, p=1).argmin(dim=1)


def flips(rows, centres):
    """Which bits of each row differ from its nearest centre."""
    return rows != centres[nearest_centre(rows, centres)]


def all_rows(splits):
    return torch.cat([splits.train, splits.validation, splits.test])


def sorted_rows(matrix):
    return sorted(map(tuple, np.asarray(matrix).tolist()))


# --- binary_clustering --------------------------------------------------------------


def test_binary_clustering_splits_have_the_requested_shape_and_dtype():
    data = binary_clustering(n_samples=30, n_dim=12, n_clusters=3, seed=0)
    for name in SPLITS:
        split = getattr(data, name)
        assert split.shape == (30, 12)
        assert split.dtype == torch.float32
    assert data.centres.shape == (3, 12)
    assert data.n_dim == 12


def test_binary_clustering_values_are_binary():
    data = binary_clustering(n_samples=30, n_dim=12, n_clusters=3, seed=0)
    assert set(all_rows(data).unique().tolist()) <= {0.0, 1.0}
    assert set(data.centres.unique().tolist()) <= {0.0, 1.0}


def test_binary_clustering_density_of_ones_is_0_725_for_noise_0_05():
    data = binary_clustering(n_samples=100, n_dim=2000, n_clusters=10, noise=0.05, seed=0)
    for name in SPLITS:
        assert getattr(data, name).mean().item() == pytest.approx(0.725, abs=0.01)


def test_binary_clustering_centre_bits_are_one_with_probability_three_quarters():
    data = binary_clustering(n_samples=10, n_dim=2000, n_clusters=10, seed=1)
    assert data.centres.mean().item() == pytest.approx(0.75, abs=0.01)


def test_binary_clustering_flips_about_noise_of_the_bits_in_every_split():
    data = binary_clustering(n_samples=100, n_dim=500, n_clusters=5, noise=0.05, seed=2)
    for name in SPLITS:
        rate = flips(getattr(data, name), data.centres).float().mean().item()
        assert rate == pytest.approx(0.05, abs=0.01)


def test_binary_clustering_uses_every_centre_equally_often():
    data = binary_clustering(n_samples=60, n_dim=200, n_clusters=6, seed=3)
    for name in SPLITS:
        counts = torch.bincount(nearest_centre(getattr(data, name), data.centres), minlength=6)
        assert counts.tolist() == [10] * 6


def test_binary_clustering_rows_are_shuffled_not_grouped_by_centre():
    data = binary_clustering(n_samples=60, n_dim=200, n_clusters=6, seed=3)
    labels = nearest_centre(data.train, data.centres)
    assert not torch.equal(labels, labels.sort().values)


def test_binary_clustering_with_zero_noise_gives_exact_copies_of_centres():
    data = binary_clustering(n_samples=40, n_dim=50, n_clusters=4, noise=0.0, seed=4)
    centres = set(sorted_rows(data.centres))
    for name in SPLITS:
        assert set(sorted_rows(getattr(data, name))) == centres


def test_binary_clustering_with_noise_one_gives_complements_of_centres():
    data = binary_clustering(n_samples=40, n_dim=50, n_clusters=4, noise=1.0, seed=4)
    assert set(sorted_rows(data.train)) == set(sorted_rows(1 - data.centres))


def test_binary_clustering_splits_share_centres_but_have_independent_noise():
    data = binary_clustering(n_samples=100, n_dim=400, n_clusters=5, noise=0.05, seed=5)
    assert not torch.equal(data.train, data.validation)
    assert not torch.equal(data.validation, data.test)
    # Same centres: each split's rows sit near them, every centre equally used.
    per_split_flips = []
    for name in SPLITS:
        rows = getattr(data, name)
        labels = nearest_centre(rows, data.centres)
        assert torch.bincount(labels, minlength=5).tolist() == [20] * 5
        order = labels.argsort(stable=True)  # line rows up by centre across splits
        per_split_flips.append(flips(rows, data.centres)[order])
    # Independent noise: a bit flipped in one split is flipped in another only by chance (0.05²).
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        both = (per_split_flips[a] & per_split_flips[b]).float().mean().item()
        assert both < 0.01


def test_binary_clustering_same_seed_gives_same_data():
    a = binary_clustering(n_samples=20, n_dim=30, n_clusters=4, seed=7)
    b = binary_clustering(n_samples=20, n_dim=30, n_clusters=4, seed=7)
    for name in SPLITS + ("centres",):
        assert torch.equal(getattr(a, name), getattr(b, name))


def test_binary_clustering_different_seeds_give_different_data():
    a = binary_clustering(n_samples=20, n_dim=30, n_clusters=4, seed=7)
    b = binary_clustering(n_samples=20, n_dim=30, n_clusters=4, seed=8)
    assert not torch.equal(a.centres, b.centres)
    assert not torch.equal(a.train, b.train)


def test_binary_clustering_defaults_are_the_papers():
    data = binary_clustering(seed=0)
    assert data.train.shape == (1000, 1000)
    assert data.centres.shape == (10, 1000)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(n_samples=0), ValueError, "n_samples must be >= 1, got 0"),
        (dict(n_samples=-10), ValueError, "n_samples must be >= 1, got -10"),
        (dict(n_dim=0), ValueError, "n_dim must be >= 1, got 0"),
        (dict(n_dim=-3), ValueError, "n_dim must be >= 1, got -3"),
        (dict(n_clusters=0), ValueError, "n_clusters must be >= 1, got 0"),
        (dict(n_clusters=-2), ValueError, "n_clusters must be >= 1, got -2"),
        (dict(n_samples=25, n_clusters=10), ValueError, "n_samples=25, n_clusters=10"),
        (dict(noise=-0.1), ValueError, "noise must be >= 0.0, got -0.1"),
        (dict(noise=1.5), ValueError, "noise must be <= 1.0, got 1.5"),
        (dict(noise=float("nan")), ValueError, "noise must be finite, got nan"),
        (dict(n_samples=2.5), TypeError, "n_samples must be an integer, got 2.5"),
        (dict(seed=-1), ValueError, "seed must be >= 0, got -1"),
    ],
)
def test_binary_clustering_refuses_bad_arguments_naming_them(kwargs, error, message):
    arguments = dict(n_samples=20, n_dim=8, n_clusters=4, seed=0)
    arguments.update(kwargs)
    with pytest.raises(error, match=re.escape(message)):
        binary_clustering(**arguments)


def test_data_splits_to_moves_every_tensor():
    data = binary_clustering(n_samples=8, n_dim=4, n_clusters=2, seed=0).to("cpu")
    assert isinstance(data, DataSplits)
    assert data.centres.device.type == data.train.device.type == "cpu"


# --- load --------------------------------------------------------------------------


@pytest.fixture
def matrix():
    return np.random.default_rng(0).random((50, 6)).astype(np.float32)


def test_load_npy_keeps_every_row(tmp_path, matrix):
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    data = load(path)
    assert sorted_rows(all_rows(data)) == sorted_rows(matrix)
    assert data.train.dtype == torch.float32


def test_load_default_split_is_eighty_ten_ten(tmp_path, matrix):
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    data = load(path)
    assert (len(data.train), len(data.validation), len(data.test)) == (40, 5, 5)


def test_load_honours_the_split_fractions(tmp_path, matrix):
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    data = load(path, split=(0.5, 0.3, 0.2))
    assert (len(data.train), len(data.validation), len(data.test)) == (25, 15, 10)


def test_load_npz_with_a_single_array(tmp_path, matrix):
    path = tmp_path / "data.npz"
    np.savez(path, matrix)
    assert sorted_rows(all_rows(load(path))) == sorted_rows(matrix)


def test_load_npz_picks_the_named_array(tmp_path, matrix):
    path = tmp_path / "data.npz"
    np.savez(path, other=np.zeros((50, 3)), wanted=matrix)
    assert sorted_rows(all_rows(load(path, key="wanted"))) == sorted_rows(matrix)


def test_load_npz_with_several_arrays_needs_a_key(tmp_path, matrix):
    path = tmp_path / "data.npz"
    np.savez(path, a=matrix, b=matrix)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*\['a', 'b'\].*key="):
        load(path)


def test_load_npz_refuses_an_unknown_key_listing_the_names(tmp_path, matrix):
    path = tmp_path / "data.npz"
    np.savez(path, a=matrix)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*no array named 'b'.*\['a'\]"):
        load(path, key="b")


def test_load_csv_without_header(tmp_path, matrix):
    path = tmp_path / "data.csv"
    np.savetxt(path, matrix, delimiter=",", fmt="%.6f")
    np.testing.assert_allclose(sorted_rows(all_rows(load(path))), sorted_rows(matrix), atol=1e-6)


def test_load_csv_with_header(tmp_path, matrix):
    path = tmp_path / "data.csv"
    header = ",".join(f"x{i}" for i in range(6))
    np.savetxt(path, matrix, delimiter=",", fmt="%.6f", header=header, comments="")
    data = load(path)
    assert data.n_dim == 6
    np.testing.assert_allclose(sorted_rows(all_rows(data)), sorted_rows(matrix), atol=1e-6)


def test_load_same_seed_same_order_different_seed_different_order(tmp_path, matrix):
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    assert torch.equal(load(path, seed=1).train, load(path, seed=1).train)
    assert not torch.equal(load(path, seed=1).train, load(path, seed=2).train)


def test_load_refuses_a_missing_file(tmp_path):
    path = tmp_path / "missing.npy"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        load(path)


def test_load_refuses_an_unsupported_extension(tmp_path):
    path = tmp_path / "data.txt"
    path.write_text("0,1\n1,0\n")
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*unsupported file type '\.txt'"):
        load(path)


@pytest.mark.parametrize("shape", [(20,), (4, 5, 2)])
def test_load_refuses_an_array_that_is_not_2d(tmp_path, shape):
    path = tmp_path / "data.npy"
    np.save(path, np.zeros(shape))
    with pytest.raises(ValueError, match=re.escape(f"{path}: expected a 2-D matrix") + r".*" + re.escape(str(shape))):
        load(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_load_refuses_nan_or_inf(tmp_path, matrix, bad):
    matrix[3, 2] = bad
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": contains NaN or inf.*row 3, column 2: " + str(bad)):
        load(path)


@pytest.mark.parametrize("bad", [-0.5, 2.0])
def test_load_refuses_values_outside_the_unit_interval(tmp_path, matrix, bad):
    matrix[0, 0] = bad
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": values must lie in \[0, 1\].*" + re.escape(f"{bad:g}")):
        load(path)


def test_load_refuses_a_csv_with_non_numeric_values(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n0.1,0.2\n0.3,hello\n")
    with pytest.raises(ValueError, match=re.escape(str(path)) + r".*non-numeric"):
        load(path)


def test_load_refuses_too_few_rows_for_the_split(tmp_path):
    path = tmp_path / "data.npy"
    np.save(path, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=re.escape(str(path)) + r": 5 rows are too few.*validation split would be empty"):
        load(path)


@pytest.mark.parametrize(
    "split, message",
    [
        ((0.5, 0.3, 0.3), r"split fractions must sum to 1, got \(0.5, 0.3, 0.3\) \(sum 1.1\)"),
        ((0.5, 0.1, 0.1), r"split fractions must sum to 1, got \(0.5, 0.1, 0.1\) \(sum 0.7\)"),
        ((1.2, -0.1, -0.1), r"split fractions must be finite and non-negative, got \(1.2, -0.1, -0.1\)"),
        ((0.5, 0.5), r"split must be three fractions.*\(0.5, 0.5\)"),
    ],
)
def test_load_refuses_bad_split_fractions(tmp_path, matrix, split, message):
    path = tmp_path / "data.npy"
    np.save(path, matrix)
    with pytest.raises(ValueError, match=message):
        load(path, split=split)


def test_split_rows_refuses_an_empty_split_naming_the_source():
    with pytest.raises(ValueError, match=r"mine: 10 rows are too few.*test split would be empty"):
        split_rows(torch.zeros(10, 2), (0.9, 0.1, 0.0), seed=0, source="mine")


# --- as_matrix -----------------------------------------------------------------------


def test_as_matrix_accepts_a_tensor_and_returns_float32():
    result = as_matrix(torch.tensor([[0, 1], [1, 0]], dtype=torch.float64))
    assert result.dtype == torch.float32


def test_as_matrix_refuses_an_empty_matrix():
    with pytest.raises(ValueError, match=r"data: the matrix is empty \(shape \(0, 4\)\)"):
        as_matrix(torch.zeros(0, 4))


def test_as_matrix_refuses_something_that_is_not_an_array():
    with pytest.raises(TypeError, match=r"mine: expected a torch.Tensor or numpy.ndarray, got list"):
        as_matrix([[0.0, 1.0]], source="mine")


def test_as_matrix_refuses_a_non_numeric_array():
    with pytest.raises(ValueError, match=r"data: expected a numeric matrix"):
        as_matrix(np.array([["a", "b"]]))


# --- digits ---------------------------------------------------------------------------


def test_digits_are_64_wide_in_the_unit_interval_and_all_rows_kept():
    pytest.importorskip("sklearn")
    data = dnp.datasets.digits()
    rows = all_rows(data)
    assert rows.shape == (1797, 64)
    assert rows.min().item() == 0.0 and rows.max().item() == 1.0
    assert len(data.train) == 1797 - 2 * math.floor(0.1 * 1797)


@pytest.mark.parametrize("name", ["data.npy", "data.npz"])
def test_load_refuses_a_corrupt_numpy_file_naming_it(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"this is not a numpy file")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load(path)


def test_load_refuses_an_empty_csv_naming_it(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("")
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load(path)


# -- MNIST-1D -------------------------------------------------------------------------
def test_mnist1d_gives_5000_signals_of_40_values_in_unit_range_split_by_seed():
    pytest.importorskip("mnist1d")
    data = dnp.datasets.mnist1d()
    assert (data.train.shape, data.validation.shape, data.test.shape) == ((4000, 40), (500, 40), (500, 40))
    everything = torch.cat([data.train, data.validation, data.test])
    assert float(everything.min()) == 0.0 and float(everything.max()) == 1.0
    again, other = dnp.datasets.mnist1d(), dnp.datasets.mnist1d(seed=1)
    assert torch.equal(again.train, data.train) and not torch.equal(other.train, data.train)
    assert torch.equal(torch.cat([other.train, other.validation, other.test]).sort(0).values,
                       everything.sort(0).values)  # another seed shuffles the same signals


def test_mnist1d_leaves_numpys_global_random_state_alone():
    pytest.importorskip("mnist1d")
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    dnp.datasets.mnist1d(n_samples=100)
    assert np.random.random() == expected


def test_mnist1d_without_its_extra_names_the_extra(subprocess_env):
    import subprocess
    import sys

    code = "import sys; sys.modules['mnist1d'] = None; import deap_nnprune as d; d.datasets.mnist1d()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env=subprocess_env)
    assert result.returncode != 0 and 'pip install "deap_nnprune[mnist1d]"' in result.stderr


def test_a_run_on_mnist1d_from_the_cli(tmp_path):
    pytest.importorskip("mnist1d")
    from deap_nnprune.experiments.cli import main

    out = tmp_path / "run"
    assert main(["run", "--preset", "quick", "--data", "mnist1d", "--set", "network.hidden=16,4",
                 "--epochs", "1", "--trials", "1", "--quiet", "--out", str(out)]) == 0
    import json
    assert json.loads((out / "config.json").read_text())["config"]["data"]["source"] == "mnist1d"
