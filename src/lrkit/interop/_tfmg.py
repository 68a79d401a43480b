"""``from_tf_model_garden``: the ``optimizer_config`` of a TF Model Garden experiment
(``official/modeling/optimization``) as an lrkit schedule.

It reads ``learning_rate: {type: <name>, <name>: {...}}`` and ``warmup: {type: linear |
polynomial, ...}`` with the defaults of Model Garden's config dataclasses
(``learning_rate_config.py``) and reproduces ``lr_schedule.py`` and ``optimizer_factory.py``:

- the warmup ramps *over* the schedule: below ``warmup_steps`` it replaces the schedule's
  values, ramping to the schedule's value at ``warmup_steps``; the schedule keeps its own clock
  (``ramp >> schedule.skip(W)``);
- the polynomial warmup is ``target · (max(k, 1) / W)^power`` (step 0 gets step 1's value);
- ``offset`` delays a schedule: ``value(k) = schedule(k - offset)``, where the Keras formula
  evaluated at the negative steps before the offset is reproduced (an exponential above its
  start, a cosine mirrored, a polynomial extrapolated); a negative offset skips steps;
- ``stepwise`` switches one step after each boundary (Keras' ``PiecewiseConstantDecay``);
  ``staircase: null`` is ``false``; polynomial ``cycle`` grows the horizon as Keras does;
  cosine ends at ``alpha · initial_learning_rate``;
- the power schedules use ``max(step, 1)^power``; ``power_with_offset`` holds
  ``pre_offset_learning_rate`` (1e6 by default) through step ``offset`` and caps at it;
  ``power_linear`` multiplies by a linear decay over its last ``linear_decay_fraction``;
- ``step_cosine_with_offset`` times its first cosine from step 0 (not from
  ``boundaries[0]``), each cosine from ``values[i]`` to ``values[i + 1]``; from the last
  boundary on Model Garden divides by a zero length (NaN): lrkit holds ``values[-1]`` there.

Steps are compared as TensorFlow compares them, in float32, which is exact up to 2**24: a
boundary, offset or warmup length past that is refused. A file is read as ``load_file`` reads
one (size cap, UTF-8, no repeated keys), and Model Garden's ``!!python/tuple`` is a list.

What does not live here: the shapes and combinators the schedules are built from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import (
    constant,
    cosine,
    exponential,
    inverse_sqrt,
    linear,
    piecewise,
    polynomial,
)
from ..config import load_file
from ..errors import ConfigError, ScheduleError, show
from ._read import field

__all__ = ["from_tf_model_garden"]

_EXACT = 2**24  # float32 holds every whole number of steps up to here


def from_tf_model_garden(config: Any) -> Schedule:
    """The schedule of a Model Garden experiment's ``trainer.optimizer_config``.

    ``config`` is the experiment (a mapping, or a YAML/JSON file path), its ``trainer``, the
    ``optimizer_config`` itself, or a Model Garden config object (anything with
    ``as_dict()``, such as ``OptimizationConfig``).

    >>> s = from_tf_model_garden({"learning_rate": {
    ...     "type": "stepwise", "stepwise": {"boundaries": [2], "values": [0.1, 0.01]}},
    ...     "warmup": {"type": "linear", "linear": {"warmup_steps": 2}}})
    >>> [s(k) for k in range(5)]
    [0.0, 0.05, 0.1, 0.01, 0.01]
    """
    source = ""
    if isinstance(config, (str, Path)):
        data, source = load_file(config), Path(config).name
    elif not isinstance(config, Mapping) and callable(getattr(config, "as_dict", None)):
        data = config.as_dict()
    else:
        data = config
    oc, where = _optimizer_config(data, source)
    prefix = f"{source}: {where}" if source else where
    try:
        return _build(oc)
    except ConfigError as e:
        raise ConfigError(f"{prefix}.{e.where}" if prefix else e.where, e.message) from None


def _optimizer_config(data: Any, source: str) -> tuple[Mapping[str, Any], str]:
    """The ``optimizer_config`` mapping in an experiment, a trainer or itself, and its path."""
    if not isinstance(data, Mapping):
        raise ConfigError(source, f"expected a mapping (an experiment, its trainer or its "
                          f"optimizer_config), got {show(data)}")
    for path in (("trainer", "optimizer_config"), ("optimizer_config",)):
        node: Any = data
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            if not isinstance(node, Mapping):
                where = ".".join(path)
                raise ConfigError(f"{source}: {where}" if source else where,
                                  f"must be a mapping, got {show(node)}")
            return node, ".".join(path)
    if "learning_rate" in data or "warmup" in data:
        return data, ""
    raise ConfigError(source, f"no trainer.optimizer_config (nor learning_rate) in the keys "
                      f"{show(list(data))}")


def _build(oc: Mapping[str, Any]) -> Schedule:
    lr, body = _choice(oc, "learning_rate", _TYPES, required=True)
    assert lr is not None
    s = _within(f"learning_rate.{lr}", lambda: _TYPES[lr][1](body))
    warm, wbody = _choice(oc, "warmup", _WARMUPS, required=False)
    if warm is None:
        return s
    return _within(f"warmup.{warm}", lambda: _WARMUPS[warm][1](wbody, s))


def _within(where: str, build: Callable[[], Schedule]) -> Schedule:
    """``build()``, its errors placed under ``where``."""
    try:
        return build()
    except ConfigError as e:
        raise ConfigError(f"{where}.{e.where}", e.message) from None
    except ScheduleError as e:
        raise ConfigError(where, str(e)) from None


def _choice(oc: Mapping[str, Any], key: str, table: Mapping[str, Any],
            required: bool) -> tuple[str | None, dict[str, Any]]:
    """Model Garden's one-of: ``{type: <name>, <name>: {...}}``; the type and its block."""
    node = oc.get(key)
    if node is None:
        node = {}
    if not isinstance(node, Mapping):
        raise ConfigError(key, f"must be a mapping {{type: ..., <type>: {{...}}}}, got "
                          f"{show(node)}")
    for k in node:
        if k != "type" and k not in table:
            raise ConfigError(f"{key}.{show(k)}", f"is not a field of Model Garden's "
                              f"{key} config; known: type, {', '.join(table)}")
    name = node.get("type")
    blocks = [k for k in node if k != "type"]
    if name is None:
        if required or blocks:
            given = f"; the file sets {key}.{blocks[0]} but not its type" if blocks else ""
            raise ConfigError(f"{key}.type", f"is missing: the type is left to the experiment "
                              f"registered in Model Garden's Python code{given}; write the "
                              f"type in the config (one of {', '.join(table)})")
        return None, {}
    if not isinstance(name, str) or name not in table:
        raise ConfigError(f"{key}.type", f"must be one of {', '.join(table)}, got {show(name)}")
    body = node.get(name)
    body = {} if body is None else body
    if not isinstance(body, Mapping):
        raise ConfigError(f"{key}.{name}", f"must be a mapping, got {show(body)}")
    allowed = table[name][0]
    for k in body:
        if k != "name" and k not in allowed:
            raise ConfigError(f"{key}.{name}.{show(k)}", f"is not a field of Model Garden's "
                              f"{name} config; known: {', '.join(allowed)}")
    return name, dict(body)


