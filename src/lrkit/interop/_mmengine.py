"""``from_mmengine``: an mmengine ``param_scheduler`` list (OpenMMLab configs) as an lrkit schedule.

The step of the result is the optimizer update (the iteration). The value at update ``k`` is
the one mmengine's ``ParamSchedulerHook`` leaves in the param group for that update: each
scheduler steps once when it is built (step 0), iteration-based ones after every update,
epoch-based ones after every epoch, in list order, each only while ``begin <= step < end``.

mmengine's schedulers are recursive: each multiplies (or, with an ``eta_min``, moves towards
it) the value the others left. Multiplicative ones compose as a product of their factors,
whatever their overlap; a scheduler that is not a factor (a cosine or poly with ``eta_min``, a
cosine past its trough, ``OneCycleLR``, ``CosineRestartLR``, ``QuadraticWarmupLR``) is exact
only while no other scheduler changes the value, so such overlaps are refused, as is
``ReduceOnPlateauLR``. Conventions reproduced: ``end`` defaulting to the run's length,
``convert_to_iter_based`` (``begin``/``end`` truncated by ``int``), ``T_max = end - begin``,
``LinearLR``/``PolyLR`` reaching their end at ``end - 1``, ``ConstantLR`` restoring at
``end - 1``, a milestone 0 counting at step 0, the cosine's rise after ``T_max`` from the base
value, and ``OneCycleLR`` resetting the base value of the schedulers built after it.

Nothing here imports mmengine, except ``mmengine.Config`` to read a config file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, exponential, linear, multistep, one_cycle, polynomial, step
from ..errors import ConfigError, ScheduleError, show
from ._read import REQUIRED, field

__all__ = ["from_mmengine"]

INF = int(1e9)  # mmengine's default ``end``
_MAX_TIME = 2**53  # begin/end/lengths above this are not whole floats
_KINDS = ("Constant", "CosineAnnealing", "Exponential", "Linear", "MultiStep", "Step", "Poly",
          "OneCycle", "CosineRestart", "QuadraticWarmup", "ReduceOnPlateau")
_COMMON = {"type", "begin", "end", "by_epoch", "convert_to_iter_based", "last_step", "verbose",
           "_scope_", "param_name"}
# each kind's own arguments and mmengine's defaults (REQUIRED: no default)
_ARGS: dict[str, dict[str, Any]] = {
    "Constant": {"factor": 1.0 / 3},
    "CosineAnnealing": {"T_max": None, "eta_min": None, "eta_min_ratio": None},
    "Exponential": {"gamma": REQUIRED},
    "Linear": {"start_factor": 1.0 / 3, "end_factor": 1.0},
    "MultiStep": {"milestones": REQUIRED, "gamma": 0.1},
    "Step": {"step_size": REQUIRED, "gamma": 0.1},
    "Poly": {"eta_min": 0.0, "power": 1.0},
    "OneCycle": {"eta_max": 0.0, "total_steps": None, "pct_start": 0.3, "anneal_strategy": "cos",
                 "div_factor": 25.0, "final_div_factor": 1e4, "three_phase": False},
    "CosineRestart": {"periods": REQUIRED, "restart_weights": (1,), "eta_min": None,
                      "eta_min_ratio": None},
    "QuadraticWarmup": {},
    "ReduceOnPlateau": {},
}
_KIND_OF = {"milestones": "numbers", "periods": "numbers", "restart_weights": "numbers",
            "three_phase": "bool", "anneal_strategy": "str", "pct_start": "raw"}


def from_mmengine(param_scheduler: Any, *, base_lr: float | None = None,
                  epoch_length: int | None = None, max_epochs: int | None = None,
                  max_iters: int | None = None, hyperparam: str = "lr") -> Schedule:
    """The schedule mmengine's ``param_scheduler`` applies, by optimizer update.

    Args:
      param_scheduler: a scheduler dict or a list of them, as in an mmengine config
        (``dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500)``), or
        the path of a config file (``.py``, ``.yaml``, ``.json``, read with mmengine's
        ``Config.fromfile``): its ``param_scheduler``, ``train_cfg`` (``max_epochs`` or
        ``max_iters``) and ``optim_wrapper.optimizer``'s value of ``hyperparam`` are used
        where the arguments below are not given.
      base_lr: the optimizer's starting value of ``hyperparam`` (its ``lr``; its ``momentum``,
        or ``betas[0]``, for ``hyperparam="momentum"``).
      epoch_length: iterations per epoch (``len(train_dataloader)``), needed when a scheduler
        steps by epoch (``by_epoch=True``, the default) or is converted to iterations.
      max_epochs: an ``EpochBasedTrainLoop``'s length: the ``end`` of schedulers without one.
      max_iters: an ``IterBasedTrainLoop``'s length (give one of ``max_epochs``/``max_iters``).
      hyperparam: ``"lr"`` (the ``…LR`` schedulers), ``"momentum"`` (``…Momentum``) or the
        ``param_name`` of ``…ParamScheduler`` entries (``"weight_decay"``).

    Returns:
      A schedule whose value at update ``k`` is the value mmengine's optimizer update ``k``
      uses (``k = 0`` the first).
    """
    if not isinstance(hyperparam, str) or not hyperparam:
        raise ScheduleError(f"from_mmengine: 'hyperparam' must be a parameter name such as "
                            f"'lr', 'momentum' or 'weight_decay', got {show(hyperparam)}")
    if isinstance(param_scheduler, (str, os.PathLike)):
        param_scheduler, found = _read_file(os.fspath(param_scheduler), hyperparam)
        base_lr = found["base"] if base_lr is None else base_lr
        if max_epochs is None and max_iters is None:
            max_epochs, max_iters = found["max_epochs"], found["max_iters"]
    if base_lr is None:
        raise ConfigError("base_lr", f"is required: the optimizer's starting {hyperparam} "
                          "(from_mmengine reads it from a config file's "
                          "optim_wrapper.optimizer; pass base_lr= with a list of dicts)")
    b = field({"base_lr": base_lr}, "base_lr", REQUIRED, "number")
    if b < 0:
        raise ConfigError("base_lr", f"must be >= 0, got {show(base_lr)}")
    length = _optional_count("epoch_length", epoch_length, lo=1)
    epochs = _optional_count("max_epochs", max_epochs, lo=1)
    iters = _optional_count("max_iters", max_iters, lo=1)
    if epochs is not None and iters is not None:
        raise ScheduleError("from_mmengine: give max_epochs (an EpochBasedTrainLoop) or "
                            "max_iters (an IterBasedTrainLoop), not both")
    items = _items(param_scheduler, hyperparam, length, epochs, iters)
    return _compose(items, b, length)


def _optional_count(name: str, v: Any, lo: int) -> int | None:
    if v is None:
        return None
    n = field({name: v}, name, REQUIRED, "count")
    if n < lo or n >= _MAX_TIME:
        raise ConfigError(name, f"must be a whole number in [{lo}, 2**53), got {show(v)}")
    return int(n)


# --- reading a config file -------------------------------------------------------------------


def _read_file(path: str, h: str) -> tuple[Any, dict[str, Any]]:
    try:
        from mmengine import Config  # type: ignore[import-untyped]
    except ModuleNotFoundError:
        raise ScheduleError(f"from_mmengine: reading the config file {path!r} needs mmengine "
                            "(pip install mmengine), which evaluates its _base_ files; without "
                            "it, pass the param_scheduler list and base_lr=") from None
    if not os.path.isfile(path):
        raise ScheduleError(f"from_mmengine: no config file at {path!r}")
    try:
        cfg = _plain(Config.fromfile(path).to_dict())
    except Exception as e:  # noqa: BLE001 - mmengine raises anything a config's code raises
        raise ScheduleError(f"from_mmengine: mmengine could not read {path!r}: "
                            f"{type(e).__name__}: {show(str(e), 300)}") from None
    hook = cfg.get("default_hooks", {}).get("param_scheduler") if isinstance(
        cfg.get("default_hooks"), dict) else None
    if isinstance(hook, dict) and str(hook.get("type", "")).split(".")[-1] not in (
            "ParamSchedulerHook", ""):
        raise ScheduleError(f"from_mmengine: {path!r} sets its parameters with "
                            f"default_hooks.param_scheduler = {show(hook.get('type'))}, not "
                            "mmengine's ParamSchedulerHook; lrkit reads param_scheduler lists")
    if "param_scheduler" not in cfg or cfg["param_scheduler"] is None:
        raise ScheduleError(f"from_mmengine: {path!r} has no param_scheduler (mmengine then "
                            "keeps the optimizer's values); nothing to import")
    found: dict[str, Any] = {"base": None, "max_epochs": None, "max_iters": None}
    optimizer = cfg.get("optim_wrapper", {})
    optimizer = optimizer.get("optimizer", {}) if isinstance(optimizer, dict) else {}
    if isinstance(optimizer, dict):
        v = optimizer.get(h)
        if v is None and h == "momentum" and isinstance(optimizer.get("betas"), list):
            v = optimizer["betas"][0]  # mmengine's momentum schedulers drive Adam's beta1
        found["base"] = v
    train = cfg.get("train_cfg")
    if isinstance(train, dict):
        kind = str(train.get("type", "")).split(".")[-1]
        by_epoch = train.get("by_epoch")
        if kind == "EpochBasedTrainLoop" or kind == "" and by_epoch is True:
            found["max_epochs"] = train.get("max_epochs")
        elif kind == "IterBasedTrainLoop" or kind == "" and by_epoch is False:
            found["max_iters"] = train.get("max_iters")
        elif kind:
            raise ScheduleError(f"from_mmengine: {path!r} trains with {kind}, not an "
                                "EpochBasedTrainLoop or IterBasedTrainLoop; pass max_epochs= "
                                "or max_iters= for the default ends")
    return cfg["param_scheduler"], found


def _plain(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# --- the schedulers, in iterations -----------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One scheduler: where it acts and what it does, in its own steps."""

    index: int           # position in the list: construction and stepping order
    name: str            # its type, for messages
    unit: int            # iterations per step: 1, or the epoch length for by_epoch
    begin: int           # its first global step
    n: int               # its steps: end - begin
    part: _Part | None   # what it does (None: it never changes the value)
    per_epoch: bool = False  # stepped after each epoch (after the per-iteration ones)
    base_value: float | None = None  # initial_lr where OneCycleLR set it (itself, later ones)

    def key(self, t: int) -> tuple[int, int, int]:
        """When local step ``t`` happens: (first update it affects, phase, list order)."""
        at = (self.begin + t) * self.unit
        return (at, 1 if at and self.per_epoch else 0, self.index)

    def where(self) -> str:
        return f"param_scheduler[{self.index}] ({self.name})"


