"""Pruning operators: DEAP mutations that kill weights and biases for good.

Every operator has the shape of a ``deap.tools`` mutation::

    mut_prune_x(individual, [data,] *, params..., rng=None) -> (individual,)

It changes *individual* (a :class:`~deap_nnprune.MaskedAutoencoder`, or one
:class:`~deap_nnprune.MaskedMLP` half) in place and returns it in a 1-tuple;
it never clones, never evaluates and never touches ``individual.fitness``.
Bind parameters when registering:
``toolbox.register("prune", mut_prune_random, amount=0.1)``.

Each operator first *decides*, for every masked layer (:class:`~deap_nnprune.MaskedLinear`, a convolution)
layer (found by type), which entries die, and only then *applies* the
decision with the one shared masking routine, so a bad argument never leaves
an individual half pruned. Random draws come from ``rng``, a
``numpy.random.Generator``; with ``rng=None`` a generator is seeded from
torch's global generator (``torch.manual_seed`` makes such calls
repeatable). Masks are drawn on the CPU and moved to the layer's device.

**Alive neuron.** Neuron *j* of a layer (output unit *j*) is *alive* while
at least one of its incoming entries is alive: a weight in row *j* of the
weight matrix, or bias *j*. A neuron whose only alive entry is its bias
still counts (it outputs a constant). An entry is alive while its mask is 1
(in the regrowth compatibility mode, ``persistent_masks=False``: while it is
non-zero).

**Regrowth compatibility mode** (``persistent_masks=False``): each call
behaves like ``torch.nn.utils.prune`` with ``prune.remove`` afterwards, as
in the paper authors' code: a fresh all-ones mask per call, ``amount``
counted over *all* entries of a tensor (already-zero ones included) and
drawn among all of them, the chosen entries zeroed once, and nothing
remembered (masks and optimiser moments are left alone), so weights that
training regrew are not zeroed again by the next prune. After every prune
the operators record each half's dead entries for
:func:`~deap_nnprune.paper_capacity`.

**Guard.** ``min_alive`` (default 1): after an operator, every layer keeps
at least ``min(min_alive, neurons alive before)`` alive neurons, the output
layer included. When a decision would leave fewer, enough of the neurons it
would kill are spared, i.e. left untouched by this call: those with the
largest summed magnitude of alive incoming weights and bias (lowest index on
ties), a deterministic choice that keeps the strongest. So an operator may
prune less than asked. ``min_alive=0`` turns the guard off.

**Floor.** ``min_capacity`` (default 0, keyword only): an operator called on
an individual whose :func:`~deap_nnprune.capacity` is already at or below
this fraction does nothing. Pruning to a target size is then a matter of
firing the operator until it stops having an effect; one call may take the
individual below the floor by at most what that call removes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor, nn

from ._masking import apply_keep, maskable_entries, masked_layers
from ._rng import as_generator
from ._validation import check_choice, check_float, check_int
from .activations import activation_moments, input_width, layer_activations
from .capacity import capacity, record_pruned
from .evaluation import check_data
from .network import MaskedLayer
from .spread import recorded_halves, spread_record

__all__ = [
    "prune_by",
    "prune_candidates",
    "neurons_alive",
    "keep_all_but",
    "at_floor",
    "Decision",
    "validate_amount",
    "mut_prune_random",
    "mut_prune_magnitude",
    "mut_prune_gradual",
    "gradual_sparsity",
    "MAGNITUDE_SCOPES",
    "FLOOR_ACTIONS",
    "mut_perturb_random",
    "mut_prune_variance",
    "mut_prune_spread",
    "mut_prune_conjunctive",
]

#: A decision: for one layer, a boolean "keep" array per entry name (True = may live).
Decision = dict[str, np.ndarray]


def validate_amount(amount: int | float, n_alive: int, argument: str = "amount") -> int:
    """How many of *n_alive* entries to prune: the one rule for ``amount``.

    As in ``torch.nn.utils.prune``: a float in [0, 1] is a fraction of the
    alive entries, rounded with Python's ``round`` (half to even); an int
    ``>= 0`` is a count and may not exceed *n_alive*. ``bool`` is refused.
    Errors name *argument* and the bad value.

    >>> validate_amount(0.25, 10), validate_amount(3, 10), validate_amount(1.0, 7)
    (2, 3, 7)
    >>> validate_amount(1.5, 10)
    Traceback (most recent call last):
    ...
    ValueError: amount must be a float in [0, 1] or an int >= 0, got 1.5
    """
    _check_amount(amount, argument)
    if isinstance(amount, Integral):
        if amount > n_alive:
            raise ValueError(f"{argument}={amount!r} is more than the {n_alive} alive entries it would prune")
        return int(amount)
    return round(float(amount) * n_alive)


def _check_amount(amount: int | float, argument: str = "amount") -> None:
    """Type and range of ``amount``, before the number of alive entries is known."""
    rule = f"{argument} must be a float in [0, 1] or an int >= 0"
    if isinstance(amount, bool) or not isinstance(amount, Real):
        raise TypeError(f"{rule}, got {amount!r} ({type(amount).__name__})")
    if isinstance(amount, Integral):
        if amount < 0:
            raise ValueError(f"{rule}, got {amount!r}")
    elif not (math.isfinite(float(amount)) and 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"{rule}, got {amount!r}")


def _alive(layer: MaskedLayer, name: str) -> np.ndarray:
    return layer.alive(name).cpu().numpy()


def prune_candidates(layer: MaskedLayer, name: str) -> np.ndarray:
    """Flat indices of the entries of ``layer.<name>`` an ``amount`` is counted over and drawn from.

    With persistent masks: the alive entries. In the regrowth compatibility
    mode: every entry, as ``torch.nn.utils.prune`` does with the fresh
    all-ones mask of each call (already-zero entries may be drawn again).

    >>> from deap_nnprune import MaskedLinear
    >>> prune_candidates(MaskedLinear(2, 2), "bias").tolist()
    [0, 1]
    """
    if layer.persistent_masks:
        return np.flatnonzero(_alive(layer, name))
    return np.arange(getattr(layer, name).numel())


def neurons_alive(layer: MaskedLayer, decision: Decision | None = None) -> np.ndarray:
    """Boolean per output unit: any alive incoming weight or bias (after *decision*, if given).

    >>> from deap_nnprune import MaskedLinear
    >>> neurons_alive(MaskedLinear(3, 2)).tolist()
    [True, True]
    """
    alive = np.zeros(layer.out_features, dtype=bool)
    for name, _ in maskable_entries(layer):
        entries = _alive(layer, name)
        if decision is not None and name in decision:
            entries = entries & decision[name]
        alive |= entries.reshape(layer.out_features, -1).any(axis=1)
    return alive


def keep_all_but(shape: tuple[int, ...], flat_indices: np.ndarray) -> np.ndarray:
    """A keep array of *shape*: True everywhere except at *flat_indices*.

    >>> keep_all_but((2, 2), np.array([1])).tolist()
    [[True, False], [True, True]]
    """
    keep = np.ones(int(np.prod(shape)), dtype=bool)
    keep[flat_indices] = False
    return keep.reshape(shape)


def _strength(layer: MaskedLayer) -> np.ndarray:
    """Summed |value| of each neuron's alive incoming weights and bias, in float64."""
    total = np.zeros(layer.out_features)
    for name, tensor in maskable_entries(layer):
        values = np.abs(tensor.detach().cpu().double().numpy()) * _alive(layer, name)
        total += values.reshape(layer.out_features, -1).sum(axis=1)
    return total


