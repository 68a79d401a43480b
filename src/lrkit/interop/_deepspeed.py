"""``from_deepspeed``: the ``"scheduler"`` block of a DeepSpeed config (``ds_config.json``) as
an lrkit schedule.

It reads DeepSpeed's own types (``deepspeed.runtime.lr_schedules``: ``WarmupLR``,
``WarmupDecayLR``, ``WarmupCosineLR``, ``OneCycle``, ``LRRangeTest``) with their constructors'
defaults, and gives at update ``k`` the LR the engine applies there. The engine builds the
scheduler before the first update (its constructor writes the first LR) and calls ``step()``
after each one, so update ``k`` sees ``last_batch_iteration = k - 1``. Conventions reproduced:

- ``WarmupLR``/``WarmupDecayLR``: the first update gets ``warmup_min_lr`` and so does the
  second (``log(1) = 0``, ``0 / W``); the warmup lasts ``max(2, warmup_num_steps)`` steps and
  reaches the peak at update ``W + 1``; the ``log`` warmup ``log(k) / log(W)`` is a table of
  its ``W`` values (lrkit has no logarithmic shape), so ``W`` is at most 100,000;
- ``WarmupDecayLR`` falls linearly to ``warmup_min_lr`` at update ``total_num_steps + 1``;
- ``WarmupCosineLR`` multiplies the optimizer's LR (``optimizer.params.lr``): the first update
  gets 0, and the cosine's first value (its progress 0) is never applied;
- ``OneCycle`` rises from ``cycle_min_lr`` and falls back in whole steps, its stairs are
  DeepSpeed's integer stairs (the fall drops a stair right after the peak), then
  ``cycle_min_lr / (1 + decay_lr_rate · k / decay_step_size)``; ``hyperparam="momentum"``
  gives its beta1 cycle (update 0 gets ``cycle_min_mom``, as the constructor writes it);
- ``LRRangeTest`` grows without end, so it needs ``total_steps`` (the length of the test) and
  holds its value after it.

Hugging Face's ``"auto"`` is resolved for ``total_num_steps`` (from ``total_steps``) and
refused elsewhere, saying what the Trainer fills in. Nothing here imports DeepSpeed.

What does not live here: the shapes and combinators the schedules are built from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, inverse_time, linear, piecewise
from ..config import load_file
from ..errors import ConfigError, ScheduleError, show
from ._read import REQUIRED, field

__all__ = ["from_deepspeed"]

_MAX_TABLE = 100_000  # values of a log warmup or a staircase, one per step at most
_MAX_STEPS = 2**53  # lengths in steps: whole floats up to here, as DeepSpeed computes with them
_FROM_OPTIMIZER: Any = object()  # WarmupLR's warmup_max_lr=None: the optimizer's LR
_WARMUP = ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type")
_PARAMS: dict[str, tuple[str, ...]] = {
    "WarmupLR": _WARMUP,
    "WarmupDecayLR": ("total_num_steps", *_WARMUP),
    "WarmupCosineLR": ("total_num_steps", "warmup_min_ratio", "warmup_num_steps",
                       "cos_min_ratio", "warmup_type"),
    "OneCycle": ("cycle_min_lr", "cycle_max_lr", "decay_lr_rate", "cycle_first_step_size",
                 "cycle_second_step_size", "cycle_first_stair_count",
                 "cycle_second_stair_count", "decay_step_size", "cycle_momentum",
                 "cycle_min_mom", "cycle_max_mom", "decay_mom_rate"),
    "LRRangeTest": ("lr_range_test_min_lr", "lr_range_test_step_size",
                    "lr_range_test_step_rate", "lr_range_test_staircase"),
}
# DeepSpeed builds torch.optim.lr_scheduler.<type> for a type that is not its own.
_TORCH = ("LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
          "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
          "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
          "PolynomialLR")
# What Hugging Face's Trainer writes for "auto" (transformers/integrations/deepspeed.py,
# trainer_config_process and trainer_config_finalize).
_HF_FILLS = {
    "warmup_min_lr": "0 (fill_only, not a Trainer argument); write 0",
    "warmup_max_lr": "TrainingArguments.learning_rate (--learning_rate, 5e-5 by default); "
                     "write that number",
    "warmup_num_steps": "max(1, warmup_steps), warmup_steps being --warmup_steps, or "
                        "ceil(--warmup_ratio x the run's updates); write that number",
    "lr": "TrainingArguments.learning_rate (--learning_rate, 5e-5 by default); write that "
          "number in optimizer.params.lr",
}


def from_deepspeed(config: Mapping[str, Any] | str | Path, *, total_steps: int | None = None,
                   hyperparam: str = "lr") -> Schedule:
    """The schedule DeepSpeed's engine applies for the ``"scheduler"`` block of ``config``.

    Args:
      config: a DeepSpeed config mapping, or the path of its JSON file.
      total_steps: the run's number of optimizer updates: resolves ``total_num_steps: "auto"``
        (what Hugging Face's Trainer fills in), and is the length of an ``LRRangeTest``.
      hyperparam: ``"lr"``, or ``"momentum"`` (also ``"betas[0]"``) for ``OneCycle``'s beta1
        cycle, which DeepSpeed writes only to optimizers with ``betas``.

    Returns:
      The value of update ``k`` (0-based) at ``s(k)``.

    >>> s = from_deepspeed({"scheduler": {"type": "WarmupLR", "params": {
    ...     "warmup_min_lr": 0, "warmup_max_lr": 0.1, "warmup_num_steps": 4,
    ...     "warmup_type": "linear"}}})
    >>> [round(s(k), 4) for k in range(7)]
    [0.0, 0.0, 0.025, 0.05, 0.075, 0.1, 0.1]
    """
    source = ""
    if isinstance(config, (str, Path)):
        data, source = load_file(config), Path(config).name
    else:
        data = config
    pre = f"{source}: " if source else ""
    if not isinstance(data, Mapping):
        raise ConfigError(source, f"expected a DeepSpeed config mapping, got {show(data)}")
    if hyperparam not in ("lr", "momentum", "betas[0]"):
        raise ScheduleError(f"from_deepspeed: 'hyperparam' must be 'lr' or 'momentum', got "
                            f"{show(hyperparam)}")
    if total_steps is not None and (isinstance(total_steps, bool) or not isinstance(
            total_steps, int) or not 0 < total_steps <= _MAX_STEPS):
        raise ScheduleError(f"from_deepspeed: 'total_steps' must be a whole number of updates "
                            f"> 0 (at most 2**53), got {show(total_steps)}")
    name, params = _block(data, pre)
    params = _resolve_total(params, total_steps, pre)
    where = f"{pre}scheduler.params"
    try:
        if hyperparam != "lr":
            if name != "OneCycle":
                raise ScheduleError(f"{name} schedules only the LR; hyperparam='momentum' is "
                                    "OneCycle's")
            _one_cycle(params, momentum=False)  # DeepSpeed needs a valid LR cycle too
            return _one_cycle(params, momentum=True)
        if name == "LRRangeTest":
            return _range_test(params, total_steps)
        if name == "OneCycle":
            return _one_cycle(params, momentum=False)
        return _warmups(name, params, lambda: _optimizer_lr(data, name, pre))
    except ConfigError as e:
        if e.where.startswith(pre + "optimizer."):
            raise
        raise ConfigError(f"{where}.{e.where}", e.message) from None
    except ScheduleError as e:
        raise ConfigError(f"{pre}scheduler", str(e)) from None


def _block(data: Mapping[str, Any], pre: str) -> tuple[str, dict[str, Any]]:
    """The scheduler's type and params, every key checked against the constructor's."""
    sched = data.get("scheduler")
    if sched is None:
        raise ConfigError(f"{pre}scheduler", "is missing: without it DeepSpeed keeps the "
                          "optimizer's LR, and Hugging Face's Trainer builds its own scheduler "
                          "(read that with lrkit.from_hf)")
    if not isinstance(sched, Mapping):
        raise ConfigError(f"{pre}scheduler", f"must be a mapping {{\"type\": ..., \"params\": "
                          f"{{...}}}}, got {show(sched)}")
    name = sched.get("type")
    if name in _TORCH:
        raise ConfigError(f"{pre}scheduler.type", f"{name!r} is PyTorch's: DeepSpeed builds "
                          f"torch.optim.lr_scheduler.{name}(optimizer, **params); build it "
                          "yourself and read it with lrkit.from_torch")
    if not isinstance(name, str) or name not in _PARAMS:
        raise ConfigError(f"{pre}scheduler.type", f"must be one of DeepSpeed's "
                          f"{', '.join(_PARAMS)}, got {show(name)}")
    params = sched.get("params")
    if not isinstance(params, Mapping):
        raise ConfigError(f"{pre}scheduler.params", f"must be a mapping of {name}'s arguments "
                          f"(DeepSpeed calls {name}(optimizer, **params)), got {show(params)}")
    for key, v in params.items():
        if key == "last_batch_iteration":
            if v != -1 or isinstance(v, bool):
                raise ConfigError(f"{pre}scheduler.params.{key}", f"must be -1 (a run from "
                                  f"the start; a resumed run restores it from its checkpoint), "
                                  f"got {show(v)}")
        elif key not in _PARAMS[name]:
            raise ConfigError(f"{pre}scheduler.params.{show(key)}", f"is not an argument of "
                              f"{name} (DeepSpeed raises TypeError); its arguments are "
                              f"{', '.join(_PARAMS[name])}")
        elif v == "auto" and key != "total_num_steps":
            fill = _HF_FILLS.get(key, "nothing: the Trainer does not fill it, and DeepSpeed "
                                 "fails on the string; write a number")
            raise ConfigError(f"{pre}scheduler.params.{key}", f"is 'auto', which Hugging "
                              f"Face's Trainer replaces with {fill}")
        elif isinstance(v, (list, tuple)):
            raise ConfigError(f"{pre}scheduler.params.{key}", f"is a list (one value per "
                              f"param group); lrkit reads one schedule: give one number, or "
                              f"one config per group, got {show(v)}")
    return name, {k: v for k, v in params.items() if k != "last_batch_iteration"}


def _resolve_total(params: dict[str, Any], total_steps: int | None,
                   pre: str) -> dict[str, Any]:
    v = params.get("total_num_steps")
    where = f"{pre}scheduler.params.total_num_steps"
    if v == "auto":
        if total_steps is None:
            raise ConfigError(where, "is 'auto', which Hugging Face's Trainer fills with the "
                              "run's number of updates (num_training_steps); pass "
                              "total_steps=<updates>")
        return {**params, "total_num_steps": total_steps}
    if total_steps is not None and v is not None and v != total_steps:
        raise ConfigError(where, f"is {show(v)} but total_steps={total_steps}; Hugging Face's "
                          "Trainer refuses such a mismatch too: make them agree, or drop "
                          "total_steps")
    return params


def _optimizer_lr(data: Mapping[str, Any], name: str, pre: str) -> float:
    """``optimizer.params.lr``, the LR of the optimizer the scheduler is built on."""
    where = f"{pre}optimizer.params.lr"
    opt = data.get("optimizer")
    params = opt.get("params") if isinstance(opt, Mapping) else None
    lr = params.get("lr") if isinstance(params, Mapping) else None
    need = ("scales the optimizer's LR by its ratios" if name == "WarmupCosineLR" else
            "without warmup_max_lr warms up to the optimizer's LR")
    if lr is None:
        raise ConfigError(where, f"is required: {name} {need}; write the lr of the optimizer "
                          f"DeepSpeed steps" + ("" if name == "WarmupCosineLR" else
                                                ", or set scheduler.params.warmup_max_lr"))
    if lr == "auto":
        raise ConfigError(where, f"is 'auto', which Hugging Face's Trainer replaces with "
                          f"{_HF_FILLS['lr']}")
    v = field({"lr": lr}, "lr", REQUIRED, "number")
    if v < 0:
        raise ConfigError(where, f"must be >= 0, got {show(lr)}")
    return float(v)


def _get(p: Mapping[str, Any], key: str, default: Any, kind: str, lo: float | None = 0.0) -> Any:
    """``field`` with DeepSpeed's null: an explicit null reaches the constructor as None, which
    fails (the few arguments where None means something read it themselves)."""
    if key in p and p[key] is None:
        raise ConfigError(key, "is null, which DeepSpeed passes on as None and fails on; "
                          "remove it for the default" + (
                              f" ({default})" if default is not REQUIRED else ""))
    v = field(p, key, default, kind)
    if lo is not None and v < lo:
        raise ConfigError(key, f"must be >= {lo:g}, got {show(p[key])}")
    if kind == "number" and abs(v) > 1e300:
        raise ConfigError(key, f"must be at most 1e300 (lrkit's largest value), got "
                          f"{show(p[key])}")
    if (kind == "count" or key == "decay_step_size") and v > _MAX_STEPS:
        raise ConfigError(key, f"must be at most 2**53 steps, got {show(p[key])}")
    return v


def _warmup_steps(p: Mapping[str, Any]) -> int:
    """``max(2, warmup_num_steps)``; DeepSpeed refuses anything but an int > 0."""
    v = p.get("warmup_num_steps", 1000)
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= _MAX_STEPS:
        raise ConfigError("warmup_num_steps", f"must be a whole number > 0 written as an "
                          f"integer (DeepSpeed raises ValueError otherwise), at most 2**53, "
                          f"got {show(v)}")
    if v > _MAX_TABLE and p.get("warmup_type", "log") == "log":
        raise ConfigError("warmup_num_steps", f"with the 'log' warmup is at most "
                          f"{_MAX_TABLE:,} steps (lrkit tabulates the logarithm), got {v:,}")
    return max(2, v)


def _warmup_type(p: Mapping[str, Any]) -> str:
    t = p.get("warmup_type", "log")
    if t not in ("log", "linear"):
        raise ConfigError("warmup_type", f"must be 'log' or 'linear' (DeepSpeed falls back "
                          f"to 'log' with a warning), got {show(t)}")
    return str(t)


def _warmup(w: int, kind: str, at: Callable[[float], float], lo: float,
            hi: float) -> Schedule:
    """Updates 0..W: ``at(gamma)`` where update ``k`` has gamma ``log(k)/log(W)`` or
    ``(k - 1)/W`` (``lo`` at update 0, as the constructor writes it); ``hi`` from ``W + 1``."""
    if kind == "linear":
        return sequence([constant(lo, over=1), linear(lo, hi, w)])
    inv = 1.0 / math.log(w)  # DeepSpeed's inverse_log_warm_up, and its arithmetic below
    values = [lo] + [at(inv * math.log(k)) for k in range(2, w + 1)] + [hi]
    return piecewise(values, list(range(2, w + 2)))


def _warmups(name: str, p: Mapping[str, Any], opt_lr: Callable[[], float]) -> Schedule:
    w, kind = _warmup_steps(p), _warmup_type(p)
    if name == "WarmupCosineLR":
        return _warmup_cosine(p, w, kind, opt_lr)
    lo = _get(p, "warmup_min_lr", 0.0, "number")
    if name == "WarmupDecayLR":
        hi = _get(p, "warmup_max_lr", 0.001, "number")
    elif p.get("warmup_max_lr") is None:  # WarmupLR: the optimizer's own LR
        hi = opt_lr()
    else:
        hi = _get(p, "warmup_max_lr", REQUIRED, "number")
    delta = hi - lo
    ramp = _warmup(w, kind, lambda g: lo + delta * g, lo, hi)
    if name == "WarmupLR":
        return ramp
    total = _get(p, "total_num_steps", REQUIRED, "count")
    rest = total - w  # gamma = (total - i) / max(1, total - W) after the warmup
    return sequence([ramp, linear(hi, lo, rest) if rest > 0 else constant(lo)], at=[w + 1])


def _warmup_cosine(p: Mapping[str, Any], w: int, kind: str,
                   opt_lr: Callable[[], float]) -> Schedule:
    total = _get(p, "total_num_steps", REQUIRED, "count")
    wmr = _get(p, "warmup_min_ratio", 0.0, "number")
    cmr = _get(p, "cos_min_ratio", 0.0001, "number", lo=None)
    lr = opt_lr()
    rest = max(1, total - w)
    # DeepSpeed: max(0, cmr + (1 - cmr)·c), c the cosine's ½(1 + cos πp); a negative cmr is a
    # taller cosine to 0 less an offset, floored at 0
    tail = (cosine(lr, lr * cmr, rest) if cmr >= 0 else
            cosine(lr * (1.0 - cmr), 0.0, rest) - lr * -cmr).skip(1)
    # update 0 gets 0 (the constructor's ratio before the start), then lr · ratio(k - 1)
    ramp = (linear(lr * wmr, lr, w) if kind == "linear" else
            _warmup(w, kind, lambda g: lr * (wmr + g * (1.0 - wmr)), lr * wmr, lr).skip(1))
    return sequence([constant(0.0, over=1), ramp, tail], at=[1, w + 1])


def _stairs(value: Callable[[int], float], n: int, count: int, rising: bool) -> Schedule:
    """DeepSpeed's half cycle of ``n`` steps in ``count`` stairs: local step ``m`` has stair
    ``m·count // n`` rising, ``(n - m)·count // n`` falling (its integer offset, as DeepSpeed
    quantises it), and the value ``value(stair)``."""
    def stair(m: int) -> int:
        return (m if rising else n - m) * count // n

    if count >= n:
        cuts = list(range(1, n + 1))
    elif rising:
        cuts = sorted({-(-j * n // count) for j in range(1, count + 1)})
    else:
        cuts = sorted({n + 1 - -(-j * n // count) for j in range(1, count + 1)})
    values, at = [value(stair(0))], []
    for c in cuts:
        if c <= n and value(stair(c)) != values[-1]:
            values.append(value(stair(c)))
            at.append(c)
    return piecewise(values, at) if at else constant(values[0])


def _stair_count(p: Mapping[str, Any], key: str, default: Any) -> int:
    v = p.get(key)
    if v is None and key in p and key == "cycle_first_stair_count":
        raise ConfigError(key, "is null, which DeepSpeed compares with 0 and fails on; remove "
                          "it for the default (0: no stairs)")
    if v is None:
        v = default
    c = field({key: v}, key, 0, "number")
    if not float(c).is_integer():
        raise ConfigError(key, f"must be a whole number of stairs (0 or less: none), got "
                          f"{show(v)}")
    if c > _MAX_TABLE:
        raise ConfigError(key, f"is at most {_MAX_TABLE:,} stairs, got {show(v)}")
    return max(int(c), 0)


def _one_cycle(p: Mapping[str, Any], momentum: bool) -> Schedule:
    first = _get(p, "cycle_first_step_size", 2000, "count")
    if first <= 0:
        raise ConfigError("cycle_first_step_size", "must be > 0 (DeepSpeed raises "
                          "ValueError), got 0")
    second = (first if p.get("cycle_second_step_size") is None else
              _get(p, "cycle_second_step_size", first, "count"))
    sc1 = _stair_count(p, "cycle_first_stair_count", 0)
    sc2 = _stair_count(p, "cycle_second_stair_count", p.get("cycle_first_stair_count", 0))
    for size, count, key in ((first, sc1, "cycle_first_stair_count"),
                             (second, sc2, "cycle_second_stair_count")):
        if size * count > _MAX_STEPS:
            raise ConfigError(key, f"x its half cycle's steps must be at most 2**53 (DeepSpeed "
                              f"places the stairs in floating point), got {count} x {size}")
    decay_every = _get(p, "decay_step_size", 0, "number")
    if momentum:
        cycling = p.get("cycle_momentum", True)
        if cycling is not True:
            raise ConfigError("cycle_momentum", f"is {show(cycling)}: OneCycle then leaves "
                              "the momentum alone; there is no momentum schedule to read")
        lo = _get(p, "cycle_min_mom", 0.8, "number")
        hi = _get(p, "cycle_max_mom", 0.9, "number")
        rate = _get(p, "decay_mom_rate", 0.0, "number", lo=None)
        if rate != 0 and decay_every != 0:
            raise ConfigError("decay_mom_rate", f"multiplies beta1 by (1 + rate · steps / "
                              f"decay_step_size) after the cycle, which leaves [0, 1) without "
                              f"end; lrkit reads it only as 0, got {show(p['decay_mom_rate'])}")
        delta = hi - lo
        cycle = _cycle(lambda s: hi - delta * s, first, second, sc1, sc2)
        # the constructor writes cycle_min_mom for update 0; the formula gives hi there
        return sequence([constant(lo, over=1), cycle.skip(1), constant(hi)],
                        at=[1, first + second])
    _check_type(p, "cycle_momentum", bool)
    lo = _get(p, "cycle_min_lr", REQUIRED, "number")
    hi = _get(p, "cycle_max_lr", REQUIRED, "number")
    rate = _get(p, "decay_lr_rate", 0.0, "number")
    delta = hi - lo
    cycle = _cycle(lambda s: lo + delta * s, first, second, sc1, sc2)
    tail = constant(lo) if rate == 0 or decay_every == 0 else inverse_time(lo, rate,
                                                                           decay_every)
    return sequence([cycle, tail], at=[first + second])


def _cycle(value: Callable[[float], float], first: int, second: int, sc1: int,
           sc2: int) -> Schedule:
    """The rise over ``first`` steps and the fall over ``second``, of ``value(scale)``."""
    up = (_stairs(lambda j: value(j / sc1), first, sc1, True) if sc1 else
          linear(value(0.0), value(1.0), first))
    if not second:
        return up
    down = (_stairs(lambda j: value(j / sc2), second, sc2, False) if sc2 else
            linear(value(1.0), value(0.0), second))
    return sequence([up, down], at=[first])


def _check_type(p: Mapping[str, Any], key: str, kind: type) -> None:
    if key in p and not isinstance(p[key], kind):
        raise ConfigError(key, f"must be true or false, got {show(p[key])}")


def _range_test(p: Mapping[str, Any], total_steps: int | None) -> Schedule:
    lo = _get(p, "lr_range_test_min_lr", 1e-3, "number")
    every = p.get("lr_range_test_step_size", 2000)
    if isinstance(every, bool) or not isinstance(every, int) or not 0 < every <= _MAX_STEPS:
        raise ConfigError("lr_range_test_step_size", f"must be a whole number > 0 written as "
                          f"an integer (DeepSpeed raises ValueError otherwise), at most 2**53, "
                          f"got {show(every)}")
    rate = _get(p, "lr_range_test_step_rate", 1.0, "number")
    _check_type(p, "lr_range_test_staircase", bool)
    stairs = p.get("lr_range_test_staircase", False)
    if total_steps is None:
        raise ScheduleError("LRRangeTest raises the LR without end: lo · (1 + step_rate · k / "
                            "step_size); pass total_steps=<updates of the test> and lrkit "
                            "holds the last value after it")
    if rate == 0 or lo == 0:
        return constant(lo)
    # lo · (1 + rate · k / every), with floor(k / every) when staircase; held after the stair
    # (or step) total_steps is on
    over = total_steps // every * every if stairs else total_steps
    if over == 0:
        return constant(lo)
    s = linear(lo, lo * (1.0 + rate * (over / every)), over)
    return s.stepped(every) if stairs else s
