"""Train and score many same-shaped networks at once.

A coevolution epoch trains one encoder-decoder pair per cell, and scores
every encoder against every decoder of a neighbourhood. Done one network
at a time, each Adam step is a handful of tiny matrix products and a few
hundred Python-level tensor calls. Here the weights, masks and Adam moments
of ``C`` pairs are stacked into ``[C, ...]`` tensors and every step is one
batched product per layer (``torch.baddbmm``) for all of them.

This is the training engine of the package: :func:`~deap_nnprune.mut_train`
and :func:`~deap_nnprune.mut_train_pair` are :func:`train_pairs` with one
pair (same batch orders, learning rates, StepLR and optimiser-state modes).
What makes it fast, measured in ``benchmarks/bench_epoch.py``:

* a hand-written backward pass (an L1 loss, ``Linear`` layers and elementwise
  activations need only ``bmm``, ``sign`` and the activations' own backward
  kernels), into preallocated buffers: no autograd graph per step. Each
  weight is stacked with its long side last, the layout in which the skinny
  products of a 5-row batch run fastest; transposes are views;
* no mask multiply in the forward pass: a pruned weight is exactly zero and
  never moves, because its gradient (or its update) is multiplied by the mask;
* Adam as ``torch._fused_adam_``, one kernel pass over weights, gradients and
  moments, with each layer's own step count for the bias correction. On the
  CPU it is called once per distinct learning rate (a kernel call takes one
  rate; a call costs microseconds next to a pair's work). On a GPU, where
  launches dominate, one call serves all pairs: it runs at rate 1 on a scratch
  ``Z`` (``Z = -m̂/(√v̂+ε)``) and the weights move by ``Z * rate * mask``,
  the rates and masks of all pairs stacked in one tensor;
  (A torch without a fused CPU kernel, before 2.4, gets torch's functional
  foreach Adam instead, through the same ``deap_nnprune._adam.adam_step``);
* cache blocking on the CPU: pairs are trained in chunks whose stacked state
  (~1.2 MB per paper-size pair) stays in the last-level cache for all steps.

Nothing in the step loop waits for the device: batch indices, learning
rates (StepLR included) and step counts are laid out before the first step.

Pruned entries edited by hand (a non-zero weight or moment under a zero
mask) are zeroed before training; masks other than 0/1 are refused (the
autograd engine, ``engine="autograd"``, trains those). Pairs of different
architectures are batched in separate groups.

Partition invariance: a pair's result does not depend on which pairs it is
trained with, or how many: it is the same bits alone (``K = 1``), in any
chunk and any group, as one :func:`~deap_nnprune.mut_train_pair` call
(which is this engine with one pair). Products are batched per pair,
Adam runs on each pair's own tensors, MKL runs in its alignment-independent
mode (``deap_nnprune._reproducible``), and activations with vectorised
transcendental kernels run network by network (see ``_Activation``). This
holds on the CPU with one torch thread per process (several threads split
elementwise kernels at places that depend on the tensor sizes).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

from ._adam import AdamSettings, adam_step, has_fused_adam
from ._batches import batch_order
from ._reproducible import warn_if_alignment_dependent
from ._rng import as_generator
from ._validation import check_float, check_int
from .evaluation import NonFiniteOutputWarning, check_data, check_finite
from .network import MaskedLinear, MaskedMLP
from .spread import spread_record

__all__ = ["evaluate_pairs", "train_pairs"]

_aten = torch.ops.aten
#: Tests set this to run the GPU Adam path (one fused call for all pairs) on the CPU.
_ONE_ADAM_CALL = False

#: Bytes of stacked training state per chunk on the CPU (fits a 32 MB L3 with room to spare).
_CPU_CHUNK_BYTES = 16 * 2**20
#: Elements of decoder output per evaluation block (bounds evaluate_pairs' memory).
_EVAL_BLOCK_ELEMENTS = 2**23


# --------------------------------------------------------------------------- activations


class _Activation:
    """One activation applied to ``[C, rows, width]`` tensors, with its backward.

    ReLU, sigmoid, tanh and identity use ATen's own backward kernels (the ones
    autograd calls); any other module runs on each network's ``[rows, width]``
    rows, as in a network's own forward, and is differentiated by autograd.

    Partition invariance: ReLU and identity are exact whatever the layout, but
    a vectorised kernel computes the last few elements of a tensor (its tail)
    with scalar code that may round differently. So every other activation,
    and its backward, runs network by network (``pre[k]``): each network's
    slice has the same shape and strides whether it is trained alone or
    stacked with others, and so gets the same bits.
    """

    _KINDS = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Identity: "identity"}
    _FORWARD = {"sigmoid": Tensor.sigmoid_, "tanh": Tensor.tanh_}
    _BACKWARD = {"sigmoid": _aten.sigmoid_backward.grad_input, "tanh": _aten.tanh_backward.grad_input}

    def __init__(self, module: nn.Module) -> None:
        self.module = module
        self.kind = self._KINDS.get(type(module), "generic")

    def __call__(self, pre: Tensor, grad: bool = False) -> tuple[Tensor, list | None]:
        """Apply in place where possible; return the output and what backward needs."""
        if self.kind == "relu":
            return pre.relu_(), None
        if self.kind == "identity":
            return pre, None
        if self.kind in self._FORWARD:
            for k in range(pre.shape[0]):
                self._FORWARD[self.kind](pre[k])
            return pre, None
        if not grad:
            return torch.stack([self.module(pre[k]) for k in range(pre.shape[0])]), None
        leaves, outs = [], []
        with torch.enable_grad():
            for k in range(pre.shape[0]):
                leaves.append(pre[k].detach().requires_grad_())
                outs.append(self.module(leaves[-1]))
        return torch.stack([out.detach() for out in outs]), list(zip(leaves, outs))

    def backward(self, d: Tensor, out: Tensor, saved: list | None) -> Tensor:
        """Gradient with respect to the pre-activation, in place into *d* where possible."""
        if self.kind == "relu":
            return _aten.threshold_backward.grad_input(d, out, 0, grad_input=d)
        if self.kind == "identity":
            return d
        if self.kind in self._BACKWARD:
            for k in range(d.shape[0]):
                self._BACKWARD[self.kind](d[k], out[k], grad_input=d[k])
            return d
        assert saved is not None, "a generic activation's backward needs what its forward saved"
        return torch.stack([torch.autograd.grad(result, leaf, d[k])[0] for k, (leaf, result) in enumerate(saved)])


def _activation_key(module: nn.Module) -> tuple:
    """Equal for interchangeable activations; a module with state is only itself."""
    if any(True for _ in module.parameters()) or any(True for _ in module.buffers()):
        return ("module", id(module))
    return (type(module), module.extra_repr())


def _signature(mlp: MaskedMLP) -> tuple:
    """What must match for networks to be stacked: shapes, activations, dtype, device."""
    weight = mlp.layers[0].weight
    return (
        tuple((layer.in_features, layer.out_features, layer.bias is not None) for layer in mlp.layers),
        tuple(_activation_key(act) for act in mlp.activations),
        weight.dtype,
        weight.device,
    )


def _groups(keys: Sequence) -> list[list[int]]:
    """Indices grouped by equal key, groups in order of first appearance."""
    found: dict = {}
    for i, key in enumerate(keys):
        found.setdefault(key, []).append(i)
    return list(found.values())


# --------------------------------------------------------------------------- evaluation


def _shared_input_layer(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``[n, in]`` rows through ``S`` stacked layers ``[S, out, in]`` at once: ``[S, n, out]``."""
    s, out, width = weight.shape
    y = torch.mm(x, weight.reshape(s * out, width).t()).view(x.shape[0], s, out).transpose(0, 1)
    return y + bias if bias is not None else y


