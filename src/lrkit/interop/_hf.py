"""``from_hf``: Hugging Face's ``transformers.get_scheduler`` types as lrkit schedules.

Conventions reproduced: the first update gets LR 0 (``step / W`` warmups), a warmup given as a
float below 1 is a share of the run rounded up, cosines rise again after the end,
``cosine_warmup_with_min_lr`` reaches its peak one step early. Nothing here imports
transformers.
"""

from __future__ import annotations

import math
from typing import Any

from .._combine import plateau, restarts, warmup
from .._schedule import Schedule, sequence
from .._shapes import (
    constant,
    cosine,
    interpolate,
    inverse_sqrt,
    linear,
    one_minus_sqrt,
    polynomial,
)
from ..errors import ScheduleError, show

__all__ = ["from_hf"]

_TYPES = ("linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
          "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr",
          "cosine_warmup_with_min_lr", "warmup_stable_decay", "greedy")


def from_hf(name: str, num_warmup_steps: int | float | None = None,
            num_training_steps: int | None = None, *, base_lr: float,
            **scheduler_specific_kwargs: Any) -> Schedule:
    """The schedule ``transformers.get_scheduler(name, ...)`` gives an optimizer at ``base_lr``.

    Args mirror ``get_scheduler``; ``scheduler_specific_kwargs`` are its extra arguments
    (``num_cycles``, ``power``, ``lr_end``, ``timescale``, ``min_lr``, ``min_lr_rate``,
    ``warmup_lr_rate``, ``num_decay_steps``, ``num_stable_steps``, ``warmup_type``,
    ``decay_type``, ``min_lr_ratio``, and ``ReduceLROnPlateau``'s).
    """
    if name not in _TYPES:
        raise ScheduleError(f"from_hf: unknown scheduler type {show(name)}; Hugging Face's "
                            f"types are {', '.join(_TYPES)}")
    _number("base_lr", base_lr)
    if num_warmup_steps is not None:
        _number("num_warmup_steps", num_warmup_steps)
    if num_training_steps is not None:
        _number("num_training_steps", num_training_steps, whole=True)
    kw = dict(scheduler_specific_kwargs)
    for key, v in kw.items():
        if v is None:  # transformers' default for most of them
            continue
        if key in _WORDS:
            if not isinstance(v, str):
                raise ScheduleError(f"from_hf: {key!r} must be a string, got {show(v)}")
        elif not (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)):
            raise ScheduleError(f"from_hf: {key!r} must be a finite number, got {show(v)}")
    if "num_cycles" in kw and kw["num_cycles"] is None:  # (transformers computes with it)
        raise ScheduleError("from_hf: 'num_cycles' must be a number, got None (transformers "
                            "raises TypeError); leave it out for the default")
    s = _from_hf(name, num_warmup_steps, num_training_steps, float(base_lr), kw)
    if kw:  # get_scheduler passes them on, and the scheduler raises TypeError
        raise ScheduleError(f"from_hf: {name!r} takes no argument(s) {', '.join(sorted(kw))}, "
                            "as transformers.get_scheduler would refuse them")
    return s


_WORDS = ("warmup_type", "decay_type", "mode", "threshold_mode")  # the others are numbers


def _number(name: str, v: Any, whole: bool = False) -> None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    if not ok or whole and v != int(v):
        rule = "a whole number >= 0" if whole else "a finite number >= 0"
        raise ScheduleError(f"from_hf: {name!r} must be {rule}, got {show(v)}")


def _from_hf(name: str, num_warmup_steps: int | float | None, num_training_steps: int | None,
             b: float, kw: dict[str, Any]) -> Schedule:
    """The schedule, taking its extra arguments out of ``kw`` (what is left was not used)."""
    if name == "constant":
        return constant(b)
    if name == "reduce_lr_on_plateau":
        return plateau(constant(b), factor=kw.pop("factor", 0.1), patience=kw.pop("patience", 10),
                       mode=kw.pop("mode", "min"), threshold=kw.pop("threshold", 1e-4),
                       threshold_mode=kw.pop("threshold_mode", "rel"),
                       cooldown=kw.pop("cooldown", 0), min_value=kw.pop("min_lr", 0.0),
                       eps=kw.pop("eps", 1e-8))
    if name == "greedy":
        raise ScheduleError("from_hf: 'greedy' (GreedyLR) raises the LR as well as lowering it, "
                            "from the loss it sees at every step; that is not a function of the "
                            "step, so lrkit cannot reproduce it")
    if num_warmup_steps is None:
        raise ScheduleError(f"from_hf: {name!r} requires num_warmup_steps")
    w = _warmup_steps(num_warmup_steps, num_training_steps)
    if name == "constant_with_warmup":
        return _ramp(w, constant(b), b)
    if name == "inverse_sqrt":
        ts = kw.pop("timescale", None) or w or 10_000
        return _ramp(w, inverse_sqrt(b, int(ts)), b)
    if name == "warmup_stable_decay":
        return _wsd(b, w, num_training_steps, kw)
    if num_training_steps is None:
        raise ScheduleError(f"from_hf: {name!r} requires num_training_steps")
    t = int(num_training_steps)
    rest = max(t - w, 0)
    # transformers divides the steps after the warmup by max(1, T - W): a run that ends inside
    # its warmup reads them in single steps
    per = max(rest, 1)
    if name == "linear":
        return _ramp(w, polynomial(b, 0.0, rest) if rest else constant(0.0), b)
    if name == "cosine":
        return _ramp(w, _cos(b, 0.0, per, kw.pop("num_cycles", 0.5)), b)
    if name == "cosine_with_restarts":
        # HF: cos(pi * ((num_cycles * progress) % 1)), then 0 from the end of the run on; a
        # cycle lasts rest / num_cycles steps, a real number, and the last may be cut short.
        n = float(kw.pop("num_cycles", 1))
        if not 0 <= n < math.inf:
            raise ScheduleError(f"from_hf: cosine_with_restarts needs num_cycles >= 0 (a "
                                f"finite number of cycles), got num_cycles={n:g}")
        if n == 0:  # cos(0): the base LR to the end of the run
            return _ramp(w, sequence([constant(b), constant(0.0)], at=[per]), b)
        cycles = restarts(cosine(b, 0.0, per / n), limit=math.ceil(n))
        return _ramp(w, cycles if n.is_integer() else sequence([cycles, constant(0.0)],
                                                               at=[per]), b)
    if name == "polynomial":
        end = float(kw.pop("lr_end", 1e-7))
        if not b > end:
            raise ScheduleError(f"from_hf: polynomial needs base_lr ({b}) > lr_end ({end})")
        power = float(kw.pop("power", 1.0))
        if not rest:  # past a warmup longer than the run: lr_end (transformers' value there)
            if t == w:
                raise ScheduleError(f"from_hf: polynomial with num_warmup_steps = "
                                    f"num_training_steps ({t}) divides by zero at update {t} "
                                    "in transformers (ZeroDivisionError); use fewer warmup "
                                    "steps")
            return _ramp(w, constant(end), b)
        return _ramp(w, polynomial(b, end, rest, power=power), b)
    r = _min_rate(b, kw)
    if name == "cosine_with_min_lr":
        return _ramp(w, _cos(b, b * r, per, kw.pop("num_cycles", 0.5)), b)
    # cosine_warmup_with_min_lr: the warmup reaches the peak at W - 1 and the cosine starts there.
    wr = kw.pop("warmup_lr_rate", None)
    decay = _cos(b, b * r, per, kw.pop("num_cycles", 0.5))
    if w <= 1:
        raise ScheduleError("from_hf: cosine_warmup_with_min_lr with fewer than 2 warmup steps "
                            "starts its cosine one step before step 0; lrkit needs a warmup of "
                            "at least 2 steps here")
    return warmup(decay, w - 1, start=None if wr is None else b * float(wr))