@dataclass(frozen=True)
class _Part:
    """``mult``: a factor on the value (``make(1, base)`` is it, by local step); else the
    local values from the value before (``make(value, base)``), exact only alone."""

    mult: bool
    first: int  # local step of the first change
    last: int   # local step of the last change
    make: Callable[[float, float], Schedule]
    why: str = ""  # why it is not a factor


def _items(spec: Any, h: str, length: int | None, epochs: int | None,
           iters: int | None) -> list[_Item]:
    if isinstance(spec, Mapping):
        spec = [spec]
    if not isinstance(spec, (list, tuple)):
        raise ConfigError("param_scheduler", f"must be a dict or a list of dicts, got {show(spec)}")
    out: list[_Item] = []
    base: float | None = None
    for i, c in enumerate(spec):
        where = f"param_scheduler[{i}]"
        if not isinstance(c, Mapping):
            raise ConfigError(where, f"must be a dict with a 'type', got {show(c)}")
        try:
            item = _item(i, dict(c), h, length, epochs, iters)
        except ConfigError as e:
            raise ConfigError(f"{where}.{e.where}" if e.where else where, e.message) from None
        if item is not None:
            if base is not None and item.base_value is None:
                item = _Item(item.index, item.name, item.unit, item.begin, item.n, item.part,
                             item.per_epoch, base)
            if item.name.startswith("OneCycle"):
                if base is not None:
                    raise ConfigError(where, "is a second OneCycle scheduler: each writes "
                                      "initial_lr, max_lr and min_lr into the param group, and "
                                      "mmengine's first then reads the second's; use one")
                base = item.base_value
            out.append(item)
    return out