# --- typed reads --------------------------------------------------------------------------


def _need(c: Mapping[str, Any], key: str, kind: str) -> Any:
    """A field without a default in Model Garden's dataclass."""
    if c.get(key) is None:
        raise ConfigError(key, "is missing: Model Garden has no default for it (the "
                          "experiment's Python code sets it); write it in the config")
    return field(c, key, None, kind)


def _length(c: Mapping[str, Any], key: str) -> int:
    n: int = _need(c, key, "count")
    if n == 0:
        raise ConfigError(key, "must be > 0 steps, got 0: Model Garden divides by it")
    return n


def _position(c: Mapping[str, Any], key: str, signed: bool = False) -> int:
    """A whole step (0 when absent) TensorFlow compares in float32: exact up to 2**24."""
    v = field(c, key, 0.0, "number")
    if not v.is_integer() or (v < 0 and not signed):
        raise ConfigError(key, f"must be a whole number of steps{'' if signed else ' >= 0'}, "
                          f"got {show(c[key])}")
    return _exact(key, int(v))


def _exact(key: str, n: int) -> int:
    if abs(n) > _EXACT:
        raise ConfigError(key, f"must be at most 2**24 = {_EXACT:,} steps, got {n}: "
                          "TensorFlow compares steps in float32, which rounds past that")
    return n


def _offset(c: Mapping[str, Any]) -> int:
    return _position(c, "offset", signed=True)


def _delayed(build: Callable[[int], Schedule], o: int) -> Schedule:
    """``schedule(k - o)``: built for ``o >= 0`` by ``build``; a negative offset skips."""
    return build(o) if o >= 0 else build(0).skip(-o)


# --- the learning-rate types ---------------------------------------------------------------


def _constant(c: Mapping[str, Any]) -> Schedule:
    return constant(field(c, "learning_rate", 0.1, "number"))


def _stepwise(c: Mapping[str, Any]) -> Schedule:
    bounds, values = _need(c, "boundaries", "counts"), _need(c, "values", "numbers")
    if not bounds:
        raise ConfigError("boundaries", "must hold at least one step, got []")
    if len(values) != len(bounds) + 1:
        raise ConfigError("values", f"must have len(boundaries) + 1 = {len(bounds) + 1} "
                          f"entries, got {len(values)}")
    o = _offset(c)
    for i, b in enumerate(bounds):
        _exact(f"boundaries[{i}] + offset", b + max(o, 0))
    # Keras keeps values[i] while step - offset <= boundaries[i]
    return _delayed(lambda o: piecewise(values, [b + o + 1 for b in bounds]), o)


