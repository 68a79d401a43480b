"""Durations and positions with units, and binding them to steps.

A time is a number of steps (an ``int`` or a finite ``float``: ``2.4 * 1251`` steps is an
ordinary period) or a string: ``"1000"``, ``"5ep"``, ``"5 epochs"``, ``"10%"`` (of
the total run), ``"2.5M samples"``, ``"1B tokens"``; SI suffixes ``k``, ``M``, ``B``/``G``, ``T``
scale the number. Terms combine with spaced ``+`` and ``-`` (``"100% - 5ep"``), which is how
recipes such as ``wsd`` express "the rest of the run". Strings are parsed when a schedule is
built (so typos fail at once) and resolved by ``Schedule.bind``.

Rounding rule, the only one: a unit string is converted from the exact value of the numbers
given (its decimal text, ``"2.3ep"`` being exactly 23/10; a float binding such as
``1281167 / 256`` at its exact binary value; a ``Fraction`` exactly) and rounded *down* once to
a whole step: ``floor(epochs * steps_per_epoch)``, ``floor(pct / 100 * total_steps)``,
``floor(samples / samples_per_step)``; a sum of terms is rounded once, after adding. No float
product is formed, so no epsilon is involved and a budget is never overshot. This is *not*
TensorFlow's ``int(batches_per_epoch * epoch)``, which rounds the float product first (at 3002333/6
steps per epoch, 228 epochs are 114088653 steps here and 114088654 there); recipes and importers
that reproduce another system's rounding compute its expression themselves (``recipes.tf_resnet``).

Limits that keep parsing linear and cheap: a time string has at most ``MAX_TIME_CHARS`` (100)
characters, and a number's decimal exponent is within +-308 (the float range), so
``"1e999999999ep"`` is refused instead of computing a billion-digit integer.
"""

from __future__ import annotations

import math

from .errors import ScheduleError, show

TYPE_CHECKING = False  # typing, re and fractions load on first use: they cost ~5 ms at import
if TYPE_CHECKING:
    from fractions import Fraction
    from typing import Any

__all__ = ["Binding", "Time", "parse_time", "resolve_time"]

Time = int | float | str

_SUFFIX = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}
_UNITS = {
    "": "steps", "step": "steps", "steps": "steps",
    "ep": "epochs", "eps": "epochs", "epoch": "epochs", "epochs": "epochs",
    "%": "percent",
    "sample": "samples", "samples": "samples",
    "token": "tokens", "tokens": "tokens", "tok": "tokens",
}
_NEEDS = {"epochs": "steps_per_epoch", "percent": "total_steps",
          "samples": "samples_per_step", "tokens": "tokens_per_step"}
_MAX_STEPS = 2.0**63  # every step index is below it: longer times cannot be reached
# The shortest time: a step divided by it stays below 2**83, where every backend's remainder
# is still exact (torch's fmod returns NaN for 2**31 / 2e-300).
MIN_STEPS = 2.0**-20
MAX_TIME_CHARS = 100
_MAX_EXPONENT = 308
# One stripped term: a number, an optional SI suffix, an optional unit. Each space run belongs
# to the one part that follows it, so a failing match backtracks in linear time (the old
# pattern's three adjacent ``\s*`` took 6 s on "1" + 1600 spaces + "!").
_TERM = (r"^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?"
         r"(?:\s*([kKMBGT]))?(?:\s*([A-Za-z%]+))?$")


class Binding:
    """The quantities that turn unit strings into steps; ``None`` where unknown."""

    def __init__(self, steps_per_epoch: float | None = None, total_steps: int | None = None,
                 samples_per_step: float | None = None,
                 tokens_per_step: float | None = None) -> None:
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = total_steps
        self.samples_per_step = samples_per_step
        self.tokens_per_step = tokens_per_step
        for name in ("steps_per_epoch", "total_steps", "samples_per_step", "tokens_per_step"):
            v = getattr(self, name)
            if v is None:
                continue
            number = not isinstance(v, bool) and isinstance(v, (int, float)) or \
                hasattr(v, "numerator")  # also fractions.Fraction
            if not number or not 0 < v < float("inf"):
                raise ScheduleError(f"bind: {name!r} must be a finite number > 0, got {show(v)}")
        if self.total_steps is not None and not isinstance(self.total_steps, int):
            raise ScheduleError(
                f"bind: 'total_steps' must be a whole number of steps, got "
                f"{show(self.total_steps)}")


