"""``from_torch``: a live ``torch.optim.lr_scheduler`` object as an lrkit schedule.

The schedule gives, at step ``k``, the value PyTorch's scheduler sets for the ``k``-th update
(``k = scheduler.last_epoch`` now), conventions included: periodic ``CosineAnnealingLR``,
``OneCycleLR``'s phase ends one step early and its one extrapolated value, ``SequentialLR``'s
local clocks, ``ChainedScheduler``'s multiplied factors (a cosine with ``eta_min=0`` among them,
and its restart from the base value after its trough), ``ReduceLROnPlateau``'s patience,
``SWALR``'s anneal from the value it takes over, and the ``LambdaLR`` that
``transformers.get_scheduler`` builds (read through ``from_hf``).
"""

from __future__ import annotations

import functools
import warnings
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
_MOMENTUM = ("momentum", "betas[0]")  # PyTorch's momentum arguments drive beta1 on Adam
_CYCLES_MOMENTUM = ("CyclicLR", "OneCycleLR")


def from_torch(scheduler: Any, group: int = 0, hyperparam: str = "lr") -> Schedule:
    """The lrkit schedule of ``scheduler`` for param group ``group``.

    ``s(k)`` is the value PyTorch's scheduler gives the ``k``-th update, so a scheduler that has
    already stepped continues at ``s(scheduler.last_epoch)``. ``hyperparam="momentum"`` gives
    the momentum cycle of ``CyclicLR`` and ``OneCycleLR`` (``cycle_momentum=True``): the
    ``momentum`` of SGD-style optimizers, ``betas[0]`` (beta1) of Adam-style ones, as PyTorch's
    ``base_momentum``/``max_momentum`` do; ``"betas[0]"`` is accepted as the same.

    Warns (``UserWarning``) when the lr import leaves a momentum cycle out, and when the group
    holds a value other than ``s(last_epoch)`` (a resumed recursive scheduler continues from
    the group's value, so PyTorch's values then differ from the import).
    """
    name = type(scheduler).__name__
    groups = getattr(getattr(scheduler, "optimizer", None), "param_groups", None)
    if groups is not None and not 0 <= group < len(groups):
        raise ScheduleError(f"from_torch: no param group {group}; the optimizer has groups "
                            f"0..{len(groups) - 1}")
    h = "momentum" if hyperparam in _MOMENTUM else hyperparam
    if h != "lr" and name not in _CYCLES_MOMENTUM:
        raise ScheduleError(f"from_torch: {name} schedules only 'lr', got hyperparam="
                            f"{hyperparam!r}")
    if h not in ("lr", "momentum"):
        raise ScheduleError(f"from_torch: {name} schedules 'lr' and 'momentum' (beta1 on "
                            f"Adam-style optimizers, also 'betas[0]'), got hyperparam="
                            f"{hyperparam!r}")
    if h == "momentum" and not scheduler.cycle_momentum:
        raise ScheduleError(f"from_torch: this {name} does not cycle momentum "
                            "(cycle_momentum=False); only its 'lr' is scheduled")
    s = _read(scheduler, group, h)
    if h == "lr" and name in _CYCLES_MOMENTUM and scheduler.cycle_momentum:
        what = "beta1 (betas[0])" if scheduler.use_beta1 else "momentum"
        warnings.warn(f"from_torch: {name} also cycles {what} (cycle_momentum=True); this is "
                      "the lr only. Import the other with from_torch(scheduler, "
                      "hyperparam='momentum') and drive it with a second "
                      f"lrkit.torch.LRScheduler(..., hyperparam={_key(scheduler)!r})",
                      UserWarning, stacklevel=2)
    _check_resume(scheduler, group, h, s)
    return s


def _read(scheduler: Any, i: int, h: str = "lr") -> Schedule:
    """The schedule, without from_torch's warnings (also for the children of a chain)."""
    name = type(scheduler).__name__
    if name == "LambdaLR" and _hf_lambda(scheduler, i) is not None:
        return _lambda(scheduler, i, h)
    if name in _NO_FUNCTIONS:
        raise ScheduleError(
            f"from_torch: {name} holds a Python function, which cannot be read; write the "
            "schedule with lrkit (e.g. lr_lambda=lambda k: min(1, (k + 1) / W) is "
            "lrkit.warmup(lrkit.constant(lr), W)) and drive it with lrkit.torch.LRScheduler")
    builder = _BUILDERS.get(name)
    if builder is None:
        raise ScheduleError(f"from_torch: {name} is not a PyTorch scheduler lrkit reads; known: "
                            f"{', '.join(sorted([*_BUILDERS, 'LambdaLR']))}")
    return builder(scheduler, i, h)


def _key(s: Any) -> str:
    return "betas[0]" if s.use_beta1 else "momentum"


def _now(s: Any, i: int, h: str) -> float:
    g = s.optimizer.param_groups[i]
    return float(g["betas"][0] if h == "momentum" and s.use_beta1 else g[h])