def _guard(layer: MaskedLayer, decision: Decision, min_alive: int) -> Decision:
    """Spare the strongest doomed neurons until ``min(min_alive, alive before)`` stay alive."""
    before = neurons_alive(layer)
    after = neurons_alive(layer, decision)
    short = min(min_alive, int(before.sum())) - int(after.sum())
    if short > 0:
        doomed = np.flatnonzero(before & ~after)
        spared = doomed[np.argsort(-_strength(layer)[doomed], kind="stable")[:short]]
        for keep in decision.values():
            keep[spared] = True  # the first axis of a weight or bias is the output neuron
    return decision


def at_floor(individual: nn.Module, min_capacity: float) -> bool:
    """True when *individual* is at or below the ``min_capacity`` floor (a 0 floor is never reached).

    >>> from deap_nnprune import MaskedMLP
    >>> at_floor(MaskedMLP((4, 2)), 0.0), at_floor(MaskedMLP((4, 2)), 1.0)
    (False, True)
    """
    min_capacity = check_float("min_capacity", min_capacity, low=0.0, high=1.0)
    return min_capacity > 0.0 and capacity(individual) <= min_capacity


def _checked(layer: MaskedLayer, index: int, decision, decide) -> Decision:
    """*decide*'s answer for one layer as boolean arrays of the entries' shapes; refuse anything else."""
    rule = getattr(decide, "func", decide)  # a functools.partial names its function
    where = f"{getattr(rule, '__name__', type(rule).__name__)} for layer {index}"
    if not isinstance(decision, dict):
        raise TypeError(f"{where} must return a dict {{entry name: keep}}, got {type(decision).__name__}")
    entries = dict(maskable_entries(layer))
    checked: Decision = {}
    for name, keep in decision.items():
        if name not in entries:
            raise ValueError(f"{where} names entry {name!r}; the layer has {sorted(entries)}")
        keep = keep.detach().cpu().numpy() if isinstance(keep, Tensor) else np.asarray(keep)
        if keep.dtype != bool or keep.shape != tuple(entries[name].shape):
            raise ValueError(
                f"{where}: keep[{name!r}] must be a boolean array of shape "
                f"{tuple(entries[name].shape)}, got {keep.dtype} {keep.shape}"
            )
        checked[name] = keep.copy()
    return checked