def _stacked_forward(mlps: Sequence[MaskedMLP], x: Tensor) -> Tensor:
    """Every network of *mlps* (one architecture) on the same rows *x*: ``[S, n, out]``."""
    h: Tensor | None = None
    for li, act in enumerate(mlps[0].activations):
        layers = [mlp.layers[li] for mlp in mlps]
        weight = torch.stack([layer.effective("weight") for layer in layers])
        bias = None
        if layers[0].bias is not None:
            bias = torch.stack([layer.effective("bias") for layer in layers]).unsqueeze(1)
        if h is None:
            h = _shared_input_layer(x, weight, bias)
        elif bias is not None:
            h = torch.baddbmm(bias, h, weight.transpose(1, 2))
        else:
            h = torch.bmm(h, weight.transpose(1, 2))
        h, _ = _Activation(act)(h.contiguous())
    assert h is not None, "a network has at least one layer"
    return h


def _evaluate_block(encoders: Sequence[MaskedMLP], decoders: Sequence[MaskedMLP], data: Tensor) -> Tensor:
    """``[E, D]`` float64 sums of ``|decoder(encoder(x)) - x|`` for one architecture pair."""
    weight = encoders[0].layers[0].weight
    x_all = data.to(device=weight.device, dtype=weight.dtype)
    n_enc, n_dec = len(encoders), len(decoders)
    widest = max(max(mlp.sizes) for mlp in (encoders[0], decoders[0]))
    rows = max(1, _EVAL_BLOCK_ELEMENTS // (n_enc * n_dec * widest))
    totals = torch.zeros(n_dec, n_enc, dtype=torch.float64, device=weight.device)
    for start in range(0, x_all.shape[0], rows):
        x = x_all[start : start + rows]
        latent = _stacked_forward(encoders, x)  # [E, n, latent]
        out = _stacked_forward(decoders, latent.reshape(-1, latent.shape[-1]))  # [D, E*n, width]
        out = out.view(n_dec, n_enc, x.shape[0], x.shape[1])
        totals += (out - x).abs_().sum(dim=(2, 3), dtype=torch.float64)
    return totals.t()


def _check_widths(encoders: Sequence[MaskedMLP], decoders: Sequence[MaskedMLP], width: int) -> None:
    """Every encoder with every decoder must make an autoencoder of *width*; name the first that does not."""
    codes = {enc.out_features for enc in encoders} | {dec.in_features for dec in decoders}
    ends = {enc.in_features for enc in encoders} | {dec.out_features for dec in decoders}
    if len(codes) == 1 and ends == {width}:
        return
    for i, enc in enumerate(encoders):
        for j, dec in enumerate(decoders):
            if enc.in_features != width or enc.out_features != dec.in_features or dec.out_features != width:
                raise ValueError(
                    f"encoders[{i}] ({enc.in_features}->{enc.out_features}) and decoders[{j}] "
                    f"({dec.in_features}->{dec.out_features}) do not make an autoencoder of width {width}"
                )


@torch.no_grad()
def evaluate_pairs(encoders: Sequence[MaskedMLP], decoders: Sequence[MaskedMLP], data: Tensor) -> Tensor:
    """Mean absolute reconstruction error of every encoder with every decoder.

    Entry ``[i, j]`` is :func:`~deap_nnprune.evaluate_pair` of
    ``(encoders[i], decoders[j])`` on *data*: the mean of
    ``|decoder_j(encoder_i(x)) - x|``, summed in float64. All encoders run
    in one stacked pass, then all decoders on all latent codes, in blocks of
    rows that bound memory. Networks of different architectures (sizes,
    activations, dtype, device) are scored group by group. A pair whose
    output is not finite scores ``inf``, with a :class:`NonFiniteOutputWarning`.

    Returns a float64 CPU tensor of shape ``[len(encoders), len(decoders)]``.

    >>> from deap_nnprune import MaskedMLP, evaluate_pair
    >>> encs = [MaskedMLP.from_preset("paper", 16, part="encoder") for _ in range(3)]
    >>> decs = [MaskedMLP.from_preset("paper", 16, part="decoder") for _ in range(2)]
    >>> x = torch.rand(8, 16)
    >>> scores = evaluate_pairs(encs, decs, x)
    >>> scores.shape, scores.dtype
    (torch.Size([3, 2]), torch.float64)
    >>> abs(scores[2, 1].item() - evaluate_pair(encs[2], decs[1], x)[0]) < 1e-6
    True
    """
    encoders, decoders = list(encoders), list(decoders)
    for argument, mlps in (("encoders", encoders), ("decoders", decoders)):
        for i, mlp in enumerate(mlps):
            if not isinstance(mlp, MaskedMLP):
                raise TypeError(f"{argument}[{i}] must be a MaskedMLP, got {type(mlp).__name__}")
    result = torch.zeros(len(encoders), len(decoders), dtype=torch.float64)
    if not encoders or not decoders:
        return result
    check_data(data, encoders[0].in_features, what="encoder input width", finite=False)
    _check_widths(encoders, decoders, data.shape[1])
    modules = encoders + decoders
    was_training = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        for rows in _groups([_signature(e) for e in encoders]):
            for cols in _groups([_signature(d) for d in decoders]):
                block = _evaluate_block([encoders[i] for i in rows], [decoders[j] for j in cols], data)
                result[np.ix_(rows, cols)] = block.cpu()
    finally:
        for m, training in zip(modules, was_training):
            m.train(training)
    result /= data.numel()
    bad = ~torch.isfinite(result)
    if bool(bad.any()):
        check_finite(data)  # the caller's error, not the networks' (see evaluation._mean_abs_error)
        result[bad] = math.inf
        warnings.warn(
            f"{int(bad.sum())} encoder-decoder pair(s) give a non-finite output (NaN or inf); scored inf",
            NonFiniteOutputWarning,
            stacklevel=2,
        )
    return result


# --------------------------------------------------------------------------- training


class _StackedPairs:
    """The layers of ``C`` same-shaped encoder-decoder pairs as ``[C, ...]`` tensors.

    Entry ``t`` of the lists is one parameter (a layer's weight, then its
    bias) of every pair: ``params[t][k]`` is pair ``k``'s. A weight is stored
    with its longer side last (``[C, out, in]``, or transposed to
    ``[C, in, out]`` when ``out > in``), which is the layout in which the
    skinny batched products of a batch of 5 run fastest; biases are
    ``[C, 1, out]``.
    """

    def __init__(self, pairs: Sequence[tuple[MaskedMLP, MaskedMLP]]) -> None:
        self.nets = [list(enc.layers) + list(dec.layers) for enc, dec in pairs]
        self.n_encoder_layers = len(pairs[0][0].layers)
        first = self.nets[0]
        self.flip = [layer.out_features > layer.in_features for layer in first]
        self.entries = [
            (li, name)
            for li, layer in enumerate(first)
            for name in ("weight", "bias")
            if getattr(layer, name) is not None
        ]
        index = {entry: t for t, entry in enumerate(self.entries)}
        self.layout = [(index[(li, "weight")], index.get((li, "bias"))) for li in range(len(first))]
        self.params = self._stack(getattr)
        self.exp_avgs = self._stack(lambda layer, name: layer.moments(name)[0])
        self.exp_avg_sqs = self._stack(lambda layer, name: layer.moments(name)[1])
        self.keep = self._stack(  # in the regrowth mode there is no mask: every entry may move
            lambda layer, name: layer.mask(name) if layer.persistent_masks else torch.ones_like(layer.mask(name))
        )
        self.starts = [[int(net[li].adam_step) for net in self.nets] for li, _ in self.entries]

    def _stored(self, x: Tensor, li: int, name: str) -> Tensor:
        """A layer's ``[out, in]`` weight or ``[out]`` bias in the stacked layout (a view)."""
        if name == "bias":
            return x.unsqueeze(0)
        return x.t() if self.flip[li] else x

    def _stack(self, tensor_of: Callable[[MaskedLinear, str], Tensor]) -> list[Tensor]:
        """``tensor_of(layer, entry)`` of every pair, stacked, for every entry."""
        out = []
        for li, name in self.entries:
            tensors = [tensor_of(net[li], name).detach() for net in self.nets]
            out.append(torch.stack([self._stored(x, li, name) for x in tensors]))
        return out

    def check_and_clean(self) -> None:
        """Refuse masks other than 0/1; zero the weights and moments of pruned entries.

        The stacked engine skips the forward mask multiply, which is exact only
        when a pruned weight is zero; a pruned entry edited by hand is zeroed
        here (its value was invisible to the forward pass anyway).
        """
        for t, keep in enumerate(self.keep):
            if not bool(((keep == 0) | (keep == 1)).all()):
                li, name = self.entries[t]
                k = int(((keep != 0) & (keep != 1)).flatten(1).any(dim=1).nonzero()[0])
                raise ValueError(
                    f"pair {k}: layer {li}'s {name}_mask holds values other than 0 and 1; the stacked engine "
                    f"needs 0/1 masks (train it with engine='autograd')"
                )
            if bool((keep == 0).any()):
                for x in (self.params[t], self.exp_avgs[t], self.exp_avg_sqs[t]):
                    x.mul_(keep)

    @torch.no_grad()
    def write_back(self, which: Sequence[int], n_steps: int, zero_dead_moments: bool) -> None:
        """Copy weights, moments and step counts of pairs *which* into their layers.

        Pruned weights are exactly zero already; their moments are too, unless
        the Adam path let them collect values (*zero_dead_moments*).
        """
        for t, (li, name) in enumerate(self.entries):
            alive = self.keep[t] != 0 if zero_dead_moments else None
            for j, stacked in enumerate((self.params[t], self.exp_avgs[t], self.exp_avg_sqs[t])):
                if alive is not None and j:  # the moments
                    stacked = torch.where(alive, stacked, 0)
                for k in which:
                    layer = self.nets[k][li]
                    dest = (getattr(layer, name), *layer.moments(name))[j]
                    dest.copy_(stacked[k].t() if name == "weight" and self.flip[li] else stacked[k].view_as(dest))
        for k in which:
            for li, layer in enumerate(self.nets[k]):
                layer.adam_step.fill_(self.starts[self.layout[li][0]][k] + n_steps)


class _Buffers:
    """Preallocated activations and deltas of one batch size, in the layout the products write."""

    def __init__(self, stack: _StackedPairs, n_pairs: int, rows: int, width: int) -> None:
        p = stack.params[0]
        new = lambda *shape: torch.empty(*shape, dtype=p.dtype, device=p.device)  # noqa: E731
        self.x = new(n_pairs * rows, width)
        self.flip = stack.flip
        layers = stack.nets[0]
        # A flipped layer's forward writes [C, B, out]; the others write out^T = W @ h^T.
        self.outs = [
            new(n_pairs, rows, layer.out_features) if flip else new(n_pairs, layer.out_features, rows)
            for layer, flip in zip(layers, stack.flip)
        ]
        self.loss = torch.empty_like(self.output(len(layers) - 1))
        # Delta of layer li's input: flipped layers write dh^T = S @ d^T, the others dh = d @ W.
        self.deltas = [
            new(n_pairs, layer.in_features, rows) if flip else new(n_pairs, rows, layer.in_features)
            for layer, flip in zip(layers, stack.flip)
        ]

    def output(self, li: int) -> Tensor:
        """Layer *li*'s output buffer as ``[C, B, out]``."""
        return self.outs[li] if self.flip[li] else self.outs[li].transpose(1, 2)

    def delta(self, li: int) -> Tensor:
        """The delta of layer *li*'s input as ``[C, B, in]``."""
        return self.deltas[li].transpose(1, 2) if self.flip[li] else self.deltas[li]


def _gradients(
    x: Tensor,
    stack: _StackedPairs,
    grads: list[Tensor],
    acts: list[_Activation],
    buf: _Buffers,
    keep_logits: bool = False,
) -> tuple[list[Tensor], Tensor | None]:
    """L1 loss of every pair on its batch *x* ``[C, B, width]``; gradients into *grads*.

    Each pair's loss is its own mean, so its gradient is ``sign(y - x) / (B*width)``
    pushed back through its own layers (batched products and the activations'
    backward kernels). Transposes are views: BLAS reads them in place.

    Returns every layer's output after its activation (``[C, B, out]`` views,
    valid until the next step) and, with *keep_logits*, a copy of the last
    layer's output before its activation.
    """
    params, h, saved, inputs = stack.params, x, [], []
    logits = None
    last = len(stack.layout) - 1
    for li, (w, b) in enumerate(stack.layout):
        inputs.append(h)
        if stack.flip[li]:  # y = h @ S + b, S = W^T
            if b is None:
                torch.bmm(h, params[w], out=buf.outs[li])
            else:
                torch.baddbmm(params[b], h, params[w], out=buf.outs[li])
        elif b is None:  # y^T = W @ h^T + b^T
            torch.bmm(params[w], h.transpose(1, 2), out=buf.outs[li])
        else:
            torch.baddbmm(params[b].transpose(1, 2), params[w], h.transpose(1, 2), out=buf.outs[li])
        if keep_logits and li == last:
            logits = buf.output(li).clone()
        h, state = acts[li](buf.output(li), grad=True)
        saved.append((h, state))
    d = torch.sub(h, x, out=buf.loss).sign_().mul_(1.0 / x[0].numel())
    for li in reversed(range(len(stack.layout))):
        w, b = stack.layout[li]
        d = acts[li].backward(d, *saved[li])
        if stack.flip[li]:  # dS = h^T @ d; dh^T = S @ d^T
            torch.bmm(inputs[li].transpose(1, 2), d, out=grads[w])
        else:  # dW = d^T @ h; dh = d @ W
            torch.bmm(d.transpose(1, 2), inputs[li], out=grads[w])
        if b is not None:
            torch.sum(d, dim=1, keepdim=True, out=grads[b])
        if li and stack.flip[li]:
            torch.bmm(params[w], d.transpose(1, 2), out=buf.deltas[li])
        elif li:
            torch.bmm(d, params[w], out=buf.deltas[li])
        d = buf.delta(li)
    return [out for out, _ in saved], logits


class _AdamCall(NamedTuple):
    params: list[Tensor]
    grads: list[Tensor]
    exp_avgs: list[Tensor]
    exp_avg_sqs: list[Tensor]
    steps: list[Tensor]
    lr: float


def _adam_call(
    tensors: tuple[list[Tensor], list[Tensor], list[Tensor], list[Tensor]],
    steps: list[Tensor],
    n_pairs: int,
    tk: list[tuple[int, int]],
    lr: float,
) -> _AdamCall:
    """One Adam call at rate *lr* over pair ``k``'s tensor ``t``, for every ``(t, k)`` in *tk*."""
    params, grads, exp_avgs, exp_avg_sqs = ([x[t][k] for t, k in tk] for x in tensors)
    return _AdamCall(params, grads, exp_avgs, exp_avg_sqs, [steps[t * n_pairs + k] for t, k in tk], lr)


class _AdamPerRate:
    """CPU: one fused Adam call per distinct learning rate, straight on the stacked tensors.

    Gradients of pruned entries are zeroed first (only in tensors that have
    any), so pruned weights and moments never move. Fewest memory passes; a
    call costs a few microseconds, small next to a pair's work on the CPU.
    """

    #: Whether pruned entries' moments collect values that write-back must zero.
    dirties_pruned_moments = False

    def __init__(
        self,
        stack: _StackedPairs,
        grads: list[Tensor],
        steps: list[Tensor],
        rates: list[list[list[float]]],
        settings: AdamSettings,
    ) -> None:
        self.settings, self.grads, self.keep = settings, grads, stack.keep
        self.masked = [t for t, keep in enumerate(stack.keep) if bool((keep == 0).any())]
        n_pairs, tensors = len(stack.nets), (stack.params, grads, stack.exp_avgs, stack.exp_avg_sqs)
        #: Per StepLR segment, one Adam call per rate: (params, grads, exp_avgs, exp_avg_sqs, steps, rate).
        self.segments: list[list[_AdamCall]] = []
        for rate in rates:  # rate[t][k] from one StepLR change to the next
            by_rate: dict[float, list[tuple[int, int]]] = {}
            for k in range(n_pairs):
                for t in range(len(grads)):
                    by_rate.setdefault(rate[t][k], []).append((t, k))
            self.segments.append([_adam_call(tensors, steps, n_pairs, tk, lr) for lr, tk in by_rate.items()])
        self.calls = self.segments[0]

    def set_rates(self, segment: int) -> None:
        self.calls = self.segments[segment]

    def __call__(self, step: int) -> None:
        if self.masked:
            torch._foreach_mul_([self.grads[t] for t in self.masked], [self.keep[t] for t in self.masked])
        for params, grads, exp_avgs, exp_avg_sqs, steps, lr in self.calls:
            adam_step(params, grads, exp_avgs, exp_avg_sqs, steps, lr, self.settings)


class _ScaledAdam:
    """GPU: one fused Adam call for all pairs, whatever their rates.

    A kernel call takes one learning rate, so it runs at rate 1 on a zeroed
    scratch ``Z`` (giving ``-m̂/(√v̂+ε)`` with each pair's own bias
    correction) and the weights move by ``Z * rate * mask``: three launches a
    step instead of one per pair. Pruned moments collect values no update
    reads; :meth:`_StackedPairs.write_back` zeroes them.
    """

    dirties_pruned_moments = True

    def __init__(
        self,
        stack: _StackedPairs,
        grads: list[Tensor],
        steps: list[Tensor],
        rates: list[list[list[float]]],
        settings: AdamSettings,
    ) -> None:
        self.settings, self.stack, self.grads, self.steps = settings, stack, grads, steps
        p = stack.params[0]
        self.rates = torch.tensor(rates, dtype=p.dtype, device=p.device).view(len(rates), len(grads), -1, 1, 1)
        self.scratch = [torch.zeros_like(x) for x in stack.params]
        self.lr_masks = [torch.empty_like(x) for x in stack.params]
        view = lambda tensors: [x[k] for x in tensors for k in range(len(stack.nets))]  # noqa: E731
        self.views = [view(x) for x in (self.scratch, grads, stack.exp_avgs, stack.exp_avg_sqs)]
        self.set_rates(0)

    def set_rates(self, segment: int) -> None:
        for keep, rate, out in zip(self.stack.keep, self.rates[segment], self.lr_masks):
            torch.mul(keep, rate, out=out)

    def __call__(self, step: int) -> None:
        b1, b2 = self.settings.betas
        if self.settings.weight_decay:
            torch._foreach_add_(self.grads, self.stack.params, alpha=self.settings.weight_decay)
        torch._foreach_zero_(self.scratch)
        scratch, grads, exp_avgs, exp_avg_sqs = self.views
        torch._fused_adam_(
            scratch,
            grads,
            exp_avgs,
            exp_avg_sqs,
            [],
            self.steps,
            lr=1.0,
            beta1=b1,
            beta2=b2,
            weight_decay=0.0,
            eps=self.settings.eps,
            amsgrad=False,
            maximize=False,
        )
        torch._foreach_addcmul_(self.stack.params, self.scratch, self.lr_masks)


def _adam_path(device: torch.device) -> type:
    """The Adam implementation for *device* (see the module docstring)."""
    if has_fused_adam(device.type) and (device.type != "cpu" or _ONE_ADAM_CALL):
        return _ScaledAdam
    return _AdamPerRate


def _batch_indices(orders: Sequence[Sequence[np.ndarray]], offsets: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """Row indices of step ``i`` for all pairs, pair-major, at ``flat[C*b[i]:C*b[i+1]]``."""
    sizes = [len(batch) for batch in orders[0]]
    bounds = np.cumsum([0] + sizes)
    stacked = np.stack([np.concatenate(order) + offset for order, offset in zip(orders, offsets)])
    if len(set(sizes)) == 1:
        flat = stacked.reshape(len(orders), len(sizes), sizes[0]).transpose(1, 0, 2).reshape(-1)
    else:
        flat = np.concatenate([stacked[:, a:b].reshape(-1) for a, b in zip(bounds[:-1], bounds[1:])])
    return flat, [len(orders) * int(b) for b in bounds]


def _lr_changes(
    stack: _StackedPairs, lrs: Sequence[tuple[float, float]], n_steps: int, settings: AdamSettings
) -> tuple[list[int], list[list[list[float]]]]:
    """StepLR: the steps where some rate changes, and every ``rate[t][k]`` from then on."""
    at = [0]
    if settings.lr_step_size is not None:
        size = settings.lr_step_size
        first = {(-s) % size or size for row in stack.starts for s in row}
        at += sorted({i for r in first for i in range(r, n_steps, size)})
    half = [0 if li < stack.n_encoder_layers else 1 for li, _ in stack.entries]
    rates = [
        [
            [settings.scheduled_lr(lr_pair[h], s + i) for lr_pair, s in zip(lrs, start)]
            for h, start in zip(half, stack.starts)
        ]
        for i in at
    ]
    return at, rates


def _data_source(datas: Sequence[Tensor], device: torch.device, dtype: torch.dtype) -> tuple[Tensor, list[int]]:
    """One tensor holding every distinct data set once, and each pair's row offset in it."""
    distinct = list({id(d): d for d in datas}.values())
    position = {id(d): i * d.shape[0] for i, d in enumerate(distinct)}
    source = distinct[0] if len(distinct) == 1 else torch.cat([d.to(device) for d in distinct])
    return source.to(device=device, dtype=dtype), [position[id(d)] for d in datas]


@torch.no_grad()
def _train_chunk(
    pairs: Sequence[tuple[MaskedMLP, MaskedMLP]],
    lrs: Sequence[tuple[float, float]],
    orders: Sequence[Sequence[np.ndarray]],
    datas: Sequence[Tensor],
    settings: AdamSettings,
) -> None:
    """Train same-shaped pairs in lock-step."""
    stack = _StackedPairs(pairs)
    stack.check_and_clean()
    device, dtype, n_pairs, n_steps = stack.params[0].device, stack.params[0].dtype, len(pairs), len(orders[0])
    grads = [torch.zeros_like(p) for p in stack.params]
    steps = torch.tensor(stack.starts, dtype=torch.float32, device=device)
    step_views = list(steps.view(-1).unbind(0))
    change_at, rates = _lr_changes(stack, lrs, n_steps, settings)
    adam = _adam_path(device)(stack, grads, step_views, rates, settings)
    source, offsets = _data_source(datas, device, dtype)
    flat_order, bounds = _batch_indices(orders, offsets)
    flat = torch.from_numpy(flat_order).to(device)
    acts = [_Activation(a) for a in list(pairs[0][0].activations) + list(pairs[0][1].activations)]
    for enc, dec in pairs:
        enc.train()
        dec.train()
    buffers: dict[int, _Buffers] = {}
    records = [(k, spread_record(enc), spread_record(dec)) for k, (enc, dec) in enumerate(pairs)]
    records = [(k, e, d) for k, e, d in records if e is not None or d is not None]
    n_enc = stack.n_encoder_layers
    segment = 0
    for i in range(n_steps):
        if segment + 1 < len(change_at) and change_at[segment + 1] == i:
            segment += 1
            adam.set_rates(segment)
        rows = (bounds[i + 1] - bounds[i]) // n_pairs
        buf = buffers.get(rows) or buffers.setdefault(rows, _Buffers(stack, n_pairs, rows, source.shape[1]))
        torch.index_select(source, 0, flat[bounds[i] : bounds[i + 1]], out=buf.x)
        outs, logits = _gradients(buf.x.view(n_pairs, rows, -1), stack, grads, acts, buf, keep_logits=bool(records))
        for k, enc_record, dec_record in records:  # the weights before this step's update, as the outputs
            if enc_record is not None:
                enc_record.update([out[k] for out in outs[:n_enc]])
            if dec_record is not None and logits is not None:
                dec_record.update([out[k] for out in outs[n_enc:-1]] + [logits[k]])
        if settings.fresh_per_batch:
            torch._foreach_zero_(stack.exp_avgs + stack.exp_avg_sqs)
            steps.fill_(1.0)
        else:
            steps.add_(1.0)
        adam(i)
    stack.write_back(range(n_pairs), n_steps, zero_dead_moments=adam.dirties_pruned_moments)


def _check_pairs(encoders: list, decoders: list, datas: list, rngs: list) -> None:
    """Refuse mismatched lengths, wrong types, shared modules, bad widths and ragged data."""
    for argument, seq in (("decoders", decoders), ("datas", datas), ("rngs", rngs)):
        if len(seq) != len(encoders):
            raise ValueError(f"{argument} has {len(seq)} entries but encoders has {len(encoders)}; give one per pair")
    seen: dict[int, str] = {}
    for argument, mlps in (("encoders", encoders), ("decoders", decoders)):
        for i, mlp in enumerate(mlps):
            if not isinstance(mlp, MaskedMLP):
                raise TypeError(f"{argument}[{i}] must be a MaskedMLP, got {type(mlp).__name__}")
            for module in (mlp, *mlp.layers):
                if id(module) in seen:
                    raise ValueError(
                        f"{argument}[{i}] shares a module with {seen[id(module)]}; a network can be trained "
                        f"only once per call (clone it first)"
                    )
                seen[id(module)] = f"{argument}[{i}]"
    checked: set[int] = set()
    for k, (enc, dec) in enumerate(zip(encoders, decoders)):
        if enc.out_features != dec.in_features or dec.out_features != enc.in_features:
            raise ValueError(
                f"encoders[{k}] ({enc.in_features}->{enc.out_features}) and decoders[{k}] "
                f"({dec.in_features}->{dec.out_features}) do not make an autoencoder"
            )
        # one pass over the values of each distinct tensor (a trial's pairs usually share one)
        check_data(datas[k], enc.in_features, argument=f"datas[{k}]", finite=id(datas[k]) not in checked)
        checked.add(id(datas[k]))
    rows = sorted({int(data.shape[0]) for data in datas})
    if len(rows) > 1:
        raise ValueError(
            f"datas must all have the same number of rows, so that every step has one batch size; got {rows}"
        )


def _chunk_size(pair: tuple[MaskedMLP, MaskedMLP], group: int) -> int:
    """Pairs per chunk: all on a GPU; on the CPU as many as keep their state in cache."""
    weight = pair[0].layers[0].weight
    if weight.device.type != "cpu":
        return group
    n_params = sum(p.numel() for half in pair for p in half.parameters())
    # weights, gradients, two moments, masks
    return max(1, min(group, _CPU_CHUNK_BYTES // (5 * weight.element_size() * n_params)))


def train_pairs(
    encoders: Sequence[MaskedMLP],
    decoders: Sequence[MaskedMLP],
    datas: Sequence[Tensor],
    rngs: Sequence[np.random.Generator | None],
    epochs: int = 1,
    batch_size: int = 5,
    lr: float | None = None,
    betas: tuple[float, float] = (0.5, 0.999),
    steps: int | None = None,
    *,
    weight_decay: float = 0.0,
    optimizer_state: str = "persistent",
    lr_step_size: int | None = None,
    lr_gamma: float = 0.1,
) -> list[tuple[MaskedMLP, MaskedMLP]]:
    """Train pair ``k = (encoders[k], decoders[k])`` on ``datas[k]``, all pairs at once.

    The result equals ``mut_train_pair(encoders[k], decoders[k], datas[k],
    rng=rngs[k], ...)`` for every ``k``, bit for bit (that call is this one
    with a single pair), however the pairs are grouped: the same batch
    order, drawn from ``rngs[k]`` exactly as that call would draw it, each
    half's own ``learning_rate`` (or *lr*), each layer's own Adam step count,
    and the same *weight_decay*, *optimizer_state* and StepLR arguments (see
    :func:`~deap_nnprune.training.mut_train`). Networks change in place and
    stay where they are (CPU or GPU); pruned entries stay exactly zero.

    *datas* are often one tensor for every pair; they must all have the same
    number of rows, so that step ``i`` has one batch size. A network may
    appear only once. Pairs of different architectures are batched in
    separate groups.

    Returns ``[(encoders[k], decoders[k]), ...]``.

    >>> from deap_nnprune import MaskedMLP
    >>> encs = [MaskedMLP.from_preset("paper", 16, part="encoder") for _ in range(3)]
    >>> decs = [MaskedMLP.from_preset("paper", 16, part="decoder") for _ in range(3)]
    >>> data = torch.rand(20, 16)
    >>> rngs = [np.random.default_rng(k) for k in range(3)]
    >>> trained = train_pairs(encs, decs, [data] * 3, rngs)
    >>> trained[0][0] is encs[0], int(encs[2].layers[0].adam_step)
    (True, 4)
    """
    encoders, decoders, datas, rngs = list(encoders), list(decoders), list(datas), list(rngs)
    _check_pairs(encoders, decoders, datas, rngs)
    warn_if_alignment_dependent()
    check_int("epochs", epochs, minimum=0)
    check_int("batch_size", batch_size, minimum=1)
    if steps is not None:
        check_int("steps", steps, minimum=0)
    settings = AdamSettings(
        betas, weight_decay=weight_decay, optimizer_state=optimizer_state, lr_step_size=lr_step_size, lr_gamma=lr_gamma
    )
    if lr is not None:
        lr = check_float("lr", lr, low=0.0, low_open=True)
    pairs = list(zip(encoders, decoders))
    if not pairs:
        return pairs
    lrs = [(lr, lr) if lr is not None else (enc.learning_rate, dec.learning_rate) for enc, dec in pairs]
    rows = datas[0].shape[0]
    orders = [
        batch_order(rows, batch_size, epochs, steps, as_generator(rng, f"rngs[{k}]")) for k, rng in enumerate(rngs)
    ]
    if not orders[0]:
        return pairs
    for group in _groups([(_signature(enc), _signature(dec)) for enc, dec in pairs]):
        n_chunks = -(-len(group) // _chunk_size(pairs[group[0]], len(group)))
        size = -(-len(group) // n_chunks)
        for start in range(0, len(group), size):
            chunk = group[start : start + size]
            _train_chunk(
                [pairs[k] for k in chunk],
                [lrs[k] for k in chunk],
                [orders[k] for k in chunk],
                [datas[k] for k in chunk],
                settings,
            )
    return pairs
