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

from collections.abc import Mapping
from typing import Any

from .._combine import plateau, restarts, warmup
from .._schedule import Schedule
from .._shapes import constant, cosine, exponential, inverse_time, piecewise, polynomial
from ..errors import ScheduleError

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
                                f"'config', got the keys {sorted(obj)}")
    else:
        import keras

        if not isinstance(obj, keras.optimizers.schedules.LearningRateSchedule):
            raise ScheduleError(f"from_keras: expected a Keras LearningRateSchedule, its "
                                f"serialize() dict, or an optimizer config, got "
                                f"{type(obj).__name__}")
        ser = keras.optimizers.schedules.serialize(obj)
        name, config = ser["class_name"], ser["config"]
    if "decay" in config or "lr" in config:
        return _keras2_optimizer(name, config)
    builder = _BUILDERS.get(str(name))
    if builder is None:
        raise ScheduleError(f"from_keras: {name} is not a Keras schedule lrkit reads; known: "
                            f"{', '.join(sorted(_BUILDERS))}")
    try:
        return builder(config)
    except KeyError as e:
        raise ScheduleError(f"from_keras: {name} config misses {e.args[0]!r}") from None


def _steps(v: Any, name: str) -> int:
    f = float(v)
    if not f.is_integer() or f <= 0:
        raise ScheduleError(f"from_keras: {name!r} must be a whole number of steps > 0 for "
                            f"lrkit, got {v!r}")
    return int(f)


def _float32(v: Any) -> Any:
    """``v`` as Keras holds it: a Python float becomes a float32 tensor (``floatx``); ints and
    numpy scalars keep their own precision."""
    if type(v) is float:
        import numpy as np

        return float(np.float32(v))
    return v


def _exponential(c: dict[str, Any]) -> Schedule:
    rate = float(c["decay_rate"])
    if rate > 1:
        raise ScheduleError(f"from_keras: ExponentialDecay with decay_rate={rate} > 1 grows "
                            "without bound; lrkit needs the value it stops at")
    return exponential(float(c["initial_learning_rate"]), rate,
                       _steps(c["decay_steps"], "decay_steps"), staircase=bool(c["staircase"]))


def _piecewise(c: dict[str, Any]) -> Schedule:
    # Keras keeps values[i] while step <= cast(boundaries[i], step.dtype), a truncation toward
    # zero of the float32 value: each change is one step after that integer.
    return piecewise([float(v) for v in c["values"]],
                     [int(_float32(b)) + 1 for b in c["boundaries"]])


def _polynomial(c: dict[str, Any]) -> Schedule:
    return polynomial(float(c["initial_learning_rate"]), float(c["end_learning_rate"]),
                      _steps(c["decay_steps"], "decay_steps"), power=float(c["power"]),
                      cycle=bool(c["cycle"]))


def _inverse_time(c: dict[str, Any]) -> Schedule:
    return inverse_time(float(c["initial_learning_rate"]), float(c["decay_rate"]),
                        _steps(c["decay_steps"], "decay_steps"), staircase=bool(c["staircase"]))


def _cosine(c: dict[str, Any]) -> Schedule:
    init, alpha = float(c["initial_learning_rate"]), float(c["alpha"])
    target = c.get("warmup_target")
    steps = _steps(c["decay_steps"], "decay_steps")
    if target is None:
        return cosine(init, alpha * init, steps)
    target = float(target)
    decay = cosine(target, alpha * target, steps)
    # Keras ramps while float(step) < warmup_steps, then decays from step - warmup_steps: a
    # fractional length is a real one (not truncated).
    w = float(_float32(c.get("warmup_steps") or 0))
    return warmup(decay, w, start=init) if w > 0 else decay


def _restarts(c: dict[str, Any]) -> Schedule:
    init, alpha = float(c["initial_learning_rate"]), float(c["alpha"])
    return restarts(cosine(init, alpha * init, _steps(c["first_decay_steps"],
                                                        "first_decay_steps")),
                    period_mult=float(c["t_mul"]), peak_decay=float(c["m_mul"]))


def _keras2_optimizer(name: Any, c: dict[str, Any]) -> Schedule:
    lr = c.get("learning_rate", c.get("lr"))
    decay = float(c.get("decay") or 0.0)
    if lr is None:
        raise ScheduleError(f"from_keras: the {name} config has no 'learning_rate' (or 'lr')")
    base = from_keras(lr) if isinstance(lr, Mapping) else constant(float(lr))
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
