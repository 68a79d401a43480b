"""Recipes: functions that return compositions of shapes (no classes of their own).

What does not live here: the systems of the source documents (``lrkit.recipes``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ._combine import warmup as _warmup
from ._schedule import Schedule, sequence
from ._shapes import _Anneal, constant, cosine, geometric, linear, one_minus_sqrt
from ._time import Time, minus, parse_time, sign
from .errors import ScheduleError, fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cooldown", "extend", "scale_lr", "wsd", "wsd_cycles"]

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
    stable = minus(lengths["over"], lengths["warmup"], lengths["decay"])
    if sign(stable, "wsd", "over - warmup - decay") in (-1, 0):  # (None: the binding checks)
        raise ScheduleError(
            f"wsd: 'warmup' + 'decay' ({_shown(lengths['warmup'], lengths['decay'])}) must be "
            f"shorter than 'over' ({_shown(lengths['over'])}), leaving a stable phase")
    tail = constant(peak, over=stable) >> _DECAYS[decay_shape](peak, end, lengths["decay"])
    return _warmup(tail, lengths["warmup"])


def wsd_cycles(peak: float | Sequence[float], periods: Sequence[Time], warmup: Time,
               decay: Time | Sequence[Time], end: float = 0.0, decay_shape: str = "1-sqrt",
               start: float | None = None) -> Schedule:
    """Multi-cycle warmup–stable–decay (WSD-S, Wen et al. 2024; OLMo-core's ``WSDS``): one
    run of consecutive periods, each holding its peak and ending with a decay to ``end``, after
    which the next period starts at its peak again, so the checkpoint at every period's end is
    a decayed model and training goes on from it.

    Args:
      peak: the peak value, or one per period (OLMo-core's ``period_lr_multipliers``).
      periods: the length of each period; the first one includes the warmup.
      warmup: the ramp at the start of the first period (lrkit's, see ``warmup``); may be 0.
      decay: the decay at the end of each period, one length for all or one per period.
      end: the value each decay reaches; held after the last period.
      decay_shape: ``1-sqrt``, ``linear``, ``cosine`` or ``exp``, as in ``wsd``.
      start: where the warmup starts (default: lrkit's, the peak / (warmup + 1)).

    With one period it is ``wsd(peak, periods[0], warmup, decay, end, decay_shape)``. Each
    decay reaches ``end`` at its period's end, where the next period begins, as ``wsd``'s does
    at the run's end; OLMo-core applies ``end`` at the period's last update instead (see
    ``docs/concepts.md``).

    >>> s = wsd_cycles(1.0, [6, 4], warmup=2, decay=2, decay_shape="linear", start=0.0)
    >>> [s(k) for k in range(11)]
    [0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0]
    """
    if decay_shape not in _DECAYS:
        raise fail("wsd_cycles", "decay_shape", f"must be one of "
                   f"{', '.join(map(repr, _DECAYS))}", decay_shape)
    if not _listed(periods) or not periods:
        raise fail("wsd_cycles", "periods", "must be a non-empty list of period lengths",
                   periods, "e.g. periods=[10_000, 5_000]")
    n = len(periods)
    peaks = _per_period(peak, n, "peak")
    for i, p in enumerate(peaks):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < math.inf:
            raise fail("wsd_cycles", f"peak[{i}]" if _listed(peak) else "peak",
                       "must be a finite number >= 0", p)
    decays = _per_period(decay, n, "decay")
    lengths = [parse_time(v, "wsd_cycles", f"periods[{i}]") for i, v in enumerate(periods)]
    decays = [parse_time(v, "wsd_cycles", f"decay[{i}]" if _listed(decay) else "decay")
              for i, v in enumerate(decays)]
    w = parse_time(warmup, "wsd_cycles", "warmup", allow_zero=True)
    if w == 0 and start is not None:
        raise fail("wsd_cycles", "start", "is where the warmup starts, and 'warmup' is 0",
                   start, "give a warmup, or leave start out")
    parts = []
    for i, (p, length, d) in enumerate(zip(peaks, lengths, decays)):
        used = [w, d] if i == 0 else [d]
        stable = minus(length, *used)
        known = sign(stable, "wsd_cycles", f"periods[{i}] - {'warmup - ' if i == 0 else ''}decay")
        if known == -1:  # (None: it depends on the binding, which checks it)
            d_name = f"'decay[{i}]'" if _listed(decay) else "'decay'"
            what = f"'warmup' + {d_name}" if i == 0 else d_name
            raise ScheduleError(
                f"wsd_cycles: {what} ({_shown(*used)}) must fit in periods[{i}] "
                f"({_shown(length)}); shorten the decay or lengthen the period")
        decay_i = _DECAYS[decay_shape](p, end, d)
        tail = decay_i if known == 0 else constant(p, over=stable) >> decay_i
        parts.append(_warmup(tail, w, start=start) if i == 0 and w != 0 else tail)
    plan = parts[0]
    for part in parts[1:]:
        plan = plan >> part  # one flat sequence: every phase in explain's table
    return plan


def _shown(*lengths: Time) -> str:
    """Lengths as a message shows them: ``5 + 5 steps``, or ``'1ep + 10' + '2ep'``."""
    if all(isinstance(v, (int, float)) for v in lengths):
        return f"{' + '.join(map(str, lengths))} steps"
    return " + ".join(map(repr, lengths))


def _listed(v: Any) -> bool:
    return isinstance(v, Sequence) and not isinstance(v, (str, bytes))


def _per_period(v: Any, n: int, name: str) -> list[Any]:
    """``v`` for each of ``n`` periods: one value for all, or a list of ``n``."""
    if not _listed(v):
        return [v] * n
    if len(v) != n:
        raise fail("wsd_cycles", name, f"must be one value or one per period ({n})", v)
    return list(v)


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


def extend(s: Schedule, total: int, *, at: int) -> Schedule:
    """The plan ``s`` re-planned at update ``at`` to end at update ``total`` instead (a run
    resumed with a longer, or shorter, budget): ``s.branch(at, rest)``, so every update before
    ``at`` keeps its value.

    The phase running at ``at`` takes the difference; the phases after it keep their lengths
    (a WSD run extended in its stable phase keeps its decay). Per kind: a shape from a start
    to an end value (``linear``, ``cosine``, ``polynomial``, ``1-sqrt``, …) is drawn again from
    the value it has at ``at`` to the same end over its new remaining length; a ``constant``
    lasts longer; a ``warmup`` finishes its ramp as planned and its schedule is extended; a
    ``sequence`` extends the child running at ``at``; anything else has its rest stretched
    (``s.skip(at).stretch(...)``). The value at ``at`` is the one ``s`` had planned there.

    >>> s = extend(linear(1.0, 0.0, 10), 20, at=5)
    >>> [round(s(k), 3) for k in (4, 5, 10, 15, 20)]
    [0.6, 0.5, 0.333, 0.167, 0.0]
    """
    for name, v in (("at", at), ("total", total)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise fail("extend", name, "must be a whole number of updates >= 0", v)
    d = s.duration
    if d is None:
        raise fail("extend", "s", "must be finite (an infinite plan has no end to move)", s)
    if not at < d:
        raise fail("extend", "at", f"must be before the plan's end ({d} updates); past it, "
                   "continue with s.branch(at, <new plan>)", at)
    if not total > at:
        raise fail("extend", "total", f"must be after 'at' ({at})", total)
    return s.branch(at, _rest(s, at, total - d))


def _rest(s: Schedule, at: Any, extra: Any) -> Schedule:
    """``s`` from local step ``at`` on, ``extra`` steps longer (see ``extend``)."""
    if isinstance(s, sequence) and s.at is None and len(s.schedules) > 1:
        starts = s._starts
        i = max(j for j, b in enumerate(starts) if b <= at)
        return sequence([_rest(s.schedules[i], at - starts[i], extra),
                         *s.schedules[i + 1:]])
    if isinstance(s, _warmup):
        if at >= s.over:
            return _rest(s.schedule, at - s.over, extra)
        return sequence([s.skip(at), _rest(s.schedule, 0, extra)],
                        at=[s.over - at])
    left = s.duration - at
    if left + extra <= 0:
        raise fail("extend", "total", f"ends {-extra} updates early, before the phase running "
                   f"at update {at} ({s.kind}, {left} updates left) can; shorten with "
                   "lrkit.cooldown instead", extra)
    if isinstance(s, _Anneal) and float(at).is_integer():
        return s._replace(start=s(int(at)), over=left + extra)
    if isinstance(s, constant):
        return constant(s.value, over=left + extra)
    return s.skip(at).stretch((left + extra) / left)


def cooldown(s: Schedule, at: int, over: Time, *, shape: str = "1-sqrt",
             end: float = 0.0) -> Schedule:
    """Start the cooldown now: ``s`` before update ``at``, then a decay from the value ``s``
    has at ``at`` to ``end`` over ``over`` updates (WSD's decay from any checkpoint, as in
    MiniCPM and OLMo), shaped ``1-sqrt`` (the default), ``linear``, ``cosine`` or ``exp``.

    >>> s = cooldown(constant(1.0), at=4, over=4, shape="linear")
    >>> [s(k) for k in range(9)]
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    if shape not in _DECAYS:
        raise fail("cooldown", "shape", f"must be one of {', '.join(map(repr, _DECAYS))}",
                   shape)
    if isinstance(at, bool) or not isinstance(at, int) or at < 0:
        raise fail("cooldown", "at", "must be a whole number of updates >= 0", at)
    return s.branch(at, _DECAYS[shape](s(at), end, over))