def _check_resume(scheduler: Any, i: int, h: str, s: Schedule) -> None:
    """Warn where the group's value is not the import's at the current step: PyTorch's
    recursive forms continue from the group's value, the import from the initial one."""
    name = type(scheduler).__name__
    if name == "ReduceLROnPlateau":
        return
    k = _last_epoch(scheduler)
    have, want = _now(scheduler, i, h), s(k)
    if abs(have - want) > 1e-6 * max(abs(have), abs(want)):  # float32 tensor lrs too
        msg = (f"from_torch: {name} param group {i} holds {h}={have:g} at step {k}, where the "
               f"schedule from its initial value gives {want:g}; PyTorch continues from the "
               "group's value, so its values will differ from this import. Set the group's "
               f"{h!r} to {want:g} before building the scheduler (a resumed run: load the "
               "optimizer's and the scheduler's state_dict), or build it with last_epoch=-1")
        warnings.warn(msg, UserWarning, stacklevel=3)


def _last_epoch(s: Any) -> int:
    kids = getattr(s, "_schedulers", None)
    return int(s.last_epoch if hasattr(s, "last_epoch") or not kids else _last_epoch(kids[0]))


# transformers' lr_lambdas (module-level functions, bound by functools.partial) and the
# get_scheduler types from_hf reads them as; their keyword arguments are from_hf's.
_HF = {
    "_get_constant_lambda": "constant",
    "_get_constant_schedule_with_warmup_lr_lambda": "constant_with_warmup",
    "_get_linear_schedule_with_warmup_lr_lambda": "linear",
    "_get_cosine_schedule_with_warmup_lr_lambda": "cosine",
    "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda": "cosine_with_restarts",
    "_get_polynomial_decay_schedule_with_warmup_lr_lambda": "polynomial",
    "_get_inverse_sqrt_schedule_lr_lambda": "inverse_sqrt",
    "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda": "cosine_warmup_with_min_lr",
    "_get_wsd_scheduler_lambda": "warmup_stable_decay",
}


def _hf_lambda(s: Any, i: int) -> tuple[str, dict[str, Any]] | None:
    """``(get_scheduler type, keyword arguments)`` of a transformers lr_lambda, else None."""
    lambdas = getattr(s, "lr_lambdas", [])
    if not 0 <= i < len(lambdas):
        return None
    fn: Any = lambdas[i]
    kw: dict[str, Any] = {}
    if isinstance(fn, functools.partial) and not fn.args:
        kw = dict(fn.keywords)
        fn = fn.func
    if getattr(fn, "__module__", None) != "transformers.optimization":
        return None
    name = _HF.get(getattr(fn, "__name__", ""))
    if name == "cosine" and "min_lr_rate" in kw:
        name = "cosine_with_min_lr"
    return None if name is None else (name, kw)


def _lambda(s: Any, i: int, h: str) -> Schedule:
    from ._hf import from_hf

    found = _hf_lambda(s, i)
    assert found is not None
    name, kw = found
    b = _base(s, i)
    w, total = kw.pop("num_warmup_steps", None), kw.pop("num_training_steps", None)
    if name == "polynomial":  # its lambda is the decayed value divided by the optimizer's lr
        lr_init = float(kw.pop("lr_init"))
        hf = from_hf(name, w, total, base_lr=lr_init, **kw)
        return hf if lr_init == b else hf * (b / lr_init)
    return from_hf(name, w, total, base_lr=b, **kw)


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
    if h == "momentum":  # the mirror image: max_momentum down to base_momentum and back
        top, bottom = float(group["max_momentum"]), float(group["base_momentum"])
        if top == bottom:
            return constant(top)
        if not (top > 0 and bottom > 0):
            raise ScheduleError(f"from_torch: OneCycleLR with base_momentum={bottom:g} or "
                                f"max_momentum={top:g} of 0 cannot be read; use lrkit.one_cycle "
                                "with a finite div_factor for the momentum")
        peak, div, final_div = bottom, bottom / top, 1.0
    s1 = one_cycle(peak, over, pct_start=u / over, div_factor=div, final_div_factor=final_div,
                   three_phase=three, shape=shape)
    # One value past the end, as PyTorch extrapolates it (floored at 0: PyTorch's linear
    # extrapolation can go below); PyTorch raises after that.
    return s1.past_end("continue")


def _sequential(s: Any, i: int, h: str) -> Schedule:
    kids = [_read(c, i) for c in s._schedulers]
    if len(kids) == 1:
        return kids[0]
    return sequence(kids, at=list(s._milestones))


_NOT_FACTORS = ("CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts", "SequentialLR")