def _exponential(c: Mapping[str, Any]) -> Schedule:
    init, steps = _need(c, "initial_learning_rate", "number"), _length(c, "decay_steps")
    rate = _need(c, "decay_rate", "number")
    stair = field(c, "staircase", False, "bool")
    if rate > 1:
        raise ConfigError("decay_rate", f"must be <= 1, got {show(c['decay_rate'])}: a rate "
                          "above 1 grows without bound; write lrkit.exponential(lr, rate, every, "
                          "end=...) with the value it stops at")

    def build(o: int) -> Schedule:
        # before the offset the exponent is negative: start m periods earlier, skipping the
        # part of a period that the offset leaves
        m = -(-o // steps)
        try:
            start = init * rate ** -m if m else init
        except (OverflowError, ZeroDivisionError):
            start = math.inf
        if not math.isfinite(start):
            raise ConfigError("offset", f"is too large for this decay: the value before it, "
                              f"{init!r}·{rate!r}^-{m}, is past the float range")
        s = exponential(start, rate, steps, staircase=stair)
        return s.skip(m * steps - o) if m * steps > o else s

    return _delayed(build, _offset(c))


def _polynomial(c: Mapping[str, Any]) -> Schedule:
    init, steps = _need(c, "initial_learning_rate", "number"), _length(c, "decay_steps")
    end = field(c, "end_learning_rate", 0.0001, "number")
    power, cycle = field(c, "power", 1.0, "number"), field(c, "cycle", False, "bool")
    o = _offset(c)
    if o > 0 and cycle:
        raise ConfigError("cycle", f"cannot be true with offset > 0 (got {o}): before the "
                          "offset Model Garden's horizon is 0 steps and the value -inf or NaN")
    if o <= 0:
        return _delayed(lambda o: polynomial(init, end, steps, power=power, cycle=cycle), o)
    # (1 - (k - o)/steps)^power = ((steps + o)/steps)^power · (1 - k/(steps + o))^power
    start = end + (init - end) * ((steps + o) / steps) ** power
    return polynomial(start, end, steps + o, power=power)


def _periodic(s: cosine, o: int, whole: bool) -> Schedule:
    """A cosine's formula continued both ways (Keras' cosine at negative steps) and delayed by
    ``o``; it repeats every ``2 · over`` steps."""
    if o == 0 and whole:
        return s
    period = 2 * int(s.over)
    shift = -o % period
    c = s.past_end("continue")
    return c.skip(shift) if shift else c


def _cosine(c: Mapping[str, Any]) -> Schedule:
    init, steps = _need(c, "initial_learning_rate", "number"), _length(c, "decay_steps")
    s = cosine(init, field(c, "alpha", 0.0, "number") * init, steps)

    def build(o: int) -> Schedule:
        return s if o == 0 else sequence([_periodic(s, o, False), s], at=[o])

    return _delayed(build, _offset(c))


def _power_tail(init: float, power: float) -> Schedule:
    """``init · (j + 1)^power`` for ``j >= 0``."""
    if power > 0:
        raise ConfigError("power", f"must be <= 0 for lrkit, got {power!r}: a positive power "
                          "grows without bound")
    return constant(init) if power == 0 else inverse_sqrt(init, 1, power=power)


def _power_curve(init: float, power: float) -> Schedule:
    """``init · max(j, 1)^power``."""
    tail = _power_tail(init, power)
    return tail if power == 0 else constant(init, over=1) >> tail


def _power(c: Mapping[str, Any]) -> Schedule:
    return _power_curve(_need(c, "initial_learning_rate", "number"),
                        field(c, "power", -0.5, "number"))


def _power_linear(c: Mapping[str, Any]) -> Schedule:
    init = _need(c, "initial_learning_rate", "number")
    total = _need(c, "total_decay_steps", "count")
    frac = field(c, "linear_decay_fraction", 0.1, "number")
    s = _power_curve(init, field(c, "power", -0.5, "number"))
    if total * frac > 0:
        if frac > 1:
            raise ConfigError("linear_decay_fraction", f"must be at most 1, got {frac!r}")
        knee, ramp = total - total * frac, linear(1.0, 0.0, total * frac)
        s = s * (constant(1.0, over=knee) >> ramp if knee > 0 else ramp)
    # before the offset the step is < 1: max(step, 1)^power = 1 and the linear factor is 1
    return _delayed(lambda o: constant(init, over=o) >> s if o else s, _offset(c))


def _power_with_offset(c: Mapping[str, Any]) -> Schedule:
    init = _need(c, "initial_learning_rate", "number")
    tail = _power_tail(init, field(c, "power", -0.5, "number"))
    pre = field(c, "pre_offset_learning_rate", 1.0e6, "number")
    o = _offset(c)
    # pre through step `offset` (step > offset switches), then init · (step - offset)^power
    s = constant(pre, over=o + 1) >> tail if o >= 0 else \
        (tail.skip(-o - 1) if o < -1 else tail)
    return s.clip(max=pre) if init > pre else s


def _step_cosine(c: Mapping[str, Any]) -> Schedule:
    bounds, values = _need(c, "boundaries", "counts"), _need(c, "values", "numbers")
    if len(values) != len(bounds):
        raise ConfigError("values", f"must have len(boundaries) = {len(bounds)} entries, "
                          f"got {len(values)}")
    if len(bounds) < 2:
        raise ConfigError("boundaries", f"must hold at least 2 steps, got {show(bounds)}: "
                          "with one, Model Garden divides by a zero length (NaN at every step)")
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        if b <= a:
            raise ConfigError(f"boundaries[{i + 1}]", f"must be > boundaries[{i}] ({a}), got {b}")
    o = _offset(c)
    for i, b in enumerate(bounds):
        _exact(f"boundaries[{i}] + offset", b + max(o, 0))
    first = cosine(values[0], values[1], bounds[1] - bounds[0])
    mid = [cosine(values[i], values[i + 1], bounds[i + 1] - bounds[i])
           for i in range(1, len(bounds) - 1)]

    def build(o: int) -> Schedule:
        # the first cosine runs from step 0 (with the offset's negative steps, mirrored) up to
        # boundaries[1]; the last level is NaN in Model Garden: lrkit holds values[-1]
        kids = [_periodic(first, o, bounds[0] == 0), *mid, constant(values[-1])]
        return sequence(kids, at=[b + o for b in bounds[1:]])

    return _delayed(build, o)


_TYPES: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any]], Schedule]]] = {
    "constant": (("learning_rate",), _constant),
    "stepwise": (("boundaries", "values", "offset"), _stepwise),
    "exponential": (("initial_learning_rate", "decay_steps", "decay_rate", "staircase",
                     "offset"), _exponential),
    "polynomial": (("initial_learning_rate", "decay_steps", "end_learning_rate", "power",
                    "cycle", "offset"), _polynomial),
    "cosine": (("initial_learning_rate", "decay_steps", "alpha", "offset"), _cosine),
    "power": (("initial_learning_rate", "power"), _power),
    "power_linear": (("initial_learning_rate", "total_decay_steps", "power",
                      "linear_decay_fraction", "offset"), _power_linear),
    "power_with_offset": (("initial_learning_rate", "power", "offset",
                           "pre_offset_learning_rate"), _power_with_offset),
    "step_cosine_with_offset": (("boundaries", "values", "offset"), _step_cosine),
}


