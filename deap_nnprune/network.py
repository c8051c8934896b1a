"""Masked layers and the autoencoder individuals built from them.

A :class:`MaskedLinear` keeps a binary mask beside each parameter, as
buffers ``weight_mask`` and ``bias_mask`` (the layout of
``torch.nn.utils.prune``), and multiplies by it in every forward pass: a
pruned entry has no effect and receives no gradient, whatever value it holds.
Because masks, and the Adam moments that :func:`deap_nnprune.mut_train` keeps
beside them, are buffers, ``deepcopy`` (``toolbox.clone``), ``pickle``,
``state_dict`` and ``.to(device)`` carry them with the weights.

:class:`MaskedMLP` is one half of an autoencoder (an encoder or a decoder)
and an individual on its own; :class:`MaskedAutoencoder` pairs two halves.
Both work as bases for ``deap.creator.create``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ._validation import check_bool, check_choice, check_float, check_int

__all__ = [
    "MaskedLinear",
    "MaskedMLP",
    "MaskedAutoencoder",
    "EncoderDecoder",
    "ArchitecturePreset",
    "PRESETS",
    "ACTIVATIONS",
    "DEFAULT_LEARNING_RATE",
]

#: Learning rate given to a new network unless the caller chooses one.
DEFAULT_LEARNING_RATE = 1e-3

ActivationFactory = Callable[[], nn.Module]

#: Activations by the name a configuration uses (``network.activation = "tanh"``).
ACTIVATIONS: dict[str, ActivationFactory] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "softplus": nn.Softplus,
}


class MaskedLayer:
    """What every masked layer is: the mixin behind :class:`MaskedLinear` and the masked convolutions.

    A masked layer has ``weight`` (and optionally ``bias``) whose first axis
    is the layer's *neurons* (output units, or output channels), the
    buffers ``<entry>_mask`` (1 = alive), ``<entry>_exp_avg`` and
    ``<entry>_exp_avg_sq`` (its Adam moments) and ``adam_step``, and
    ``out_features``, the number of neurons. Pruning, capacity, training and
    activation statistics work on any layer that is one.
    """

    weight: Tensor
    bias: Any  # a Parameter, or None for a biasless layer
    # The buffers _init_masks registers (biasless layers have no bias_* buffers).
    weight_mask: Tensor
    weight_exp_avg: Tensor
    weight_exp_avg_sq: Tensor
    bias_mask: Tensor
    bias_exp_avg: Tensor
    bias_exp_avg_sq: Tensor
    adam_step: Tensor
    persistent_masks: bool
    out_features: int
    register_buffer: Callable[..., None]

    def _init_masks(self, persistent_masks: bool) -> None:
        """Register the masks and moments beside every entry (call once the parameters exist)."""
        self.persistent_masks = check_bool("persistent_masks", persistent_masks)
        for name, param in self._maskable():
            self.register_buffer(f"{name}_mask", torch.ones_like(param))
            self.register_buffer(f"{name}_exp_avg", torch.zeros_like(param))
            self.register_buffer(f"{name}_exp_avg_sq", torch.zeros_like(param))
        self.register_buffer("adam_step", torch.zeros((), dtype=torch.int64, device=self.weight.device))

    def _maskable(self) -> list[tuple[str, Tensor]]:
        return [(n, p) for n, p in (("weight", self.weight), ("bias", self.bias)) if p is not None]

    def mask(self, name: str) -> Tensor:
        """The mask buffer of entry *name* (``"weight"`` or ``"bias"``): 1 alive, 0 pruned."""
        return getattr(self, f"{name}_mask")

    def moments(self, name: str) -> tuple[Tensor, Tensor]:
        """Adam's first and second moment buffers of entry *name*."""
        return getattr(self, f"{name}_exp_avg"), getattr(self, f"{name}_exp_avg_sq")

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        """Initialise weight and bias uniformly in ``±1/sqrt(fan_in)`` (fan-in: one neuron's weights).

        With ``rng=None`` this is ``torch.nn.Linear``'s own initialisation
        (torch's global generator). With a ``numpy.random.Generator`` the
        values are drawn from it, the same on every device. Masked entries are
        zeroed again afterwards.
        """
        if rng is None:
            self._torch_init()
        else:
            bound = 1.0 / math.sqrt(self.weight[0].numel())
            with torch.no_grad():
                for _, param in self._maskable():
                    values = rng.uniform(-bound, bound, size=tuple(param.shape))
                    param.copy_(torch.as_tensor(values, dtype=param.dtype))
        if hasattr(self, "weight_mask"):
            with torch.no_grad():
                for name, param in self._maskable():
                    param.mul_(self.mask(name))

    def _torch_init(self) -> None:
        """The layer type's own initialisation from torch's global generator (``rng=None``)."""
        raise NotImplementedError

    def effective(self, name: str) -> Tensor:
        """The tensor the forward pass uses for ``"weight"`` or ``"bias"``."""
        param = getattr(self, name)
        if self.persistent_masks:
            # where, not a product: a pruned entry holding NaN or inf must still have no effect
            return torch.where(self.mask(name) != 0, param, 0.0)
        return param

    def alive(self, name: str) -> Tensor:
        """Boolean tensor of the alive entries of ``"weight"`` or ``"bias"``.

        With persistent masks this is the mask; in the regrowth compatibility
        mode it is the entries that are currently non-zero.
        """
        if self.persistent_masks:
            return self.mask(name).bool()
        return getattr(self, name) != 0

    def _alive_repr(self) -> str:
        alive = sum(int(self.alive(n).sum()) for n, _ in self._maskable())
        total = sum(p.numel() for _, p in self._maskable())
        mode = "" if self.persistent_masks else ", persistent_masks=False"
        return f"alive={alive}/{total}{mode}"


