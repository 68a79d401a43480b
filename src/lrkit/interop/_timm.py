"""``from_timm``: the schedules of ``timm.scheduler.create_scheduler_v2`` as lrkit schedules.

The schedule's step is timm's ``t``: the epoch (``step_on_epochs=True``, the default) or the
optimizer update; with ``step_on_epochs=True`` and ``updates_per_epoch > 0`` it is the update,
the value changing once per epoch. The value at each step is the one timm's training loop
applies: the LR set at construction for step 0 (timm never calls ``step(0)``), then
``_get_lr(t)`` plus the noise timm draws for ``t``.

Conventions reproduced: a warmup from ``warmup_lr`` that overlaps the schedule
(``warmup_prefix=False``: ``ramp >> schedule.skip(W)``; tanh ramps to its value at ``W``), a
multistep milestone ``m`` taking effect at ``m - 1``, cycles whose peak (not distance from
``min_lr``) decays by ``cycle_decay`` with the cycle index from timm's floating-point logarithm,
``k_decay``, and noise from ``torch.Generator().manual_seed(noise_seed + t)``. Nothing here
imports timm; torch only when noise is asked for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .._combine import plateau, restarts, warmup
from .._schedule import Schedule, sequence
from .._shapes import (
    constant,
    cosine,
    inverse_sqrt,
    linear,
    multistep,
    one_minus_sqrt,
    piecewise,
    polynomial,
    step,
    tanh,
)
from ..errors import ConfigError, ScheduleError, show

__all__ = ["from_timm"]

_SCHEDS = ("cosine", "tanh", "step", "constant", "multistep", "plateau", "poly", "wsd", "rsqrt",
           "none")
_DEFAULTS: dict[str, Any] = dict(
    sched="cosine", num_epochs=300, decay_epochs=None, decay_milestones=(90, 180, 270),
    cooldown_epochs=0, patience_epochs=10, decay_rate=0.1, min_lr=0.0, warmup_lr=1e-5,
    warmup_epochs=0, warmup_prefix=False, noise=None, noise_pct=0.67, noise_std=1.0,
    noise_seed=42, cycle_mul=1.0, cycle_decay=0.1, cycle_limit=1, k_decay=1.0, decay_fn=None,
    stable_timescale=None, plateau_mode="max", step_on_epochs=True, updates_per_epoch=0)
_WSD_DECAYS = {"linear": linear, "1-sqrt": one_minus_sqrt, "cosine": cosine}
_MAX_DRAWS = 1_000_000  # ~10 s; timm's per-update MobileNetV3 recipe draws 360,000
_OPTIONAL = {"decay_epochs": "number", "noise": "noise", "decay_fn": "str",
             "stable_timescale": "number"}


def _kind(name: str) -> str:
    d = _DEFAULTS[name]
    if name in _OPTIONAL:
        return _OPTIONAL[name]
    return "bool" if isinstance(d, bool) else "number" if isinstance(d, (int, float)) else \
        "numbers" if isinstance(d, tuple) else "str"


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fits(v: Any, kind: str) -> bool:
    if kind == "bool":
        return isinstance(v, bool)
    if kind == "number":
        return _is_number(v)
    if kind == "str":
        return isinstance(v, str)
    numbers = isinstance(v, (list, tuple)) and all(map(_is_number, v))
    if kind == "numbers":
        return numbers
    return _is_number(v) or numbers and 1 <= len(v) <= 2  # noise


def _check_types(base_lr: Any, kwargs: dict[str, Any]) -> None:
    """Each argument of the type create_scheduler_v2 reads it as (its default's), before any
    arithmetic on it."""
    if not _is_number(base_lr) or base_lr < 0:
        raise ScheduleError(f"from_timm: 'base_lr' must be a finite number >= 0, got "
                            f"{show(base_lr)}")
    for name, v in kwargs.items():
        kind = _kind(name)
        if v is None and name in _OPTIONAL:
            continue
        ok = _fits(v, kind)
        if not ok:
            what = {"bool": "True or False", "number": "a finite number", "str": "a string",
                    "numbers": "a list of finite numbers",
                    "noise": "a number or a list of one or two numbers"}[kind]
            raise ScheduleError(f"from_timm: {name!r} must be {what}, got {show(v)}")


def from_timm(base_lr: float, **kwargs: Any) -> Schedule:
    """The schedule ``timm.scheduler.create_scheduler_v2(optimizer, **kwargs)`` applies to an
    optimizer whose LR is ``base_lr``.

    ``kwargs`` are ``create_scheduler_v2``'s, with its defaults (``sched="cosine"``,
    ``num_epochs=300``, ``warmup_lr=1e-5``, ``cycle_decay=0.1``, ``step_on_epochs=True``, …).
    The step of the result is timm's ``t`` (an epoch, or an update with
    ``step_on_epochs=False``); pass ``updates_per_epoch`` with per-epoch stepping to get a
    schedule in updates that changes once per epoch.

    ``sched="plateau"`` gives an ``lrkit.plateau``; timm ignores the metric during its warmup,
    so feed ``observe`` from the end of epoch ``warmup_epochs`` on. Noise with an open range
    (``noise=<fraction>``) is drawn up to the end of the run ``create_scheduler_v2`` reports.

    ``from_timm(scheduler, group=0)`` reads a timm scheduler instance instead (``Cosine``,
    ``Tanh``, ``Step``, ``MultiStep``, ``Poly`` or ``PlateauLRScheduler``; its ``lr_scale``
    included): the step is the ``t`` it is stepped with, the value at 0 the one it set when built.
    """
    if type(base_lr).__module__.startswith("timm.scheduler"):
        return _from_scheduler(base_lr, **kwargs)
    unknown = sorted(set(kwargs) - set(_DEFAULTS))
    if unknown:
        raise ScheduleError(f"from_timm: unknown argument(s) {', '.join(unknown)}; "
                            f"create_scheduler_v2 takes {', '.join(_DEFAULTS)}")
    _check_types(base_lr, kwargs)
    return _build(float(base_lr), {**_DEFAULTS, **kwargs})


# timm's train.py arguments (the args.yaml it saves) -> create_scheduler_v2's, with the defaults
# timm.scheduler.scheduler_kwargs gives absent ones (not create_scheduler_v2's own).
_TRAIN_ARGS = {"epochs": ("num_epochs", 100), "decay_epochs": ("decay_epochs", 30),
               "decay_milestones": ("decay_milestones", [30, 60]),
               "warmup_epochs": ("warmup_epochs", 5), "cooldown_epochs": ("cooldown_epochs", 0),
               "patience_epochs": ("patience_epochs", 10), "decay_rate": ("decay_rate", 0.1),
               "min_lr": ("min_lr", 0.0), "warmup_lr": ("warmup_lr", 1e-5),
               "warmup_prefix": ("warmup_prefix", False), "lr_noise": ("noise", None),
               "lr_noise_pct": ("noise_pct", 0.67), "lr_noise_std": ("noise_std", 1.0),
               "seed": ("noise_seed", 42), "lr_cycle_mul": ("cycle_mul", 1.0),
               "lr_cycle_decay": ("cycle_decay", 0.1), "lr_cycle_limit": ("cycle_limit", 1),
               "lr_k_decay": ("k_decay", 1.0), "lr_decay_fn": ("decay_fn", None),
               "lr_stable_timescale": ("stable_timescale", None)}


def from_train_args(args: Mapping[str, Any], lr: float | None = None,
                    updates_per_epoch: int = 0) -> Schedule:
    """The schedule timm's ``train.py`` builds from its arguments (the ``args.yaml`` it saves
    beside a run: ``sched``, ``epochs``, ``warmup_epochs``, ``lr_noise``, ``sched_on_updates``,
    …), as ``create_scheduler(args, optimizer, updates_per_epoch)`` does. ``lr`` overrides
    ``args["lr"]``, which train.py leaves null when it derives the LR from ``lr_base`` and the
    global batch size."""
    if not isinstance(args.get("sched"), str):
        raise ConfigError("sched", f"timm's train.py arguments name the scheduler in 'sched', "
                          f"got {show(args.get('sched'))}")
    lr = args.get("lr") if lr is None else lr
    if lr is None:
        raise ConfigError("lr", "is null: timm's train.py derives it from lr_base and the "
                          "global batch size (batch_size x GPUs x grad_accum_steps / "
                          "lr_base_size); give the LR the run used (lrkit: --lr)")
    kw = {name: args.get(arg, default) for arg, (name, default) in _TRAIN_ARGS.items()}
    metric = args.get("eval_metric", "top1")
    kw["plateau_mode"] = "min" if isinstance(metric, str) and "loss" in metric else "max"
    kw["step_on_epochs"] = not args.get("sched_on_updates", False)
    return from_timm(lr, sched=args["sched"], updates_per_epoch=updates_per_epoch, **kw)


# A timm scheduler instance as create_scheduler_v2's arguments: its class gives ``sched`` and
# its attributes the rest (``t`` counts what the instance is stepped with, epochs or updates).
_CLASSES = {"CosineLRScheduler": "cosine", "TanhLRScheduler": "tanh", "StepLRScheduler": "step",
            "MultiStepLRScheduler": "multistep", "PolyLRScheduler": "poly",
            "PlateauLRScheduler": "plateau"}
_ATTRS = {"t_initial": "num_epochs", "warmup_t": "warmup_epochs", "warmup_lr_init": "warmup_lr",
          "warmup_prefix": "warmup_prefix", "lr_min": "min_lr", "cycle_mul": "cycle_mul",
          "cycle_decay": "cycle_decay", "cycle_limit": "cycle_limit", "k_decay": "k_decay",
          "decay_rate": "decay_rate", "power": "decay_rate", "noise_pct": "noise_pct",
          "noise_std": "noise_std", "noise_seed": "noise_seed", "lb": "lb", "ub": "ub"}


def _from_scheduler(sched: Any, group: int = 0, **kwargs: Any) -> Schedule:
    """``from_timm(scheduler, group=0)``: a timm scheduler instance, its step being the ``t``
    the instance is stepped with (``step(epoch)``, or ``step_update(num_updates)`` with
    ``t_in_epochs=False``)."""
    name = type(sched).__name__
    kind = _CLASSES.get(name)
    if kind is None:
        raise ScheduleError(f"from_timm: {name} is not a timm scheduler lrkit reads; known: "
                            f"{', '.join(_CLASSES)}")
    if kwargs:
        raise ScheduleError(f"from_timm: with a scheduler instance, only 'group' is taken, got "
                            f"{', '.join(sorted(kwargs))} (the instance holds its arguments)")
    groups = sched.optimizer.param_groups
    if not 0 <= group < len(groups):
        raise ScheduleError(f"from_timm: no param group {group}; the optimizer has groups "
                            f"0..{len(groups) - 1}")
    a = {**_DEFAULTS, "sched": kind, "warmup_prefix": kind in ("step", "multistep")}
    a.update({key: getattr(sched, attr) for attr, key in _ATTRS.items() if hasattr(sched, attr)})
    if kind == "step":
        a["decay_epochs"] = sched.decay_t
    elif kind == "multistep":
        a["decay_milestones"] = tuple(sched.decay_t)
    elif kind == "plateau":
        p = sched.lr_scheduler
        a.update(decay_rate=p.factor, patience_epochs=p.patience, plateau_mode=p.mode,
                 plateau_threshold=p.threshold, plateau_threshold_mode=p.threshold_mode,
                 plateau_cooldown=p.cooldown, min_lr=float(p.min_lrs[group]), eps=p.eps)
    noise = sched.noise_range_t
    if noise is not None:
        if getattr(sched, "noise_type", "normal") != "normal":
            raise ScheduleError(f"from_timm: {name} with noise_type={sched.noise_type!r}; lrkit "
                                "reproduces timm's 'normal' noise only")
        if not (isinstance(noise, (list, tuple)) and len(noise) == 2):
            raise ScheduleError(f"from_timm: {name} with noise_range_t={noise!r} draws noise for "
                                "ever; give it an end: noise_range_t=(start, end)")
        a["noise_t"] = (float(noise[0]), float(noise[1]))
        a["noise"] = 0.0  # any: noise_t holds the range
    scale = float(groups[group].get("lr_scale", 1.0))  # timm writes value · lr_scale
    if kind == "plateau":  # its reductions then act on the scaled value, its floor does not
        a["lr_scale"] = scale
        return _build(float(sched.base_values[group]), a)
    s = _build(float(sched.base_values[group]), a)
    return s if scale == 1 else s * scale


def _build(b: float, a: dict[str, Any]) -> Schedule:
    """The schedule of create_scheduler_v2's arguments ``a`` (every one present)."""
    sched = a["sched"]
    if sched not in _SCHEDS:
        raise ScheduleError(f"from_timm: unknown sched {sched!r}; timm's schedulers are "
                            f"{', '.join(map(repr, _SCHEDS))}")
    if sched == "none":
        return constant(b)
    upe = int(a["updates_per_epoch"])
    on_epochs = bool(a["step_on_epochs"])
    if not on_epochs and upe <= 0:
        raise ScheduleError("from_timm: step_on_epochs=False requires updates_per_epoch > 0 "
                            "(the number of dataloader batches), as create_scheduler_v2 does")
    scale = 1 if on_epochs else upe
    t_initial = a["num_epochs"] * scale
    w = _whole("warmup_epochs", a["warmup_epochs"] * scale)
    decay_epochs = a["decay_epochs"]
    if decay_epochs is None:
        decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90
    init = float(a["warmup_lr"])

    if sched == "plateau":
        if not on_epochs:
            raise ScheduleError("from_timm: 'plateau' steps per epoch only "
                                "(step_on_epochs=True), as in timm")
        base: Schedule = constant(b) if w == 0 else warmup(constant(b), w, start=init)
        if a["noise"] is not None and a["min_lr"] > 0:
            raise ScheduleError("from_timm: plateau noise with min_lr > 0: timm adds the noise "
                                "after the min_lr floor, lrkit before it; set min_lr=0")
        total = a["num_epochs"] + (a["warmup_epochs"] if a["warmup_prefix"] else 0)
        base = _in_updates(_noisy(base, a, t_initial, w + 1, total), on_epochs, upe)
        if a.get("lr_scale", 1.0) != 1.0:
            base = base * a["lr_scale"]
        return plateau(base, factor=a["decay_rate"], patience=a["patience_epochs"],
                       mode=a["plateau_mode"], threshold=a.get("plateau_threshold", 1e-4),
                       threshold_mode=a.get("plateau_threshold_mode", "rel"),
                       cooldown=a.get("plateau_cooldown", 0), min_value=a["min_lr"],
                       eps=a.get("eps", 1e-8))

    prefix = bool(a["warmup_prefix"])
    if sched in ("cosine", "tanh", "poly"):
        main = _cycles(sched, b, a, _whole("num_epochs", t_initial))
        total = _cycle_length(a, t_initial) + (w if prefix else 0) + a["cooldown_epochs"] * scale
        target = main(w) if sched == "tanh" and not prefix and w else b
    elif sched in ("step", "constant", "multistep"):
        if sched == "multistep":
            at = [max(math.ceil(m * scale - 1), 0) for m in a["decay_milestones"]]
            if at != sorted(at):
                raise ScheduleError(f"from_timm: decay_milestones {list(a['decay_milestones'])}"
                                    " must be sorted (timm bisects them)")
            main = multistep(b, a["decay_rate"], at) if at else constant(b)
        elif sched == "step":
            main = step(b, a["decay_rate"], decay_epochs * scale)  # a real period: 2.4 epochs
        else:
            main = constant(b)
        total = (a["num_epochs"] + (a["warmup_epochs"] if prefix else 0)) * scale
        target = b
    else:
        main, total = _wsd(sched, b, a, t_initial, w, decay_epochs, prefix, scale)
        total += a["cooldown_epochs"] * scale
        prefix, target = True, b

    if w > 0:
        s: Schedule = linear(init, target, w) >> (main if prefix else main.skip(w))
    elif abs(main(0) - b) > 1e-12 * b:
        # timm never evaluates t = 0: the first epoch or update keeps the optimizer's LR.
        s = constant(b, over=1) >> main.skip(1)
    else:
        s = main
    horizon = total if on_epochs else total // upe * upe  # create_scheduler_v2 reports epochs
    return _in_updates(_noisy(s, a, t_initial, 1, horizon), on_epochs, upe)


