"""Argument roles: one small class per kind of constructor argument, as click's ``ParamType``.

A role owns everything lrkit does with an argument of its kind: the check and normalization in
the constructor the user called (``check``), the unit strings it holds and their binding
(``times``, ``bind``), the schedules inside it (``children``), reading it from plain data
(``from_data``), its JSON Schema fragment (``schema``) and its one-line text (``text``). The
schedule base class, the config layer and the syntax loop over ``field.role`` instead of
dispatching on role names, so the schema accepts what the constructors accept by construction.

What does not live here: cross-argument rules (each class's ``__post_init__``).
"""

from __future__ import annotations

import math

from ._time import (
    _SUFFIX,
    _UNITS,
    MAX_TIME_CHARS,
    MIN_STEPS,
    Binding,
    Time,
    parse_time,
    resolve_time,
)
from .errors import fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["MAX_VALUE", "ROLES", "Role"]

# The largest value: far above any hyperparameter, and far enough below float's 1.8e308 that
# the arithmetic of a curve between two values never rounds up to inf.
MAX_VALUE = 1e300


class Role:
    """One kind of argument. ``meta`` holds the declaration's options (ranges, choices, …)."""

    name = ""

    def __init__(self, **meta: Any) -> None:
        self.meta = meta

    def check(self, owner: str, arg: str, v: Any) -> Any:
        """``v`` checked and normalized, or a ScheduleError quoting it."""
        return v

    def times(self, v: Any) -> list[Time]:
        """The times ``v`` holds (unit strings among them wait for ``bind``)."""
        return []

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return v

    def children(self, v: Any) -> tuple[Any, ...]:
        return ()

    def from_data(self, v: Any, build: Callable[[Any, str], Any], path: str) -> Any:
        """The constructor argument for plain data ``v`` (``build`` makes nested schedules)."""
        return v

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return repr(v)


class Number(Role):
    """A real number in an interval (``lo``/``hi``, each closed unless ``*_open``)."""

    name = "number"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        lo, hi = self.meta.get("lo"), self.meta.get("hi")
        lo_open, hi_open = self.meta.get("lo_open", False), self.meta.get("hi_open", False)
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise fail(owner, arg, "must be a number", v)
        try:
            f = float(v)
        except (OverflowError, ValueError):
            f = math.nan
        if not math.isfinite(f):
            raise fail(owner, arg, "must be finite", v)
        low = lo is not None and (f <= lo if lo_open else f < lo)
        high = hi is not None and (f >= hi if hi_open else f > hi)
        if low or high:
            parts = []
            if lo is not None:
                parts.append(f"{'>' if lo_open else '>='} {lo:g}")
            if hi is not None and (hi != MAX_VALUE or high):  # the values' cap when it is hit
                parts.append(f"{'<' if hi_open else '<='} {hi:g}")
            raise fail(owner, arg, "must be " + " and ".join(parts), v)
        return f + 0.0  # -0.0 is 0.0: a value is never negative, not even its sign

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "number"}
        for side, key in (("lo", "minimum"), ("hi", "maximum")):
            bound = self.meta.get(side)
            if bound is not None:
                exclusive = self.meta.get(f"{side}_open", False)
                out[("exclusiveM" + key[1:]) if exclusive else key] = bound
        return out


class Value(Number):
    """A hyperparameter value: >= 0 and <= ``MAX_VALUE``."""

    name = "value"

    def __init__(self, **meta: Any) -> None:
        super().__init__(lo=0.0, hi=MAX_VALUE, **meta)


class Values(Role):
    """A list of values, stored as a tuple."""

    name = "values"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise fail(owner, arg, "must be a list of numbers", v)
        one = Value()
        out = tuple(one.check(owner, f"{arg}[{i}]", x) for i, x in enumerate(v))
        if not out:
            raise fail(owner, arg, "must hold at least one value", [])
        return out

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": Value().schema(), "minItems": 1}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return "[" + ", ".join(repr(x) for x in v) + "]"


class Choice(Role):
    """One of the declared ``choices``."""

    name = "choice"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        choices = self.meta["choices"]
        if not isinstance(v, str) or v not in choices:
            import difflib

            near = difflib.get_close_matches(str(v), choices, n=1)
            raise fail(owner, arg, f"must be one of {', '.join(map(repr, choices))}", v,
                       f"did you mean {near[0]!r}?" if near else "")
        return v

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.meta["choices"])}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return str(v)