class MaskedLinear(MaskedLayer, nn.Linear):
    """A fully connected layer whose entries can be pruned for good.

    Besides ``weight`` and ``bias`` it holds the buffers ``weight_mask`` and
    ``bias_mask`` (1 = alive, 0 = pruned) and the Adam moments
    ``weight_exp_avg``, ``weight_exp_avg_sq``, ``bias_exp_avg``,
    ``bias_exp_avg_sq`` and step counter ``adam_step`` used by
    :func:`deap_nnprune.mut_train`, so the optimiser state belongs to the
    network and survives cloning and pickling.

    Parameters
    ----------
    in_features, out_features:
        Input and output widths.
    bias:
        Whether the layer has a bias.
    persistent_masks:
        ``True`` (the default): the forward pass multiplies by the masks, so
        pruned entries stay dead however the layer is trained. ``False`` is a
        compatibility mode: pruning zeroes entries once and training may
        regrow them (the behaviour of the paper authors' code).

    >>> layer = MaskedLinear(3, 2)
    >>> layer.weight_mask[0, 1] = 0
    >>> x = torch.ones(1, 3)
    >>> before = layer(x)
    >>> with torch.no_grad():
    ...     layer.weight[0, 1] = 1000.0   # a pruned entry has no effect
    >>> torch.equal(layer(x), before)
    True
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        persistent_masks: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        check_int("in_features", in_features, minimum=1)
        check_int("out_features", out_features, minimum=1)
        bias = check_bool("bias", bias)
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self._init_masks(persistent_masks)

    def forward(self, x: Tensor) -> Tensor:
        bias = self.effective("bias") if self.bias is not None else None
        return F.linear(x, self.effective("weight"), bias)

    def _torch_init(self) -> None:
        nn.Linear.reset_parameters(self)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, {self._alive_repr()}"


def _make_activation(factory: ActivationFactory | None, argument: str) -> nn.Module:
    if factory is None:
        return nn.Identity()
    if isinstance(factory, nn.Module):
        raise TypeError(
            f"{argument} must be a class or zero-argument factory such as torch.nn.ReLU, not an instance ({factory!r})"
        )
    if not callable(factory):
        raise TypeError(f"{argument} must be callable, got {factory!r}")
    module = factory()
    if not isinstance(module, nn.Module):
        raise TypeError(f"{argument}() must return a torch.nn.Module, got {type(module).__name__}")
    return module


class MaskedNetwork(nn.Module):
    """What every masked network (an encoder, a decoder) is: :class:`MaskedMLP` and ``MaskedConvNet``.

    It takes and gives flat rows (``in_features`` and ``out_features``
    wide), holds masked layers in ``layers`` (forward order) with their
    ``activations``, yields every layer's output with :meth:`layer_outputs`
    (``[rows, neurons]``, what activation-guided pruning reads), and carries
    its own ``learning_rate`` and the paper's ``pruned_count`` (saved with
    its ``state_dict``).
    """

    layers: list[MaskedLayer]
    activations: list[nn.Module]
    learning_rate: float
    pruned_count: int

    @property
    def in_features(self) -> int:
        raise NotImplementedError

    @property
    def out_features(self) -> int:
        raise NotImplementedError

    def layer_outputs(self, x: Tensor) -> Iterator[tuple[MaskedLayer, Tensor]]:
        raise NotImplementedError

    def get_extra_state(self) -> dict:
        return {"learning_rate": float(self.learning_rate), "pruned_count": int(self.pruned_count)}

    def set_extra_state(self, state: dict) -> None:
        self.learning_rate = float(state["learning_rate"])
        self.pruned_count = int(state.get("pruned_count", 0))


class MaskedMLP(MaskedNetwork):
    """A stack of :class:`MaskedLinear` layers: an encoder, a decoder, or any MLP.

    Parameters
    ----------
    sizes:
        Layer widths, input first: ``(1000, 30, 10)`` is two layers.
    activation:
        Class (or zero-argument factory) of the activation after every layer
        but the last, e.g. ``torch.nn.ReLU``.
    output_activation:
        Class of the activation after the last layer, or ``None`` for none.
    learning_rate:
        The network's own learning rate, used by :func:`deap_nnprune.mut_train`
        when no rate is given and changed by :func:`deap_nnprune.mut_learning_rate`.
    persistent_masks:
        See :class:`MaskedLinear`.
    rng:
        Optional ``numpy.random.Generator`` for a device-independent seeded
        initialisation.

    >>> encoder = MaskedMLP((8, 4, 2), torch.nn.ReLU, torch.nn.ReLU)
    >>> encoder(torch.rand(5, 8)).shape
    torch.Size([5, 2])
    """

    # At run time ``layers`` and ``activations`` are nn.ModuleLists; typed here by what they hold.
    layers: list[MaskedLinear]  # type: ignore[assignment]  # MaskedLinear layers only

    def __init__(
        self,
        sizes: Sequence[int],
        activation: ActivationFactory | None = nn.ReLU,
        output_activation: ActivationFactory | None = None,
        *,
        bias: bool = True,
        learning_rate: float = DEFAULT_LEARNING_RATE,
        persistent_masks: bool = True,
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        sizes = tuple(sizes) if isinstance(sizes, Sequence) and not isinstance(sizes, str) else sizes
        if not isinstance(sizes, tuple) or len(sizes) < 2:
            raise ValueError(f"sizes must be a sequence of at least two layer widths, got {sizes!r}")
        for i, width in enumerate(sizes):
            check_int(f"sizes[{i}]", width, minimum=1)
        self.learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_open=True)
        #: The paper authors' pruned-parameter counter (see :func:`deap_nnprune.paper_capacity`): the dead
        #: entries counted right after this network's last prune, copied on clone, never recounted.
        self.pruned_count = 0
        self.layers = nn.ModuleList(  # type: ignore[assignment]  # a ModuleList of MaskedLinear
            MaskedLinear(a, b, bias=bias, persistent_masks=persistent_masks) for a, b in zip(sizes[:-1], sizes[1:])
        )
        n_hidden = len(self.layers) - 1
        self.activations = nn.ModuleList(  # type: ignore[assignment]  # a ModuleList of activations
            [_make_activation(activation, "activation") for _ in range(n_hidden)]
            + [_make_activation(output_activation, "output_activation")]
        )
        if rng is not None:
            for layer in self.layers:
                layer.reset_parameters(rng)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths, input first."""
        return (self.layers[0].in_features,) + tuple(layer.out_features for layer in self.layers)

    @property
    def in_features(self) -> int:
        return self.layers[0].in_features

    @property
    def out_features(self) -> int:
        return self.layers[-1].out_features

    def forward(self, x: Tensor) -> Tensor:
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
        return x

    def layer_outputs(self, x: Tensor) -> Iterator[tuple[MaskedLinear, Tensor]]:
        """Yield ``(layer, output)`` for every layer, output after its activation.

        This is what activation-guided pruning reads: one forward pass, no
        hooks and no stored copies.
        """
        for layer, act in zip(self.layers, self.activations):
            x = act(layer(x))
            yield layer, x

    @classmethod
    def from_preset(
        cls,
        name: str,
        n_dim: int,
        part: str = "encoder",
        rng: np.random.Generator | None = None,
        **overrides,
    ) -> MaskedMLP:
        """Build the encoder or decoder of a named preset (see :data:`PRESETS`).

        Returns an instance of *cls*, so ``creator.Encoder.from_preset(...)``
        gives an individual with a fitness.

        >>> MaskedMLP.from_preset("paper", n_dim=100, part="decoder").sizes
        (10, 30, 100)
        """
        check_choice("part", part, ("encoder", "decoder"))
        preset = resolve_preset(name, **overrides)
        return cls(**preset.half_arguments(n_dim, part), rng=rng)


