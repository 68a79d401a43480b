"""Combinators: sequence, warmup, restarts, plateau, and the arithmetic and transforms.

Each child sees its own local step. In a sequence, segments are half-open: the value at a
boundary belongs to the next child. What does not live here: leaf formulas (``_shapes``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from . import _plateau
from ._schedule import (
    MAX_DEPTH,
    Schedule,
    _repr_value,
    arg,
    cached_property,
    register,
)
from ._shapes import _Anneal, _blend, _cos_weights, constant, cosine, cyclic, linear
from ._time import MIN_STEPS, Binding, Time
from ._xp import SCALAR, Ops, namespace_for
from .errors import ScheduleError, fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = ["plateau", "restarts", "sequence", "warmup"]


def _atom(s: Any) -> str:
    """repr of ``s`` (a schedule or a number) safe as an operand of an operator or a method."""
    text = repr(s)
    if isinstance(s, (Scale, Product, Sum, Difference, Quotient)) or \
            (isinstance(s, sequence) and " >> " in text):
        return f"({text})"
    return text


def _at(v: Any, k: Any, xp: Ops, hold: bool) -> Any:
    """An operand's value at ``k``: a schedule's, or the number itself."""
    return v if isinstance(v, float) else v._at(k, xp, hold)


def _top(v: Any) -> float:
    return v if isinstance(v, float) else v._top


@register
class sequence(Schedule):
    """Children one after another, each on its own half-open segment, seeing its local step.

    ``value(k) = schedules[i](k - b_i)`` for ``b_i <= k < b_{i+1}``, where ``b_0 = 0`` and the
    boundaries ``b_1, …`` are ``at`` or, by default, the cumulative durations of the children
    (all but the last must then be finite). The value at a boundary belongs to the next child;
    a child shorter than its segment holds its last value. ``a >> b`` builds the same.

    Args:
      schedules: the children, in order.
      at: optional boundaries (one fewer than children), strictly increasing, > 0.

    >>> s = linear(0.0, 1.0, 2) >> constant(0.5)
    >>> [s(k) for k in range(4)]
    [0.0, 0.5, 0.5, 0.5]
    """

    schedules: Sequence[Schedule] = arg("schedules")
    at: Sequence[Time] | None = arg("times", default=None, strict=True, allow_empty=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": sequence([linear(0.1, 1.0, 6), cosine(1.0, 0.1, 20), constant(0.1)],
                             at=[6, 30])}

    def __post_init__(self) -> None:
        kids = self.schedules
        if self.at is not None:
            if len(self.at) != len(kids) - 1:
                raise fail(self.kind, "at", f"must hold len(schedules) - 1 = {len(kids) - 1} "
                           "boundaries", list(self.at), "one boundary between each two children")
        elif not any(c._missing for c in kids):
            for i, c in enumerate(kids[:-1]):
                if c.duration is None:
                    raise fail(self.kind, f"schedules[{i}]", "is infinite, so it never ends; "
                               "give the boundaries with at=[...]", c)

    def _extended(self, kids: Sequence[Schedule]) -> sequence:
        """``self >> kids``, built from this sequence's checked children and derived data, so
        that a chain of n ``>>`` costs O(n) per link in C (tuple and list copies), not in
        Python checks. Anything unusual goes through the constructor."""
        if self._missing or self.schedules[-1].duration is None or \
                not all(isinstance(c, Schedule) and not c._missing for c in kids) or \
                any(c.duration is None for c in kids[:-1]):
            return sequence([*self.schedules, *kids])
        new = object.__new__(sequence)
        d = new.__dict__
        d.update(schedules=(*self.schedules, *kids), at=None, _missing=[])
        d["_depth"] = max(self._depth, 1 + max(c._depth for c in kids))
        if d["_depth"] > MAX_DEPTH:
            return sequence([*self.schedules, *kids])  # the constructor says why
        d["_top"] = max(self._top, *(c._top for c in kids))
        starts = list(self._starts)
        for c in (self.schedules[-1], *kids[:-1]):
            b = starts[-1] + c.duration  # type: ignore[operator]
            starts.append(int(b) if isinstance(b, float) and b.is_integer() else b)
        d["_starts"] = starts
        new._warm()
        return new

    @cached_property
    def _starts(self) -> list[int | float]:
        """Where each child starts: ints when whole, so local steps stay exact integers."""
        if self.at is not None:
            return [0, *self.at]  # type: ignore[list-item]
        out: list[int | float] = [0]
        for c in self.schedules[:-1]:
            b = out[-1] + c.duration  # type: ignore[operator]
            out.append(int(b) if isinstance(b, float) and b.is_integer() else b)
        return out

    def _span(self) -> int | float | None:
        last = self.schedules[-1].duration
        return None if last is None else self._starts[-1] + last

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        """Each child's phases, cut at its segment's end; a ``hold`` where a child is shorter
        than its segment."""
        if len(self.schedules) == 1:
            return super()._phases(offset)
        out: list[tuple[str, int, int | None]] = []
        ends = [*(math.ceil(offset + b) for b in self._starts[1:]), None]
        for c, a, end in zip(self.schedules, self._starts, ends):
            inner = [(k, st, en if en is not None and (end is None or en < end) else end)
                     for k, st, en in c._phases(offset + a) if end is None or st < end]
            if end is not None and inner and inner[-1][2] is not None and inner[-1][2] < end:
                inner.append(("hold", inner[-1][2], end))
            out += inner
        return out

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        return self.schedules[-1]._cycles(steps - self._starts[-1])

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        starts, kids = self._starts, self.schedules
        last = len(kids) - 1  # only the last child ends with the sequence
        if xp.scalar:
            i = bisect.bisect_right(starts, k) - 1
            return kids[i]._at(k - starts[i], xp, hold or i < last)
        out = kids[0]._at(k, xp, hold or last > 0)
        for i in range(1, len(kids)):
            local = xp.maximum(xp.diff(k, starts[i]), 0)
            out = xp.where(xp.ge(k, starts[i]), kids[i]._at(local, xp, hold or i < last), out)
        return out

    def __repr__(self) -> str:
        nested = any(isinstance(c, sequence) and c.at is None for c in self.schedules)
        # a >> b >> … reads best, but Python compiles a chain of n operators n levels deep
        if self.at is None and 1 < len(self.schedules) <= 64 and not nested:
            return " >> ".join(_atom(c) for c in self.schedules)
        kids = "[" + ", ".join(repr(c) for c in self.schedules) + "]"
        return f"sequence({kids})" if self.at is None else \
            f"sequence({kids}, at={_repr_value(self.at)})"


@register
class warmup(Schedule):
    """A ramp up to ``schedule(0)`` over ``over`` steps, then ``schedule(k - over)``.

    With ``t = schedule(0)`` and ``s0 = start``: ``linear`` ramps ``s0 + (t - s0)·k/over``,
    ``cosine`` ``s0 + (t - s0)·½(1 - cos(πk/over))``, ``exp`` (geometric) ``s0·(t/s0)^(k/over)``,
    ``constant`` stays at ``s0``. By default ``start = t/(over + 1)``, so the first update never
    gets 0 and the linear ramp is ``t·(k + 1)/(over + 1)``. The schedule after it is shifted
    (a prefix warmup, as Keras, optax and timm's ``warmup_prefix=True``).

    Args:
      schedule: the schedule after warmup.
      over: the warmup length, > 0.
      start: the value at step 0 (default ``schedule(0)/(over + 1)``).
      shape: ``linear``, ``cosine``, ``exp`` or ``constant``.

    >>> s = warmup(constant(1.0), 3)
    >>> [s(k) for k in range(5)]
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    schedule: Schedule = arg("schedule")
    over: Time = arg("time")
    start: float | None = arg("value", default=None)
    shape: str = arg("choice", default="linear",
                     choices=("linear", "cosine", "exp", "constant"))

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": warmup(cosine(1.0, 0.1, 20), 8)}

    def _bound(self) -> float:
        return max(self.schedule._top, self.start or 0.0)

    def __post_init__(self) -> None:
        if self.shape == "exp" and self.start == 0.0:
            raise fail(self.kind, "start", "must be > 0 for an exponential warmup", self.start)

    def _bind(self, b: Binding) -> Schedule:
        out = super()._bind(b)
        assert isinstance(out, warmup)
        if b.total_steps is not None and out.over > b.total_steps:  # type: ignore[operator]
            raise ScheduleError(
                f"warmup: 'over' = {self.over!r} is {out.over} steps, longer than the whole run "
                f"(total_steps={b.total_steps}); shorten the warmup or lengthen the run")
        return out

    @cached_property
    def _ends(self) -> tuple[float, float]:
        """The ramp's first value and its target ``schedule(0)``."""
        t = self.schedule(0)
        s0 = t / (float(self.over) + 1.0) if self.start is None else self.start
        if self.shape == "exp" and not (t > 0 and s0 > 0):
            raise fail(self.kind, "schedule", "must start above 0 for an exponential warmup "
                       "(it ramps geometrically from start to schedule(0))", t)
        if self.shape == "exp" and not (t / s0 < math.inf and s0 / t > 0):
            raise fail(self.kind, "start", f"must be within 1e308 of schedule(0) = {t!r} for an "
                       "exponential warmup (it ramps by their ratio)", s0)
        return s0, t

    def _span(self) -> int | float | None:
        d = self.schedule.duration
        return None if d is None else self.over + d  # type: ignore[operator]

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        """The ramp, labelled ``warmup (<shape>)``, then the schedule's phases."""
        after = offset + self.over  # type: ignore[operator]
        return [(f"warmup ({self.shape})", math.ceil(offset), math.ceil(after)),
                *self.schedule._phases(after)]

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        return self.schedule._cycles(steps - self.over)  # type: ignore[operator]

    def _ramp(self, k: Any, xp: Ops) -> Any:
        (s0, t), w = self._ends, float(self.over)
        if self.start is None and self.shape == "linear":
            return t * (xp.fl(k) + 1.0) / (w + 1.0)
        left, k = xp.fl(xp.diff(self.over, k)), xp.fl(k)
        if self.shape == "linear":
            return _blend(s0, t, left / w, k / w)
        if self.shape == "cosine":
            return _blend(s0, t, *_cos_weights(k, left, w, xp))
        if self.shape == "exp":
            return s0 * xp.power(t / s0, k / w)
        return s0

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        after = self.schedule
        if xp.scalar:
            return self._ramp(k, xp) if k < self.over else after._at(k - self.over, xp, hold)
        return xp.where(xp.ge(k, self.over),
                        after._at(xp.maximum(xp.diff(k, self.over), 0), xp, hold),
                        self._ramp(xp.top(k, self.over), xp))


@register
class restarts(Schedule):
    """A finite schedule repeated: warm restarts (SGDR), with growing cycles and decaying peaks.

    Cycle ``i`` starts at ``B_i = D·(1 - m^i)/(1 - m)`` (``D·i`` when ``m = 1``) and lasts
    ``D·m^i``, where ``D`` is the schedule's duration and ``m = period_mult``; inside it the
    schedule runs stretched to the cycle, and its distance from its final value ``f`` is scaled
    by ``peak_decay^i``: ``value(k) = f + (schedule((k - B_i)/m^i) - f)·peak_decay^i``. After
    ``limit`` cycles the value holds at ``f``.

    With ``decay="peak"`` (timm's ``cycle_decay``) ``peak_decay^i`` scales the cycle's start
    ``s0`` instead (a shape's ``start`` argument, else its value at step 0): the distance is
    scaled by ``(s0·peak_decay^i - f)/(s0 - f)``. With ``cycle_index="log"`` the cycle of step
    ``k`` is ``floor(log(1 - k/D·(1 - m)) / log(m))`` as timm and Keras compute it in floating
    point, which at some exact cycle starts lands one cycle early (the step then gets the
    previous cycle's end value); ``"exact"`` (the default) settles it.

    Args:
      schedule: a finite schedule (one cycle).
      period_mult: the growth of each cycle's length, > 0 (< 1 needs a ``limit``).
      peak_decay: the factor on each cycle's distance from the final value, in [0, 1] (a
        growing distance would leave the range of the cycle, below 0 or without bound).
      limit: the number of cycles, or None for ever.
      decay: what ``peak_decay`` scales: ``distance`` (from the final value) or ``peak``.
      cycle_index: ``exact`` or ``log`` (timm's and Keras' floating-point cycle index).

    >>> s = restarts(linear(1.0, 0.0, 2), period_mult=2.0, peak_decay=0.5)
    >>> [s(k) for k in range(8)]
    [1.0, 0.5, 0.5, 0.375, 0.25, 0.125, 0.25, 0.21875]
    """

    schedule: Schedule = arg("schedule")
    period_mult: float = arg("number", default=1.0, lo=0.0, lo_open=True)
    peak_decay: float = arg("number", default=1.0, lo=0.0, hi=1.0)
    limit: int | None = arg("int", default=None, lo=1, rule="must be None or a number of cycles")
    decay: str = arg("choice", default="distance", choices=("distance", "peak"))
    cycle_index: str = arg("choice", default="exact", choices=("exact", "log"))

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": restarts(cosine(1.0, 0.1, 5), period_mult=2.0, peak_decay=0.7, limit=3),
                "timm": restarts(cosine(1.0, 0.1, 5, k_decay=2.0), period_mult=1.5,
                                 peak_decay=0.7, limit=4, decay="peak", cycle_index="log")}

    def __post_init__(self) -> None:
        if self.period_mult < 1 and self.limit is None:
            raise fail(self.kind, "period_mult", "< 1 shrinks the cycles towards zero length, "
                       "so it needs a limit", self.period_mult, "give limit=<number of cycles>")
        if self.decay == "peak" and self.peak_decay != 1.0 \
                and not isinstance(self.schedule, _Anneal):
            # f + (x - f)·g stays between the cycle's ends only for a cycle that moves
            # monotonically from its start to its final value
            raise fail(self.kind, "schedule", "must go from a start to an end value (linear, "
                       "cosine, polynomial, tanh, …) when decay='peak' scales its start",
                       self.schedule, "use decay='distance', or a shape with start and end")
        if not self.schedule._missing:
            d = self.schedule.duration
            if d is None or d <= 0:
                raise fail(self.kind, "schedule", "must be finite and last > 0 steps (one cycle)",
                           self.schedule)
            if self.decay == "peak" and self.peak_decay != 1.0 \
                    and self._ends[0] == self._ends[1]:
                raise fail(self.kind, "decay", "'peak' needs a cycle whose start differs from "
                           "its final value (it scales the distance between them)", self.decay,
                           "use decay='distance'")

    @cached_property
    def _ends(self) -> tuple[float, float]:
        """The cycle's start (see ``decay``) and final values."""
        s = self.schedule
        start = getattr(s, "start", None)
        start = start if isinstance(start, float) else s(0)
        return start, float(s._at(s.duration, SCALAR))

    def _begin(self, i: Any, xp: Ops) -> Any:
        d, m = float(self.schedule.duration), self.period_mult  # type: ignore[arg-type]
        return d * i if m == 1.0 else d * (1.0 - xp.power(m, i)) / (1.0 - m)

    def _span(self) -> int | float | None:
        if self.limit is None:
            return None
        return self._begin(float(self.limit), SCALAR)  # type: ignore[no-any-return]

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        if steps <= 0 or (self.limit is not None and steps >= self.duration):  # type: ignore
            return None  # also keeps the logarithm's argument > 0
        d, m = float(self.schedule.duration), self.period_mult  # type: ignore[arg-type]
        done = steps / d if m == 1 else math.log(1 - steps / d * (1 - m)) / math.log(m)
        return self.kind, done

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        d, m = self.schedule.duration, self.period_mult
        if m == 1.0:  # exact in integers: the cycle and the step inside it
            i, local = xp.floordiv(k, d), xp.mod(k, d)
            v = self._decayed(self.schedule._at(local, xp), i, xp)
            return v if self.limit is None else xp.where(i >= self.limit, self._ends[1], v)
        d, k = float(d), xp.fl(k)  # type: ignore[arg-type]
        # the cycle of k: log(1 - k/d·(1 - m)) / log(m), its argument kept finite and > 0
        x = xp.minimum(xp.maximum(1.0 - k / d * (1.0 - m), 1e-300), 1e300)
        i = xp.floor(xp.log(x) / math.log(m))
        if self.cycle_index == "exact":
            # The logarithm can land a hair off at exact cycle starts; settle i exactly.
            i = xp.where(k < self._begin(i, xp), i - 1.0, i)
            i = xp.where(k >= self._begin(i + 1.0, xp), i + 1.0, i)
        i = xp.maximum(i, 0.0)
        local = (k - self._begin(i, xp)) / xp.power(m, i)
        v = self._decayed(self.schedule._at(xp.maximum(local, 0.0), xp), i, xp)
        return v if self.limit is None else xp.where(i >= self.limit, self._ends[1], v)

    def _decayed(self, x: Any, i: Any, xp: Ops) -> Any:
        """The cycle's value ``x`` in cycle ``i``, its distance from the end scaled."""
        if self.peak_decay == 1.0:
            return x
        s0, f = self._ends
        g = xp.power(self.peak_decay, i)
        if self.decay == "peak":
            g = (s0 * g - f) / (s0 - f)
        return f + (x - f) * g


