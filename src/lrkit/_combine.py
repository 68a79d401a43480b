"""Combinators with arguments of their own: warmup, restarts, plateau.

What does not live here: leaf formulas (``_shapes``); sequence and the arithmetic and
transforms that ``>>``, ``+``, ``*``, ``.clip()``… return, which live beside ``Schedule``.
"""

from __future__ import annotations

import bisect
import math

from . import _plateau
from ._schedule import (
    Schedule,
    _operand,
    _Source,
    arg,
    cached_property,
    clamp,
    register,
    sequence,
)
from ._shapes import _Anneal, _blend, _cos_weight, _linear_weight, constant, cosine, linear
from ._time import MIN_STEPS, Binding, Time
from ._xp import SCALAR, Ops
from .errors import ConfigError, ScheduleError, fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = ["branch", "plateau", "restarts", "warmup"]


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

    def _print(self, text: bool) -> str:
        if not text:
            return super()._print(text)
        # the one-line syntax writes a warmup in front of what it warms up
        opts = self._args_text([f for f in self._fields if f.name != "schedule"], text, 1)
        return f"warmup({', '.join(opts)}) >> {_operand(self.schedule, text, in_chain=True)}"

    def _compound(self, text: bool, in_chain: bool) -> bool:
        return text and not in_chain

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
            if t * (w + 1.0) < 1e300:
                return t * (xp.fl(k) + 1.0) / (w + 1.0)
            return t * ((xp.fl(k) + 1.0) / (w + 1.0))  # the ratio first: t·(k+1) would overflow
        left, k = xp.fl(xp.diff(self.over, k)), xp.fl(k)
        if self.shape == "linear":
            return _blend(s0, t, _linear_weight(k, left, w, s0 > t))
        if self.shape == "cosine":
            return _blend(s0, t, _cos_weight(k, left, w, xp, s0 > t))
        if self.shape == "exp":
            return s0 * xp.power(t / s0, k / w)
        return s0

    def _emit(self, k: str, src: _Source) -> str:
        src.node()
        (_, t), w, over, v = self._ends, float(self.over), self.over, src.name()
        if self.start is None and self.shape == "linear" and t * (w + 1.0) < 1e300:
            ramp = f"{t!r} * ({v} + 1.0) / {w + 1.0!r}"  # _ramp's default, written out
        else:
            ramp = f"float({src.bind(self._ramp)}({v}, SCALAR))"
            src.env["SCALAR"] = SCALAR
        after = self.schedule._emit(f"({v} - {over!r})", src)
        return f"({ramp} if {clamp(k, self._duration, v, src)} < {over!r} else {after})"

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
        if self.period_mult < MIN_STEPS:
            raise fail(self.kind, "period_mult", "must be at least 2**-20 (about 1e-6)",
                       self.period_mult, "cycles shorter than a millionth of the first have "
                       "no steps")
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
        else:
            i, local = self._cycle_of(xp.fl(k), xp)
        v = self._decayed(self.schedule._at(local, xp), i, xp)
        return v if self.limit is None else xp.where(i >= self.limit, self._ends[1], v)

    def _emit(self, k: str, src: _Source) -> str:
        # _f at one step: the cycle i and the step x inside it, bound by one expression (in
        # integers for an int step where every cycle starts at a whole step, else through
        # _cycle_of), then the schedule's expression at x and the decay
        src.node()
        t, i, x, c = src.name(), src.name(), src.name(), src.name()
        held = clamp(k, self._duration, t, src)
        d, m = self.schedule.duration, self.period_mult
        if m == 1.0:
            cyc = src.bind(lambda k: (SCALAR.floordiv(k, d), SCALAR.mod(k, d)))
        else:
            cyc = src.bind(lambda k: self._cycle_of(float(k), SCALAR))
        where = f"(({i} := ({c} := {cyc}({t}))[0]), ({x} := {c}[1]))"
        if m == 1.0 and isinstance(d, int):  # floordiv and mod of an int step: // and %
            where = f"(({x} := {t} % {d}) if type({held}) is int and ({i} := {t} // {d}) >= 0 " \
                    f"else {where})"
        elif m == 1.0 or not (isinstance(d, int) and m.is_integer()) \
                or self.cycle_index == "log":  # (the logarithm's misses are its own)
            where = where.replace(f"{cyc}({t})", f"{cyc}({held})")
        else:
            starts, powers = self._starts_whole()
            s, p, find = src.bind(starts), src.bind(powers), src.bind(bisect.bisect_right)
            where = f"(({x} := ({t} - {s}[{i}]) / {p}[{i}]) if type({held}) is int and " \
                    f"{t} < {starts[-1]} and ({i} := {find}({s}, {t}) - 1) >= 0 else {where})"
        v = self.schedule._emit(x, src)
        if self.peak_decay != 1.0:
            s0, f = self._ends
            g = f"{self.peak_decay!r} ** {i}"
            if self.decay == "peak":
                g = f"({s0!r} * {g} - {f!r}) / {s0 - f!r}"
            v = f"({f!r} + ({v} - {f!r}) * ({g}))"
        if self.limit is None:
            return f"({v} if {where} is not None else 0.0)"
        return f"({v} if {where} is not None and {i} < {self.limit!r} else {self._ends[1]!r})"

    def _starts_whole(self) -> tuple[list[int], list[int]]:
        """With a whole duration ``d`` and period_mult ``w`` (SGDR's ``T_mult``), where cycle
        ``i`` starts, ``d·(w**i - 1)/(w - 1)``, and ``w**i``, below 2**53: exact integers,
        which ``_cycle_of``'s floats equal there, and the cycle it settles on for an int step
        is the one bisection finds among them."""
        d, w = int(self.schedule.duration), int(self.period_mult)  # type: ignore[arg-type]
        starts, powers = [0], [1]
        while starts[-1] + d * powers[-1] < 2**53:
            starts.append(starts[-1] + d * powers[-1])
            powers.append(powers[-1] * w)
        return starts, powers

    def _cycle_of(self, k: Any, xp: Ops) -> tuple[Any, Any]:
        """The cycle ``i`` of a float step ``k`` (``period_mult != 1``) and the step inside it."""
        d, m = float(self.schedule.duration), self.period_mult  # type: ignore[arg-type]
        # the cycle of k: log(1 - k/d·(1 - m)) / log(m), its argument kept finite and > 0
        x = xp.minimum(xp.maximum(1.0 - k / d * (1.0 - m), 1e-300), 1e300)
        i = xp.floor(xp.log(x) / math.log(m))
        if self.cycle_index == "exact":
            # The logarithm can land a hair off at exact cycle starts; settle i exactly.
            i = xp.where(k < self._begin(i, xp), i - 1.0, i)
            i = xp.where(k >= self._begin(i + 1.0, xp), i + 1.0, i)
        i = xp.maximum(i, 0.0)
        return i, xp.maximum((k - self._begin(i, xp)) / xp.power(m, i), 0.0)

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
class branch(Schedule):
    """``schedule.branch(at, then, join="jump")``: a plan changed mid-run, as one schedule.

    ``schedule`` before update ``at`` and ``then`` from ``at`` on, at its local step
    ``k - at`` (``sequence([schedule, then], at=[at])``). With ``join="continue"`` ``then`` is
    scaled so that its first value is ``schedule(at)``, the value the old plan would have
    given there: a new shape that starts where the run is. The checkpoints, the monitor,
    ``lrkit show`` and a later resume all see this one schedule; before ``at`` it gives the
    old plan's values bit for bit.

    Args:
      schedule: the plan so far.
      at: the first update of the new plan.
      then: the new plan, from its own step 0.
      join: ``jump`` (``then`` as it is) or ``continue`` (``then`` scaled to start at
        ``schedule(at)``; its first value must be > 0).

    >>> s = linear(1.0, 0.0, 10).branch(4, constant(0.25, over=2) >> linear(0.25, 0.0, 2))
    >>> [s(k) for k in range(9)]
    [1.0, 0.9, 0.8, 0.7, 0.25, 0.25, 0.25, 0.125, 0.0]
    """

    _method = "branch"
    _method_positional = 2

    schedule: Schedule = arg("schedule")
    at: Time = arg("time", allow_zero=True)
    then: Schedule = arg("schedule")
    join: str = arg("choice", default="jump", choices=("jump", "continue"))

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        return {"": cosine(1.0, 0.1, 20).branch(8, linear(0.6, 0.0, 6)),
                "continue": cosine(1.0, 0.1, 20).branch(8, cosine(1.0, 0.0, 30),
                                                        join="continue")}

    def __post_init__(self) -> None:
        if not self._missing and self.join == "continue" and not self._first > 0.0:
            raise fail(self.kind, "then", "must start above 0 for join='continue' (it is "
                       "scaled to start at the value the plan has there)", self.then,
                       "use join='jump'")

    @cached_property
    def _first(self) -> float:
        return float(self.then._at(0, SCALAR))

    @cached_property
    def factor(self) -> float:
        """What ``then`` is multiplied by: 1 for ``jump``; ``schedule(at) / then(0)``."""
        if self.join == "jump":
            return 1.0
        return float(self.schedule._at(self.at, SCALAR)) / self._first

    @cached_property
    def _plan(self) -> Schedule:
        then = self.then if self.factor == 1.0 else self.then * self.factor
        return then if self.at == 0 else sequence([self.schedule, then], at=[self.at])

    def _bound(self) -> float:
        if self._missing:
            return max(self.schedule._top, self.then._top)
        return self._plan._top

    def _span(self) -> int | float | None:
        return self._plan.duration

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        return self._plan._phases(offset)

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        return self._plan._cycles(steps)

    def _emit(self, k: str, src: _Source) -> str:
        return self._plan._emit(k, src)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self._plan._at(k, xp, hold)


def resumed(saved: Schedule, new: Schedule, count: int, who: str) -> Schedule:
    """The one plan of a run resumed at update ``count`` with ``new`` where the checkpoint ran
    ``saved`` (the adapters' ``on_change="branch"``): ``saved`` before ``count`` and ``new`` at
    its global step from there, ``saved.branch(count, new.skip(count))``. A plan that already
    is ``saved`` branched at ``count`` (``lrkit.extend``, ``lrkit.cooldown``) is used as it
    is, and so is ``new`` at update 0, where nothing has run."""
    if isinstance(saved, plateau) or isinstance(new, plateau):
        raise ConfigError(who, f"on_change='branch' needs plain schedules, not a plateau "
                          f"({saved!r} -> {new!r}); use on_change='use_new'")
    if count == 0 or isinstance(new, branch) and new.schedule == saved and new.at == count:
        return new
    return saved.branch(count, new.skip(count))