class EncoderDecoder(nn.Module):
    """Any encoder followed by any decoder: ``forward(x) = decoder(encoder(x))``."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))


class MaskedAutoencoder(EncoderDecoder):
    """An encoder and a decoder, ``forward(x) = decoder(encoder(x))``.

    The halves are shared, not copied: ``MaskedAutoencoder(enc, dec).encoder
    is enc``. Take an autoencoder apart with :meth:`halves`.

    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=20)
    >>> ae(torch.rand(4, 20)).shape
    torch.Size([4, 20])
    >>> ae.encode(torch.rand(4, 20)).shape
    torch.Size([4, 10])
    """

    encoder: MaskedNetwork
    decoder: MaskedNetwork

    def __init__(self, encoder: MaskedNetwork, decoder: MaskedNetwork) -> None:
        for argument, half in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(half, MaskedNetwork):
                raise TypeError(f"{argument} must be a MaskedMLP (or another MaskedNetwork), got {type(half).__name__}")
        if encoder.out_features != decoder.in_features:
            raise ValueError(
                f"encoder output width {encoder.out_features} does not match decoder input width {decoder.in_features}"
            )
        if decoder.out_features != encoder.in_features:
            raise ValueError(
                f"decoder output width {decoder.out_features} does not match encoder input width {encoder.in_features}"
            )
        super().__init__(encoder, decoder)

    @property
    def in_features(self) -> int:
        return self.encoder.in_features

    @property
    def out_features(self) -> int:
        return self.decoder.out_features

    @property
    def learning_rate(self) -> float:
        """The encoder's learning rate; setting it sets both halves'."""
        return self.encoder.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        value = check_float("learning_rate", value, low=0.0, low_open=True)
        self.encoder.learning_rate = value
        self.decoder.learning_rate = value

    def halves(self) -> tuple[MaskedNetwork, MaskedNetwork]:
        """The ``(encoder, decoder)`` pair, shared with this autoencoder."""
        return self.encoder, self.decoder

    @classmethod
    def from_preset(
        cls,
        name: str,
        n_dim: int,
        rng: np.random.Generator | None = None,
        **overrides,
    ) -> MaskedAutoencoder:
        """Build a preset autoencoder (see :data:`PRESETS`) for ``n_dim`` inputs.

        Keyword overrides replace preset fields: ``hidden``, ``latent``,
        ``activation``, ``learning_rate``, ``persistent_masks``, ``bias``.
        Returns an instance of *cls*, so a ``creator`` subclass gets its fitness.

        >>> ae = MaskedAutoencoder.from_preset("small", n_dim=50, learning_rate=1e-5)
        >>> ae.encoder.sizes, ae.decoder.sizes, ae.learning_rate
        ((50, 30, 2), (2, 30, 50), 1e-05)
        """
        if name == "conv":  # convolutional halves (deap_nnprune.conv)
            from .conv import conv_autoencoder

            return conv_autoencoder(n_dim, rng, cls=cls, **overrides)
        preset = resolve_preset(name, **overrides)
        encoder = MaskedMLP(**preset.half_arguments(n_dim, "encoder"), rng=rng)
        decoder = MaskedMLP(**preset.half_arguments(n_dim, "decoder"), rng=rng)
        return cls(encoder, decoder)


@dataclass(frozen=True)
class ArchitecturePreset:
    """Shape of a preset autoencoder: hidden widths (input side first) and latent width."""

    hidden: tuple[int, ...]
    latent: int
    activation: ActivationFactory = nn.ReLU
    output_activation: ActivationFactory = nn.Sigmoid
    learning_rate: float = DEFAULT_LEARNING_RATE
    persistent_masks: bool = True
    bias: bool = True
    description: str = ""

    def half_arguments(self, n_dim: int, part: str) -> dict:
        """Keyword arguments of :class:`MaskedMLP` for the encoder or decoder."""
        check_int("n_dim", n_dim, minimum=1)
        common = dict(
            activation=self.activation,
            bias=self.bias,
            learning_rate=self.learning_rate,
            persistent_masks=self.persistent_masks,
        )
        if part == "encoder":
            # ReLU after every encoder layer, the latent code included.
            return dict(sizes=(n_dim, *self.hidden, self.latent), output_activation=self.activation, **common)
        return dict(
            sizes=(self.latent, *reversed(self.hidden), n_dim),
            output_activation=self.output_activation,
            **common,
        )


#: Named architectures. ``paper`` is the GECCO 2025 autoencoder.
PRESETS: dict[str, ArchitecturePreset] = {
    "paper": ArchitecturePreset((30,), 10, description="n_dim→30→10 encoder, 10→30→n_dim decoder (the paper's)"),
    "small": ArchitecturePreset((30,), 2, description="as paper with a latent width of 2"),
    "large": ArchitecturePreset((60, 30), 10, description="n_dim→60→30→10 encoder and its mirror"),
}


def resolve_preset(name: str, **overrides) -> ArchitecturePreset:
    """Look up a preset by name and apply keyword overrides, with clear errors."""
    if name not in PRESETS:
        close = difflib.get_close_matches(str(name), PRESETS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}.{hint}")
    valid = {f.name for f in fields(ArchitecturePreset)} - {"description"}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise TypeError(f"unknown preset override {unknown[0]!r}; valid overrides: {', '.join(sorted(valid))}")
    if "hidden" in overrides:
        overrides["hidden"] = tuple(overrides["hidden"])
    return replace(PRESETS[name], **overrides)