@register
class plateau(Schedule):
    """Reduce-on-plateau as a value: a schedule times ``factor^n`` after ``n`` reductions.

    The reductions are driven by a metric through a pure state machine: ``state = s.init()``,
    ``state = s.observe(state, metric)`` (returns a new plain-data dict), ``s.value(k, state)``.
    Calling ``s(k)`` gives the value before any reduction. Patience follows PyTorch's
    ``ReduceLROnPlateau``: an observation is *bad* unless it beats the best so far by the
    threshold (``rel``: ``best·(1 ∓ threshold)``; ``abs``: ``best ∓ threshold``); the value is
    reduced when the count of consecutive bad observations exceeds ``patience`` (so
    ``patience=2`` reduces on the third), after which the count restarts and ``cooldown``
    observations are ignored. After ``n >= 1`` reductions the value is
    ``max(schedule(k)·factor^n, min_value)``; with ``eps > 0`` the reductions are those
    PyTorch would apply to ``schedule(k)`` one by one, skipping any that lowers the value by
    ``eps`` or less (its default eps is 1e-8). The torch, Keras and optax adapters run this same
    state machine and reduced value, so every argument means the same in all three.

    Args:
      schedule: the schedule to reduce.
      factor: the multiplier per reduction, in (0, 1).
      patience: bad observations tolerated before a reduction (reduce on ``patience + 1``).
      mode: ``min`` (lower metric is better) or ``max``.
      threshold: the improvement that counts, relative or absolute (``threshold_mode``).
      threshold_mode: ``rel`` or ``abs``.
      cooldown: observations ignored after a reduction.
      min_value: the floor of a reduced value.
      rule: ``torch`` (reduce when bad observations exceed ``patience``) or ``keras`` (Keras'
        ``ReduceLROnPlateau``: reduce when they reach it, cooldown counted first, an absolute
        ``threshold`` — its ``min_delta``).
      eps: PyTorch's smallest reduction: a reduction lowering the value by ``eps`` or less is
        skipped, and so are all after it.

    >>> s = plateau(constant(1.0), factor=0.5, patience=1)
    >>> st = s.init()
    >>> for metric in [1.0, 1.0, 1.0]:
    ...     st = s.observe(st, metric)
    >>> s.value(0, st)
    0.5
    """

    schedule: Schedule = arg("schedule")
    factor: float = arg("number", default=0.1, lo=0.0, lo_open=True, hi=1.0, hi_open=True)
    patience: int = arg("int", default=10, lo=0, rule="must be a whole number of observations")
    mode: str = arg("choice", default="min", choices=("min", "max"))
    threshold: float = arg("number", default=1e-4, lo=0.0)
    threshold_mode: str = arg("choice", default="rel", choices=("rel", "abs"))
    cooldown: int = arg("int", default=0, lo=0, rule="must be a whole number of observations")
    min_value: float = arg("value", default=0.0)
    rule: str = arg("choice", default="torch", choices=("torch", "keras"))
    eps: float = arg("number", default=0.0, lo=0.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": plateau(warmup(constant(1.0, over=20), 5))}

    def _bound(self) -> float:
        return max(self.schedule._top, self.min_value)

    def _span(self) -> int | float | None:
        return self.schedule.duration

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(k, xp, hold)

    def init(self) -> dict[str, Any]:
        """The state before any observation (plain data: JSON, pickle and torch.save safe)."""
        return _plateau.plain(self, _plateau.init(self))

    def observe(self, state: dict[str, Any], metric: float) -> dict[str, Any]:
        """The state after one more observation of the monitored metric."""
        new = _plateau.observe(self, _plateau.unplain(self, state), float(metric), SCALAR)
        return _plateau.plain(self, new)

    def scale(self, state: dict[str, Any]) -> float:
        """The multiplier ``factor^n`` for a state."""
        return float(self.factor ** state["reductions"])

    def apply(self, base: Any, state: dict[str, Any], xp: Ops = SCALAR) -> Any:
        """The reduced value given the schedule's value ``base``."""
        return _plateau.reduce(self, base, state["reductions"], xp)

    def value(self, k: int, state: dict[str, Any]) -> float:
        """The value at step ``k`` in state ``state``."""
        return float(self.apply(self(k), state))


# --- arithmetic and transforms (reached through operators and methods) ----------------------


@register
class Scale(Schedule):
    """``schedule * factor``."""

    schedule: Schedule = arg("schedule")
    factor: float = arg("number", lo=0.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20) * 0.5}

    def _bound(self) -> float:
        return self.schedule._top * self.factor

    def _bound_text(self) -> str:
        return f"the schedule's largest value {self.schedule._top!r} times {self.factor!r}"

    def _span(self) -> int | float | None:
        return self.schedule.duration

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(k, xp, hold) * self.factor

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)} * {self.factor!r}"