def _whole(name: str, v: Any) -> int:
    if float(v) != int(v) or v < 0:
        raise ScheduleError(f"from_timm: {name} gives {v} steps; lrkit's lengths are whole "
                            "steps (choose a value that is whole in the unit timm steps in)")
    return int(v)


def _cycles(sched: str, b: float, a: dict[str, Any], t: int) -> Schedule:
    lo, limit = float(a["min_lr"]), int(a["cycle_limit"])
    if t <= 0:
        raise ScheduleError(f"from_timm: num_epochs gives t_initial = {t}; timm asserts > 0")
    if limit <= 0:  # timm: i < cycle_limit never holds
        return constant(lo)
    if sched == "cosine":
        one: Schedule = cosine(b, lo, t, k_decay=float(a["k_decay"]))
    elif sched == "poly":
        one = polynomial(b, lo, t, power=float(a["decay_rate"]), k_decay=float(a["k_decay"]))
    else:
        one = tanh(b, lo, t, lower=float(a.get("lb", -7.0)), upper=float(a.get("ub", 3.0)))
    mult, decay = float(a["cycle_mul"]), float(a["cycle_decay"])
    if limit == 1:
        return one
    if decay != 1.0 and b == lo:
        raise ScheduleError("from_timm: cycle_decay with min_lr equal to the base LR makes timm "
                            "dip below min_lr in later cycles; lrkit does not reproduce that "
                            "(set cycle_decay=1 or a lower min_lr)")
    return restarts(one, period_mult=mult, peak_decay=decay, limit=limit, decay="peak",
                    cycle_index="log")


