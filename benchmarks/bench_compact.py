"""What pruning buys: parameters, file size and inference time of compacted autoencoders against the dense one.

For the paper autoencoder (1000 dims) this builds the dense network and three pruned copies — magnitude
pruning of each layer to 50 % and to 35 % of its entries (unstructured), and structured
pruning that kills whole hidden neurons (half of each hidden layer) — compacts each with
``deap_nnprune.compact`` (dead neurons removed for real), and measures, against the dense network in the
same run: parameters of the compact model, the size of its saved ``state_dict``, and the median
inference time for a batch of 1 and of 1000 rows (one torch thread, CPU). Unstructured pruning zeroes
weights inside dense matrices, so it only shrinks what a whole dead neuron frees; structured pruning
shrinks the matrices.

With ``--runs FOLDER ...`` it also measures trained models: for each run folder, the compacted model of
the trial with the lowest validation L1 (``models/trial-K.pt``, read back by
``deap_nnprune.experiments.load_model``), as saved (dense matrices with zeros) and with every weight
matrix stored sparse (CSR, ``torch.sparse.mm``), which is what unstructured sparsity can buy.

    python benchmarks/bench_compact.py [--repeats 200] [--runs docs/runs/NAME/seed-0 ...]
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import platform
import warnings

import numpy as np
import torch
from _timing import median_seconds  # benchmarks/ is on sys.path when run as a script

import deap_nnprune as dnp


def saved_bytes(module: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell()


def kill_hidden_neurons(ae: dnp.MaskedAutoencoder, fraction: float, rng: np.random.Generator) -> None:
    """Structured pruning: *fraction* of every hidden layer's neurons lose all incoming entries."""
    layers = dnp.masked_layers(ae)
    for layer in layers[:-1]:  # never the output layer
        doomed = rng.choice(layer.out_features, size=int(fraction * layer.out_features), replace=False)
        for name, tensor in dnp.maskable_entries(layer):
            keep = torch.ones_like(tensor, dtype=torch.bool)
            keep[torch.from_numpy(doomed)] = False
            dnp.apply_keep(layer, name, keep)


class SparseLinear(torch.nn.Module):
    """A linear layer whose weight is stored as a CSR matrix (zeros not stored)."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.register_buffer("weight", linear.weight.detach().to_sparse_csr())
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.sparse.mm(self.weight, x.t()).t()
        return y if self.bias is None else y + self.bias


def sparse_copy(model: torch.nn.Module) -> torch.nn.Module:
    """*model* with every nn.Linear replaced by a :class:`SparseLinear`."""
    import copy

    model = copy.deepcopy(model)
    for half in (model.encoder, model.decoder):
        for i, module in enumerate(half):
            if isinstance(module, torch.nn.Linear):
                half[i] = SparseLinear(module)
    return model


def sparse_bytes(model: torch.nn.Module) -> int:
    """Bytes of a sparse copy's tensors saved by torch.save: CSR values, int32 column indices and row pointers, biases.

    A stored entry costs 8 bytes (value and column) against 4 in a dense matrix, so CSR is smaller only
    below half the entries alive.
    """
    tensors = {}
    for name, buffer in model.named_buffers():
        if buffer is not None and buffer.layout == torch.sparse_csr:
            tensors.update({f"{name}.values": buffer.values().clone(),  # indices as int32: 4 bytes each
                            f"{name}.col": buffer.col_indices().to(torch.int32),
                            f"{name}.row": buffer.crow_indices().to(torch.int32)})
        elif buffer is not None:
            tensors[name] = buffer
    stream = io.BytesIO()
    torch.save(tensors, stream)
    return stream.tell()


def trained_models(folders: list[str]) -> dict:
    """The validation-best trial's compact model of each run folder."""
    import pandas as pd

    from deap_nnprune.experiments import load_model

    models = {}
    for folder in folders:
        final = pd.read_csv(f"{folder}/final.csv")
        best = final.loc[final.validation_l1.idxmin()]
        name = folder.rstrip("/").split("/docs/runs/")[-1].replace("docs/runs/", "")
        models[f"trained: {name} trial {int(best.trial)} (test L1 {best.test_l1:.3f})"] = (
            load_model(folder, int(best.trial)), float(best.capacity))
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--n-dim", type=int, default=1000)
    parser.add_argument("--runs", nargs="*", default=[], help="run folders whose best trained models to measure")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    dense = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=rng)
    models = {"dense (compacted, nothing pruned)": dense}
    for target in (0.5, 0.35):
        ae = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=np.random.default_rng(0))
        dnp.mut_prune_magnitude(ae, amount=1 - target, min_alive=1)  # per layer: a global ranking of untrained
        models[f"unstructured, {target:.0%} of each layer (magnitude)"] = ae  # weights would empty whole layers
    structured = dnp.MaskedAutoencoder.from_preset("paper", n_dim=args.n_dim, rng=np.random.default_rng(0))
    kill_hidden_neurons(structured, 0.5, np.random.default_rng(1))
    models["structured, half of every hidden layer's neurons"] = structured

    x1, x1000 = torch.rand(1, args.n_dim), torch.rand(1000, args.n_dim)

    def timed(model):
        with torch.no_grad():
            return (median_seconds(lambda: model(x1), args.repeats),
                    median_seconds(lambda: model(x1000), max(10, args.repeats // 10)))

    rows = []
    for name, model in models.items():
        small = dnp.compact(model)
        assert torch.allclose(small(x1000), model(x1000), atol=1e-5)
        rows.append((name, dnp.capacity(model), sum(p.numel() for p in small.parameters()), saved_bytes(small),
                     *timed(small)))
    for name, (small, cap) in trained_models(args.runs).items():
        nonzero = sum(int((p != 0).sum()) for p in small.parameters())
        rows.append((name + ", as saved", cap, sum(p.numel() for p in small.parameters()), saved_bytes(small),
                     *timed(small)))
        sparse = sparse_copy(small)
        with torch.no_grad():
            assert torch.allclose(sparse(x1000), small(x1000), atol=1e-4)  # another summation order
        rows.append((name + ", CSR weights", cap, nonzero, sparse_bytes(sparse), *timed(sparse)))
    base = rows[0]
    print(f"# Compaction: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, one thread; {datetime.date.today()}; load average {os.getloadavg()[0]:.2f}")
    print(f"# paper autoencoder, {args.n_dim} dims; medians of {args.repeats} (batch 1) and "
          f"{max(10, args.repeats // 10)} (batch 1000) calls\n")
    print("| model | capacity | parameters (ratio) | state_dict bytes (ratio) | batch 1 µs (ratio) | "
          "batch 1000 ms (ratio) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, cap, params, size, t1, t1000 in rows:
        print(f"| {name} | {cap:.3f} | {params} ({params / base[2]:.2f}) | {size} ({size / base[3]:.2f}) | "
              f"{t1 * 1e6:.0f} ({t1 / base[4]:.2f}) | {t1000 * 1e3:.2f} ({t1000 / base[5]:.2f}) |")


if __name__ == "__main__":
    main()