@register
class Product(Schedule):
    """``left * right``, step by step; finite when both are, lasting the longer."""

    left: Schedule = arg("schedule")
    right: Schedule = arg("schedule")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20) * cyclic(0.5, 1.0, 3)}

    def _bound(self) -> float:
        return self.left._top * self.right._top

    def _bound_text(self) -> str:
        return f"the largest values' product {self.left._top!r} · {self.right._top!r}"

    def _span(self) -> int | float | None:
        a, b = self.left.duration, self.right.duration
        return None if a is None or b is None else max(a, b)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.left._at(k, xp, hold) * self.right._at(k, xp, hold)

    def __repr__(self) -> str:
        return f"{_atom(self.left)} * {_atom(self.right)}"


class _Arithmetic(Schedule):
    """``left <op> right`` step by step, each a number or a schedule (at least one); finite
    when every schedule in it is, lasting the longest."""

    left: Schedule | float = arg("operand")
    right: Schedule | float = arg("operand")
    _op = ""

    def __post_init__(self) -> None:
        if isinstance(self.left, float) and isinstance(self.right, float):
            raise fail(self.kind, "left", "or 'right' must be a schedule (two numbers make a "
                       "number)", self.left, f"write lrkit.constant({self.left!r}) for one")

    def _span(self) -> int | float | None:
        ds = [c.duration for c in self.children()]
        return None if None in ds else max(ds)  # type: ignore[type-var]

    def __repr__(self) -> str:
        return f"{_atom(self.left)} {self._op} {_atom(self.right)}"


