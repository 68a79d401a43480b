"""``from_torch``: a live ``torch.optim.lr_scheduler`` object as an lrkit schedule.

The schedule gives, at step ``k``, the value PyTorch's scheduler sets for the ``k``-th update
(``k = scheduler.last_epoch`` now), conventions included: periodic ``CosineAnnealingLR``,
``OneCycleLR``'s phase ends one step early and its one extrapolated value, ``SequentialLR``'s
local clocks, ``ChainedScheduler``'s multiplied factors, ``ReduceLROnPlateau``'s patience.
"""

from __future__ import annotations

from typing import Any

from .._combine import plateau, restarts
from .._schedule import Schedule, sequence
from .._shapes import (
    constant,
    cosine,
    cyclic,
    exponential,
    linear,
    multistep,
    one_cycle,
    polynomial,
    step,
)
from ..errors import ScheduleError

__all__ = ["from_torch"]

_NO_FUNCTIONS = ("LambdaLR", "MultiplicativeLR")


def from_torch(scheduler: Any, group: int = 0, hyperparam: str = "lr") -> Schedule:
    """The lrkit schedule of ``scheduler`` for param group ``group``.

    ``s(k)`` is the value PyTorch's scheduler gives the ``k``-th update, so a scheduler that has
    already stepped continues at ``s(scheduler.last_epoch)``. ``hyperparam="momentum"`` gives
    ``CyclicLR``'s momentum cycle.
    """
    name = type(scheduler).__name__
    if name in _NO_FUNCTIONS:
        raise ScheduleError(
            f"from_torch: {name} holds a Python function, which cannot be read; write the "
            "schedule with lrkit (e.g. lr_lambda=lambda k: min(1, (k + 1) / W) is "
            "lrkit.warmup(lrkit.constant(lr), W)) and drive it with lrkit.torch.LRScheduler")
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ScheduleError(f"from_torch: {name} is not a PyTorch scheduler lrkit reads; known: "
                            f"{', '.join(sorted(_BUILDERS))}")
    groups = scheduler.optimizer.param_groups
    if not 0 <= group < len(groups):
        raise ScheduleError(f"from_torch: no param group {group}; the optimizer has groups "
                            f"0..{len(groups) - 1}")
    if hyperparam != "lr" and name != "CyclicLR":
        raise ScheduleError(f"from_torch: {name} schedules only 'lr', got hyperparam="
                            f"{hyperparam!r}")
    return builder(scheduler, group, hyperparam)


def _base(s: Any, i: int) -> float:
    return float(s.base_lrs[i])


def _step(s: Any, i: int, h: str) -> Schedule:
    return step(_base(s, i), s.gamma, s.step_size)


def _multistep(s: Any, i: int, h: str) -> Schedule:
    at = sorted(s.milestones.elements())
    return multistep(_base(s, i), s.gamma, at) if at else constant(_base(s, i))


def _constant(s: Any, i: int, h: str) -> Schedule:
    b = _base(s, i)
    if s.total_iters <= 0:  # PyTorch's step() then keeps the factor for good
        return constant(b * s.factor)
    return constant(b * s.factor, over=s.total_iters) >> constant(b)


def _linear(s: Any, i: int, h: str) -> Schedule:
    b = _base(s, i)
    if s.total_iters <= 0:  # PyTorch's step() then keeps the start factor for good
        return constant(b * s.start_factor)
    return linear(b * s.start_factor, b * s.end_factor, s.total_iters)


def _exponential(s: Any, i: int, h: str) -> Schedule:
    if s.gamma > 1:
        raise ScheduleError(f"from_torch: ExponentialLR with gamma={s.gamma} > 1 grows without "
                            "bound; lrkit needs the value it stops at: lrkit.exponential(lr, "
                            "gamma, 1, end=...)")
    return exponential(_base(s, i), s.gamma, 1)


def _polynomial(s: Any, i: int, h: str) -> Schedule:
    return polynomial(_base(s, i), 0.0, s.total_iters, power=float(s.power))


def _cosine(s: Any, i: int, h: str) -> Schedule:
    return cosine(_base(s, i), s.eta_min, s.T_max).past_end("continue")


def _warm_restarts(s: Any, i: int, h: str) -> Schedule:
    return restarts(cosine(_base(s, i), s.eta_min, s.T_0), period_mult=float(s.T_mult))