def _kind(t: str) -> tuple[str, str]:
    """(kind, parameter) of an mmengine type name; kind '' when unknown."""
    for kind in _KINDS:
        for tail, p in (("LR", "lr"), ("Momentum", "momentum"), ("ParamScheduler", "")):
            if t == kind + tail and t != "OneCycleMomentum":  # OneCycle schedules lr only
                return kind, p
    return "", ""


def _item(i: int, c: dict[str, Any], h: str, length: int | None, epochs: int | None,
          iters: int | None) -> _Item | None:
    t = c.get("type")
    if not isinstance(t, str):
        raise ConfigError("type", f"must be a scheduler name such as 'LinearLR', got {show(t)}")
    name = t.split(".")[-1]  # 'mmdet.QuadraticWarmupLR': the registry scope
    kind, p = _kind(name)
    if not kind:
        raise ConfigError("type", f"{show(t)} is not an mmengine scheduler lrkit reads; known: "
                          f"{', '.join(k + 'LR' for k in _KINDS)}, and the same as …Momentum "
                          "and …ParamScheduler")
    if p == "":
        named = c.get("param_name")
        if not isinstance(named, str):
            raise ConfigError("param_name", f"is required by {name} (the hyperparameter it "
                              f"schedules, such as 'lr' or 'weight_decay'), got {show(named)}")
        p = named
    elif "param_name" in c:
        raise ConfigError("param_name", f"{name} schedules {p!r} and takes no param_name")
    unknown = sorted(set(c) - _COMMON - set(_ARGS[kind]))
    if unknown:
        raise ConfigError(unknown[0], f"is not an argument of {name} (mmengine would raise "
                          "TypeError); its arguments: " + ", ".join(sorted(_ARGS[kind])))
    if kind == "OneCycle" and p != "lr":
        raise ConfigError("param_name", f"{name} schedules 'lr' only (mmengine asserts), got "
                          f"{show(p)}")
    if p != h:
        return None  # it schedules another hyperparameter
    if kind == "ReduceOnPlateau":
        raise ConfigError("type", f"{name} reduces the value from the validation metrics, "
                          "which are not a function of the step, and starts from a best metric "
                          "of ±1e9 (mmengine's INF), where lrkit.plateau starts from ±inf; "
                          "build it with lrkit.plateau(lrkit.constant(lr), factor=…, "
                          "patience=…) and feed it the metric")
    if c.get("last_step", -1) != -1:
        raise ConfigError("last_step", f"must be -1 (a scheduler built fresh); a resumed one "
                          f"continues from the optimizer's state, got {show(c['last_step'])}")
    by_epoch = field(c, "by_epoch", True, "bool")
    convert = field(c, "convert_to_iter_based", False, "bool")
    if convert and not by_epoch:
        raise ConfigError("convert_to_iter_based", "needs by_epoch=True (mmengine asserts "
                          "that only epoch-based schedulers convert)")
    if "end" not in c and (epochs is not None or iters is not None):
        # the Runner's default: the train loop's length in the scheduler's unit (an
        # IterBasedTrainLoop counts one epoch, an EpochBasedTrainLoop epochs · epoch_length)
        if by_epoch:
            c["end"] = epochs if epochs is not None else 1
        elif iters is not None:
            c["end"] = iters
        elif length is None:
            raise ConfigError("end", f"{name} steps per iteration and has no end; its default "
                              "is max_epochs · epoch_length, so pass epoch_length=")
        else:
            c["end"] = epochs * length  # type: ignore[operator]
    for k in ("begin", "end"):
        if k in c and c[k] is None:
            raise ConfigError(k, "must be a number (mmengine compares begin and end), got None")
    begin = field(c, "begin", 0.0, "number")
    end = field(c, "end", float(INF), "number")
    if not 0 <= begin < _MAX_TIME or not end < _MAX_TIME:
        raise ConfigError("begin" if not 0 <= begin < _MAX_TIME else "end",
                          f"must be in [0, 2**53), got begin={show(c.get('begin', 0))} and "
                          f"end={show(c.get('end'))}")
    if end <= begin:
        raise ConfigError("end", f"must be larger than begin (mmengine raises ValueError), got "
                          f"begin={show(c.get('begin', 0))} and end={show(c.get('end'))}")
    a = {k: _arg(c, k, d) for k, d in _ARGS[kind].items()}
    unit = 1
    if by_epoch:
        if length is None:
            raise ConfigError("by_epoch", f"{name} steps by epoch (by_epoch=True, mmengine's "
                              "default); pass epoch_length= (iterations per epoch, "
                              "len(train_dataloader))")
        if iters is not None and not convert:
            raise ConfigError("by_epoch", f"{name} steps by epoch, but an IterBasedTrainLoop "
                              "(max_iters) ends its one epoch only when training ends, so "
                              "mmengine would never step it; set by_epoch=False")
        if convert:
            begin, end, a = _to_iterations(kind, begin, end, a, length)
        else:
            unit = length
    if not (begin.is_integer() and end.is_integer()):
        raise ConfigError("begin", f"begin and end must be whole steps, got {show(begin)} and "
                          f"{show(end)} (mmengine compares them with its integer step)")
    n = int(end) - int(begin)
    if n <= 0:
        raise ConfigError("end", f"leaves no step after the conversion to iterations: begin "
                          f"{int(begin)}, end {int(end)} (mmengine raises ValueError)")
    part, base_value = _PARTS[kind](a, n, name)
    return _Item(i, name, unit, int(begin), n, part, by_epoch and not convert, base_value)