def _chained(s: Any, i: int, h: str) -> Schedule:
    # Multiplicative (chainable) children multiply their factors around the base value.
    kids = [_read(c, i) for c in s._schedulers]
    if len(kids) == 1:
        return kids[0]
    for c in s._schedulers:
        if type(c).__name__ in _NOT_FACTORS:
            raise ScheduleError(f"from_torch: ChainedScheduler with {type(c).__name__}: it sets "
                                "the value from its own formula instead of multiplying the "
                                "current one, so the chain has no closed form; chain "
                                "multiplicative schedulers only, or put it in a SequentialLR")
    cosines = [j for j, c in enumerate(s._schedulers) if type(c).__name__ == "CosineAnnealingLR"]
    out: Schedule = kids[0]
    b = _base(s._schedulers[0], i)
    for k in kids[1:]:
        out = (out * k) * (1.0 / b) if b else out * k
    return _after_trough(s._schedulers, kids, cosines, out, b)


def _after_trough(chain: list[Any], kids: list[Schedule], cosines: list[int], product: Schedule,
                  b: float) -> Schedule:
    """The chain with a cosine: PyTorch's recursive cosine multiplies by ``c(k)/c(k-1)``, a
    factor, while ``eta_min = 0``; at ``T_max + 1``, after its trough at 0, it restarts from
    the base value, dropping the other factors, so the product holds only where they have
    stopped changing by ``T_max``."""
    if not cosines:
        return product
    if len(cosines) > 1:
        raise ScheduleError("from_torch: ChainedScheduler with several CosineAnnealingLR: each "
                            "restarts from the base value after its trough, so the chain has no "
                            "closed form; chain one cosine, or write it with lrkit")
    c = chain[cosines[0]]
    if c.eta_min != 0:
        raise ScheduleError(f"from_torch: ChainedScheduler with CosineAnnealingLR(eta_min="
                            f"{c.eta_min:g}): PyTorch's recursive cosine moves the distance to "
                            "eta_min, not the value, so the other factors do not multiply it "
                            "and the chain has no closed form; use eta_min=0 (then it is a "
                            "product), or write the schedule with lrkit, e.g. "
                            "lrkit.cosine(lr, eta_min, T_max) * (other factor)")
    t = int(c.T_max)
    moving = [type(o).__name__ for j, o in enumerate(chain) if j != cosines[0]
              and not _settled(o, t)]
    if moving:
        raise ScheduleError(f"from_torch: ChainedScheduler with CosineAnnealingLR(T_max={t}) and "
                            f"{', '.join(moving)}, which still change after step {t}: PyTorch "
                            f"restarts the cosine from the base value at step {t + 1}, dropping "
                            "the factors up to then, so the chain has no closed form; give the "
                            f"other schedulers an end at or before step {t}, or write the "
                            "schedule with lrkit")
    rest = [k(t + 1) / b for j, k in enumerate(kids) if j != cosines[0]] if b else []
    if all(f == 1.0 for f in rest):  # the factors end at 1: the product holds past the trough
        return product
    return sequence([product, kids[cosines[0]].skip(t + 1)], at=[t + 1])


def _settled(s: Any, t: int) -> bool:
    """Whether a multiplicative PyTorch scheduler keeps its factor from step ``t`` on."""
    name = type(s).__name__
    if name in ("StepLR", "ExponentialLR"):
        return bool(s.gamma == 1)
    if name == "MultiStepLR":
        return max(s.milestones.elements(), default=0) <= t or s.gamma == 1
    return name in ("ConstantLR", "LinearLR", "PolynomialLR") and s.total_iters <= t


def _swa(s: Any, i: int, h: str) -> Schedule:
    """SWALR: from the value it takes over to ``swa_lr`` in ``anneal_epochs`` of its own
    steps. PyTorch recovers the start from the current value at every step; the start is the
    group's value where SWALR has not stepped yet, and is recovered the same way after."""
    g = s.optimizer.param_groups[i]
    swa, n, done = float(g["swa_lr"]), int(s.anneal_epochs), s._step_count - 1
    held = s.last_epoch - done  # built with last_epoch >= 0: its anneal starts there
    if held > 0:
        later = _swa(_Counted(s), i, h)
        return constant(later(0), over=held) >> later
    now = float(g["lr"])
    alpha = _swa_alpha(s, done / max(1, n))
    if n == 0 or alpha == 1:  # no anneal (or it is over): swa_lr from the next step on
        return constant(swa) if now == swa else constant(now, over=done + 1) >> constant(swa)
    start = (now - alpha * swa) / (1 - alpha)
    shape = cosine if s._anneal_strategy == "cos" else linear
    return shape(start, swa, n)


class _Counted:
    """A SWALR seen from its own step counter (as one built with last_epoch=-1)."""

    def __init__(self, s: Any) -> None:
        self.__dict__.update(s.__dict__)
        self.last_epoch = s._step_count - 1


def _swa_alpha(s: Any, t: float) -> float:
    return float(s.anneal_func(max(0.0, min(1.0, t))))


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
    "ReduceLROnPlateau": _plateau, "SWALR": _swa,
}
