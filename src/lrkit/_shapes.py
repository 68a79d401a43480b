"""Leaf shapes: each a schedule value with its checks and one formula ``_f(k, xp)``.

``k`` is the 0-based step inside the shape, a float (or float array/tensor). A finite shape's
formula is written for ``0 <= k <= over``; the base class holds the last value after that.
What does not live here: combinators (``_combine``), recipes (``_recipes``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

from ._schedule import (
    Schedule,
    _Source,
    arg,
    check_number,
    clamp,
    register,
)
from ._time import Time
from ._xp import Ops
from .errors import fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "batch_size", "constant", "cosine", "cyclic", "exponential", "geometric", "interpolate",
    "inverse_sqrt", "inverse_time", "linear", "multistep", "one_cycle", "one_minus_sqrt",
    "piecewise", "polynomial", "step", "tanh",
]


class _Anneal(Schedule):
    """The shapes that go from ``start`` to ``end`` over ``over`` steps, then hold ``end``.

    Each writes its curve as two weights, ``w_start`` (1 → 0) and ``w_end = 1 - w_start``,
    both computed from exact distances: ``w_start`` from the remaining ``over - k`` (an integer
    while ``k`` is one), ``w_end`` from ``k``. The value is then ``end + (start - end)·w_start``
    when decaying and ``start + (end - start)·w_end`` when rising: the small term is always a
    product of an accurate weight, so float32 keeps its digits to the last step (never
    ``1 + cos(πt)`` near ``t = 1``), and the value stays between ``start`` and ``end``.
    """

    start: float = arg("value")
    end: float = arg("value")
    over: Time = arg("time")

    def _span(self) -> int | float | None:
        return self.over  # type: ignore[return-value]

    def _bound(self) -> float:
        return max(self.start, self.end)

    def _print(self, text: bool) -> str:
        if not text:
            return super()._print(text)
        rest = self._args_text(self._fields[2:], text, self._positional - 2)
        return f"{self.kind}({', '.join([f'{self.start!r} -> {self.end!r}', *rest])})"

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        """At step ``k`` with ``r = over - k`` steps left (floats): ``w_start`` (1 → 0) when
        the curve falls, ``w_end = 1 - w_start`` when it rises — each computed directly."""
        raise NotImplementedError

    #: Past the end, ``past_end("continue")`` repeats the curve forwards and back (cosine).
    _periodic = False

    def _emit_curve(self, k: str, src: _Source, weight: Callable[[str], str]) -> str:
        """``_f`` written out for a shape whose weight is ``weight(p)`` of ``p = left/over``
        falling, ``k/over`` rising, blended as ``_blend`` does."""
        src.node()
        a, b, over = self.start, self.end, self.over
        n, t = float(over), src.name()
        held = clamp(k, self._duration, t, src)
        # (0.0 + y is y here: y = distance · weight >= +0.0; an int divided by a float is
        # converted as float() converts it)
        if a > b:
            y = f"{a - b!r} * {weight(f'(({over!r} - {held}) / {n!r})')}"
            return f"({y})" if b == 0.0 else f"({b!r} + {y})"
        y = f"{b - a!r} * {weight(f'({held} / {n!r})')}"
        return f"({y})" if a == 0.0 else f"({a!r} + {y})"

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        if not hold and self._periodic:
            # PyTorch's CosineAnnealingLR past its end: k modulo 2·over first, in exact
            # integer steps, so float32 keeps its precision at large k
            k = xp.mod(k, 2 * self.over)
        if self.start == self.end:
            return self.start
        r = xp.fl(xp.diff(self.over, k))
        falling = self.start > self.end
        return _blend(self.start, self.end, self._weight(xp.fl(k), r, xp, falling))


def _blend(a: float, b: float, w: Any) -> Any:
    """From ``a`` towards ``b``, the small term on the side that keeps its relative precision:
    ``b + (a - b)·w_a`` falling, ``a + (b - a)·w_b`` rising (``w`` is that weight)."""
    if a == b:
        return a
    return b + (a - b) * w if a > b else a + (b - a) * w


def _linear_weight(done: Any, left: Any, n: float, falling: bool) -> Any:
    return (left if falling else done) / n


def _cos_weight(done: Any, left: Any, n: float, xp: Ops, falling: bool) -> Any:
    """The cosine's ``½(1 + cos πp)`` falling or ``½(1 - cos πp)`` rising (``p = done/n``),
    written as ``sin²(π·left/2n)`` and ``sin²(π·done/2n)``: no cancellation at either end."""
    x = xp.sin((0.5 * math.pi) * ((left if falling else done) / n))
    return x * x


def _decay_progress(k: Any, r: Any, over: float, k_decay: float,
                    xp: Ops) -> tuple[Any, Any]:
    """``(1 - p, p)`` for timm's k-decay progress ``p = (k/over)^k_decay``, each accurate:
    ``1 - p = -expm1(k_decay·log1p(-r/over))``."""
    if k_decay == 1.0:
        return r / over, k / over
    p = xp.power(xp.minimum(k / over, 1.0), k_decay)
    q = -xp.expm1(k_decay * xp.log1p(-xp.minimum(xp.maximum(r / over, 0.0), 1.0)))
    return q, p


@register
class constant(Schedule):
    """A constant value, for ever or (with ``over``) for ``over`` steps.

    ``value(k) = value``. A finite ``constant`` is the "stable" phase of a sequence.

    Args:
      value: the value, >= 0.
      over: optional length (steps or a unit string); infinite when omitted.

    >>> s = constant(0.1)
    >>> [s(k) for k in (0, 1, 10**12)]
    [0.1, 0.1, 0.1]
    """

    value: float = arg("value")
    over: Time | None = arg("time", default=None)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": constant(0.5, over=10)}

    def _span(self) -> int | float | None:
        return None if self.over is None else self.over  # type: ignore[return-value]

    def _bound(self) -> float:
        return self.value

    def _emit(self, k: str, src: _Source) -> str:
        src.node()
        return repr(float(self.value))

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.value


@register
class linear(_Anneal):
    """A straight line from ``start`` to ``end`` over ``over`` steps, then ``end``.

    ``value(k) = start + (end - start) · min(k, over) / over``.

    Args:
      start: the value at step 0.
      end: the value from step ``over`` on.
      over: the length (steps or unit string), > 0.

    >>> s = linear(1.0, 0.0, 4)
    >>> [s(k) for k in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """


    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": linear(1.0, 0.1, 20)}

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        return _linear_weight(k, r, float(self.over), falling)

    def _emit(self, k: str, src: _Source) -> str:
        if self.start == self.end:
            return super()._emit(k, src)
        return self._emit_curve(k, src, lambda p: p)  # _linear_weight


@register
class cosine(_Anneal):
    """Cosine annealing from ``start`` to ``end`` over ``over`` steps, then ``end``.

    ``value(k) = end + (start - end) · (½ (1 + cos(π · p)))^exponent`` with the progress
    ``p = min(k, over) / over``, or ``p = k^k_decay / over^k_decay`` with timm's ``k_decay``.

    Args:
      start: the value at step 0.
      end: the value from step ``over`` on (PyTorch's ``eta_min``; Keras' ``alpha·start``).
      over: the length, > 0.
      exponent: optax's exponent on the cosine factor, > 0.
      k_decay: timm's k-decay (Zhang et al. 2020): > 1 holds the value high for longer.

    >>> s = cosine(1.0, 0.0, 4)
    >>> [round(s(k), 4) for k in range(6)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    exponent: float = arg("number", default=1.0, lo=0.0, lo_open=True)
    k_decay: float = arg("number", default=1.0, lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20), "k_decay": cosine(1.0, 0.1, 20, k_decay=2.0)}

    _periodic = True

    def _emit(self, k: str, src: _Source) -> str:
        if self.start == self.end or self.exponent != 1.0 or self.k_decay != 1.0:
            return super()._emit(k, src)
        x = src.name()
        return self._emit_curve(  # _cos_weight: sin(π/2 · p)²
            k, src, lambda p: f"(({x} := sin({0.5 * math.pi!r} * {p})) * {x})")

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        over = float(self.over)
        if self.k_decay != 1.0:
            q, p = _decay_progress(k, r, over, self.k_decay, xp)
            k, r = p * over, q * over
        e = self.exponent
        if e == 1.0:
            return _cos_weight(k, r, over, xp, falling)
        if falling:  # w_start^e
            return xp.power(_cos_weight(k, r, over, xp, True), e)
        return -xp.expm1(e * xp.log1p(-_cos_weight(k, r, over, xp, False)))  # 1 - w_start^e


@register
class polynomial(_Anneal):
    """Polynomial decay from ``start`` to ``end`` over ``over`` steps (Keras ``PolynomialDecay``).

    ``value(k) = (start - end) · (1 - min(k, over) / over)^power + end``. With ``cycle=True`` the
    horizon grows to the next multiple of ``over`` instead of holding:
    ``over' = over · ceil(k / over)`` (``over`` at k = 0), as Keras does; the schedule is then
    infinite. With timm's ``k_decay`` the progress ``k / over`` is ``k^k_decay / over^k_decay``.

    Args:
      start: the value at step 0.
      end: the value at step ``over``.
      over: the length, > 0.
      power: the exponent, > 0.
      cycle: Keras' cycling.
      k_decay: timm's k-decay (as in ``cosine``), > 0.

    >>> s = polynomial(1.0, 0.0, 4, power=2.0)
    >>> [s(k) for k in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    power: float = arg("number", default=1.0, lo=0.0, lo_open=True)
    cycle: bool = arg("bool", default=False)
    k_decay: float = arg("number", default=1.0, lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": polynomial(1.0, 0.0, 8, power=2.0, cycle=True)}

    def _span(self) -> int | float | None:
        return None if self.cycle else self.over  # type: ignore[return-value]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        if not self.cycle:
            return super()._f(k, xp)
        # Keras: the horizon is over·ceil(k/over), at least over (also at k = 0); the steps
        # left to it come from k's remainder, exact, and never from the horizon itself (which
        # can pass the counter's integer range)
        m = xp.mod(k, self.over)
        left = xp.where(m == 0, xp.where(xp.ge(k, 1), 0.0, float(self.over)),
                        xp.fl(xp.diff(self.over, m)))
        kf, falling = xp.fl(k), self.start > self.end
        return _blend(self.start, self.end, self._curve(kf, left, kf + left, xp, falling))

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        return self._curve(k, r, float(self.over), xp, falling)

    def _curve(self, k: Any, r: Any, over: Any, xp: Ops, falling: bool) -> Any:
        # (1 - p)^power falling, 1 - (1 - p)^power = -expm1(power·log1p(-p)) rising
        q, p = _decay_progress(k, r, over, self.k_decay, xp)
        if falling:
            q = xp.minimum(xp.maximum(q, 0.0), 1.0)
            return q if self.power == 1.0 else xp.power(q, self.power)
        p = xp.minimum(xp.maximum(p, 0.0), 1.0)
        if self.power == 1.0:
            return p
        # log(1 - p) from p near the start and from the exact distance left near the end: XLA
        # divides k/over as k·(1/over), a rounding short of 1 at the end, which a power below
        # 1 would magnify (1 - 1e-8 for 1 at power 0.5)
        q = xp.minimum(xp.maximum(q, 0.0), 1.0)
        return -xp.expm1(self.power * xp.where(p < 0.5, xp.log1p(-p), xp.log(q)))


@register
class exponential(Schedule):
    """Exponential decay (or growth) by ``rate`` every ``every`` steps (optax/Keras).

    ``value(k) = start · rate^e`` with ``e = max(k - begin, 0) / every`` (floored when
    ``staircase``), then clamped at ``end``: ``max(value, end)`` when ``rate < 1``,
    ``min(value, end)`` when ``rate > 1``. Infinite.

    Args:
      start: the value up to step ``begin``.
      rate: the factor per ``every`` steps, > 0.
      every: the period of one factor, > 0.
      staircase: decay in whole steps of ``every``.
      begin: the step the decay begins at (>= 0).
      end: the bound the value never passes; required when ``rate > 1``.

    >>> s = exponential(1.0, 0.5, 2, staircase=True)
    >>> [s(k) for k in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    start: float = arg("value")
    rate: float = arg("number", lo=0.0, lo_open=True)
    every: Time = arg("time")
    staircase: bool = arg("bool", default=False)
    begin: Time = arg("time", default=0, allow_zero=True)
    end: float | None = arg("value", default=None)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": exponential(1.0, 0.5, 4, staircase=True, begin=2, end=0.1)}

    def __post_init__(self) -> None:
        _check_growth(self, "rate")

    def _bound(self) -> float:
        return self.start if self.rate <= 1 else self.end  # type: ignore[return-value]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        e = xp.maximum(xp.diff(k, self.begin), 0)
        e = xp.floordiv(e, self.every) if self.staircase else xp.fl(e) / float(self.every)
        return _geometric(self.start, self.rate, e, self.end, xp)


def _check_growth(s: Any, name: str) -> None:
    """A growing rate needs ``end`` (else the value grows without bound: inf at large steps);
    ``end`` must lie on the side the value moves to."""
    rate = getattr(s, name)
    if rate > 1 and s.end is None:
        raise fail(s.kind, "end", f"is required when growing ({name} > 1), or the value "
                   "grows without bound", None, "give the value it should stop at")
    if s.end is not None:
        if rate < 1 and s.end > s.start:
            raise fail(s.kind, "end", f"must be <= start ({s.start!r}) when decaying "
                       f"({name} < 1)", s.end)
        if rate > 1 and s.end < s.start:
            raise fail(s.kind, "end", f"must be >= start ({s.start!r}) when growing "
                       f"({name} > 1)", s.end)


def _geometric(start: float, rate: float, e: Any, end: float | None, xp: Ops) -> Any:
    """``start · rate^e`` for an exponent ``e >= 0``, never past ``end``."""
    if start == 0.0:
        return 0.0
    if end is not None and rate > 1:
        # past the exponent that reaches `end`, rate**e could overflow (and 0·inf is NaN)
        e = xp.minimum(e, math.ceil((math.log(end) - math.log(start)) / math.log(rate)) + 1.0)
    v = start * xp.power(rate, e)
    if end is None or rate == 1:
        return v
    return xp.maximum(v, end) if rate < 1 else xp.minimum(v, end)


@register
class inverse_time(Schedule):
    """Inverse-time decay (Keras ``InverseTimeDecay``; Keras 2's ``decay=`` with every=1).

    ``value(k) = start / (1 + rate · k / every)``, with ``floor(k / every)`` when ``staircase``.
    Infinite.

    Args:
      start: the value at step 0.
      rate: the decay rate per ``every`` steps, >= 0.
      every: the decay period, > 0 (1 for Keras 2's ``decay=``, which counts updates).
      staircase: decay in whole periods.

    >>> s = inverse_time(1.0, 1.0, 1)
    >>> [s(k) for k in range(4)]
    [1.0, 0.5, 0.3333333333333333, 0.25]
    """

    start: float = arg("value")
    rate: float = arg("number", lo=0.0)
    every: Time = arg("time")
    staircase: bool = arg("bool", default=False)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": inverse_time(1.0, 0.5, 3)}

    def _bound(self) -> float:
        return self.start

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        if self.rate == 0.0:  # k / every may be inf for a tiny period: 0·inf is NaN
            return self.start
        p = xp.floordiv(k, self.every) if self.staircase else xp.fl(k) / float(self.every)
        return self.start / (1.0 + self.rate * p)


@register
class inverse_sqrt(Schedule):
    """Inverse square-root decay: ``value(k) = start / sqrt(1 + k / timescale)``; with
    ``power``, the power law ``start · (1 + k / timescale)^power``. Infinite.

    With ``timescale = W`` after a warmup of ``W`` steps this is Hugging Face's and timm's
    ``rsqrt`` curve; other powers are TF Model Garden's ``power`` schedules.

    Args:
      start: the value at step 0.
      timescale: the number of steps over which the value falls by ``1/sqrt(2)``, > 0.
      power: the exponent, <= 0 (-0.5, the square root, by default).

    >>> s = inverse_sqrt(1.0, 1)
    >>> [s(k) for k in (0, 3, 8)]
    [1.0, 0.5, 0.3333333333333333]
    >>> inverse_sqrt(1.0, 1, power=-2)(3)
    0.0625
    """

    start: float = arg("value")
    timescale: Time = arg("time")
    power: float = arg("number", default=-0.5, hi=0.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": inverse_sqrt(1.0, 5), "power": inverse_sqrt(1.0, 5, power=-1.3)}

    def _bound(self) -> float:
        return self.start

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        x = 1.0 + xp.fl(k) / float(self.timescale)
        if self.power == -0.5:
            return self.start / xp.sqrt(x)
        return self.start * xp.power(x, self.power)


@register
class step(Schedule):
    """Step decay: ``value(k) = start · factor^floor(k / every)`` (PyTorch ``StepLR``). Infinite.

    It is the staircase ``exponential(start, factor, every, staircase=True, end=end)``.

    Args:
      start: the value at step 0.
      factor: the multiplier applied every ``every`` steps, > 0.
      every: the period, > 0 (a real number of steps: 2.4 epochs is an ordinary period).
      end: the bound the value never passes; required when growing (``factor > 1``).

    >>> s = step(1.0, 0.1, 3)
    >>> [s(k) for k in range(7)]
    [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.010000000000000002]
    """

    start: float = arg("value")
    factor: float = arg("number", lo=0.0, lo_open=True)
    every: Time = arg("time")
    end: float | None = arg("value", default=None)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": step(1.0, 0.5, 7)}

    def __post_init__(self) -> None:
        _check_growth(self, "factor")

    def _bound(self) -> float:
        return self.start if self.factor <= 1 else self.end  # type: ignore[return-value]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return _geometric(self.start, self.factor, xp.floordiv(k, self.every), self.end, xp)


def _stages(s: multistep | piecewise, offset: int | float) -> list[tuple[str, int, int | None]]:
    """The phases of a staircase placed at ``offset``: ``(f"{kind} [i]", first update, end
    update)``, one per distinct update a boundary takes effect at (the last one never ends)."""
    starts = sorted({math.ceil(offset + b) for b in (0, *s.at)})  # type: ignore[operator]
    return [(f"{s.kind} [{i}]", a, b) for i, (a, b) in enumerate(zip(starts, [*starts[1:], None]))]


@register
class multistep(Schedule):
    """``start`` times ``factor`` once per milestone reached (PyTorch ``MultiStepLR``).

    ``value(k) = start · factor^n`` with ``n`` the number of milestones ``m <= k``; a
    milestone listed twice counts twice. The milestone's own step gets the new value. The
    duration is the last milestone.

    Args:
      start: the value before the first milestone.
      factor: the multiplier per milestone, > 0.
      at: the milestones, sorted, >= 0 (steps or unit strings).

    >>> s = multistep(1.0, 0.1, [2, 4])
    >>> [s(k) for k in range(6)]
    [1.0, 1.0, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002]
    """

    start: float = arg("value")
    factor: float = arg("number", lo=0.0, lo_open=True)
    at: Sequence[Time] = arg("times", allow_zero=True)  # sorted; repeats count twice

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": multistep(1.0, 0.3, [5, 12, 12, 30])}

    def _bound(self) -> float:
        try:
            return self.start * max(1.0, self.factor) ** len(self.at)
        except OverflowError:
            return math.inf

    def _bound_text(self) -> str:
        return f"start · factor^{len(self.at)} milestones"

    def _span(self) -> int | float | None:
        return self.at[-1]  # type: ignore[return-value]

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        return _stages(self, offset)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        if xp.scalar:
            n: Any = float(bisect.bisect_right(self.at, k))
        else:
            n = 0.0
            for m in self.at:
                n = n + xp.where(xp.ge(k, m), 1.0, 0.0)
        return self.start * xp.power(self.factor, n)


@register
class piecewise(Schedule):
    """Piecewise constant: ``values[i]`` where ``i`` is the number of boundaries ``m <= k``.

    The boundary's own step gets the new value (PyTorch/optax convention; Keras'
    ``PiecewiseConstantDecay`` switches one step later, see ``lrkit.from_keras``).
    ``len(values) == len(at) + 1``; the duration is the last boundary.

    Args:
      values: the values, one more than boundaries, each >= 0.
      at: the boundaries, strictly increasing, > 0.

    >>> s = piecewise([1.0, 0.5, 0.1], [2, 4])
    >>> [s(k) for k in range(6)]
    [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    """

    values: Sequence[float] = arg("values")  # type: ignore[assignment]
    at: Sequence[Time] = arg("times", strict=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": piecewise([1.0, 0.6, 0.2], [10, 25])}

    def _bound(self) -> float:
        return max(self.values)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _Values(self.values, self))
        if len(self.values) != len(self.at) + 1:
            raise fail(self.kind, "values", f"must have len(at) + 1 = {len(self.at) + 1} "
                       "entries (one value before each boundary and one after the last)",
                       list(self.values))

    def _span(self) -> int | float | None:
        return self.at[-1]  # type: ignore[return-value]

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        return _stages(self, offset)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        if xp.scalar:
            return self.values[bisect.bisect_right(self.at, k)]
        if xp.name == "numpy":  # long tables (timm's per-update noise): one binary search
            import numpy as np

            # an integer step reaches a real boundary p at ceil(p): compare in integers
            at = [math.ceil(a) for a in self.at] if xp.is_int(k) else self.at  # type: ignore
            i = np.searchsorted(np.asarray(at), k, side="right")
            return np.asarray(self.values, dtype=getattr(xp, "dtype", None) or float)[i]
        out: Any = self.values[0]
        for m, v in zip(self.at, self.values[1:]):
            out = xp.where(xp.ge(k, m), v, out)
        return out


@register
class interpolate(Schedule):
    """Through points ``[(k0, v0), (k1, v1), …]``, linear or cosine between them, held outside.

    Between ``k_i`` and ``k_{i+1}``, with ``p = (k - k_i) / (k_{i+1} - k_i)``: linear
    ``v_i + (v_{i+1} - v_i) · p``; cosine ``v_{i+1} + (v_i - v_{i+1}) · ½ (1 + cos(π p))``.
    The duration is the last point's step.

    Args:
      points: ``(step, value)`` pairs with strictly increasing steps (>= 0, or unit strings).
      shape: ``linear`` or ``cosine`` between neighbouring points.

    >>> s = interpolate([(0, 0.0), (2, 1.0), (4, 0.0)])
    >>> [s(k) for k in range(6)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    points: Sequence[tuple[Time, float]] = arg("points")
    shape: str = arg("choice", default="linear", choices=("linear", "cosine"))

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": interpolate([(3, 0.1), (10, 1.0), (30, 0.5)], shape="cosine")}

    def _bound(self) -> float:
        return max(v for _, v in self.points)

    def _span(self) -> int | float | None:
        return self.points[-1][0]  # type: ignore[return-value]

    def _segment(self, k: Any, xp: Ops, i: int) -> Any:
        (t0, v0), (t1, v1) = self.points[i], self.points[i + 1]
        n = float(t1 - t0)  # type: ignore[operator]
        done = xp.minimum(xp.maximum(xp.fl(xp.diff(k, t0)), 0.0), n)
        left = xp.minimum(xp.maximum(xp.fl(xp.diff(t1, k)), 0.0), n)
        if self.shape == "linear":
            return _blend(v0, v1, _linear_weight(done, left, n, v0 > v1))
        return _blend(v0, v1, _cos_weight(done, left, n, xp, v0 > v1))

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        pts = self.points
        if xp.scalar:
            i = bisect.bisect_right([t for t, _ in pts], k) - 1
            if i < 0:
                return pts[0][1]
            return pts[-1][1] if i >= len(pts) - 1 else self._segment(k, xp, i)
        out: Any = pts[0][1]
        for i in range(len(pts) - 1):
            out = xp.where(xp.ge(k, pts[i][0]), self._segment(k, xp, i), out)
        return xp.where(xp.ge(k, pts[-1][0]), pts[-1][1], out)


@register
class tanh(_Anneal):
    """timm's tanh annealing from ``start`` to ``end`` over ``over`` steps, then ``end``.

    ``value(k) = end + ½ (start - end) (1 - tanh(lower · (1 - r) + upper · r))``, ``r = k/over``,
    for ``k < over``; ``end`` from ``over`` on (as timm). Note ``value(0)`` is
    ``start - (start - end)·(1 - tanh(7))/2``, about ``0.9999992 · start``, as in timm.

    Args:
      start: the value the curve starts from.
      end: the value from step ``over`` on.
      over: the length, > 0.
      lower: timm's ``lb``, the tanh argument at step 0.
      upper: timm's ``ub``, the tanh argument at step ``over``.

    >>> s = tanh(1.0, 0.0, 4)
    >>> [round(s(k), 5) for k in range(5)]
    [1.0, 0.99988, 0.98201, 0.26894, 0.0]
    """

    lower: float = arg("number", default=-7.0)
    upper: float = arg("number", default=3.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": tanh(1.0, 0.0, 30)}

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        # ½(1 - tanh x) = 1/(1 + e^{2x}) and ½(1 + tanh x) = 1/(1 + e^{-2x}): no cancellation
        over = float(self.over)
        x = self.lower * (r / over) + self.upper * (k / over)
        if falling:
            return xp.where(r > 0.0, 1.0 / (1.0 + xp.exp(2.0 * x)), 0.0)
        return xp.where(r > 0.0, 1.0 / (1.0 + xp.exp(-2.0 * x)), 1.0)


@register
class cyclic(Schedule):
    """Cyclical values between ``low`` and ``high`` (PyTorch ``CyclicLR``). Infinite.

    With ``T = up + down``, ``c = floor(1 + k/T)``, ``x = 1 + k/T - c``, ``r = up/T`` and
    ``s = x/r`` if ``x <= r`` else ``(x - 1)/(r - 1)``:
    ``value(k) = low + (high - low) · s · scale``, where scale is 1 (``triangular``),
    ``1/2^(c-1)`` (``triangular2``) or ``gamma^k`` (``exp_range``).

    Args:
      low: the value at the start of every cycle.
      high: the value at the turn, ``up`` steps in (may be below ``low`` for momentum).
      up: steps from ``low`` to ``high``, > 0.
      down: steps back (default ``up``), > 0.
      mode: ``triangular``, ``triangular2`` or ``exp_range``: PyTorch's ``CyclicLR`` mode, a
        policy scaling the cycles' height, under PyTorch's name; not a curve, so not ``shape``
        (every cycle is linear up and down).
      gamma: the ``exp_range`` factor per step, in (0, 1].

    >>> s = cyclic(0.1, 1.0, 2)
    >>> [round(s(k), 4) for k in range(6)]
    [0.1, 0.55, 1.0, 0.55, 0.1, 0.55]
    """

    low: float = arg("value")
    high: float = arg("value")
    up: Time = arg("time")
    down: Time | None = arg("time", default=None)
    mode: str = arg("choice", default="triangular",
                    choices=("triangular", "triangular2", "exp_range"))
    gamma: float = arg("number", default=1.0, lo=0.0, lo_open=True, hi=1.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cyclic(0.1, 1.0, 4, down=6, mode="triangular2")}

    def _bound(self) -> float:
        return max(self.low, self.high)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        up = self.up
        down = self.down if self.down is not None else self.up
        total = up + down  # type: ignore[operator]
        # PyTorch computes x = 1 + k/T - floor(1 + k/T); the remainder r = k - n·T is the same
        # number, exact in integers, and the distance to the turn or the cycle's end is
        # taken from it: s = r/up rising, (T - r)/down falling.
        n = xp.floordiv(k, total)
        cycle = n + 1.0
        r = xp.fl(xp.mod(k, total))
        s = xp.where(r <= float(up), r / float(up), (float(total) - r) / float(down))
        height = (self.high - self.low) * s
        if self.mode == "triangular":
            return self.low + height * 1.0
        if self.mode == "triangular2":
            return self.low + height * (1.0 / xp.power(2.0, cycle - 1.0))
        return self.low + height * xp.power(self.gamma, xp.fl(k))


@register
class one_cycle(Schedule):
    """The one-cycle policy: up from ``peak/div_factor`` to ``peak``, then down to the end.

    With ``init = peak / div_factor``, ``final = init / final_div_factor``, ``u = pct_start·over``
    and ``anneal(a, b, p)`` = ``b + (a - b)·½(1 + cos πp)`` (``cosine``) or ``a + (b - a)·p``
    (``linear``): ``anneal(init, peak, k/u)`` for ``k <= u``, then
    ``anneal(peak, final, (k - u)/(over - u))``; ``final`` from ``over`` on. ``three_phase``
    goes back to ``init`` at ``2u`` before annealing to ``final``. Phase ends are exact real
    positions (PyTorch's ``OneCycleLR`` puts them one step earlier; ``from_torch`` reproduces it).

    Args:
      peak: the highest value, reached at ``pct_start · over``.
      over: the length, > 0.
      pct_start: the share of ``over`` spent rising, in (0, 1) (in (0, 0.5) for three phases).
      div_factor: ``peak / div_factor`` is the first value.
      final_div_factor: the last value is the first one divided by this.
      three_phase: fall back to the first value at ``2 · pct_start · over``, then anneal.
      shape: ``cosine`` or ``linear``, the curve of every phase (PyTorch's
        ``anneal_strategy`` ``"cos"`` or ``"linear"``).

    >>> s = one_cycle(1.0, 10)
    >>> [round(s(k), 4) for k in (0, 3, 5)], s(10)
    ([0.04, 1.0, 0.8117], 4e-06)
    """

    peak: float = arg("value")
    over: Time = arg("time")
    pct_start: float = arg("number", default=0.3)
    div_factor: float = arg("number", default=25.0, lo=0.0, lo_open=True)
    final_div_factor: float = arg("number", default=1e4, lo=0.0, lo_open=True)
    three_phase: bool = arg("bool", default=False)
    shape: str = arg("choice", default="cosine", choices=("cosine", "linear"))

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": one_cycle(1.0, 30, three_phase=True)}

    def _bound(self) -> float:
        init = self.peak / self.div_factor
        return max(self.peak, init, init / self.final_div_factor)

    def _bound_text(self) -> str:
        return "peak / div_factor"

    def __post_init__(self) -> None:
        hi = 0.5 if self.three_phase else 1.0
        check_number(self, "pct_start", lo=0.0, lo_open=True, hi=hi, hi_open=True)
        if isinstance(self.over, (int, float)):
            u = self.pct_start * self.over
            if not (u > 0 and self.over - (1 + self.three_phase) * u > 0):
                raise fail(self.kind, "pct_start", f"× over ({self.over!r}) must leave every "
                           "phase longer than 0 steps", self.pct_start,
                           "use a larger pct_start or a longer over")

    def _span(self) -> int | float | None:
        return self.over  # type: ignore[return-value]

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        return (self.kind, steps / self.over) if steps > 0 else None  # type: ignore[operator]

    def _phase(self, a: float, b: float, k0: Any, k1: Any, k: Any, xp: Ops,
               last: bool = False) -> Any:
        """From ``a`` at step ``k0`` to ``b`` at ``k1``, held outside; the last phase continues
        past ``k1`` (PyTorch's last update may be there: ``from_torch``)."""
        n = float(k1 - k0)
        done = xp.maximum(xp.fl(xp.diff(k, k0)), 0.0)
        left = xp.minimum(xp.fl(xp.diff(k1, k)), n)
        if not last:
            done, left = xp.minimum(done, n), xp.maximum(left, 0.0)
        if self.shape == "cosine":
            return _blend(a, b, _cos_weight(done, left, n, xp, a > b))
        return _blend(a, b, _linear_weight(done, left, n, a > b))

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        init = self.peak / self.div_factor
        final = init / self.final_div_factor
        over = self.over
        u = self.pct_start * float(over)
        first = self._phase(init, self.peak, 0, u, k, xp)
        if not self.three_phase:
            return xp.where(xp.le(k, u), first,
                            self._phase(self.peak, final, u, over, k, xp, last=True))
        back = self._phase(self.peak, init, u, 2 * u, k, xp)
        last = self._phase(init, final, 2 * u, over, k, xp, last=True)
        return xp.where(xp.le(k, u), first, xp.where(xp.le(k, 2 * u), back, last))


@register
class one_minus_sqrt(_Anneal):
    """The "1-sqrt" cooldown of WSD: ``end + (start - end) · (1 - sqrt(min(k, over) / over))``.

    Args:
      start: the value at step 0.
      end: the value from step ``over`` on.
      over: the length, > 0.

    >>> s = one_minus_sqrt(1.0, 0.0, 4)
    >>> [s(k) for k in (0, 1, 4)]
    [1.0, 0.5, 0.0]
    """


    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": one_minus_sqrt(1.0, 0.0, 30)}

    def _weight(self, k: Any, r: Any, xp: Ops, falling: bool) -> Any:
        over = float(self.over)
        root = xp.sqrt(k / over)
        return (r / over) / (1.0 + root) if falling else root  # 1 - √p = (1 - p)/(1 + √p)


@register
class batch_size(Schedule):
    """A batch-size ramp (GPT-3, Megatron's ``--rampup-batch-size``, OLMo): ``start`` rising
    to ``end`` by ``multiple_of`` at a time, the ``n = (end - start) / multiple_of`` increments
    spread evenly over ``over`` steps (or samples, tokens): ``start + multiple_of ·
    floor(k / (over / n))`` up to ``k = over``, ``end`` after it, as Megatron's
    ``RampupBatchsizeNumMicroBatchesCalculator`` computes it (in float64; every value is a
    whole number). ``--rampup-batch-size 32 16 6000000`` with ``--global-batch-size 1536`` is
    ``batch_size(32, 1536, 6_000_000, multiple_of=16)``, in samples.

    >>> s = batch_size(32, 96, 8, multiple_of=16)
    >>> [s(k) for k in range(10)]
    [32.0, 32.0, 48.0, 48.0, 64.0, 64.0, 80.0, 80.0, 96.0, 96.0]
    """

    start: int = arg("int", lo=1, rule="must be a whole batch size >= 1")
    end: int = arg("int", lo=1, rule="must be a whole batch size >= 1")
    over: Time = arg("time")
    multiple_of: int = arg("int", default=1, lo=1, rule="must be a whole number >= 1")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": batch_size(32, 96, 8, multiple_of=16)}

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise fail(self.kind, "end", f"must be >= start ({self.start})", self.end)
        if (self.end - self.start) % self.multiple_of:
            raise fail(self.kind, "multiple_of", f"must divide end - start "
                       f"({self.end - self.start}), as Megatron asserts", self.multiple_of)
        if not self._missing and not float(self.over).is_integer():
            raise fail(self.kind, "over", "must be a whole number of steps", self.over)

    def _span(self) -> int | float | None:
        return self.over  # type: ignore[return-value]

    def _bound(self) -> float:
        return float(self.end)

    def _at(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self._f(k, xp)  # (after `over` the formula is `end` itself, as in Megatron)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        n = (self.end - self.start) // self.multiple_of
        if n == 0:
            return float(self.start)
        per = self.over / n  # type: ignore[operator]
        v = self.start + self.multiple_of * xp.floor(xp.fl(k) / per)
        return xp.where(xp.le(k, self.over), v, float(self.end))


@register
class geometric(_Anneal):
    """Geometric (exponential) interpolation: ``start · (end / start)^(min(k, over) / over)``.

    Both values must be > 0. It is the ``exp`` decay of ``wsd`` and the ``exponential`` warmup.

    Args:
      start: the value at step 0, > 0.
      end: the value from step ``over`` on, > 0.
      over: the length, > 0.

    >>> s = geometric(1.0, 0.01, 2)
    >>> [s(k) for k in range(3)]
    [1.0, 0.1, 0.01]
    """


    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": geometric(1.0, 0.01, 30)}

    def __post_init__(self) -> None:
        check_number(self, "start", lo=0.0, lo_open=True)
        check_number(self, "end", lo=0.0, lo_open=True)
        if not 0.0 < self.end / self.start < math.inf or not self.start / self.end > 0.0:
            raise fail(self.kind, "end", f"/ start ({self.start!r}) must be a finite ratio > 0",
                       self.end, "keep start and end within 1e308 of each other")

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        k = k if hold else xp.top(k, self.over)  # no meaningful continuation: it holds
        return self.start * xp.power(self.end / self.start, xp.fl(k) / float(self.over))




class _Values(tuple):  # type: ignore[type-arg]
    """``piecewise.values``: the tuple of values, and still callable as ``Schedule.values``."""

    _owner: Schedule

    def __new__(cls, values: Any, owner: Schedule) -> _Values:
        self = super().__new__(cls, values)
        self._owner = owner
        return self

    def __call__(self, steps: Any) -> Any:
        return Schedule.values(self._owner, steps)

    def __reduce__(self) -> Any:
        return (tuple, (tuple(self),))
