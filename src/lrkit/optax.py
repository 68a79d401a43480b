"""JAX/optax adapter: lrkit schedules as jit-traceable optax schedules, and plateau reduction
as a gradient transformation whose state lives in the optimizer state.

optax counts updates in an int32 that saturates at 2**31 - 1: from there on the schedule
holds the value of that step. Under ``jax_enable_x64`` the schedule computes in float64.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import _plateau, _saved
from ._combine import plateau
from ._schedule import Schedule
from ._xp import namespace_for
from .errors import ConfigError, ScheduleError

__all__ = ["check_state", "observe", "range_test", "reduce_on_plateau", "schedule"]


def _check(s: Any, who: str, binding: dict[str, Any]) -> Schedule:
    if not isinstance(s, Schedule):
        raise ScheduleError(f"{who}: expected an lrkit schedule, got {type(s).__name__}; build "
                            "one with lrkit.cosine(...), lrkit.parse(...), …")
    given = {k: v for k, v in binding.items() if v is not None}
    for kind, name, v, need in s._missing:
        if need not in given:
            raise ScheduleError(f"{who}: {kind}: {name!r} = {v!r} needs {need}; pass "
                                f"{need}=... or bind the schedule first")
    return s.bind(**given) if given else s


def schedule(s: Schedule, *, steps_per_epoch: float | None = None,
             total_steps: int | None = None, samples_per_step: float | None = None,
             tokens_per_step: float | None = None) -> optax.Schedule:
    """An optax schedule ``count -> value`` evaluating ``s`` (use as ``learning_rate=``).

    A plateau schedule gives its value before reductions here; chain
    ``lrkit.optax.reduce_on_plateau(s)`` for the reductions.

    >>> import optax
    >>> tx = optax.sgd(learning_rate=schedule(lrkit.cosine(0.1, 0.0, 100)))
    """
    bound = _check(s, "lrkit.optax.schedule", dict(
        steps_per_epoch=steps_per_epoch, total_steps=total_steps,
        samples_per_step=samples_per_step, tokens_per_step=tokens_per_step))

    def value(count: Any) -> Any:
        return bound.evaluate(jnp.asarray(count), jnp)

    return value


class PlateauState(NamedTuple):
    plateau: Any        # lrkit's plateau state: best, bad, cooldown, reductions
    count: Any          # the updates so far (int32, saturating as optax's own counters)
    learning_rate: Any  # the reduced value the last update was made with (0 before any)


def reduce_on_plateau(s: plateau, *, steps_per_epoch: float | None = None,
                      total_steps: int | None = None, samples_per_step: float | None = None,
                      tokens_per_step: float | None = None
                      ) -> optax.GradientTransformationExtraArgs:
    """Make the updates of an optimizer driven by ``schedule(s)`` use ``s``'s reduced values.

    Chain it after the optimizer (``optax.chain(optax.sgd(schedule(s)), reduce_on_plateau(s))``,
    with the same binding arguments) and pass the monitored metric as an extra argument:
    ``update(..., value=loss)``; updates that observe nothing pass ``observe=False`` (``value``
    is then ignored). The state (``PlateauState``: the plateau state and the update count) is
    part of the optimizer state.

    A transformation sees updates, not the learning rate: this one counts updates as the
    optimizer's schedule does, evaluates ``s``'s schedule at that count (``base``) and scales the
    updates by ``reduced / base``, ``reduced`` being what ``lrkit.plateau`` makes of ``base``.
    So the update is made with exactly the reduced value, and ``rule``, ``cooldown``,
    ``min_value`` and ``eps`` mean what they mean in ``lrkit.torch`` and ``lrkit.keras`` (the
    same code computes them). With another learning rate than ``schedule(s)``, ``min_value`` and
    ``eps`` are in units of ``s``'s values: ``lrkit.plateau(lrkit.constant(1.0), …)`` makes them
    fractions of that learning rate. Where ``s``'s schedule is 0 the updates stay 0.

    The state is data the user saves and restores; under ``jit`` it cannot be checked, so
    check a restored optimizer state once with ``check_state(state)`` before training on.
    """
    if not isinstance(s, plateau):
        raise ScheduleError(f"lrkit.optax.reduce_on_plateau: expected lrkit.plateau(...), got "
                            f"{type(s).__name__}")
    bound = _check(s, "lrkit.optax.reduce_on_plateau", dict(
        steps_per_epoch=steps_per_epoch, total_steps=total_steps,
        samples_per_step=samples_per_step, tokens_per_step=tokens_per_step))
    assert isinstance(bound, plateau)
    xp = namespace_for(None, jnp)

    def init(params: Any) -> PlateauState:
        best, *counts = _plateau.init(bound)
        f = jnp.result_type(float)
        return PlateauState(
            _plateau.State(jnp.asarray(best, f), *(jnp.asarray(c, jnp.int32) for c in counts)),
            jnp.zeros([], jnp.int32), jnp.zeros([], f))

    def update(updates: Any, state: PlateauState, params: Any = None, *, value: Any = None,
               observe: Any = True, **extra: Any) -> tuple[Any, PlateauState]:
        if value is None:
            raise ScheduleError("lrkit.optax.reduce_on_plateau: update() needs value=<metric>")
        old = state.plateau
        seen = _plateau.observe(bound, old, jnp.asarray(value, old.best.dtype), xp)
        new = jax.tree.map(lambda n, o: jnp.where(observe, n, o).astype(o.dtype), seen, old)
        base = bound.evaluate(state.count, jnp)
        reduced = _plateau.reduce(bound, base, new.reductions.astype(base.dtype),
                                  xp.using(base.dtype))
        ratio = jnp.where(base > 0, reduced / jnp.where(base > 0, base, 1.0), 1.0)
        return (jax.tree.map(lambda u: u * ratio.astype(u.dtype), updates),
                PlateauState(new, optax.safe_increment(state.count),
                             reduced.astype(state.learning_rate.dtype)))

    return optax.GradientTransformationExtraArgs(init, update)


def observe(s: plateau, state: Any, value: Any) -> Any:
    """The optimizer state after ``reduce_on_plateau(s)`` observes ``value`` without an update
    (a validation metric at an epoch's end): every ``PlateauState`` in ``state`` takes the
    observation; nothing else changes. Jit-traceable.

    >>> state = observe(p, state, val_loss)  # doctest: +SKIP
    """
    if not isinstance(s, plateau):
        raise ScheduleError(f"lrkit.optax.observe: expected the lrkit.plateau(...) given to "
                            f"reduce_on_plateau, got {type(s).__name__}")
    xp = namespace_for(None, jnp)

    def one(x: Any) -> Any:
        if not isinstance(x, PlateauState):
            return x
        old = x.plateau
        new = _plateau.observe(s, old, jnp.asarray(value, old.best.dtype), xp)
        return x._replace(plateau=_plateau.State(*(jnp.asarray(n).astype(o.dtype)
                                                    for n, o in zip(new, old))))

    def is_plateau(x: Any) -> bool:
        return isinstance(x, PlateauState)

    if not any(map(is_plateau, jax.tree_util.tree_leaves(state, is_leaf=is_plateau))):
        raise ScheduleError("lrkit.optax.observe: the state holds no reduce_on_plateau state "
                            "(PlateauState); pass the optimizer state")
    return jax.tree.map(one, state, is_leaf=is_plateau)


def check_state(state: Any) -> Any:
    """Check the ``reduce_on_plateau`` states in an optimizer state restored from a checkpoint;
    return ``state`` unchanged.

    Each ``PlateauState`` in the pytree must hold scalars: ``count``, ``bad``, ``cooldown`` and
    ``reductions`` ints >= 0, ``best`` a number (``inf`` or ``-inf`` before the first
    observation, never NaN). Anything else raises ``lrkit.ConfigError`` naming the field
    (``lrkit.optax.check_state: state[1].count: must be an int >= 0, got -5``). Call it outside
    ``jit``, on concrete arrays.

    >>> state = check_state(restored)  # doctest: +SKIP
    """
    found = jax.tree_util.tree_flatten_with_path(
        state, is_leaf=lambda x: isinstance(x, PlateauState))[0]
    states = [(path, x) for path, x in found if isinstance(x, PlateauState)]
    if not states:
        raise ConfigError("lrkit.optax.check_state", "the state holds no "
                          "lrkit.optax.reduce_on_plateau state (PlateauState); restore the "
                          "checkpoint into the structure optimizer.init(params) returns")
    for path, x in states:
        where = f"lrkit.optax.check_state: state{jax.tree_util.keystr(path)}"
        _saved.whole(_item(x.count, f"{where}.count"), f"{where}.count")
        st = x.plateau
        if not isinstance(st, tuple) or len(st) != len(_plateau.State._fields):
            raise ConfigError(f"{where}.plateau", "must be a State(best, bad, cooldown, "
                              f"reductions), got {_saved.shown(st)}")
        best = _item(st[0], f"{where}.plateau.best")
        if not (isinstance(best, float) and math.isinf(best)):
            _saved.finite(best, f"{where}.plateau.best", lo=None,
                          rule="must be a number (inf or -inf before the first observation)")
        for name, v in zip(_plateau.State._fields[1:], st[1:]):
            _saved.whole(_item(v, f"{where}.plateau.{name}"), f"{where}.plateau.{name}")
        _saved.finite(_item(x.learning_rate, f"{where}.learning_rate"), f"{where}.learning_rate")
    return state


def _item(v: Any, where: str) -> Any:
    """A scalar array's value as a Python number (anything else is an error)."""
    if isinstance(v, jax.core.Tracer):
        raise ScheduleError("lrkit.optax.check_state: call it outside jit, on the restored "
                            "arrays")
    try:
        a = np.asarray(v)
    except Exception:  # noqa: BLE001 - ragged or odd data: not a scalar either way
        a = None
    if a is None or a.shape != ():
        raise ConfigError(where, f"must be a scalar, got {_saved.shown(v)}")
    return a.item()


def range_test(loss_fn: Any, params: Any, optimizer: Any, data: Any, *,
               start_lr: float = 1e-7, end_lr: float = 10.0, num_steps: int = 100,
               shape: str = "exp", smooth: float = 0.98,
               diverge_threshold: float = 5.0) -> Any:
    """The LR range test for JAX (see ``lrkit.finder.range_test``).

    ``loss_fn(params, batch) -> loss``; ``optimizer`` is an optax transformation built with
    ``optax.inject_hyperparams`` (e.g. ``optax.inject_hyperparams(optax.adam)(learning_rate=
    1e-3)``), so the sweep can set its ``learning_rate``; ``data`` is an iterable of batches,
    cycled if shorter. Nothing is modified: JAX arrays are immutable, and the sweep works on its
    own optimizer state from ``optimizer.init(params)``.
    """
    import itertools

    from .finder import sweep, sweep_lrs

    lrs = sweep_lrs(start_lr, end_lr, num_steps, shape)
    state = optimizer.init(params)
    hyper = getattr(state, "hyperparams", None)
    if not isinstance(hyper, dict) or "learning_rate" not in hyper:
        raise ScheduleError("lrkit.optax.range_test: build the optimizer with "
                            "optax.inject_hyperparams(...)(learning_rate=...) so the sweep can "
                            "set its learning rate")
    batches = list(itertools.islice(iter(data), num_steps))
    if not batches:
        raise ScheduleError("lrkit.optax.range_test: 'data' holds no batch")

    @jax.jit
    def step(params: Any, state: Any, batch: Any, lr: Any) -> Any:
        state.hyperparams["learning_rate"] = lr
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    current = {"params": params, "state": state}
    cycle = itertools.cycle(batches)

    def update(lr: float) -> float:
        current["params"], current["state"], loss = step(
            current["params"], current["state"], next(cycle), jnp.asarray(lr))
        return float(loss)

    return sweep(lrs, update, smooth, diverge_threshold)