def _arg(c: dict[str, Any], k: str, default: Any) -> Any:
    kind = _KIND_OF.get(k, "number")
    if kind == "raw":
        return c.get(k, default)
    if kind == "str":
        v = c.get(k, default)
        if not isinstance(v, str):
            raise ConfigError(k, f"must be a string, got {show(v)}")
        return v
    if default is None and c.get(k) is None:
        return None
    if isinstance(default, tuple):
        default = list(default)
    return field(c, k, default, kind)


def _to_iterations(kind: str, begin: float, end: float, a: dict[str, Any],
                   length: int) -> tuple[float, float, dict[str, Any]]:
    """mmengine's ``build_iter_from_epoch``: lengths times the epoch length; ``begin`` and
    ``end`` truncated by ``int`` (``QuadraticWarmupLR`` does not truncate)."""
    if kind == "QuadraticWarmup":
        begin, end = begin * length, (end * length if end != INF else end)
    else:
        begin, end = float(int(begin * length)), float(int(end * length) if end != INF else end)
    a = dict(a)
    for k in ("step_size", "T_max", "total_steps"):
        if a.get(k) is not None:
            a[k] = a[k] * length
    for k in ("milestones", "periods"):
        if k in a:
            a[k] = [m * length for m in a[k]]
    return begin, end, a


