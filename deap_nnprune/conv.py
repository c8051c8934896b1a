"""Masked convolutions and convolutional autoencoder halves: the layer-type seam, used.

:class:`MaskedConv1d`, :class:`MaskedConv2d` and their transposes are
:class:`~deap_nnprune.network.MaskedLayer` s: a weight whose first axis is the
layer's neurons — its **output channels** — with masks and Adam moments beside
it, so every pruning operator, capacity, the counter, checkpoints and the
autograd training engine work on them unchanged. (The transposed layers keep
their weight as ``[out_channels, in_channels, *kernel]``, transposed from
torch's layout, for that reason.)

A :class:`MaskedConvNet` is one half of an autoencoder: it takes flat rows
(``[rows, in_features]``, reshaped to its ``input_shape``) or already shaped
``[rows, channels, ...]`` tensors, and gives flat rows, so data sets,
evaluation and the algorithms see the same 2-D rows as with an MLP. For the
activation-guided operators, a conv layer's per-case output of neuron ``c``
is channel ``c``'s mean activation over positions.

The stacked training engine is MLP-only: train conv networks with
``engine="autograd"`` (``run.engine = autograd`` in a configuration).

>>> import torch
>>> ae = MaskedAutoencoder.from_preset("conv", n_dim=64)
>>> ae(torch.rand(3, 64)).shape, ae(torch.rand(3, 1, 8, 8)).shape
(torch.Size([3, 64]), torch.Size([3, 64]))
>>> ae.encoder.out_features   # the code: 4 channels of 2x2
16
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validation import check_int
from .network import DEFAULT_LEARNING_RATE, MaskedAutoencoder, MaskedLayer, MaskedNetwork

__all__ = [
    "MaskedConv1d",
    "MaskedConv2d",
    "MaskedConvTranspose1d",
    "MaskedConvTranspose2d",
    "MaskedConvNet",
    "conv_halves",
    "CONV_ARCHITECTURES",
]

#: Architecture names :meth:`MaskedAutoencoder.from_preset` builds from this module.
CONV_ARCHITECTURES = ("conv",)


class _MaskedConv(MaskedLayer, nn.Module):
    """A convolution (or transposed convolution) over ``dims`` spatial axes with masked entries."""

    dims = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        *,
        output_padding: int = 0,
        persistent_masks: bool = True,
    ) -> None:
        for name, value, low in (
            ("in_channels", in_channels, 1),
            ("out_channels", out_channels, 1),
            ("kernel_size", kernel_size, 1),
            ("stride", stride, 1),
            ("padding", padding, 0),
            ("output_padding", output_padding, 0),
        ):
            check_int(name, value, minimum=low)
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.output_padding = kernel_size, stride, padding, output_padding
        shape = (out_channels, in_channels, *([kernel_size] * self.dims))
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._init_masks(persistent_masks)
        self.reset_parameters()  # MaskedLayer's: ±1/sqrt(fan_in), from torch's generator or an rng

    @property
    def out_features(self) -> int:  # type: ignore[override]  # the neurons are the output channels
        return self.out_channels

    @property
    def in_features(self) -> int:
        return self.in_channels

    def _torch_init(self) -> None:
        bound = 1.0 / math.sqrt(self.weight[0].numel())
        with torch.no_grad():
            for _, param in self._maskable():
                param.uniform_(-bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        weight = self.effective("weight")
        bias = self.effective("bias") if self.bias is not None else None
        if self.transposed:  # torch's layout is [in, out, *kernel]
            args = (x, weight.transpose(0, 1), bias, self.stride, self.padding, self.output_padding)
            return F.conv_transpose1d(*args) if self.dims == 1 else F.conv_transpose2d(*args)
        if self.dims == 1:
            return F.conv1d(x, weight, bias, self.stride, self.padding)
        return F.conv2d(x, weight, bias, self.stride, self.padding)

    def output_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        """``(channels, *spatial)`` of the output for an input of ``(channels, *spatial)``."""
        sizes = []
        for n in shape[1:]:
            if self.transposed:
                sizes.append((n - 1) * self.stride - 2 * self.padding + self.kernel_size + self.output_padding)
            else:
                sizes.append((n + 2 * self.padding - self.kernel_size) // self.stride + 1)
        return (self.out_channels, *sizes)

    def extra_repr(self) -> str:
        kind = "transposed, " if self.transposed else ""
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, {kind}{self._alive_repr()}"
        )


class MaskedConv1d(_MaskedConv):
    """A masked ``Conv1d``: input ``[rows, in_channels, length]``; neurons are output channels."""

    dims = 1


class MaskedConv2d(_MaskedConv):
    """A masked ``Conv2d``: input ``[rows, in_channels, h, w]``; neurons are output channels.

    >>> layer = MaskedConv2d(1, 3, kernel_size=3, padding=1)
    >>> layer.weight_mask[1] = 0          # prune output channel 1's weights
    >>> layer.bias_mask[1] = 0
    >>> bool(layer(torch.rand(2, 1, 5, 5))[:, 1].eq(0).all())
    True
    """

    dims = 2


class MaskedConvTranspose1d(_MaskedConv):
    """A masked ``ConvTranspose1d`` (weight kept as ``[out, in, k]``): upsamples in a decoder."""

    dims = 1
    transposed = True


class MaskedConvTranspose2d(_MaskedConv):
    """A masked ``ConvTranspose2d`` (weight kept as ``[out, in, kh, kw]``): upsamples in a decoder."""

    dims = 2
    transposed = True


class MaskedConvNet(MaskedNetwork):
    """An encoder or decoder of masked convolutions that takes and gives flat rows.

    *layers* are masked conv layers applied in order, each followed by its
    activation (*activations*, one per layer); *input_shape* is
    ``(channels, *spatial)`` of one row. ``in_features`` and
    ``out_features`` are the flat widths.

    >>> net = MaskedConvNet([MaskedConv2d(1, 2, 3, stride=2, padding=1)], [nn.ReLU()], (1, 8, 8))
    >>> net.in_features, net.out_features, net(torch.rand(5, 64)).shape
    (64, 32, torch.Size([5, 32]))
    """

    layers: list[_MaskedConv]  # type: ignore[assignment]  # an nn.ModuleList of masked convolutions

    def __init__(
        self,
        layers: Sequence[_MaskedConv],
        activations: Sequence[nn.Module],
        input_shape: Sequence[int],
        *,
        learning_rate: float = DEFAULT_LEARNING_RATE,
    ) -> None:
        super().__init__()
        if len(layers) != len(activations) or not layers:
            raise ValueError(f"give one activation per layer; got {len(layers)} layers, {len(activations)} activations")
        for i, layer in enumerate(layers):
            if not isinstance(layer, _MaskedConv):
                raise TypeError(f"layers[{i}] must be a masked convolution, got {type(layer).__name__}")
        self.layers = nn.ModuleList(layers)  # type: ignore[assignment]  # masked convolutions
        self.activations = nn.ModuleList(activations)  # type: ignore[assignment]
        self.input_shape = tuple(int(n) for n in input_shape)
        shape = self.input_shape
        for i, layer in enumerate(self.layers):
            if shape[0] != layer.in_channels or len(shape) != layer.dims + 1:
                raise ValueError(
                    f"layers[{i}] expects {layer.in_channels} channels over {layer.dims} axes, gets shape {shape}"
                )
            shape = layer.output_shape(shape)
        self.output_shape = shape
        self.learning_rate = float(learning_rate)
        self.pruned_count = 0

    @property
    def in_features(self) -> int:
        return math.prod(self.input_shape)

    @property
    def out_features(self) -> int:
        return math.prod(self.output_shape)

    def _shaped(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.input_shape)

    def forward(self, x: Tensor) -> Tensor:
        x = self._shaped(x)
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
        return x.flatten(1)

    def layer_outputs(self, x: Tensor) -> Iterator[tuple[MaskedLayer, Tensor]]:
        """``(layer, [rows, channels])``: each channel's mean activation over positions, per row.

        The last layer's output is what :meth:`forward` returns (flattened):
        the pruning operators read the per-channel means.
        """
        x = self._shaped(x)
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
            yield layer, x.flatten(2).mean(dim=2)


def conv_halves(
    n_dim: int,
    rng: np.random.Generator | None = None,
    *,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    persistent_masks: bool = True,
    channels: tuple[int, int] = (8, 4),
) -> tuple[MaskedConvNet, MaskedConvNet]:
    """The ``conv`` architecture for square images of ``n_dim = side²`` pixels (``side`` divisible by 4).

    Encoder: 3×3 convolutions with stride 2 (``1 → channels[0] → channels[1]``,
    ReLU), down to a code of ``channels[1] × side/4 × side/4``; decoder: the
    mirror with 4×4 transposed convolutions of stride 2, ReLU then sigmoid.
    For 8×8 digits the code is 16 numbers.
    """
    side = math.isqrt(check_int("n_dim", n_dim, minimum=16))
    if side * side != n_dim or side % 4:
        raise ValueError(
            f"the conv architecture needs square images with a side divisible by 4 "
            f"(n_dim = 16, 64, 144, ...), got n_dim={n_dim}"
        )
    a, b = channels
    flags = dict(persistent_masks=persistent_masks)
    encoder = MaskedConvNet(
        [MaskedConv2d(1, a, 3, stride=2, padding=1, **flags), MaskedConv2d(a, b, 3, stride=2, padding=1, **flags)],
        [nn.ReLU(), nn.ReLU()],
        (1, side, side),
        learning_rate=learning_rate,
    )
    decoder = MaskedConvNet(
        [
            MaskedConvTranspose2d(b, a, 4, stride=2, padding=1, **flags),
            MaskedConvTranspose2d(a, 1, 4, stride=2, padding=1, **flags),
        ],
        [nn.ReLU(), nn.Sigmoid()],
        encoder.output_shape,
        learning_rate=learning_rate,
    )
    if rng is not None:
        for layer in [*encoder.layers, *decoder.layers]:
            layer.reset_parameters(rng)
    return encoder, decoder


@dataclass
class _ConvStage:
    """One convolution during compaction, in our ``[out, in, *kernel]`` layout."""

    weight: Tensor  # dead entries zero
    alive: Tensor
    bias: Tensor  # [out], zero where dead
    bias_alive: Tensor
    has_bias: bool
    layer: _MaskedConv
    activation: nn.Module


def _conv_stages(net: MaskedConvNet) -> list[_ConvStage]:
    stages = []
    for layer, act in zip(net.layers, net.activations):
        has_bias = layer.bias is not None
        bias = layer.effective("bias").detach().clone() if has_bias else layer.weight.new_zeros(layer.out_channels)
        bias_alive = layer.alive("bias") if has_bias else torch.zeros(layer.out_channels, dtype=torch.bool)
        stages.append(
            _ConvStage(
                layer.effective("weight").detach().clone(),
                layer.alive("weight"),
                bias,
                bias_alive.to(bias.device),
                has_bias,
                layer,
                act,
            )
        )
    return stages


@torch.no_grad()
def _remove_dead_channels(stages: list[_ConvStage]) -> list[_ConvStage]:
    """Drop hidden channels that cannot change the output, until none is left.

    A channel is dropped when no alive weight of the next layer reads it, or
    when it has no alive weight or bias and its activation maps 0 to 0 (its
    output is exactly zero). (A channel that outputs a non-zero constant is
    kept: with padding, its effect on the next layer is not a constant.)
    """
    changed = True
    while changed:
        changed = False
        for i in range(len(stages) - 1):
            here, nxt = stages[i], stages[i + 1]
            no_out = ~nxt.alive.transpose(0, 1).flatten(1).any(dim=1)
            zero = torch.zeros(1, dtype=here.weight.dtype, device=here.weight.device)
            silent = ~here.alive.flatten(1).any(dim=1) & ~here.bias_alive
            if float(here.activation(zero).abs().max()) != 0.0:
                silent = torch.zeros_like(silent)
            keep = ~(no_out | silent)
            if not bool(keep.any()):
                keep[0] = True  # a convolution needs a channel; this one outputs nothing that is read
            if bool(keep.all()):
                continue
            here.weight, here.alive = here.weight[keep], here.alive[keep]
            here.bias, here.bias_alive = here.bias[keep], here.bias_alive[keep]
            nxt.weight, nxt.alive = nxt.weight[:, keep], nxt.alive[:, keep]
            changed = True
    return stages


def _plain(stage: _ConvStage) -> nn.Module:
    """The torch convolution a compacted stage becomes."""
    out_channels, in_channels = stage.weight.shape[:2]
    layer = stage.layer
    kinds = {(1, False): nn.Conv1d, (2, False): nn.Conv2d, (1, True): nn.ConvTranspose1d, (2, True): nn.ConvTranspose2d}
    extra = {"output_padding": layer.output_padding} if layer.transposed else {}
    conv = kinds[(layer.dims, layer.transposed)](
        in_channels, out_channels, layer.kernel_size, layer.stride, layer.padding, bias=stage.has_bias, **extra
    )
    conv = conv.to(device=stage.weight.device, dtype=stage.weight.dtype)
    with torch.no_grad():
        conv.weight.copy_(stage.weight.transpose(0, 1) if layer.transposed else stage.weight)
        if stage.has_bias:
            conv.bias.copy_(stage.bias)
    return conv


def _half(stages: list[_ConvStage], input_shape: tuple[int, ...]) -> nn.Sequential:
    modules: list[nn.Module] = [nn.Unflatten(1, input_shape)]
    for stage in stages:
        modules.append(_plain(stage))
        if not isinstance(stage.activation, nn.Identity):
            modules.append(copy.deepcopy(stage.activation))
    modules.append(nn.Flatten(1))
    return nn.Sequential(*modules)


def compact_conv(module: MaskedAutoencoder) -> nn.Module:
    """:func:`deap_nnprune.compact` for an autoencoder of :class:`MaskedConvNet` halves.

    Dead channels (see ``_remove_dead_channels``) are removed from both
    halves, the code's included when the encoder's output shape is the
    decoder's input shape; the result is a ``CompactAutoencoder`` of plain
    ``nn.Sequential`` halves (``Unflatten``, torch convolutions,
    activations, ``Flatten``) with the same outputs.
    """
    from .compaction import CompactAutoencoder

    encoder, decoder = module.encoder, module.decoder
    if not isinstance(encoder, MaskedConvNet) or not isinstance(decoder, MaskedConvNet):
        raise TypeError("compact_conv expects an autoencoder of two MaskedConvNet halves")
    first, second = _conv_stages(encoder), _conv_stages(decoder)
    joined = encoder.output_shape == decoder.input_shape
    if joined:
        stages = _remove_dead_channels(first + second)
        first, second = stages[: len(first)], stages[len(first) :]
    else:
        first, second = _remove_dead_channels(first), _remove_dead_channels(second)
    code_shape = (second[0].weight.shape[1], *decoder.input_shape[1:])
    return CompactAutoencoder(_half(first, encoder.input_shape), _half(second, code_shape))


def conv_autoencoder(
    n_dim: int, rng: np.random.Generator | None = None, cls: type = MaskedAutoencoder, **overrides
) -> MaskedAutoencoder:
    """A :class:`MaskedAutoencoder` of :func:`conv_halves` (what ``from_preset("conv", ...)`` builds)."""
    encoder, decoder = conv_halves(n_dim, rng, **overrides)
    return cls(encoder, decoder)
