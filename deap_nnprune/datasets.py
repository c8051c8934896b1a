"""Data sets: the paper's binary clustering set, user files, scikit-learn's digits.

Every loader returns a :class:`DataSplits` of float32 tensors with values in
[0, 1] (the range of a sigmoid output trained with an L1 loss). Bad data is
refused with an error naming the file or argument and the problem.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ._optional import require
from ._validation import check_float, check_int

__all__ = [
    "DataSplits",
    "DataFileError",
    "binary_clustering",
    "load",
    "digits",
    "mnist1d",
    "as_matrix",
    "SUPPORTED_SUFFIXES",
]

SUPPORTED_SUFFIXES = (".npy", ".npz", ".csv")


class DataFileError(ValueError):
    """A data file that cannot be used; the message names the file and the problem."""


DEFAULT_SPLIT = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class DataSplits:
    """Train, validation and test matrices (rows are samples), plus cluster centres if known."""

    train: Tensor
    validation: Tensor
    test: Tensor
    centres: Tensor | None = None
    #: How to rebuild these splits: ``(loader name, sorted keyword items)``.
    #: When set, pickling sends only the recipe and each process rebuilds the
    #: data once (cached), so SCOOP tasks carry bytes, not megabytes.
    recipe: tuple | None = field(default=None, compare=False, repr=False)

    def __reduce__(self):
        if self.recipe is None:
            return (DataSplits, (self.train, self.validation, self.test, self.centres))
        return (_from_recipe, (self.recipe,))

    @property
    def n_dim(self) -> int:
        """Width of a row."""
        return int(self.train.shape[1])

    def to(self, device: torch.device | str) -> DataSplits:
        """A copy with every tensor on *device* (a pickled copy is rebuilt on the CPU from its recipe)."""
        centres = None if self.centres is None else self.centres.to(device)
        return DataSplits(self.train.to(device), self.validation.to(device), self.test.to(device), centres, self.recipe)


@functools.lru_cache(maxsize=4)
def _from_recipe(recipe: tuple) -> DataSplits:
    name, items = recipe
    return _LOADERS[name](**dict(items))


def binary_clustering(
    n_samples: int = 1000,
    n_dim: int = 1000,
    n_clusters: int = 10,
    noise: float = 0.05,
    seed: int | None = None,
) -> DataSplits:
    """The paper's data: noisy copies of random binary cluster centres.

    Each of ``n_clusters`` centres in {0,1}^n_dim has every bit set with
    probability 3/4 (non-zero in a Binomial(2, 1/2) draw). Train, validation
    and test each hold ``n_samples`` rows, every centre used equally often,
    rows in random order, and each split flips every bit independently with
    probability ``noise``. The same seed gives the same data.

    >>> data = binary_clustering(n_samples=20, n_dim=8, n_clusters=4, seed=0)
    >>> data.train.shape, data.centres.shape, data.train.dtype
    (torch.Size([20, 8]), torch.Size([4, 8]), torch.float32)
    """
    n_samples = check_int("n_samples", n_samples, minimum=1)
    n_dim = check_int("n_dim", n_dim, minimum=1)
    n_clusters = check_int("n_clusters", n_clusters, minimum=1)
    noise = check_float("noise", noise, low=0.0, high=1.0)
    if n_samples % n_clusters:
        raise ValueError(
            f"n_samples must be a multiple of n_clusters so every centre is used equally often; "
            f"got n_samples={n_samples}, n_clusters={n_clusters}"
        )
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    centre_seq, *split_seqs = np.random.SeedSequence(seed).spawn(4)
    centres = (np.random.default_rng(centre_seq).binomial(2, 0.5, size=(n_clusters, n_dim)) > 0).astype(np.float32)
    labels = np.repeat(np.arange(n_clusters), n_samples // n_clusters)
    splits = []
    for seq in split_seqs:
        rng = np.random.default_rng(seq)
        rows = centres[rng.permutation(labels)]
        flip = rng.random(rows.shape) < noise
        splits.append(torch.from_numpy(np.where(flip, 1.0 - rows, rows).astype(np.float32)))
    recipe = (
        "binary_clustering",
        (("n_clusters", n_clusters), ("n_dim", n_dim), ("n_samples", n_samples), ("noise", noise), ("seed", seed)),
    )
    train, validation, test = splits
    return DataSplits(
        train, validation, test, centres=torch.from_numpy(centres), recipe=recipe if seed is not None else None
    )


def as_matrix(values: Tensor | np.ndarray, source: str = "data") -> Tensor:
    """Validate a data matrix and return it as a float32 tensor.

    Refuses (``ValueError`` naming *source*) anything that is not 2-D, has no
    rows or columns, holds NaN or inf, or has values outside [0, 1].
    """
    if isinstance(values, Tensor):
        tensor = values.detach()
    elif isinstance(values, np.ndarray):
        if not (np.issubdtype(values.dtype, np.number) or values.dtype == bool):
            raise ValueError(f"{source}: expected a numeric matrix, got dtype {values.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    else:
        raise TypeError(f"{source}: expected a torch.Tensor or numpy.ndarray, got {type(values).__name__}")
    if tensor.dim() != 2:
        raise ValueError(f"{source}: expected a 2-D matrix (rows are samples), got shape {tuple(tensor.shape)}")
    if tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise ValueError(f"{source}: the matrix is empty (shape {tuple(tensor.shape)})")
    tensor = tensor.to(torch.float32)
    finite = torch.isfinite(tensor)
    if not bool(finite.all()):
        row, col = (~finite).nonzero()[0].tolist()
        raise ValueError(f"{source}: contains NaN or inf (first at row {row}, column {col}: {tensor[row, col].item()})")
    low, high = tensor.min().item(), tensor.max().item()
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{source}: values must lie in [0, 1] for a sigmoid/L1 autoencoder, got range [{low:g}, {high:g}]; "
            "rescale the data first"
        )
    return tensor


def _check_split(split: Sequence[float]) -> tuple[float, float, float]:
    try:
        fractions = tuple(float(f) for f in split)
    except (TypeError, ValueError):
        raise TypeError(f"split must be three fractions (train, validation, test), got {split!r}") from None
    if len(fractions) != 3:
        raise ValueError(f"split must be three fractions (train, validation, test), got {split!r}")
    if any(not math.isfinite(f) or f < 0 for f in fractions):
        raise ValueError(f"split fractions must be finite and non-negative, got {split!r}")
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {split!r} (sum {sum(fractions):g})")
    return fractions[0], fractions[1], fractions[2]


def split_rows(matrix: Tensor, split: Sequence[float], seed: int | None, source: str) -> DataSplits:
    """Shuffle rows with *seed* and cut them into train, validation and test."""
    fractions = _check_split(split)
    n = matrix.shape[0]
    n_validation, n_test = (int(math.floor(f * n)) for f in fractions[1:])
    n_train = n - n_validation - n_test
    for name, count in zip(("train", "validation", "test"), (n_train, n_validation, n_test)):
        if count < 1:
            raise ValueError(
                f"{source}: {n} rows are too few for split={tuple(split)!r}: the {name} split would be empty"
            )
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    shuffled = matrix[order]
    train, validation, test = torch.split(shuffled, [n_train, n_validation, n_test])
    return DataSplits(train.contiguous(), validation.contiguous(), test.contiguous())


def _read_csv(path: Path) -> np.ndarray:
    import pandas as pd

    with path.open() as handle:
        first = handle.readline()
    try:
        [float(field) for field in first.strip().split(",")]
        header = None
    except ValueError:
        header = 0
    frame = pd.read_csv(path, header=header)
    try:
        return frame.to_numpy(dtype=np.float32)
    except (TypeError, ValueError) as error:
        raise DataFileError(f"{path}: the CSV holds non-numeric values ({error})") from None


def _read_npz(path: Path, key: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if key is None:
            if len(names) != 1:
                raise DataFileError(f"{path}: holds arrays {names}; pass key=NAME to choose one")
            key = names[0]
        if key not in names:
            raise DataFileError(f"{path}: no array named {key!r}; it holds {names}")
        return archive[key]


def load(
    path: str | Path,
    split: Sequence[float] = DEFAULT_SPLIT,
    seed: int | None = 0,
    key: str | None = None,
) -> DataSplits:
    """Load a matrix of values in [0, 1] from ``.npy``, ``.npz`` or ``.csv`` and split it.

    Rows are samples. A CSV may have one header row. An ``.npz`` holding
    several arrays needs *key*. Rows are shuffled with *seed* and cut into
    train / validation / test by the fractions in *split*.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a file path (str or pathlib.Path), got {type(path).__name__}")
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    path = Path(path)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such data file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            array = _read_npz(path, key)
        else:
            array = _read_csv(path)
    except DataFileError:
        raise
    except (OSError, EOFError, ValueError) as error:  # numpy and pandas report damage as any of these
        raise DataFileError(f"{path}: could not be read as {suffix} ({type(error).__name__}: {error})") from None
    splits = split_rows(as_matrix(np.asarray(array), source=str(path)), split, seed, str(path))
    recipe = ("load", (("key", key), ("path", str(path.resolve())), ("seed", seed), ("split", tuple(split))))
    return DataSplits(splits.train, splits.validation, splits.test, recipe=recipe if seed is not None else None)