# --- what each scheduler does, by its local step t = 0 … n-1 ---------------------------------


def _fraction(a: dict[str, Any], k: str, name: str) -> float:
    v = float(a[k])
    if not 0 <= v <= 1:
        raise ConfigError(k, f"must be in [0, 1] (mmengine's {name} raises ValueError), got "
                          f"{show(v)}")
    return v


def _whole(a: dict[str, Any], k: str, lo: int) -> int:
    v = a[k]
    if not (float(v).is_integer() and lo <= v < _MAX_TIME):
        raise ConfigError(k, f"must be a whole number >= {lo} of steps, got {show(v)}")
    return int(v)


def _held(s: Schedule, n: int) -> Schedule:
    """``s`` for local steps 0 … n-1, then its value at n-1: mmengine stops at ``end``."""
    return sequence([s, constant(s(n - 1))], at=[n])


_Built = tuple[_Part | None, float | None]


def _linear(a: dict[str, Any], n: int, name: str) -> _Built:
    s, e, t = _fraction(a, "start_factor", name), _fraction(a, "end_factor", name), n - 1
    moves = s != e and t >= 1
    if s == 1 and not moves:
        return None, None
    if s == 0 and moves:
        raise ConfigError("start_factor", f"0 makes mmengine's {name} divide by zero at its "
                          "second step (ZeroDivisionError); use a small factor such as 0.001")
    f: Schedule = linear(s, e, t) if moves else constant(s)
    return _Part(True, 0 if s != 1 else 1, t if moves else 0, lambda v, b: f), None