@register
class Sum(_Arithmetic):
    """``left + right``: a schedule plus a number or another schedule (DeepSpeed's and timm's
    offsets, a floor under a decay: ``cosine(0.1, 0.0, 1000) + 1e-5``)."""

    _op = "+"

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20) + linear(0.0, 0.3, 30),
                "number": 0.25 + cosine(1.0, 0.1, 20)}

    def _bound(self) -> float:
        return _top(self.left) + _top(self.right)

    def _bound_text(self) -> str:
        return f"the largest values' sum {_top(self.left)!r} + {_top(self.right)!r}"

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return _at(self.left, k, xp, hold) + _at(self.right, k, xp, hold)


@register
class Difference(_Arithmetic):
    """``left - right``, floored at 0: a value is never negative (``lint`` reports the steps
    where the floor acts). ``1 - s`` is the EMA decay of a momentum schedule ``s``."""

    _op = "-"

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20) - linear(0.0, 0.5, 30),
                "number": 1.0 - cosine(0.9, 0.1, 20)}

    def _bound(self) -> float:
        return _top(self.left)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return xp.maximum(_at(self.left, k, xp, hold) - _at(self.right, k, xp, hold), 0.0)

    def _floored(self, steps: Any) -> Any:
        ops = namespace_for(steps).using("float64")
        raw = _at(self.left, steps, ops, True) - _at(self.right, steps, ops, True)
        return steps[raw < 0]