def digits(split: Sequence[float] = DEFAULT_SPLIT, seed: int | None = 0) -> DataSplits:
    """scikit-learn's 8×8 handwritten digits (1797 rows, 64 columns) scaled to [0, 1].

    Needs the ``digits`` extra: ``pip install "deap_nnprune[digits]"``.
    """
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    load_digits = require("sklearn.datasets", "digits", "deap_nnprune.datasets.digits").load_digits
    matrix = load_digits().data.astype(np.float32) / 16.0
    splits = split_rows(as_matrix(matrix, source="digits"), split, seed, "digits")
    recipe = ("digits", (("seed", seed), ("split", tuple(split))))
    return DataSplits(splits.train, splits.validation, splits.test, recipe=recipe if seed is not None else None)


def mnist1d(
    n_samples: int = 5000, split: Sequence[float] = DEFAULT_SPLIT, seed: int | None = 0, generator_seed: int = 42
) -> DataSplits:
    """MNIST-1D signals (Greydanus 2020), generated offline, scaled to [0, 1]: 40 columns, no labels.

    ``mnist1d.data.make_dataset`` builds ``n_samples`` signals of the 10
    digit templates from ``generator_seed`` (42 is the published data set);
    its train and test parts are joined, min–max scaled to [0, 1] as a whole,
    shuffled with *seed* and cut by *split*. The generator seeds numpy's
    global state; this function puts that state back as it found it. Needs
    the ``mnist1d`` extra: ``pip install "deap_nnprune[mnist1d]"``.
    """
    n_samples = check_int("n_samples", n_samples, minimum=10)
    generator_seed = check_int("generator_seed", generator_seed, minimum=0)
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    data = require("mnist1d.data", "mnist1d", "deap_nnprune.datasets.mnist1d")
    args = data.get_dataset_args()
    args.num_samples, args.seed = n_samples, generator_seed
    state = np.random.get_state()
    try:
        made = data.make_dataset(args)
    finally:
        np.random.set_state(state)
    signals = np.concatenate([made["x"], made["x_test"]]).astype(np.float64)
    low, high = signals.min(), signals.max()
    matrix = ((signals - low) / (high - low)).astype(np.float32)
    splits = split_rows(as_matrix(matrix, source="mnist1d"), split, seed, "mnist1d")
    recipe = (
        "mnist1d",
        (("generator_seed", generator_seed), ("n_samples", n_samples), ("seed", seed), ("split", tuple(split))),
    )
    return DataSplits(splits.train, splits.validation, splits.test, recipe=recipe if seed is not None else None)


_LOADERS: dict[str, Callable[..., DataSplits]] = {
    "binary_clustering": binary_clustering,
    "load": load,
    "digits": digits,
    "mnist1d": mnist1d,
}