def _constant(a: dict[str, Any], n: int, name: str) -> _Built:
    f, t = _fraction(a, "factor", name), n - 1
    if f == 1:
        return None, None
    if f == 0 and t >= 1:
        raise ConfigError("factor", f"0 makes mmengine's {name} divide by zero at end - 1, "
                          "where it restores the value (ZeroDivisionError)")
    s = constant(f, over=t) >> constant(1.0) if t >= 1 else constant(f)
    return _Part(True, 0, t, lambda v, b: s), None


def _gamma(a: dict[str, Any]) -> float:
    g = float(a["gamma"])
    if g < 0:
        raise ConfigError("gamma", f"must be >= 0 (a negative factor makes the value "
                          f"negative), got {show(g)}")
    return g


def _power(g: float, e: int, what: str) -> float:
    try:
        return g ** e
    except OverflowError:
        raise ConfigError("gamma", f"{g!r} > 1 {what} grows past the float range over "
                          f"{e:,} steps; give the scheduler an end") from None


def _step(a: dict[str, Any], n: int, name: str) -> _Built:
    g, size, t = _gamma(a), _whole(a, "step_size", 1), n - 1
    if g == 1 or size > t:
        return None, None
    j = t // size
    if g == 0:
        s: Schedule = constant(1.0, over=size) >> constant(0.0)
    else:
        cap = _power(g, j, "with step_size " + str(size))
        s = _held(step(1.0, g, size, end=cap if g > 1 else None), t + 1)
    return _Part(True, size, j * size, lambda v, b: s), None


def _multistep(a: dict[str, Any], n: int, name: str) -> _Built:
    g, t = _gamma(a), n - 1
    # mmengine counts last_step in a Counter of the milestones: a milestone it never reaches
    # (past end - 1, negative or fractional) never counts; a repeated one counts twice
    at = sorted(int(m) for m in a["milestones"] if float(m).is_integer() and 0 <= m <= t)
    if g == 1 or not at:
        return None, None
    if g == 0:
        s: Schedule = constant(0.0) if at[0] == 0 else constant(1.0, over=at[0]) >> constant(0.0)
    else:
        s = multistep(1.0, g, at)
    return _Part(True, at[0], at[-1], lambda v, b: s), None


def _exponential(a: dict[str, Any], n: int, name: str) -> _Built:
    g, t = _gamma(a), n - 1
    if g == 1 or t == 0:
        return None, None
    if g == 0:
        s: Schedule = constant(1.0, over=1) >> constant(0.0)
    else:
        s = exponential(1.0, g, 1, end=_power(g, t, "per step"))
    return _Part(True, 1, t, lambda v, b: s), None


def _eta_min(a: dict[str, Any], name: str) -> Callable[[float], float]:
    m, r = a["eta_min"], a["eta_min_ratio"]
    if m is not None and r is not None:
        raise ConfigError("eta_min", f"and eta_min_ratio are both given ({show(m)}, "
                          f"{show(r)}); mmengine's {name} asserts exactly one")
    for k, v in (("eta_min", m), ("eta_min_ratio", r)):
        if v is not None and v < 0:
            raise ConfigError(k, f"must be >= 0, got {show(v)}")
    if m is None and r is None:
        if name.startswith("CosineRestart"):
            raise ConfigError("eta_min", f"or eta_min_ratio is required by {name} (mmengine "
                              "asserts exactly one)")
        m = 0.0
    return (lambda b: float(m)) if r is None else (lambda b: b * float(r))


def _cosine(a: dict[str, Any], n: int, name: str) -> _Built:
    lo = _eta_min(a, name)
    if a["T_max"] is not None and a["T_max"] < 0:
        raise ConfigError("T_max", f"must be > 0, got {show(a['T_max'])}")
    period = _whole({"T_max": a["T_max"] or n}, "T_max", 1)  # mmengine: T_max or end - begin
    t = n - 1
    if t == 0:
        return None, None
    factor = a["eta_min"] in (None, 0) and a["eta_min_ratio"] in (None, 0) and t <= period
    if factor:
        f = cosine(1.0, 0.0, period)
        s = f if t == period else _held(f, t + 1)
        return _Part(True, 1, t, lambda v, b: s), None

    def make(v: float, b: float) -> Schedule:
        m = lo(b)
        first = cosine(v, m, period)
        if t <= period:
            return first if t == period else _held(first, t + 1)
        # after the trough mmengine adds (base - eta_min)·(1 - cos(π/T))/2: the cosine rises
        # again from eta_min to the base value, periodically
        again = cosine(b, m, period).past_end("continue").skip(period + 1)
        return _held(sequence([first, again], at=[period + 1]), t + 1)

    why = ("moves the distance to eta_min, not the value" if t <= period else
           f"restarts from the base value after its trough at T_max={period}")
    return _Part(False, 1, t, make, why), None


