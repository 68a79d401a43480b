"""Recipes: functions that return compositions of shapes (no classes of their own).

What does not live here: the systems of the source documents (``lrkit.recipes``).
"""

from __future__ import annotations

import math

from ._combine import warmup as _warmup
from ._schedule import Schedule
from ._shapes import constant, cosine, geometric, linear, one_minus_sqrt
from ._time import Time, parse_time
from .errors import ScheduleError, fail

__all__ = ["scale_lr", "wsd"]

_DECAYS = {"linear": linear, "cosine": cosine, "1-sqrt": one_minus_sqrt, "exp": geometric}


def wsd(peak: float, over: Time, warmup: Time, decay: Time, end: float = 0.0,
        decay_shape: str = "1-sqrt") -> Schedule:
    """Warmup–stable–decay inside a total length ``over``.

    A linear warmup (lrkit's default ramp, see ``warmup``) over ``warmup`` steps, ``peak`` held
    for ``over - warmup - decay`` steps, then a decay to ``end`` over ``decay`` steps, shaped
    ``linear``, ``cosine``, ``1-sqrt`` (``end + (peak - end)(1 - sqrt(k/decay))``) or ``exp``
    (geometric, needs ``end > 0``). Lengths may be unit strings; the stable length is then the
    time expression ``"<over> - <warmup> - <decay>"``, resolved at ``bind``.

    >>> s = wsd(1.0, 10, warmup=2, decay=4, decay_shape="linear")
    >>> [round(s(k), 4) for k in range(11)]
    [0.3333, 0.6667, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if decay_shape not in _DECAYS:
        raise fail("wsd", "decay_shape", f"must be one of {', '.join(map(repr, _DECAYS))}",
                   decay_shape)
    lengths = {n: parse_time(v, "wsd", n) for n, v in
               (("over", over), ("warmup", warmup), ("decay", decay))}
    if all(isinstance(v, int) for v in lengths.values()):
        stable: Time = lengths["over"] - lengths["warmup"] - lengths["decay"]  # type: ignore
        if stable <= 0:  # type: ignore[operator]
            raise ScheduleError(
                f"wsd: 'warmup' + 'decay' ({lengths['warmup']} + {lengths['decay']} steps) must "
                f"be shorter than 'over' ({lengths['over']} steps), leaving a stable phase")
    else:
        stable = " - ".join(str(lengths[n]) for n in ("over", "warmup", "decay"))
    tail = constant(peak, over=stable) >> _DECAYS[decay_shape](peak, end, lengths["decay"])
    return _warmup(tail, lengths["warmup"])


def scale_lr(base_lr: float | Schedule, batch_size: int, reference_batch_size: int,
             rule: str = "linear") -> float | Schedule:
    """The batch-size scaling rule: ``base_lr · b/b_ref`` (linear) or ``· sqrt(b/b_ref)``.

    ``base_lr`` may be a number or a schedule (which is then scaled as a whole). Goyal et al.
    (2017) give the linear rule; the sqrt rule suits adaptive optimizers (Krizhevsky 2014).

    >>> scale_lr(0.1, 1024, 256)
    0.4
    >>> scale_lr(0.1, 1024, 256, rule="sqrt")
    0.2
    """
    for name, v in (("batch_size", batch_size), ("reference_batch_size", reference_batch_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise fail("scale_lr", name, "must be a whole number > 0", v)
    if rule not in ("linear", "sqrt"):
        raise fail("scale_lr", "rule", "must be 'linear' or 'sqrt'", rule)
    ratio = batch_size / reference_batch_size
    factor = ratio if rule == "linear" else math.sqrt(ratio)
    if isinstance(base_lr, Schedule):
        return base_lr * factor
    if isinstance(base_lr, bool) or not isinstance(base_lr, (int, float)) \
            or not math.isfinite(base_lr) or base_lr < 0:
        raise fail("scale_lr", "base_lr", "must be a finite number >= 0 or a schedule", base_lr)
    return base_lr * factor