class Bool(Role):
    name = "bool"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        if not isinstance(v, bool):
            raise fail(owner, arg, "must be True or False", v)
        return v

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Int(Role):
    """A whole count >= ``lo`` (``rule`` words the requirement)."""

    name = "int"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        lo = self.meta["lo"]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise fail(owner, arg, f"{self.meta['rule']} >= {lo}", v)
        return v

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.meta["lo"]}


def _unit_pattern(allow_zero: bool) -> str:
    """The unit-string grammar of ``_time`` as an ECMA-262 regex (no flags: case by hand); a
    length's first amount has a non-zero digit. (Sums and the range of plain step strings,
    such as ``"1e-9"``, are left to the constructor.)"""
    words = sorted((u for u in _UNITS if u and u != "%"), key=len, reverse=True)
    unit = "|".join("".join(f"[{c.lower()}{c.upper()}]" for c in w) for w in words) + "|%"
    term = (r"\s*(?:\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)\s*[" + "".join(_SUFFIX) +
            rf"]?\s*(?:{unit})?\s*")
    nonzero = "" if allow_zero else r"(?=\s*\.?0*\.?0*[1-9])"
    return rf"^{nonzero}{term}(?:\s+[+-]\s+{term})*$"


class TimeRole(Role):
    """A length or position: a number of steps or a unit string (``allow_zero``: a position)."""

    name = "time"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        return parse_time(v, owner, arg, allow_zero=bool(self.meta.get("allow_zero")))

    def times(self, v: Any) -> list[Time]:
        return [v]

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return resolve_time(v, b, owner, arg, allow_zero=bool(self.meta.get("allow_zero")))

    def schema(self) -> dict[str, Any]:
        steps = {"type": "number", "minimum": MIN_STEPS, "exclusiveMaximum": 2.0**63}
        text = {"type": "string", "maxLength": MAX_TIME_CHARS,
                "pattern": _unit_pattern(bool(self.meta.get("allow_zero")))}
        if self.meta.get("allow_zero"):
            return {"anyOf": [{"const": 0}, steps, text]}
        return {"anyOf": [steps, text]}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        import re

        if isinstance(v, str) and re.match(r"^(?:\d+(?:\.\d*)?|\.\d+)[kKMBGT]?(?:%|[A-Za-z]+)$",
                                           v):
            return v  # bare: 95ep, 10%, 2.5Msamples
        return repr(v)


class Times(TimeRole):
    """A list of positions, stored as a tuple, sorted (``strict``: no repeats)."""

    name = "times"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        if isinstance(v, (str, bytes, int, float)) or not hasattr(v, "__iter__"):
            raise fail(owner, arg, "must be a list of steps or unit strings", v)
        out = tuple(super(Times, self).check(owner, f"{arg}[{i}]", t) for i, t in enumerate(v))
        if not out and not self.meta.get("allow_empty"):
            raise fail(owner, arg, "must hold at least one position", list(v))
        check_sorted(owner, arg, out, strict=bool(self.meta.get("strict")))
        return out

    def times(self, v: Any) -> list[Time]:
        return list(v)

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return tuple(super(Times, self).bind(t, b, owner, arg) for t in v)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": super().schema(),
                "minItems": 0 if self.meta.get("allow_empty") else 1}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return "[" + ", ".join(super(Times, self).text(t, to_text) for t in v) + "]"


class Points(Role):
    """``(position, value)`` pairs with strictly increasing positions, stored as tuples."""

    name = "points"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise fail(owner, arg, "must be a list of (step, value) pairs", v)
        out = []
        for i, p in enumerate(v):
            if isinstance(p, (str, bytes)) or hasattr(p, "keys") or not hasattr(p, "__len__") \
                    or len(p) != 2:  # (a mapping of two keys is no pair)
                raise fail(owner, arg, f"entry {i} must be a (step, value) pair", p)
            t = parse_time(p[0], owner, f"{arg}[{i}][0]", allow_zero=True)
            out.append((t, Value().check(owner, f"{arg}[{i}][1]", p[1])))
        if not out:
            raise fail(owner, arg, "must hold at least one point", list(v))
        check_sorted(owner, arg, tuple(t for t, _ in out), strict=True)
        return tuple(out)

    def times(self, v: Any) -> list[Time]:
        return [t for t, _ in v]

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return tuple((resolve_time(t, b, owner, arg, allow_zero=True), y) for t, y in v)

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "minItems": 1, "items": {
            "type": "array", "prefixItems": [TimeRole(allow_zero=True).schema(),
                                             Value().schema()],
            "minItems": 2, "maxItems": 2}}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        t = TimeRole()
        return "[" + ", ".join(f"({t.text(x, to_text)}, {y!r})" for x, y in v) + "]"