def _poly(a: dict[str, Any], n: int, name: str) -> _Built:
    m, p, t = float(a["eta_min"]), float(a["power"]), n - 1
    if p < 0:
        raise ConfigError("power", f"must be >= 0 (mmengine raises ZeroDivisionError at "
                          f"end - 1), got {show(p)}")
    if m < 0:
        raise ConfigError("eta_min", f"must be >= 0, got {show(m)}")
    if t == 0 or p == 0:
        return None, None
    if m == 0:
        f = polynomial(1.0, 0.0, t, power=p)
        return _Part(True, 1, t, lambda v, b: f), None
    return _Part(False, 1, t, lambda v, b: polynomial(v, m, t, power=p) if v != m else
                 constant(v), "moves the distance to eta_min, not the value"), None


def _one_cycle(a: dict[str, Any], n: int, name: str) -> _Built:
    if not name.endswith("LR") and not name.endswith("ParamScheduler"):
        raise ConfigError("type", f"{name} does not exist in mmengine")
    total = n if a["total_steps"] is None else _whole(a, "total_steps", 1)
    pct, peak = a["pct_start"], float(a["eta_max"])
    div, final = float(a["div_factor"]), float(a["final_div_factor"])
    strategy = a["anneal_strategy"]
    if strategy not in ("cos", "linear"):
        raise ConfigError("anneal_strategy", f"must be 'cos' or 'linear', got {show(strategy)}")
    if not isinstance(pct, float) or not 0 <= pct <= 1:
        raise ConfigError("pct_start", f"must be a float in [0, 1] (mmengine raises ValueError "
                          f"for an int too), got {show(pct)}")
    if not (peak > 0 and div > 0 and final > 0):
        raise ConfigError("eta_max", f"eta_max, div_factor and final_div_factor must be > 0, "
                          f"got {show(peak)}, {show(div)} and {show(final)}")
    if n - 1 > total:
        raise ConfigError("end", f"lets {name} step {n} times, past total_steps={total}: "
                          f"mmengine raises ValueError at its step {total + 1}; set end <= "
                          f"begin + total_steps + 1")
    u, over = pct * total - 1, total - 1
    try:
        s = one_cycle(peak, over, pct_start=u / over, div_factor=div, final_div_factor=final,
                      three_phase=a["three_phase"],
                      shape="cosine" if strategy == "cos" else "linear").past_end("continue")
    except (ScheduleError, ZeroDivisionError):
        raise ConfigError("pct_start", f"{pct!r} with total_steps={total} leaves an empty phase "
                          "(mmengine's phase ends are pct_start·total_steps - 1 and "
                          "total_steps - 1); use a larger pct_start or more steps") from None
    cut = _held(s, n)  # the formula goes on past total_steps; mmengine stops at end
    return _Part(False, 0, n - 1, lambda v, b: cut, "sets the value itself"), peak / div


def _cosine_restart(a: dict[str, Any], n: int, name: str) -> _Built:
    lo = _eta_min(a, name)
    periods = [_whole({"periods": p}, "periods", 0) for p in a["periods"]]
    weights = a["restart_weights"]
    if len(periods) != len(weights) or not periods:
        raise ConfigError("restart_weights", f"must hold one weight per period (mmengine "
                          f"asserts), got {len(weights)} for {len(periods)} periods")
    if any(w < 0 for w in weights):
        raise ConfigError("restart_weights", f"must be >= 0, got {show(weights)}")
    ends = [sum(periods[:j + 1]) for j in range(len(periods))]
    last = min(n, ends[-1]) - 1
    if last < 0:
        return None, None

    def make(v: float, b: float) -> Schedule:
        m = lo(b)
        kids = [cosine(b * w, m, p) for p, w in zip(periods, weights) if p > 0]
        at = [e for p, e in zip(periods, ends) if p > 0]
        s = sequence([*kids, constant(kids[-1](at[-1] - (at[-2] if len(at) > 1 else 0) - 1))],
                     at=at)
        return s if n >= ends[-1] else _held(s, n)

    return _Part(False, 0, last, make, "restarts from the base value"), None