@register
class Quotient(Schedule):
    """``schedule / divisor`` for a number ``divisor > 0`` (exactly ``s(k) / divisor``, which
    ``s * (1 / divisor)`` is not in the last bit)."""

    schedule: Schedule = arg("schedule")
    divisor: float = arg("number", lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20) / 3.0}

    def _bound(self) -> float:
        return self.schedule._top / self.divisor

    def _bound_text(self) -> str:
        return f"the schedule's largest value {self.schedule._top!r} / {self.divisor!r}"

    def _span(self) -> int | float | None:
        return self.schedule.duration

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(k, xp, hold) / self.divisor

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)} / {self.divisor!r}"


@register
class Clip(Schedule):
    """``schedule.clip(min, max)``: values clipped to ``[min, max]``, each bound a number or a
    schedule (optional)."""

    schedule: Schedule = arg("schedule")
    min: Schedule | float | None = arg("operand", default=None)
    max: Schedule | float | None = arg("operand", default=None)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20).clip(min=0.4, max=0.8)}

    def _bound(self) -> float:
        top = self.schedule._top if self.max is None else min(self.schedule._top,
                                                               _top(self.max))
        return max(top, 0.0 if self.min is None else _top(self.min))

    def __post_init__(self) -> None:
        lo, hi = self.min, self.max
        if isinstance(lo, float) and isinstance(hi, float) and lo > hi:
            raise fail(self.kind, "min", f"must be <= max ({hi!r})", lo)

    def _span(self) -> int | float | None:
        ds = [c.duration for c in self.children()]
        return None if None in ds else max(ds)  # type: ignore[type-var]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        v = self.schedule._at(k, xp, hold)
        if self.min is not None:  # the lower bound first: max wins where they cross
            v = xp.maximum(v, _at(self.min, k, xp, hold))
        return v if self.max is None else xp.minimum(v, _at(self.max, k, xp, hold))

    def __repr__(self) -> str:
        opts = ", ".join(f"{n}={getattr(self, n)!r}" for n in ("min", "max")
                         if getattr(self, n) is not None)
        return f"{_atom(self.schedule)}.clip({opts})"