_REF = {"$ref": "#/$defs/schedule"}


class ScheduleRole(Role):
    """A schedule inside this one."""

    name = "schedule"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        from ._schedule import Schedule

        if not isinstance(v, Schedule):
            raise fail(owner, arg, "must be an lrkit schedule", v,
                       "build one with lrkit.constant(...), lrkit.cosine(...), …")
        return v

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return v._bind(b)

    def children(self, v: Any) -> tuple[Any, ...]:
        return (v,)

    def from_data(self, v: Any, build: Callable[[Any, str], Any], path: str) -> Any:
        return build(v, path)

    def schema(self) -> dict[str, Any]:
        return dict(_REF)

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return to_text(v)


class Schedules(ScheduleRole):
    """A non-empty list of schedules, stored as a tuple."""

    name = "schedules"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        from ._schedule import Schedule

        if isinstance(v, Schedule) or not hasattr(v, "__iter__"):
            raise fail(owner, arg, "must be a list of schedules", v)
        kids = tuple(v)
        if not kids:
            raise fail(owner, arg, "must hold at least one schedule", [])
        for i, c in enumerate(kids):
            super().check(owner, f"{arg}[{i}]", c)
        return kids

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return tuple(c._bind(b) for c in v)

    def children(self, v: Any) -> tuple[Any, ...]:
        return tuple(v)

    def from_data(self, v: Any, build: Callable[[Any, str], Any], path: str) -> Any:
        from .errors import ConfigError, show

        if not isinstance(v, list):
            raise ConfigError(path, f"must be a list of schedules, got {show(v)}")
        return [build(x, f"{path}[{i}]") for i, x in enumerate(v)]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": dict(_REF), "minItems": 1}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return "[" + ", ".join(to_text(c) for c in v) + "]"


class Operand(ScheduleRole):
    """A value or a schedule: an operand of ``+``, ``-`` or ``clip``."""

    name = "operand"

    def check(self, owner: str, arg: str, v: Any) -> Any:
        from ._schedule import Schedule

        if isinstance(v, Schedule):
            return v
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise fail(owner, arg, "must be a number or an lrkit schedule", v)
        return Value().check(owner, arg, v)

    def bind(self, v: Any, b: Binding, owner: str, arg: str) -> Any:
        return v if isinstance(v, float) else v._bind(b)

    def children(self, v: Any) -> tuple[Any, ...]:
        return () if isinstance(v, float) else (v,)

    def from_data(self, v: Any, build: Callable[[Any, str], Any], path: str) -> Any:
        return build(v, path) if isinstance(v, (dict, str)) else v

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [Value().schema(), dict(_REF)]}

    def text(self, v: Any, to_text: Callable[[Any], str]) -> str:
        return repr(v) if isinstance(v, float) else to_text(v)


ROLES: dict[str, type[Role]] = {r.name: r for r in (
    Number, Value, Values, Choice, Bool, Int, TimeRole, Times, Points, ScheduleRole, Schedules,
    Operand)}


def check_sorted(owner: str, arg: str, values: tuple[Time, ...], *, strict: bool) -> None:
    """Positions in order (checked once all are steps; unit strings wait for bind)."""
    if any(isinstance(v, str) for v in values):
        return
    steps: list[float] = list(values)  # type: ignore[arg-type]  # numbers: no strings here
    for a, b in zip(steps, steps[1:]):
        if (b <= a) if strict else (b < a):
            rule = "must be strictly increasing" if strict else "must be sorted"
            raise fail(owner, arg, rule, list(values),
                       "sort them" + (" and remove duplicates" if strict else ""))
