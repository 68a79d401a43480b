"""The one-line schedule syntax: ``lrkit.parse(text)`` and ``str(schedule)``. No ``eval``.

Grammar (informally; ``docs/syntax.md`` has examples)::

    chain    := sum (">>" sum)*                  a >> b: one after the other
    sum      := product (("+" | "-") product)*   s + 1e-5, 1 - s, s1 - s2 (floored at 0)
    product  := postfix (("*" | "/") postfix)*   s * 0.5, s1 * s2, s / 3
    postfix  := atom ("." method "(" args ")")*  .clip(min=…), .stretch(2), .stepped(1ep),
                                                 .skip(5), .past_end(continue)
    atom     := kind "(" args ")" | "(" chain ")" | number
    args     := arg ("," arg)*
    arg      := [name "="] value
    value    := chain | number ["->" number] | time | word | string | "[" values "]" | "(" … ")"

``cosine(0.1 -> 1e-5, 95ep)`` gives ``start -> end`` of a shape in one argument; times are
written bare (``95ep``, ``10%``, ``2.5M samples``, ``1B tokens``) or quoted when they are sums
(``'100% - 5ep'``); choices are bare words (``mode=triangular2``). ``warmup(5ep) >> rest`` is
``warmup(rest, 5ep)``: a warmup in front of everything after it. Python's ``repr`` of a schedule
is accepted too.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NoReturn

from ._combine import branch, warmup
from ._schedule import (
    MAX_DEPTH,
    REGISTRY,
    Clip,
    Difference,
    PastEnd,
    Product,
    Quotient,
    Scale,
    Schedule,
    Skip,
    Stepped,
    Stretch,
    Sum,
    sequence,
)
from ._shapes import _Anneal
from ._time import _SUFFIX, _UNITS
from .errors import ConfigError, ScheduleError

__all__ = ["parse", "to_text"]

_UNIT_WORDS = "|".join(sorted((u for u in _UNITS if u and u != "%"), key=len, reverse=True))
_TOKEN = re.compile(rf"""
    (?P<ws>\s+)
  | (?P<time>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ ]?[{''.join(_SUFFIX)}]?[ ]?
            (?:%|(?:{_UNIT_WORDS})\b))
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[kKMBGT]?)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<op>->|>>|[()\[\],=*/.\-+])
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
""", re.VERBOSE)
_MAX_NESTING = 2 * MAX_DEPTH + 8  # a schedule's call and its operands' groups
_OPERATORS = ("scale", "product", "sum", "difference", "quotient")  # written with + - * /
_METHODS = {c._method: c for c in (Clip, Stretch, Stepped, Skip, PastEnd, branch)}


def parse(text: str) -> Schedule:
    """A schedule from its one-line text.

    >>> parse("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)")
    warmup(cosine(0.1, 1e-05, '95ep'), '5ep')
    >>> parse(str(cosine(1.0, 0.0, 100) * 0.5)) == cosine(1.0, 0.0, 100) * 0.5
    True
    """
    if not isinstance(text, str):
        raise ConfigError("expression", f"must be a string, got {type(text).__name__}")
    p = _Parser(text)
    limit = sys.getrecursionlimit()  # a descent of ~7 calls per bracket, MAX_NESTING deep
    sys.setrecursionlimit(max(limit, 8 * _MAX_NESTING + 1000))
    try:
        s = p.chain()
    finally:
        sys.setrecursionlimit(limit)
    if p.peek() is not None:
        p.fail("expected '>>', '*' or the end of the expression")
    if not isinstance(s, Schedule):
        p.fail("expected a schedule such as cosine(0.1 -> 0, 100)", 0)
    return s


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:
                self.fail(f"unexpected character {text[pos]!r}", pos)
            kind = m.lastgroup or ""
            if kind != "ws":
                self.tokens.append((kind, m.group(), pos))
            pos = m.end()
        self.i = 0
        depth = 0
        for kind, text, at in self.tokens:  # brackets nest at most as deep as schedules may
            depth += (text in "([") - (text in ")]") if kind == "op" else 0
            if depth > _MAX_NESTING:
                self.fail(f"brackets nest deeper than {_MAX_NESTING}; schedules nest at most "
                          f"{MAX_DEPTH} deep", at)

    # -- tokens --------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, value: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "op" and t[1] == value

    def take(self, value: str | None = None, what: str = "") -> tuple[str, str, int]:
        t = self.peek()
        if t is None or (value is not None and not (t[0] == "op" and t[1] == value)):
            self.fail(f"expected {what or repr(value)}")
        self.i += 1
        return t

    def fail(self, message: str, pos: int | None = None) -> NoReturn:
        if pos is None:
            t = self.peek()
            pos = t[2] if t is not None else len(self.text)
        lo = max(0, pos - 60)  # at most ~100 characters of the text, around the column
        window = self.text[lo:pos + 40].replace("\n", " ")
        lead = "…" if lo else ""
        raise ConfigError(f"expression, column {pos + 1}",
                          f"{message}\n  {lead}{window}{'…' if pos + 40 < len(self.text) else ''}"
                          f"\n  {' ' * (pos - lo + len(lead))}^")

    # -- grammar -------------------------------------------------------------------------------

    def chain(self) -> Any:
        start = self.peek()
        first = self.sum()
        if not self.at(">>"):
            return first
        parts = [first]
        while self.at(">>"):
            self.take(">>")
            parts.append(self.sum())
        for j in reversed(range(len(parts))):  # warmup(5ep) >> rest, innermost first
            part = parts[j]
            if isinstance(part, _WarmupPrefix):
                rest = parts[j + 1:]
                if not rest:
                    self.fail("a warmup needs a schedule after '>>'")
                inner = rest[0] if len(rest) == 1 else sequence(rest)
                parts = parts[:j] + [self.build(warmup, [inner], part.kwargs, part.pos,
                                                part.where)]
        for part in parts:
            if not isinstance(part, Schedule):
                self.fail("'>>' joins schedules", start[2] if start else 0)
        return parts[0] if len(parts) == 1 else sequence(parts)

    def sum(self) -> Any:
        left = self.product()
        while self.at("+") or self.at("-"):
            op, pos = self.take()[1:]
            right = self.product()
            if not (isinstance(left, Schedule) or isinstance(right, Schedule)) \
                    or not all(isinstance(x, (Schedule, int, float)) for x in (left, right)):
                self.fail(f"'{op}' joins a schedule and a number or two schedules", pos)
            left = self.build(Sum if op == "+" else Difference, [left, right], {}, pos)
        return left

    def product(self) -> Any:
        left = self.postfix()
        while self.at("*") or self.at("/"):
            op, pos = self.take()[1:]
            right = self.postfix()
            number = (int, float)
            if op == "/" and isinstance(left, Schedule) and isinstance(right, number):
                left = self.build(Quotient, [left, right], {}, pos)
            elif op == "/":
                self.fail("'/' divides a schedule by a number", pos)
            elif isinstance(left, Schedule) and isinstance(right, Schedule):
                left = Product(left, right)
            elif isinstance(left, Schedule) and isinstance(right, number):
                left = self.build(Scale, [left, right], {}, pos)
            elif isinstance(right, Schedule) and isinstance(left, number):
                left = self.build(Scale, [right, left], {}, pos)
            else:
                self.fail("'*' multiplies a schedule by a number or a schedule", pos)
        return left

    def postfix(self) -> Any:
        value = self.atom()
        while self.at("."):
            self.take(".")
            kind, name, pos = self.take(what="a method name")
            if name not in _METHODS or not isinstance(value, Schedule):
                self.fail(f"unknown method {name!r}; use .clip, .stretch, .stepped, .skip "
                          "or .past_end", pos)
            args, kwargs, where = self.args()
            where = {i + 1 if isinstance(i, int) else i: p for i, p in where.items()}
            value = self.build(_METHODS[name], [value, *args], kwargs, pos, where)
        return value

    def atom(self) -> Any:
        t = self.peek()
        if t is None:
            self.fail("expected a schedule")
        kind, text, pos = t
        if kind == "word" and self.peek(1) is not None and self.peek(1)[1] == "(":  # type: ignore[index]
            self.i += 1
            if text not in REGISTRY or text in _OPERATORS or text in _METHODS:
                import difflib

                near = difflib.get_close_matches(text, sorted(REGISTRY), n=1)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                self.fail(f"unknown schedule {text!r}{hint}", pos)
            args, kwargs, where = self.args()
            cls = REGISTRY[text]
            if cls is warmup and not (args and isinstance(args[0], Schedule)):
                if len(args) > 3:
                    self.fail(f"warmup(...) >> takes at most 3 arguments before '>>' (over, "
                              f"start, shape), got {len(args)}", pos)
                return _WarmupPrefix(args, kwargs, pos, where)
            if issubclass(cls, _Anneal) and args and isinstance(args[0], _Pair):
                pair = args[0]
                args = [pair.a, pair.b, *args[1:]]
                where = {**{i + 1: p for i, p in where.items() if isinstance(i, int)},
                         **{k: p for k, p in where.items() if isinstance(k, str)},
                         0: pair.pos[0], 1: pair.pos[1]}
            return self.build(cls, args, kwargs, pos, where)
        if self.at("("):  # a group, or a tuple such as a point (0, 0.1)
            self.take("(")
            items = [self.value()]
            while self.at(","):
                self.take(",")
                items.append(self.value())
            self.take(")", "')'")
            return items[0] if len(items) == 1 else tuple(items)
        return self.literal()

    def args(self) -> tuple[list[Any], dict[str, Any], dict[int | str, int]]:
        """The arguments of a call, and where each starts (by index, or name for keywords)."""
        self.take("(", "'('")
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        where: dict[int | str, int] = {}
        while not self.at(")"):
            t = self.peek()
            if t is not None and t[0] == "word" and self.peek(1) is not None \
                    and self.peek(1)[1] == "=":  # type: ignore[index]
                self.i += 2
                where[t[1]] = self._pos()
                kwargs[t[1]] = self.value()
            elif kwargs:
                self.fail("a positional argument after a keyword argument")
            else:
                where[len(args)] = self._pos()
                args.append(self.value())
            if not self.at(")"):
                self.take(",", "',' or ')'")
        self.take(")", "')'")
        return args, kwargs, where

    def _pos(self) -> int:
        t = self.peek()
        return t[2] if t is not None else len(self.text)

    def value(self) -> Any:
        start = self._pos()
        v = self.chain()
        if self.at("->"):
            self.take("->")
            end = self._pos()
            return _Pair(v, self.chain(), (start, end))
        return v

    def number(self, text: str, pos: int, sign: str = "") -> Any:
        """A number token's value: an int, a float, or (with an SI suffix) a time string;
        refused when it is too long or outside the float range."""
        if len(text) > 40:
            self.fail("a number has at most 40 characters", pos)
        if text[-1] in _SUFFIX and not text[-1].isdigit():
            return float(sign + text[:-1]) * _SUFFIX[text[-1]] if sign else text
        v = int(sign + text) if text.isdigit() else float(sign + text)
        if not -1.8e308 < v < 1.8e308:
            self.fail(f"the number {sign}{text} is outside the float range", pos)
        return v

    def literal(self) -> Any:
        kind, text, pos = self.take(what="a value")
        if kind == "op" and text in "-+" and self.peek() and self.peek()[0] == "num":  # type: ignore[index]
            return float(self.number(self.take()[1], pos, sign=text))
        if kind == "num":
            return self.number(text, pos)
        if kind == "time":
            return " ".join(text.split())
        if kind == "str":
            return text[1:-1]
        if kind == "word":
            return {"True": True, "true": True, "False": False, "false": False,
                    "None": None, "none": None}.get(text, text)
        if kind == "op" and text == "[":
            items = []
            while not self.at("]"):
                items.append(self.value())
                if not self.at("]"):
                    self.take(",", "',' or ']'")
            self.take("]")
            return items
        self.fail(f"unexpected {text!r}", pos)

    def build(self, cls: type[Schedule], args: list[Any], kwargs: dict[str, Any],
              pos: int, where: dict[int | str, int] | None = None) -> Schedule:
        """``cls(*args, **kwargs)``; an error points at the argument it names (``where``
        holds each argument's column), else at the call."""
        try:  # the constructor checks and normalizes (ints to floats, lists to tuples)
            return cls(*args, **kwargs)
        except (ScheduleError, TypeError) as e:
            named = re.match(r"\w+: '(\w+)'", str(e))
            if named and where:
                name = named[1]
                fields = [f.name for f in cls._fields]
                i = fields.index(name) if name in fields else -1
                pos = where.get(name, where.get(i, pos))
            self.fail(str(e), pos)


class _Pair:
    def __init__(self, a: Any, b: Any, pos: tuple[int, int]) -> None:
        self.a, self.b, self.pos = a, b, pos


class _WarmupPrefix:
    def __init__(self, args: list[Any], kwargs: dict[str, Any], pos: int,
                 where: dict[int | str, int]) -> None:
        self.kwargs = dict(kwargs)
        self.where: dict[int | str, int] = {k: p for k, p in where.items() if isinstance(k, str)}
        for i, (name, v) in enumerate(zip(("over", "start", "shape"), args)):
            self.kwargs[name] = v
            self.where[name] = where[i]
        self.pos = pos


# --- printing -----------------------------------------------------------------------------------



def to_text(s: Schedule) -> str:
    """The one-line text of ``s`` (what ``str(s)`` prints); ``parse`` reads it back."""
    return str(s)
