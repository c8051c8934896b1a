"""Bitwise reproducibility of BLAS products, whatever the memory alignment.

Intel MKL (torch's CPU BLAS on x86) picks kernels by the alignment of its
operands, and kernels round differently: a pair's weights multiplied at
offset 0 of a tensor (trained alone) and at an offset inside a stack of
pairs can differ in the last bit. MKL's conditional numerical
reproducibility mode (``MKL_CBWR=AUTO,STRICT``) makes results independent of
alignment at no measured cost (benchmarks/RESULTS.md). MKL reads the
variable at its first call, so it is set (unless the user set it) when
``deap_nnprune`` is imported, before torch runs a product, and it is passed
to every worker process the package starts.
"""

from __future__ import annotations

import functools
import os
import warnings

__all__: list[str] = []

#: MKL's variable and the mode deap_nnprune asks for.
MKL_CBWR = ("MKL_CBWR", "AUTO,STRICT")


class ReproducibilityWarning(UserWarning):
    """Results may depend on how work is split (batched vs alone): BLAS is alignment-dependent here."""


def request_strict_blas() -> None:
    """Ask MKL for alignment-independent results, unless ``MKL_CBWR`` is already set."""
    os.environ.setdefault(*MKL_CBWR)


def worker_environment() -> dict[str, str]:
    """Environment entries a worker process needs for the same bits as this one."""
    return {MKL_CBWR[0]: os.environ.get(MKL_CBWR[0], MKL_CBWR[1]), "OMP_NUM_THREADS": "1"}


@functools.cache
def blas_is_alignment_invariant() -> bool:
    """Does a batched product give the same bits at an unaligned offset as at an aligned one?"""
    import torch

    g = torch.Generator().manual_seed(0)
    w, h = torch.randn(7, 9, 13, generator=g), torch.rand(7, 5, 13, generator=g)
    stacked = torch.bmm(w, h.transpose(1, 2))
    alone = [torch.bmm(w[k : k + 1].clone(), h[k : k + 1].clone().transpose(1, 2))[0] for k in range(7)]
    return all(torch.equal(a, s) for a, s in zip(alone, stacked))


def warn_if_alignment_dependent() -> None:
    """One warning per process when products depend on alignment (MKL_CBWR set too late or overridden)."""
    if not blas_is_alignment_invariant():
        _warn_once()


@functools.cache
def _warn_once() -> None:
    warnings.warn(
        "this process's BLAS rounds differently at different memory alignments, so a network's training "
        "may differ in the last bits between batched and single runs; set MKL_CBWR=AUTO,STRICT before the "
        "first torch product (importing deap_nnprune first does it)",
        ReproducibilityWarning,
        stacklevel=3,
    )


request_strict_blas()  # at import, before torch's first product (deap_nnprune imports this module first)