def _cyclic(s: Any, i: int, h: str) -> Schedule:
    if s._scale_fn_custom is not None:
        raise ScheduleError("from_torch: CyclicLR with a custom scale_fn holds a Python "
                            "function, which cannot be read")
    up = round(s.total_size * s.step_ratio)
    down = round(s.total_size) - up
    mode = s.mode
    if h == "momentum":
        if not s.cycle_momentum:
            raise ScheduleError("from_torch: this CyclicLR does not cycle momentum")
        low, high = float(s.max_momentums[i]), float(s.base_momentums[i])
    else:
        low, high = float(s.base_lrs[i]), float(s.max_lrs[i])
    return cyclic(low, high, up, down=down, mode=mode, gamma=float(s.gamma))


def _one_cycle(s: Any, i: int, h: str) -> Schedule:
    phases = s._schedule_phases
    group = s.optimizer.param_groups[i]
    n = s.total_steps
    peak, start, low = float(group["max_lr"]), float(group["initial_lr"]), float(group["min_lr"])
    if not (low > 0 and start > 0):  # lrkit's one_cycle holds them as ratios to max_lr
        raise ScheduleError(f"from_torch: OneCycleLR with an initial_lr ({start}) or min_lr "
                            f"({low}) of 0 cannot be read; use lrkit.one_cycle with a "
                            "finite div_factor and final_div_factor")
    div, final_div = peak / start, start / low
    shape = "cosine" if s._anneal_func_type == "cos" else "linear"  # anneal_strategy
    over = n - 1                       # PyTorch ends at step N - 1 …
    u = float(phases[0]["end_step"])   # … and its first phase at pct_start·N - 1
    if u <= 0 or over <= 0:
        raise ScheduleError(f"from_torch: OneCycleLR with total_steps={n} and its pct_start "
                            "leaves an empty phase")
    three = len(phases) == 3
    s1 = one_cycle(peak, over, pct_start=u / over, div_factor=div, final_div_factor=final_div,
                   three_phase=three, shape=shape)
    # One value past the end, as PyTorch extrapolates it (floored at 0: PyTorch's linear
    # extrapolation can go below); PyTorch raises after that.
    return s1.past_end("continue")


def _sequential(s: Any, i: int, h: str) -> Schedule:
    kids = [from_torch(c, i) for c in s._schedulers]
    if len(kids) == 1:
        return kids[0]
    return sequence(kids, at=list(s._milestones))


def _chained(s: Any, i: int, h: str) -> Schedule:
    # Multiplicative (chainable) children multiply their factors around the base value.
    kids = [from_torch(c, i) for c in s._schedulers]
    for c in s._schedulers:
        if type(c).__name__ in ("CosineAnnealingLR", "CyclicLR", "OneCycleLR",
                                "CosineAnnealingWarmRestarts", "SequentialLR"):
            raise ScheduleError(f"from_torch: ChainedScheduler with {type(c).__name__}: its "
                                "recursive form is not a product of factors, so the chain has no "
                                "closed form; chain multiplicative schedulers only")
    out: Schedule = kids[0]
    b = _base(s._schedulers[0], i)
    for k in kids[1:]:
        out = (out * k) * (1.0 / b) if b else out * k
    return out


def _plateau(s: Any, i: int, h: str) -> Schedule:
    min_lrs = s.min_lrs
    return plateau(constant(float(s.optimizer.param_groups[i].get("initial_lr",
                                                                  s._last_lr[i]))),
                   factor=s.factor, patience=s.patience, mode=s.mode, threshold=s.threshold,
                   threshold_mode=s.threshold_mode, cooldown=s.cooldown,
                   min_value=float(min_lrs[i]), eps=float(s.eps))


_BUILDERS = {
    "StepLR": _step, "MultiStepLR": _multistep, "ConstantLR": _constant, "LinearLR": _linear,
    "ExponentialLR": _exponential, "PolynomialLR": _polynomial, "CosineAnnealingLR": _cosine,
    "CosineAnnealingWarmRestarts": _warm_restarts, "CyclicLR": _cyclic,
    "OneCycleLR": _one_cycle, "SequentialLR": _sequential, "ChainedScheduler": _chained,
    "ReduceLROnPlateau": _plateau,
}
