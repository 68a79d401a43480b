"""``from_keras``: a Keras schedule (object or ``serialize()`` dict), a Keras 2 optimizer config
with ``decay``, or a ``ReduceLROnPlateau`` callback, as an lrkit schedule.

Conventions reproduced: ``PiecewiseConstantDecay`` switches one step after each boundary,
``PolynomialDecay``'s default end is 1e-4 and ``cycle=True`` grows its horizon,
``CosineDecayRestarts`` does not scale ``alpha`` by ``m_mul``, Keras 2's ``decay`` is
``lr / (1 + decay · iterations)``, ``ReduceLROnPlateau`` reduces one epoch earlier than
PyTorch's, and a fractional boundary or warmup length is first rounded to float32 (Keras turns
a Python float into a tensor of its default ``floatx``, float32), then compared with the
integer step as Keras compares it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from .._combine import plateau, restarts, warmup
from .._schedule import Schedule
from .._shapes import constant, cosine, exponential, inverse_time, piecewise, polynomial
from ..errors import ConfigError, ScheduleError, show
from ._read import REQUIRED, field

__all__ = ["from_keras"]


def from_keras(obj: Any, schedule: Schedule | None = None) -> Schedule:
    """The lrkit schedule of a Keras schedule, its serialized dict, or a Keras 2 optimizer
    config with ``decay``.

    For a Keras ``ReduceLROnPlateau`` callback it is the ``lrkit.plateau`` (``rule="keras"``)
    of ``schedule`` — the optimizer's schedule or learning rate; ``constant(1.0)``, a pure
    multiplier, when omitted.
    """
    if type(obj).__name__ == "ReduceLROnPlateau" and hasattr(obj, "min_delta"):
        return _plateau(obj, schedule if schedule is not None else constant(1.0))
    if isinstance(obj, Mapping):
        name, config = obj.get("class_name"), obj.get("config", {})
        if name is None:
            raise ScheduleError(f"from_keras: a serialized schedule has 'class_name' and "
                                f"'config', got the keys {show(list(obj))}")
    else:
        import keras

        if not isinstance(obj, keras.optimizers.schedules.LearningRateSchedule):
            raise ScheduleError(f"from_keras: expected a Keras LearningRateSchedule, its "
                                f"serialize() dict, or an optimizer config, got "
                                f"{type(obj).__name__}")
        ser = keras.optimizers.schedules.serialize(obj)
        name, config = ser["class_name"], ser["config"]
    if not isinstance(config, Mapping):
        raise ScheduleError(f"from_keras: a serialized schedule's 'config' is a mapping, got "
                            f"{show(config)}")
    label = name if isinstance(name, str) and len(name) <= 100 else show(name)
    if "decay" in config or "lr" in config:
        try:
            return _keras2_optimizer(name, config)
        except ConfigError as e:
            raise ConfigError(f"from_keras: {label}.{e.where}", e.message) from None
    builder = _BUILDERS.get(name) if isinstance(name, str) else None
    if builder is None:
        raise ScheduleError(f"from_keras: {label} is not a Keras schedule lrkit reads; "
                            f"known: {', '.join(sorted(_BUILDERS))}")
    try:
        return builder(config)
    except ScheduleError as e:
        where = f"from_keras: {label}"
        if isinstance(e, ConfigError):
            raise ConfigError(f"{where}.{e.where}", e.message) from None
        raise ConfigError(where, str(e)) from None


def _length(c: Mapping[str, Any], key: str, whole: bool = False) -> float:
    """A length in steps, > 0, as Keras holds it. ``whole`` where Keras floors a float32
    quotient by it (a staircase, a cycle, restarts): that floor is not the exact one near each
    multiple, so only a whole length imports exactly."""
    v = field(c, key, REQUIRED, "number")
    if v <= 0:
        raise ConfigError(key, f"must be > 0 steps, got {show(c[key])}")
    if whole and not v.is_integer():
        raise ConfigError(key, f"must be a whole number of steps here, got {show(c[key])}: "
                          "Keras floors step / decay_steps in float32, which differs from the "
                          "exact floor at some steps; round it")
    return _float32(c[key])


def _float32(v: Any) -> float:
    """A checked number ``v`` as Keras holds it: a Python float becomes a float32 tensor
    (``floatx``); ints and numpy scalars keep their own precision."""
    if type(v) is float:
        import numpy as np

        return float(np.float32(v))
    return int(v) if isinstance(v, numbers.Integral) else float(v)


def _exponential(c: Mapping[str, Any]) -> Schedule:
    rate = field(c, "decay_rate", REQUIRED, "number")
    if rate > 1:
        raise ConfigError("decay_rate", f"must be <= 1, got {rate}: a rate above 1 grows "
                          "without bound; write lrkit.exponential(lr, rate, every, end=...) "
                          "with the value it stops at")
    return exponential(field(c, "initial_learning_rate", REQUIRED, "number"), rate,
                       _length(c, "decay_steps", stair := field(c, "staircase", False, "bool")),
                       staircase=stair)


def _piecewise(c: Mapping[str, Any]) -> Schedule:
    # Keras keeps values[i] while step <= cast(boundaries[i], step.dtype), a truncation toward
    # zero of the float32 value: each change is one step after that integer.
    field(c, "boundaries", REQUIRED, "numbers")
    return piecewise(field(c, "values", REQUIRED, "numbers"),
                     [math.trunc(_float32(b)) + 1 for b in c["boundaries"]])


def _polynomial(c: Mapping[str, Any]) -> Schedule:
    return polynomial(field(c, "initial_learning_rate", REQUIRED, "number"),
                      field(c, "end_learning_rate", 1e-4, "number"),
                      _length(c, "decay_steps", cycle := field(c, "cycle", False, "bool")),
                      power=field(c, "power", 1.0, "number"), cycle=cycle)


def _inverse_time(c: Mapping[str, Any]) -> Schedule:
    return inverse_time(field(c, "initial_learning_rate", REQUIRED, "number"),
                        field(c, "decay_rate", REQUIRED, "number"),
                        _length(c, "decay_steps", stair := field(c, "staircase", False, "bool")),
                        staircase=stair)


def _cosine(c: Mapping[str, Any]) -> Schedule:
    init = field(c, "initial_learning_rate", REQUIRED, "number")
    alpha = field(c, "alpha", 0.0, "number")
    target = field(c, "warmup_target", None, "number")
    steps = _length(c, "decay_steps")
    if target is None:
        return cosine(init, alpha * init, steps)
    decay = cosine(target, alpha * target, steps)
    # Keras ramps while float(step) < warmup_steps, then decays from step - warmup_steps: a
    # fractional length is a real one (not truncated).
    w = _float32(field(c, "warmup_steps", 0, "number") and c["warmup_steps"])
    return warmup(decay, w, start=init) if w > 0 else decay


def _restarts(c: Mapping[str, Any]) -> Schedule:
    init = field(c, "initial_learning_rate", REQUIRED, "number")
    alpha = field(c, "alpha", 0.0, "number")
    if not 0 <= field(c, "m_mul", 1.0, "number") <= 1:
        raise ConfigError("m_mul", f"must be in [0, 1], got {show(c['m_mul'])}: with m_mul > 1 "
                          "each restart peaks higher than the last, without bound; lrkit's "
                          "restarts need peak_decay <= 1")
    return restarts(cosine(init, alpha * init, _length(c, "first_decay_steps", True)),
                    period_mult=field(c, "t_mul", 2.0, "number"),
                    peak_decay=field(c, "m_mul", 1.0, "number"))


def _keras2_optimizer(name: Any, c: Mapping[str, Any]) -> Schedule:
    lr = c.get("learning_rate", c.get("lr"))
    if lr is None:
        raise ConfigError("learning_rate", "is required (or 'lr')")
    decay = field(c, "decay", 0.0, "number")
    key = "learning_rate" if "learning_rate" in c else "lr"
    if isinstance(lr, Mapping):
        inner = lr.get("config")
        if isinstance(inner, Mapping) and ("decay" in inner or "lr" in inner):
            raise ConfigError(key, "must be a number or a schedule, got an optimizer config")
        base = from_keras(lr)
    else:
        base = constant(field(c, key, 0, "number"))
    if decay == 0:
        return base
    # Keras 2 divides whatever the LR is by (1 + decay · iterations).
    if isinstance(base, constant):
        return inverse_time(base.value, decay, 1)
    return base * inverse_time(1.0, decay, 1)


def _plateau(cb: Any, schedule: Schedule) -> Schedule:
    mode = cb.mode
    if mode == "auto":
        mode = "max" if "acc" in cb.monitor else "min"
    return plateau(schedule, factor=float(cb.factor), patience=int(cb.patience), mode=mode,
                   threshold=abs(float(cb.min_delta)), threshold_mode="abs",
                   cooldown=int(cb.cooldown), min_value=float(cb.min_lr), rule="keras")


_BUILDERS = {
    "ExponentialDecay": _exponential, "PiecewiseConstantDecay": _piecewise,
    "PolynomialDecay": _polynomial, "InverseTimeDecay": _inverse_time, "CosineDecay": _cosine,
    "CosineDecayRestarts": _restarts,
}