def _cycle_length(a: dict[str, Any], t_initial: int) -> int:
    """timm's ``get_cycle_length()`` without the warmup."""
    cycles, m = max(1, int(a["cycle_limit"])), float(a["cycle_mul"])
    if m == 1.0:
        return int(t_initial * cycles)
    return int(math.floor(-t_initial * (m ** cycles - 1) / (1 - m)))


def _wsd(sched: str, b: float, a: dict[str, Any], t_initial: int, w: int, decay_epochs: Any,
         prefix: bool, scale: int) -> tuple[Schedule, int]:
    t_sched = t_initial if prefix else t_initial - w
    decay_t = decay_epochs * t_sched if 0 < decay_epochs < 1 else decay_epochs * scale
    d = int(round(decay_t))
    if not 0 < d <= t_sched:
        raise ScheduleError(f"from_timm: {sched} requires 0 < decay_epochs <= epochs"
                            f"{'' if prefix else ' - warmup_epochs'}; got decay {d} and stable "
                            f"+ decay length {t_sched} (timm raises ValueError here)")
    lo = float(a["min_lr"])
    fn = a["decay_fn"] or ("linear" if sched == "rsqrt" else "1-sqrt")
    if callable(fn):
        raise ScheduleError("from_timm: decay_fn is a Python function, which lrkit cannot read; "
                            "write its shape as an lrkit schedule instead")
    fn = "1-sqrt" if fn == "power" else fn  # create_scheduler_v2 leaves decay_power at 0.5
    if fn not in _WSD_DECAYS:
        raise ScheduleError(f"from_timm: decay_fn {fn!r} is not reproduced; use 'linear', "
                            "'1-sqrt', 'cosine' or 'power'" + (
                                " ('exp' is timm's normalized exponential, which lrkit has no "
                                "shape for yet)" if fn == "exp" else ""))
    stable_len = t_sched - d
    if sched == "wsd":
        parts = [constant(b, over=stable_len)] if stable_len else []
        return sequence([*parts, _WSD_DECAYS[fn](b, lo, d), constant(lo)]), w + t_sched
    ts = a["stable_timescale"]
    ts = w if ts is None else ts * scale
    if ts <= 0:
        raise ScheduleError(f"from_timm: rsqrt requires a positive stable_timescale; it "
                            f"defaults to warmup_epochs ({a['warmup_epochs']}), set it when "
                            "there is no warmup")
    if lo != 0.0:
        raise ScheduleError("from_timm: rsqrt with min_lr > 0 decays the distance of a "
                            "falling curve from min_lr; lrkit reproduces rsqrt with min_lr=0")
    unit = [constant(1.0, over=stable_len)] if stable_len else []
    cooldown = sequence([*unit, _WSD_DECAYS[fn](1.0, 0.0, d), constant(0.0)])
    return inverse_sqrt(b, _whole("stable_timescale", ts)) * cooldown, w + t_sched