def parse_time(value: object, owner: str, arg: str, *, allow_zero: bool = False) -> Time:
    """Check a time argument and return it normalized: a number of steps (an int, or a float
    when it is not whole) or the user's unit string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScheduleError(
            f"{owner}: {arg!r} must be a number of steps or a unit string such as '5ep', "
            f"'10%', '2.5M samples', got {show(value)}")
    if isinstance(value, (int, float)):
        return _steps(value, owner, arg, allow_zero, value)
    amount, unit = _split(value, owner, arg)
    if unit == "steps":
        return _steps(amount, owner, arg, allow_zero, value)
    if amount == 0 and not allow_zero:
        raise ScheduleError(f"{owner}: {arg!r} must be > 0, got {show(value)}")
    return value.strip()


def _steps(n: Any, owner: str, arg: str, allow_zero: bool, shown: object) -> int | float:
    """A number of steps, checked: whole numbers become ints, others stay floats."""
    try:
        f = float(n)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f) or f >= _MAX_STEPS:
        raise ScheduleError(f"{owner}: {arg!r} must be a finite number of steps below 2**63, "
                            f"got {show(shown)}")
    if f < 0 or (f == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ScheduleError(f"{owner}: {arg!r} must be {rule} steps, got {show(shown)}")
    if 0 < f < MIN_STEPS:
        raise ScheduleError(f"{owner}: {arg!r} must be at least 2**-20 (about 1e-6) steps"
                            f"{' or 0' if allow_zero else ''}, got {show(shown)}; no update "
                            "falls inside a shorter time")
    if isinstance(n, int):
        return n
    if hasattr(n, "denominator") and n.denominator == 1:
        return int(n)
    return int(f) if f.is_integer() else f


def _terms(text: str, owner: str, arg: str) -> list[tuple[Fraction, str]]:
    """``text`` as signed (amount, unit) terms."""
    import re
    from fractions import Fraction

    if len(text) > MAX_TIME_CHARS:
        raise ScheduleError(f"{owner}: {arg!r} is not a time: a time string has at most "
                            f"{MAX_TIME_CHARS} characters, got {len(text)}: {show(text, 40)}")
    parts = re.split(r"\s+([+-])\s+", text.strip())
    signs = [1] + [1 if op == "+" else -1 for op in parts[1::2]]
    out = []
    for sign, part in zip(signs, parts[0::2]):
        m = re.match(_TERM, part)
        unit = None
        if m is not None:
            word = m.group(4) or ""
            unit = _UNITS.get(word if word == "%" else word.lower())
        if m is None or unit is None:
            raise ScheduleError(
                f"{owner}: {arg!r} is not a time, got {text!r}; write steps (1000), epochs "
                "('5ep', '5 epochs'), a share of the run ('10%'), samples ('2.5M samples') "
                "or tokens ('1B tokens'), optionally joined by ' + ' or ' - '")
        exp = int(m.group(2) or 0)
        if abs(exp) > _MAX_EXPONENT:
            raise ScheduleError(
                f"{owner}: {arg!r} is not a time: an exponent must be within "
                f"+-{_MAX_EXPONENT} (the float range), got {text!r}")
        out.append((sign * Fraction(m.group(1)) * Fraction(10) ** exp * _SUFFIX[m.group(3) or ""],
                    unit))
    return out


def minus(total: Time, *parts: Time) -> Time:
    """``total`` less every part, for times ``parse_time`` returned: a number of steps when all
    are whole numbers of steps, else a time expression that subtracts each term of every part
    (``"20ep"`` less ``"1ep + 10"`` is ``"20ep - 1ep - 10"``)."""
    if all(isinstance(v, int) for v in (total, *parts)):
        return total - sum(parts)  # type: ignore[operator, arg-type]
    import re

    out = [str(total)]
    for part in parts:
        pieces = re.split(r"\s+([+-])\s+", str(part).strip())
        out.append(f"- {pieces[0]}")
        out += [f"{'-' if op == '+' else '+'} {term}"
                for op, term in zip(pieces[1::2], pieces[2::2])]
    return " ".join(out)


def sign(value: Time, owner: str, arg: str) -> int | None:
    """The sign (-1, 0 or 1) a time has in every binding, when its terms share one unit
    (``"10ep - 4ep - 6ep"`` is 0); ``None`` when it depends on the binding (``"10% - 5ep"``)."""
    if not isinstance(value, str):
        return (value > 0) - (value < 0)
    terms = _terms(value, owner, arg)
    if len({unit for _, unit in terms}) > 1:
        return None
    total = sum(a for a, _ in terms)
    return (total > 0) - (total < 0)


def _split(text: str, owner: str, arg: str) -> tuple[Fraction, str]:
    """A single-term time as (amount, unit); sums report the unit ``"mixed"``."""
    terms = _terms(text, owner, arg)
    if len(terms) == 1:
        return terms[0]
    if all(u == "steps" for _, u in terms):
        return sum((a for a, _ in terms), terms[0][0] * 0), "steps"
    return terms[0][0] * 0 + 1, "mixed"


def needs(value: Time) -> list[str]:
    """The binding quantities a time needs (empty for plain steps)."""
    if not isinstance(value, str):
        return []
    return [_NEEDS[u] for _, u in _terms(value, "", "") if u != "steps"]


def resolve_time(value: Time, b: Binding, owner: str, arg: str,
                 *, allow_zero: bool = False) -> int | float:
    """Steps for ``value`` under binding ``b`` (a unit string is rounded down once to whole
    steps), or a ScheduleError."""
    if not isinstance(value, str):
        return value
    from fractions import Fraction

    total = Fraction(0)
    for amount, unit in _terms(value, owner, arg):
        if unit == "steps":
            total += amount
            continue
        per = getattr(b, _NEEDS[unit])
        if per is None:
            raise ScheduleError(
                f"{owner}: {arg!r} = {show(value)} needs {_NEEDS[unit]}; "
                f"call .bind({_NEEDS[unit]}=...) first")
        per = Fraction(per)
        if unit == "epochs":
            total += amount * per
        elif unit == "percent":
            total += amount / 100 * per
        else:
            total += amount / per
    n = total.numerator // total.denominator
    if n < 0 or (n == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0"
        raise ScheduleError(
            f"{owner}: {arg!r} = {show(value)} resolves to {_approx(total)} steps, which "
            f"rounds down to {show(n)}; it must be {rule} steps")
    return n


def _approx(x: Fraction) -> str:
    """``x`` as ``%g``, also beyond the float range."""
    try:
        return f"{float(x):g}"
    except OverflowError:
        return show(int(x))