def _quadratic(a: dict[str, Any], n: int, name: str) -> _Built:
    if n >= INF:
        raise ConfigError("end", f"is required by {name} (mmengine raises ValueError for an "
                          "infinite end)")

    def make(v: float, b: float) -> Schedule:
        # b·(2t+1)/n² added at each step t: b·((t + 1)/n)², b from step n - 1 on
        g: Schedule = linear(1.0 / n, 1.0, n - 1) if n >= 2 else constant(1.0)
        return (g * g) * b

    return _Part(False, 0, n - 1, make, "sets the value from the base value"), None


_PARTS: dict[str, Callable[[dict[str, Any], int, str], _Built]] = {
    "Linear": _linear, "Constant": _constant, "Step": _step, "MultiStep": _multistep,
    "Exponential": _exponential, "CosineAnnealing": _cosine, "Poly": _poly,
    "OneCycle": _one_cycle, "CosineRestart": _cosine_restart, "QuadraticWarmup": _quadratic,
}


# --- composing them ----------------------------------------------------------------------------


def _compose(items: list[_Item], b: float, length: int | None) -> Schedule:
    active = [it for it in items if it.part is not None]
    spans = {it.index: (it.key(it.part.first), it.key(it.part.last))  # type: ignore[union-attr]
             for it in active}
    for it in active:
        if it.part.mult:  # type: ignore[union-attr]
            continue
        lo, hi = spans[it.index]
        for other in active:
            o_lo, o_hi = spans[other.index]
            if other is not it and not (o_hi < lo or hi < o_lo):
                raise ScheduleError(
                    f"from_mmengine: {it.where()} and {other.where()} both change the value "
                    f"around update {max(lo[0], o_lo[0])}; {it.name} "
                    f"{it.part.why} (mmengine applies them one after the other), "  # type: ignore[union-attr]
                    "so the result has no closed form and lrkit cannot reproduce it exactly; "
                    "give them disjoint begin/end ranges (or eta_min=0, which makes a cosine "
                    "or poly a factor)")
    stages: list[list[_Item]] = []
    for it in sorted(active, key=lambda x: spans[x.index][0]):
        if stages and it.part.mult and stages[-1][0].part.mult:  # type: ignore[union-attr]
            stages[-1].append(it)
        else:
            stages.append([it])
    placed: list[tuple[int, Schedule]] = []
    v = b
    for group in stages:
        start = min(spans[it.index][0][0] for it in group)
        s = _stage(group, v, b, start)
        v = float(s(max(spans[it.index][1][0] for it in group) - start))
        if placed and placed[-1][0] == start:  # the stage before ends where this starts
            placed.pop()
        placed.append((start, s))
    if not placed:
        return constant(b)
    if placed[0][0] > 0:
        placed.insert(0, (0, constant(b)))
    if len(placed) == 1:
        return placed[0][1]
    return sequence([s for _, s in placed], at=[a for a, _ in placed[1:]])


def _in_updates(s: Schedule, it: _Item) -> Schedule:
    return s if it.unit == 1 else s.stretch(it.unit).stepped(it.unit)


def _stage(group: list[_Item], v: float, b: float, start: int) -> Schedule:
    """The values from update ``start`` on (local to it), the value before being ``v``."""
    first = group[0]
    part = first.part
    assert part is not None
    if not part.mult:
        base = b if first.base_value is None else first.base_value
        local = part.make(v, base)
        if part.first:
            local = local.skip(part.first)
        return _in_updates(local, first)
    out: Schedule | None = None
    for it in group:
        f = it.part.make(1.0, b)  # type: ignore[union-attr]
        f = constant(1.0, over=it.begin) >> f if it.begin else f
        f = _in_updates(f, it)
        f = f.skip(start) if start else f
        out = f if out is None else out * f
    assert out is not None
    return out * v