def _noisy(s: Schedule, a: dict[str, Any], t_initial: int, first: int,
           horizon: int) -> Schedule:
    """``s`` times ``1 + noise(t)`` where timm draws noise (never at t = 0)."""
    noise = a["noise"]
    if noise is None:
        return s
    if "noise_t" in a:  # a scheduler instance's noise_range_t, in steps
        lo, hi = a["noise_t"]
    elif isinstance(noise, (list, tuple)):
        rng = [n * t_initial for n in noise]
        lo, hi = (rng[0], None) if len(rng) == 1 else (rng[0], rng[1])
    else:
        lo, hi = noise * t_initial, None
    if hi is None:  # timm draws on for ever; the run ends at the horizon
        hi = horizon
    ts = range(max(math.ceil(lo), first), math.ceil(hi))
    if not ts:
        return s
    if len(ts) > _MAX_DRAWS:  # each is a seeded torch generator, drawn up front (~10 µs each)
        raise ScheduleError(f"from_timm: noise over {len(ts):,} steps; lrkit draws timm's "
                            f"noise up front, at most {_MAX_DRAWS:,} steps of it")
    pct, std, seed = float(a["noise_pct"]), float(a["noise_std"]), int(a["noise_seed"])
    if pct >= 1:
        raise ScheduleError(f"from_timm: noise_pct={pct} lets the noise reach -100% and make "
                            "the LR negative; use noise_pct < 1")
    factors = [1.0 + _draw(seed + t, pct, std) for t in ts]
    return s * piecewise([1.0, *factors, 1.0], [*ts, ts[-1] + 1])


def _draw(seed: int, pct: float, std: float) -> float:
    try:
        import torch
    except ModuleNotFoundError:
        raise ScheduleError("from_timm: timm draws its noise from torch's generator; install "
                            "torch to reproduce it") from None
    g = torch.Generator()
    g.manual_seed(seed)
    while True:  # timm's 'normal' noise, resampled until inside the limit
        n = torch.randn(1, generator=g).item() * std
        if abs(n) < pct:
            return float(n)


def _in_updates(s: Schedule, on_epochs: bool, upe: int) -> Schedule:
    return s.stretch(upe).stepped(upe) if on_epochs and upe > 0 else s