def prune_by(
    individual: nn.Module,
    decide: Callable[[MaskedLayer, np.random.Generator], Decision],
    *,
    min_alive: int = 1,
    min_capacity: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[nn.Module]:
    """Prune *individual* with a rule that only decides: the seam every pruning operator uses.

    ``decide(layer, rng)`` is called for every masked layer of
    *individual*, in forward order, with one generator, and returns
    ``{entry name: keep}`` (``"weight"``, ``"bias"``; a boolean array or
    tensor of the entry's shape, False = dies; a missing name keeps the
    whole entry). Nothing changes until every layer is decided, so a bad
    answer leaves the individual untouched. Then ``prune_by`` applies the
    module docstring's rules — the floor (``min_capacity``), the guard
    (``min_alive``), persistent masks or the regrowth compatibility mode —
    through the one masking routine (:func:`~deap_nnprune.apply_keep`), and
    records :func:`~deap_nnprune.paper_capacity`'s counter. Like
    ``torch.nn.utils.prune.BasePruningMethod.compute_mask``, a rule does not
    apply anything itself; an operator written with it works wherever ours
    do (toolboxes, both algorithms, every executor).

    Returns ``(individual,)``, changed in place.

    >>> from deap_nnprune import MaskedMLP, capacity
    >>> def first_row(layer, rng):           # kill neuron 0 of every layer
    ...     keep = np.ones(tuple(layer.weight.shape), dtype=bool)
    ...     keep[0] = False
    ...     return {"weight": keep}
    >>> net = MaskedMLP((4, 3))
    >>> _ = prune_by(net, first_row)
    >>> net.layers[0].weight_mask[0].tolist(), capacity(net) == 11 / 15   # 4 of 12 weights, no bias
    ([0.0, 0.0, 0.0, 0.0], True)
    """
    min_alive = check_int("min_alive", min_alive, minimum=0)
    if not callable(decide):
        raise TypeError(f"decide must be a function (layer, rng) -> {{entry name: keep}}, got {type(decide).__name__}")
    if at_floor(individual, min_capacity):
        return (individual,)
    rng = as_generator(rng)
    layers = masked_layers(individual)
    decisions = [(layer, _checked(layer, i, decide(layer, rng), decide)) for i, layer in enumerate(layers)]
    for layer, decision in decisions:
        for name, keep in _guard(layer, decision, min_alive).items():
            apply_keep(layer, name, torch.from_numpy(keep))
    record_pruned(individual)
    return (individual,)


#: What :func:`mut_prune_random` does at the capacity floor: nothing (``stop``), or zero a fresh *amount*
#: of the alive entries once, masks unchanged (``perturb``, :func:`mut_perturb_random`).
FLOOR_ACTIONS = ("stop", "perturb")


def mut_prune_random(
    individual: nn.Module,
    amount: int | float = 0.1,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
    floor_action: str = "stop",
) -> tuple[nn.Module]:
    """Prune *amount* of the alive weights, and of the alive biases, of every layer at random.

    Per layer, the weights and the biases are treated separately: of the
    alive entries of each, :func:`validate_amount` entries (a fraction, or a
    count) are chosen uniformly without replacement and killed. In the
    regrowth compatibility mode the draw is among all entries, so exactly
    ``round(amount * numel)`` entries of each tensor are zero right after
    the call (see the module docstring). The guard
    (see the module docstring) may spare some of them.

    Parameters
    ----------
    individual:
        An autoencoder or one half; changed in place.
    amount:
        Float in [0, 1] (fraction of alive entries) or int >= 0 (count per
        weight matrix and per bias vector).
    min_alive:
        Fewest alive neurons a layer may be left with; 0 disables the guard.
    rng:
        ``numpy.random.Generator``; ``None`` seeds one from torch's global generator.
    min_capacity:
        Floor in [0, 1]: do nothing when the individual's capacity is at or below it.
    floor_action:
        At the floor, ``"stop"`` (nothing happens) or ``"perturb"``: zero a
        random *amount* of the alive entries once (:func:`mut_perturb_random`),
        so pruning events keep perturbing a network whose sparsity is fixed.

    Returns
    -------
    ``(individual,)``, the same object.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedMLP, capacity
    >>> net = MaskedMLP((10, 10))
    >>> mut_prune_random(net, amount=0.5, rng=np.random.default_rng(0))[0] is net
    True
    >>> capacity(net)   # 50 of 100 weights and 5 of 10 biases are left
    0.5
    >>> _ = mut_prune_random(net, amount=0.5, rng=np.random.default_rng(0), min_capacity=0.5)
    >>> capacity(net)   # at the floor already: nothing pruned
    0.5
    """
    _check_amount(amount)
    check_choice("floor_action", floor_action, FLOOR_ACTIONS)
    if floor_action == "perturb" and at_floor(individual, min_capacity):
        return mut_perturb_random(individual, amount, rng)
    return prune_by(
        individual,
        functools.partial(decide_random, amount=amount),
        min_alive=min_alive,
        min_capacity=min_capacity,
        rng=rng,
    )


def mut_perturb_random(
    individual: nn.Module, amount: int | float = 0.1, rng: np.random.Generator | None = None
) -> tuple[nn.Module]:
    """Zero a random *amount* of the alive weights, and of the alive biases, of every layer, once.

    The entries are those :func:`mut_prune_random` would kill (the same
    draw), but masks and Adam moments are left as they are
    (:func:`~deap_nnprune.apply_keep` with ``once=True``): the zeroed
    entries are alive and training may regrow them. On a persistent-mask
    network this is the regrowth mode's perturbation (the paper authors'
    ``prune`` then ``prune.remove``) on a sparsity pattern that does not
    change; capacity, the guard and the paper's counter are untouched.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedMLP, capacity
    >>> net = MaskedMLP((10, 10))
    >>> _ = mut_perturb_random(net, amount=0.5, rng=np.random.default_rng(0))
    >>> capacity(net), int((net.layers[0].weight == 0).sum())   # masks unchanged, 50 weights zeroed
    (1.0, 50)
    """
    _check_amount(amount)
    rng = as_generator(rng)
    decisions = [(layer, decide_random(layer, rng, amount)) for layer in masked_layers(individual)]
    for layer, decision in decisions:
        for name, keep in decision.items():
            apply_keep(layer, name, torch.from_numpy(keep), once=True)
    return (individual,)


def decide_random(layer: MaskedLayer, rng: np.random.Generator, amount: int | float = 0.1) -> Decision:
    """:func:`mut_prune_random`'s rule for one layer: *amount* of each entry's candidates, uniformly."""
    decision: Decision = {}
    for name, tensor in maskable_entries(layer):
        candidates = prune_candidates(layer, name)
        k = validate_amount(amount, candidates.size)
        chosen = rng.choice(candidates, size=k, replace=False) if k else candidates[:0]
        decision[name] = keep_all_but(tuple(tensor.shape), chosen)
    return decision


def mut_prune_magnitude(
    individual: nn.Module,
    amount: int | float = 0.1,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
    scope: str = "layer",
) -> tuple[nn.Module]:
    """Prune the alive entries with the smallest absolute value: the classic baseline.

    ``scope="layer"`` (default): weights and biases of each layer are ranked
    separately; of each, :func:`validate_amount` entries with the smallest
    ``|value|`` die (ties: lowest flat index first); in the regrowth
    compatibility mode all entries are ranked, as
    ``torch.nn.utils.prune.l1_unstructured`` does. ``scope="global"``: the
    weights of all layers are ranked together and *amount* is counted over
    all of them, as ``torch.nn.utils.prune.global_unstructured`` does with
    ``L1Unstructured`` (biases are not pruned), so layers lose different
    fractions; the largest alive weight of each layer's ``min_alive``
    strongest neurons is spared, so no layer loses every incoming weight
    (a neuron left with only its bias would output a constant).
    Deterministic: *rng* is accepted, and ignored, so that every pruning
    operator can be called the same way by the algorithms.
    ``amount``, ``min_alive`` and ``min_capacity`` are as in
    :func:`mut_prune_random`.

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((4, 1), bias=False)
    >>> with torch.no_grad():
    ...     _ = net.layers[0].weight.copy_(torch.tensor([[0.4, -0.1, 0.3, -0.2]]))
    >>> _ = mut_prune_magnitude(net, amount=2)
    >>> net.layers[0].weight_mask.tolist()
    [[1.0, 0.0, 1.0, 0.0]]
    """
    _check_amount(amount)
    check_choice("scope", scope, MAGNITUDE_SCOPES)
    if scope == "layer":
        decide: Callable[[MaskedLayer, np.random.Generator], Decision] = functools.partial(
            decide_magnitude, amount=amount
        )
    else:
        if at_floor(individual, min_capacity):
            return (individual,)
        count = validate_amount(
            amount, sum(prune_candidates(layer, "weight").size for layer in masked_layers(individual))
        )
        decide = functools.partial(decide_listed, doomed=_smallest_weights(individual, count, spare=min_alive))
    return prune_by(individual, decide, min_alive=min_alive, min_capacity=min_capacity, rng=rng)


#: ``layer``: rank each layer's weights and biases apart; ``global``: rank all weights together.
MAGNITUDE_SCOPES = ("layer", "global")


def _smallest_weights(individual: nn.Module, count: int, spare: int = 0) -> dict[int, np.ndarray]:
    """The *count* candidate weights of smallest ``|value|`` over all layers: flat indices per ``id(layer)``.

    Ties go to the earlier layer, then the lower flat index (a stable sort).
    Each layer's *spare* neurons with the largest alive weights keep that
    weight (it is no candidate), so no layer loses every incoming weight.
    """
    layers = masked_layers(individual)
    candidates = [_unspared(layer, prune_candidates(layer, "weight"), spare) for layer in layers]
    values = np.concatenate(
        [np.abs(layer.weight.detach().cpu().double().numpy().reshape(-1)[c]) for layer, c in zip(layers, candidates)]
    )
    owner = np.concatenate([np.full(c.size, i) for i, c in enumerate(candidates)])
    flat = np.concatenate(candidates)
    chosen = np.argsort(values, kind="stable")[:count]
    return {id(layer): flat[chosen[owner[chosen] == i]] for i, layer in enumerate(layers)}


def _unspared(layer: MaskedLayer, candidates: np.ndarray, spare: int) -> np.ndarray:
    """*candidates* (flat weight indices) without the largest alive weight of the layer's *spare* strongest neurons."""
    if spare <= 0 or candidates.size == 0:
        return candidates
    values = np.abs(layer.weight.detach().cpu().double().numpy().reshape(layer.out_features, -1))
    values = np.where(_alive(layer, "weight").reshape(values.shape), values, -1.0)
    largest = values.argmax(axis=1)
    peak = values[np.arange(values.shape[0]), largest]
    strongest = np.argsort(-peak, kind="stable")[:spare]
    strongest = strongest[peak[strongest] >= 0]  # a neuron with no alive weight has none to keep
    kept = strongest * values.shape[1] + largest[strongest]
    return candidates[~np.isin(candidates, kept)]


def decide_listed(layer: MaskedLayer, rng: np.random.Generator, doomed: dict[int, np.ndarray]) -> Decision:
    """Kill the weights ``doomed[id(layer)]`` (flat indices) of each layer (rng unused)."""
    return {"weight": keep_all_but(tuple(layer.weight.shape), doomed.get(id(layer), np.array([], dtype=int)))}


def gradual_sparsity(
    step: int, total_steps: int, final_capacity: float, start: float = 0.0, end: float = 0.75
) -> float:
    """Zhu & Gupta (2017)'s cubic schedule: the fraction of weights pruned after *step* of *total_steps*.

    ``s(t) = s_f (1 - (1 - p)^3)`` with ``s_f = 1 - final_capacity`` and
    ``p`` the progress from ``start`` to ``end`` (fractions of the run),
    clipped to [0, 1]: nothing before *start*, the final sparsity from *end*
    on, fast pruning early and slow near the end.

    >>> gradual_sparsity(0, 100, 0.5), gradual_sparsity(75, 100, 0.5), round(gradual_sparsity(25, 100, 0.5), 4)
    (0.0, 0.5, 0.3519)
    """
    first, last = start * total_steps, end * total_steps
    progress = 1.0 if last <= first else min(max((step - first) / (last - first), 0.0), 1.0)
    return (1.0 - final_capacity) * (1.0 - (1.0 - progress) ** 3)


def mut_prune_gradual(
    individual: nn.Module,
    final_capacity: float = 0.5,
    total_steps: int = 1,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
    start: float = 0.0,
    end: float = 0.75,
) -> tuple[nn.Module]:
    """Gradual magnitude pruning (Zhu & Gupta 2017): the standard non-evolutionary way to a sparse net.

    Reads how far training is from the network's own Adam step count
    (``adam_step`` of its first layer) and prunes, by global weight
    magnitude (:func:`mut_prune_magnitude` with ``scope="global"``), just
    enough alive weights for the pruned fraction of all weights to reach
    :func:`gradual_sparsity` at this step. Call it after every training
    epoch (schedule probability 1): early calls prune fast, later ones
    slowly, and from ``end`` on the network stays at ``final_capacity`` of
    its weights. Biases are not pruned. Needs persistent masks (regrown
    weights would undo the schedule).

    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((10, 10))
    >>> _ = net.layers[0].adam_step.fill_(75)
    >>> _ = mut_prune_gradual(net, final_capacity=0.5, total_steps=100)
    >>> int(net.layers[0].weight_mask.sum())
    50
    """
    final_capacity = check_float("final_capacity", final_capacity, low=0.0, high=1.0)
    total_steps = check_int("total_steps", total_steps, minimum=1)
    start = check_float("start", start, low=0.0, high=1.0)
    end = check_float("end", end, low=0.0, high=1.0)
    if start >= end:
        raise ValueError(f"start must be before end (fractions of the run), got start={start!r}, end={end!r}")
    layers = masked_layers(individual)
    if not all(layer.persistent_masks for layer in layers):
        raise ValueError("mut_prune_gradual needs persistent masks (persistent_masks=True)")
    total = sum(layer.weight.numel() for layer in layers)
    alive = sum(int(layer.weight_mask.sum()) for layer in layers)
    target_dead = round(gradual_sparsity(int(layers[0].adam_step), total_steps, final_capacity, start, end) * total)
    count = max(0, target_dead - (total - alive))
    return mut_prune_magnitude(individual, count, min_alive, rng, min_capacity=min_capacity, scope="global")


def decide_magnitude(layer: MaskedLayer, rng: np.random.Generator, amount: int | float = 0.1) -> Decision:
    """:func:`mut_prune_magnitude`'s rule for one layer: the smallest ``|value|`` candidates (rng unused)."""
    decision: Decision = {}
    for name, tensor in maskable_entries(layer):
        candidates = prune_candidates(layer, name)
        k = validate_amount(amount, candidates.size)
        magnitude = np.abs(tensor.detach().cpu().double().numpy().reshape(-1)[candidates])
        chosen = candidates[np.argsort(magnitude, kind="stable")[:k]]
        decision[name] = keep_all_but(tuple(tensor.shape), chosen)
    return decision


def _min_max(values: np.ndarray) -> np.ndarray | None:
    """*values* min–max normalised to [0, 1] in float64; ``None`` when max = min or not finite."""
    values = values.astype(np.float64)
    low = values.min()
    spread = values.max() - low
    if not (np.isfinite(spread) and spread > 0):
        return None
    return (values - low) / spread


def mut_prune_variance(
    individual: nn.Module,
    data: Tensor,
    batch_size: int | None = None,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
) -> tuple[nn.Module]:
    """Activation-guided pruning: neurons whose output varies most lose the most.

    One streaming pass of *data* (training or validation rows, never test
    rows) gives the population standard deviation of every neuron's output
    (after its activation; see :func:`deap_nnprune.activations.activation_std`).
    Per layer the deviations are min–max normalised over all its neurons;
    then every alive incoming weight and the bias of neuron *j* survive
    independently with probability ``1 - normalised_std[j]``. The least
    varying neuron loses nothing, the most varying one everything (unless
    the guard spares it). A layer whose deviations are all equal (or not
    finite) prunes nothing. As in the paper there is no ``amount``.

    Parameters
    ----------
    individual:
        An autoencoder or one half; changed in place.
    data:
        2-D tensor of input rows, the network's input width.
    batch_size:
        Rows per forward pass of the streaming pass (``None``: 256).
    min_alive:
        Fewest alive neurons a layer may be left with; 0 disables the guard.
    rng:
        ``numpy.random.Generator``; ``None`` seeds one from torch's global generator.
    min_capacity:
        Floor in [0, 1]: do nothing when the individual's capacity is at or below it.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedAutoencoder, capacity
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16)
    >>> _ = mut_prune_variance(ae, torch.rand(64, 16), rng=np.random.default_rng(0))
    >>> capacity(ae) < 1.0
    True
    """
    check_int("min_alive", min_alive, minimum=0)
    check_data(data, input_width(individual))
    if at_floor(individual, min_capacity):  # before the pass over the data
        return (individual,)
    moments = activation_moments(individual, data, batch_size)
    survive = {id(layer): _survival(m) for layer, m in zip(masked_layers(individual), moments)}
    return prune_by(
        individual,
        functools.partial(decide_by_survival, survive=survive),
        min_alive=min_alive,
        min_capacity=min_capacity,
        rng=rng,
    )


def _survival(moments) -> np.ndarray:
    return _survival_of(moments.std().cpu().numpy())


def _survival_of(spread: np.ndarray) -> np.ndarray:
    """Each neuron's survival probability: 1 - its min–max normalised *spread*; all ones when all are equal."""
    normalised = _min_max(spread)
    return np.ones(len(spread)) if normalised is None else 1.0 - normalised


def mut_prune_spread(
    individual: nn.Module,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
) -> tuple[nn.Module]:
    """Variance pruning on the activations recorded while training, as the paper authors' code measures them.

    :func:`mut_prune_variance` measures each neuron's deviation in one pass
    over data at the current weights. This operator reads instead the
    individual's :class:`~deap_nnprune.spread.SpreadRecord`: every training
    batch since its last prune, each neuron's standard deviation over those
    batches at each batch position, summed over positions (hidden layers
    after their activation, a decoder's output layer before its sigmoid;
    see :mod:`deap_nnprune.spread`). The rule is then
    :func:`mut_prune_variance`'s: per layer the spreads are min–max
    normalised and every alive entry of neuron *j* survives with
    probability ``1 - normalised[j]``; a layer whose spreads are all equal
    (or that recorded no pass) prunes nothing. Afterwards the record is
    cleared. Start the record before the first training step, with
    :func:`deap_nnprune.spread.start_recording`; the stacked training
    engine fills it (the autograd engine does not). A clone keeps its
    parent's record, as the authors' canonical loop keeps its one network's;
    their coevolution instead empties the record at every clone.

    Parameters
    ----------
    individual:
        A :class:`~deap_nnprune.MaskedAutoencoder` or one
        :class:`~deap_nnprune.MaskedMLP` half that records; changed in place.
    min_alive:
        Fewest alive neurons a layer may be left with; 0 disables the guard.
    rng:
        ``numpy.random.Generator``; ``None`` seeds one from torch's global generator.
    min_capacity:
        Floor in [0, 1]: do nothing (and keep the record) when the
        individual's capacity is at or below it.

    >>> import numpy as np, torch
    >>> from deap_nnprune import MaskedAutoencoder, capacity, mut_train
    >>> from deap_nnprune.spread import spread_record, start_recording
    >>> ae = MaskedAutoencoder.from_preset("paper", n_dim=16)
    >>> start_recording(ae)
    >>> _ = mut_train(ae, torch.rand(40, 16), rng=np.random.default_rng(0))
    >>> _ = mut_prune_spread(ae, rng=np.random.default_rng(0))
    >>> capacity(ae) < 1.0, spread_record(ae.encoder).passes
    (True, 0)
    """
    check_int("min_alive", min_alive, minimum=0)
    halves = recorded_halves(individual, "individual")
    names = ["individual.encoder", "individual.decoder"] if len(halves) == 2 else ["individual"]
    records = []
    for name, half in zip(names, halves):
        record = spread_record(half)
        if record is None:
            raise ValueError(
                f"mut_prune_spread: {name} keeps no activation record; call "
                "deap_nnprune.spread.start_recording(individual) before training it"
            )
        records.append(record)
    if at_floor(individual, min_capacity):
        return (individual,)
    survive = {}
    for half, record in zip(halves, records):
        survive.update({id(layer): _survival_of(s) for layer, s in zip(half.layers, record.spread())})
    prune_by(
        individual,
        functools.partial(decide_by_survival, survive=survive),
        min_alive=min_alive,
        min_capacity=min_capacity,
        rng=rng,
    )
    for record in records:
        record.clear()
    return (individual,)


def decide_by_survival(layer: MaskedLayer, rng: np.random.Generator, survive: dict[int, np.ndarray]) -> Decision:
    """:func:`mut_prune_variance`'s rule: each entry of neuron *j* lives with probability ``survive[id(layer)][j]``."""
    decision: Decision = {}
    for name, tensor in maskable_entries(layer):
        draws = rng.random(tuple(tensor.shape))
        probability = survive[id(layer)].reshape((-1,) + (1,) * (tensor.dim() - 1))
        decision[name] = draws < probability
    return decision


def _lexicase_survivors(outputs: np.ndarray, candidates: np.ndarray, threshold: float) -> np.ndarray:
    """Filter *candidates* case by case (rows of *outputs*) until one or none is left."""
    for case in outputs:
        if candidates.sum() <= 1:
            break
        normalised = _min_max(case)
        if normalised is not None:  # a case where every neuron outputs the same filters nothing
            candidates = candidates & (normalised < threshold)
    return candidates


def mut_prune_conjunctive(
    individual: nn.Module,
    data: Tensor,
    threshold: float = 0.1,
    n_cases: int = 100,
    min_alive: int = 1,
    rng: np.random.Generator | None = None,
    *,
    min_capacity: float = 0.0,
) -> tuple[nn.Module]:
    """Activation-guided, lexicase-like pruning of neurons that stay quiet on every case.

    Draw ``min(n_cases, rows)`` rows of *data* without replacement, in
    random order: the cases. Per case and layer, min–max normalise the
    neurons' outputs (after the activation) over all the layer's neurons.
    The candidates start as the layer's alive neurons (in the regrowth
    compatibility mode: all its neurons, as the authors' code does); for
    each case in turn
    only candidates whose normalised output is below *threshold* stay. The
    filter stops as soon as one or none is left (a case on which all neurons
    of the layer output the same value filters nothing). Every neuron left
    loses its whole row: all incoming weights and its bias.

    *data* must be training or validation data, never test data: the
    operator chooses which neurons to remove from how they respond to these
    rows, so the pruned network has been fitted to them, and a test loss
    measured on the same rows would be optimistically biased. (The paper
    authors' code drew these cases from the test set, leaking it.)

    Parameters
    ----------
    individual:
        An autoencoder or one half; changed in place.
    data:
        2-D tensor of input rows, the network's input width.
    threshold:
        In [0, 1]: a neuron passes a case when its normalised output is below it.
    n_cases:
        Most cases to draw (>= 1).
    min_alive:
        Fewest alive neurons a layer may be left with; 0 disables the guard.
    rng:
        ``numpy.random.Generator``; ``None`` seeds one from torch's global generator.
    min_capacity:
        Floor in [0, 1]: do nothing when the individual's capacity is at or below it.

    >>> import numpy as np
    >>> from deap_nnprune import MaskedMLP
    >>> net = MaskedMLP((2, 3), output_activation=torch.nn.ReLU)
    >>> with torch.no_grad():   # neuron 1 never fires on positive inputs
    ...     _ = net.layers[0].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, -1.0], [0.0, 1.0]]))
    ...     _ = net.layers[0].bias.zero_()
    >>> _ = mut_prune_conjunctive(net, torch.rand(20, 2) + 0.5, rng=np.random.default_rng(0))
    >>> net.layers[0].bias_mask.tolist()
    [1.0, 0.0, 1.0]
    """
    check_int("min_alive", min_alive, minimum=0)
    threshold = check_float("threshold", threshold, low=0.0, high=1.0)
    n_cases = check_int("n_cases", n_cases, minimum=1)
    check_data(data, input_width(individual))
    if at_floor(individual, min_capacity):  # before drawing the cases
        return (individual,)
    rng = as_generator(rng)
    rows = rng.choice(data.shape[0], size=min(n_cases, data.shape[0]), replace=False)
    cases = data[torch.from_numpy(rows).to(data.device)]
    doomed = {}
    for layer, outputs in zip(masked_layers(individual), layer_activations(individual, cases)):
        candidates = neurons_alive(layer) if layer.persistent_masks else np.ones(layer.out_features, dtype=bool)
        doomed[id(layer)] = _lexicase_survivors(outputs.cpu().numpy(), candidates, threshold)
    return prune_by(
        individual,
        functools.partial(decide_neurons, doomed=doomed),
        min_alive=min_alive,
        min_capacity=min_capacity,
        rng=rng,
    )


def decide_neurons(layer: MaskedLayer, rng: np.random.Generator, doomed: dict[int, np.ndarray]) -> Decision:
    """:func:`mut_prune_conjunctive`'s rule: the neurons ``doomed[id(layer)]`` lose whole rows (rng unused)."""
    decision: Decision = {}
    for name, tensor in maskable_entries(layer):
        keep = np.ones(tuple(tensor.shape), dtype=bool)
        keep[doomed[id(layer)]] = False  # whole rows: the first axis is the output neuron
        decision[name] = keep
    return decision