@register
class Stretch(Schedule):
    """``schedule.stretch(factor)``: ``value(k) = schedule(k / factor)``; lasts ``ceil(D·f)``."""

    schedule: Schedule = arg("schedule")
    factor: float = arg("number", lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 9).stretch(2.5)}

    def _span(self) -> int | float | None:
        d = self.schedule.duration
        from fractions import Fraction

        return None if d is None else float(Fraction(d) * Fraction(self.factor))

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(xp.fl(k) / self.factor, xp, hold)

    def __post_init__(self) -> None:
        if self.factor < MIN_STEPS:
            raise fail(self.kind, "factor", "must be at least 2**-20 (about 1e-6)", self.factor,
                       "a faster schedule than a millionth of a step per update has no steps")

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)}.stretch({self.factor!r})"


@register
class Stepped(Schedule):
    """``schedule.stepped(every)``: the value changes only every ``every`` steps.

    ``value(k) = schedule(floor(k / every) · every)``: a per-epoch schedule such as Keras'
    ``LearningRateScheduler`` applies, with ``every="1ep"``.
    """

    schedule: Schedule = arg("schedule")
    every: Time = arg("time")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20).stepped(4)}

    def _span(self) -> int | float | None:
        d, e = self.schedule.duration, self.every
        return None if d is None else math.ceil(d / e) * e  # type: ignore[operator,return-value]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(xp.times(xp.idiv(k, self.every), self.every), xp, hold)

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)}.stepped({self.every!r})"