def _warmup_steps(w: int | float, total: int | None) -> int:
    if isinstance(w, float) and 0 < w < 1:
        if total is None:
            raise ScheduleError("from_hf: a warmup ratio needs num_training_steps")
        return math.ceil(w * total)
    return int(w)


def _ramp(w: int, after: Schedule, b: float) -> Schedule:
    """Hugging Face's warmup: ``b · k / W`` (0 for the first update), then ``after``."""
    return after if w <= 0 else sequence([linear(0.0, b, w), after])


def _cos(b: float, end: float, over: int, cycles: float) -> Schedule:
    if over <= 0:
        return constant(end)
    cycles = abs(float(cycles))  # cos is even; 0 cycles is cos(0): the base LR throughout
    if cycles == 0:
        return constant(b)
    c = cosine(b, end, over)
    return (c if cycles == 0.5 else c.stretch(0.5 / float(cycles))).past_end("continue")


def _min_rate(b: float, kw: dict[str, Any]) -> float:
    lr, rate = kw.pop("min_lr", None), kw.pop("min_lr_rate", None)
    if (lr is None) == (rate is None):
        raise ScheduleError("from_hf: give exactly one of min_lr and min_lr_rate")
    if rate is None and b == 0:
        raise ScheduleError("from_hf: min_lr is read as min_lr / base_lr, so it needs "
                            "base_lr > 0 (transformers divides by zero too)")
    return float(rate) if rate is not None else float(lr) / b


def _wsd(b: float, w: int, total: int | None, kw: dict[str, Any]) -> Schedule:
    d = kw.pop("num_decay_steps", None)
    if d is None:
        raise ScheduleError("from_hf: warmup_stable_decay requires num_decay_steps")
    d = int(d)
    stable = kw.pop("num_stable_steps", None)
    if stable is None:
        if total is None:
            raise ScheduleError("from_hf: warmup_stable_decay requires num_training_steps or "
                                "num_stable_steps")
        stable = int(total) - w - d
    m = float(kw.pop("min_lr_ratio", 0.0))
    wtype, dtype = kw.pop("warmup_type", "linear"), kw.pop("decay_type", "cosine")
    cycles = abs(float(kw.pop("num_cycles", 0.5))) or 0.5
    parts: list[Schedule] = []
    if w > 0:
        if wtype == "linear":
            parts.append(linear(b * m, b, w))
        elif wtype == "cosine":
            parts.append(interpolate([(0, b * m), (w, b)], shape="cosine"))
        else:
            raise ScheduleError(f"from_hf: warmup_stable_decay with warmup_type={wtype!r} "
                                "(1 - sqrt(1 - p)) has no lrkit shape yet; use 'linear' or "
                                "'cosine'")
    if stable > 0:
        parts.append(constant(b, over=int(stable)))
    if d > 0:
        if dtype == "linear":
            decay: Schedule = linear(b, b * m, d)
        elif dtype == "cosine":
            c = cosine(b, b * m, d)
            decay = c if cycles == 0.5 else c.stretch(0.5 / cycles)
        elif dtype == "1-sqrt":
            decay = one_minus_sqrt(b, b * m, d)
        else:
            raise ScheduleError(f"from_hf: unknown decay_type {dtype!r}")
        # a negative stable phase (the warmup and the decay longer than the run) starts the
        # decay before the warmup ends: transformers' run sees only its rest
        if stable >= 0:
            parts.append(decay)
        elif -stable < d:
            parts.append(decay.skip(-int(stable)))
    parts.append(constant(b * m))
    return sequence(parts)