# --- the warmups ---------------------------------------------------------------------------


def _linear_warmup(c: Mapping[str, Any], s: Schedule) -> Schedule:
    w = _warmup_steps(c)
    start = field(c, "warmup_learning_rate", 0.0, "number")
    return s if w == 0 else linear(start, s(w), w) >> _after(s, w)


def _polynomial_warmup(c: Mapping[str, Any], s: Schedule) -> Schedule:
    w = _warmup_steps(c)
    power = field(c, "power", 1.0, "number")
    if power < 0:
        raise ConfigError("power", f"must be >= 0, got {power!r}: a negative power starts "
                          "the warmup above its target")
    if w == 0:
        return s
    top = s(w)
    if w == 1 or power == 0:
        ramp: Schedule = constant(top, over=w)
    else:
        # top · (k/w)^power is the rising polynomial with progress (k/w)^k_decay; Model Garden
        # gives step 0 the value of step 1
        rise = polynomial(0.0, top, w, k_decay=power) if power != 1 else linear(0.0, top, w)
        ramp = constant(top * (1.0 / w) ** power, over=1) >> rise.skip(1)
    return ramp >> _after(s, w)


def _after(s: Schedule, w: int) -> Schedule:
    """The schedule from step ``w`` on, on its own clock."""
    return s if isinstance(s, constant) and s.over is None else s.skip(w)


def _warmup_steps(c: Mapping[str, Any]) -> int:
    _need(c, "warmup_steps", "number")
    return _position(c, "warmup_steps")


_WARMUPS: dict[str, tuple[tuple[str, ...], Callable[[Mapping[str, Any], Schedule], Schedule]]] \
    = {"linear": (("warmup_learning_rate", "warmup_steps"), _linear_warmup),
       "polynomial": (("power", "warmup_steps"), _polynomial_warmup)}