@register
class Skip(Schedule):
    """``schedule.skip(steps)``: the schedule from step ``steps`` on, ``value(k) =
    schedule(k + steps)``; lasts ``max(D - steps, 0)``. A warmup that overlaps the start of the
    schedule instead of delaying it (timm's ``warmup_prefix=False``) is
    ``ramp >> schedule.skip(W)``."""

    schedule: Schedule = arg("schedule")
    steps: Time = arg("time")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20).skip(6)}

    def _span(self) -> int | float | None:
        d = self.schedule.duration
        return None if d is None else max(d - self.steps, 0)  # type: ignore[operator]

    def _shift(self, k: Any, xp: Ops) -> Any:
        # k + steps, held at the last step an int64 counter has (no overflow past it)
        return xp.diff(xp.top(k, _LAST - self.steps), -self.steps)  # type: ignore[operator]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(self._shift(k, xp), xp, hold)

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)}.skip({self.steps!r})"


_POLICIES = ("hold", "continue", "error")
_LAST = 2**63 - 1  # the last step an evaluation is defined at


@register
class PastEnd(Schedule):
    """``schedule.past_end(policy)``: after the end, ``hold`` the last value, ``continue`` the
    formula (PyTorch's periodic cosine; floored at 0), or raise (``error``; traced evaluation,
    which cannot raise, holds)."""

    schedule: Schedule = arg("schedule")
    policy: str = arg("choice", choices=_POLICIES)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 10).past_end("continue")}

    def _bound(self) -> float:
        top = self.schedule._top
        if self.policy != "continue" or self.schedule._missing:
            return top
        # a continued formula is monotone or periodic past the end: its last step bounds it
        last = float(self.schedule._at(2**63 - 1, SCALAR, hold=False))
        return max(top, last) if last == last else math.inf

    def _span(self) -> int | float | None:
        return None if self.policy == "continue" else self.schedule.duration

    def _continues(self) -> bool:
        return self.policy == "continue"

    def _at(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        # The policy is this node's: an enclosing past_end does not change it.
        if self.policy == "continue":
            v = self.schedule._at(k, xp, hold=False)
            return xp.where(v > 0.0, v, 0.0)  # also maps NaN to 0
        d = self.schedule.duration
        if self.policy == "error" and d is not None and xp.name in ("scalar", "numpy"):
            last = k if xp.scalar else k.max(initial=0.0)
            if last > d:
                raise ScheduleError(
                    f"past_end: step {int(last)} is past the end of the schedule (duration "
                    f"{d} steps) and the policy is 'error'; stop the run by step {d} or "
                    "use past_end('hold')")
        return self.schedule._at(k, xp)

    _f = _at

    def __repr__(self) -> str:
        return f"{_atom(self.schedule)}.past_end({self.policy!r})"
