"""``from_tf_object_detection``: the ``learning_rate { … }`` block of a TensorFlow Object
Detection API ``pipeline.config`` as an lrkit schedule.

A small parser of the protobuf text format (no ``eval``, no protobuf dependency) finds the
``learning_rate`` block anywhere inside the ``optimizer`` block (``rms_prop_optimizer``,
``momentum_optimizer``, ``adam_optimizer``) and maps the four schedules of
``object_detection/utils/learning_schedules.py`` (TF2 version): exponential decay with
burn-in, cosine decay with warmup and hold, manual stepping with optional warmup, constant.
"""

from __future__ import annotations

import re
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, exponential, linear, piecewise
from ..errors import ConfigError, ScheduleError, show
from ._read import field

__all__ = ["from_tf_object_detection", "parse_text_proto"]

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?)
  | (?P<word>[A-Za-z_][A-Za-z_0-9.]*)
  | (?P<op>[{}:\[\],;<>])
""", re.VERBOSE)


def parse_text_proto(text: str, source: str = "pipeline.config") -> dict[str, Any]:
    """The protobuf text format as nested dicts; a repeated field becomes a list."""
    tokens: list[tuple[str, str, int, int]] = []
    line, start, pos = 1, 0, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ConfigError(f"{source}, line {line}, column {pos - start + 1}",
                              f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, m.group(), line, pos - start + 1))
        for _ in range(m.group().count("\n")):
            line += 1
        if "\n" in m.group():
            start = pos + m.group().rindex("\n") + 1
        pos = m.end()
    i = 0

    def fail(message: str) -> ConfigError:
        t = tokens[i] if i < len(tokens) else ("", "", line, pos - start + 1)
        return ConfigError(f"{source}, line {t[2]}, column {t[3]}", message)

    def message(close: str | None, depth: int = 0) -> dict[str, Any]:
        nonlocal i
        if depth > _MAX_NESTING:
            raise fail(f"messages nest deeper than {_MAX_NESTING}")
        out: dict[str, Any] = {}
        while True:
            if i >= len(tokens):
                if close is None:
                    return out
                raise fail(f"expected {close!r} before the end of the text")
            kind, value, _, _ = tokens[i]
            if close is not None and kind == "op" and value == close:
                i += 1
                return out
            if kind != "word":
                raise fail(f"expected a field name, got {value!r}")
            i += 1
            if i < len(tokens) and tokens[i][1] == ":":
                i += 1
            if i >= len(tokens):
                raise fail(f"expected a value for {value!r}")
            t = tokens[i]
            if t[1] in ("{", "<"):
                i += 1
                v: Any = message("}" if t[1] == "{" else ">", depth + 1)
            elif t[0] in ("num", "str", "word"):
                i += 1
                v = _scalar(t[0], t[1])
            else:
                raise fail(f"expected a value for {value!r}, got {t[1]!r}")
            if value in out:
                out[value] = (out[value] if isinstance(out[value], list) else [out[value]]) + [v]
            else:
                out[value] = v
            if i < len(tokens) and tokens[i][1] in (",", ";"):
                i += 1

    return message(None)


_MAX_NESTING = 64  # a pipeline.config nests about 6 deep


def _scalar(kind: str, text: str) -> Any:
    if kind == "str":
        return _Quoted(text[1:-1])
    if kind == "word":
        return {"true": True, "True": True, "false": False, "False": False}.get(text, text)
    text = text.rstrip("fF")
    if re.fullmatch(r"[-+]?\d+", text) and len(text) <= 40:
        return int(text)
    return float(text[:400])  # a longer number is inf or 0 either way


class _Quoted(str):
    """A quoted string: never a number or a bool (``staircase: "false"`` is not false)."""


def _find(node: Any, key: str) -> list[Any]:
    """Every value of ``key`` anywhere below ``node``."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found += v if isinstance(v, list) else [v]
            found += _find(v, key)
    elif isinstance(node, list):
        for v in node:
            found += _find(v, key)
    return found


def from_tf_object_detection(text: str, source: str = "pipeline.config") -> Schedule:
    """The schedule of the ``learning_rate`` block in a ``pipeline.config`` (its text).

    >>> s = from_tf_object_detection('''optimizer { rms_prop_optimizer { learning_rate {
    ...   exponential_decay_learning_rate {
    ...     initial_learning_rate: 0.004 decay_steps: 800720 decay_factor: 0.95 } } } }''')
    >>> s(0), s(800719), s(800720)
    (0.004, 0.004, 0.0038)
    """
    tree = parse_text_proto(text, source)
    optimizers = _find(tree, "optimizer") or [tree]
    blocks = [b for o in optimizers for b in _find(o, "learning_rate") if isinstance(b, dict)]
    if not blocks:
        raise ConfigError(source, "no 'learning_rate { ... }' block inside the optimizer block")
    block = blocks[0]
    for name, build in _BUILDERS.items():
        if name in block:
            body = block[name]
            if not isinstance(body, dict):
                raise ConfigError(f"{source}: {name}", f"must be a block {{ ... }}, got "
                                  f"{show(body)}")
            try:
                return build(body)
            except ScheduleError as e:
                raise ConfigError(f"{source}: {name}", str(e)) from None
            except ConfigError as e:
                raise ConfigError(f"{source}: {name}.{e.where}", e.message) from None
    raise ConfigError(source, f"unknown learning_rate schedule {sorted(block)}; known: "
                      f"{', '.join(_BUILDERS)}")


def _exponential(c: dict[str, Any]) -> Schedule:
    base = field(c, "initial_learning_rate", 0.002, "number")
    decay = exponential(base, field(c, "decay_factor", 0.95, "number"),
                        field(c, "decay_steps", 4000000, "count"),
                        staircase=field(c, "staircase", True, "bool"))
    burnin = field(c, "burnin_steps", 0, "count")
    burnin_lr = field(c, "burnin_learning_rate", 0.0, "number") or base
    s: Schedule = decay if burnin <= 0 else constant(burnin_lr, over=burnin) >> decay
    floor = field(c, "min_learning_rate", 0.0, "number")
    return s.clip(min=floor) if floor > 0 else s


def _cosine(c: dict[str, Any]) -> Schedule:
    base = field(c, "learning_rate_base", 0.002, "number")
    total = field(c, "total_steps", 4000000, "count")
    warm_lr = field(c, "warmup_learning_rate", 0.0002, "number")
    w = field(c, "warmup_steps", 10000, "count")
    hold = field(c, "hold_base_rate_steps", 0, "count")
    if total < w + hold:
        raise ScheduleError(f"total_steps ({total}) must be at least warmup_steps + "
                            f"hold_base_rate_steps ({w} + {hold})")
    parts: list[Schedule] = []
    if w > 0:
        parts.append(linear(warm_lr, base, w))
    if hold > 0:
        parts.append(constant(base, over=hold))
    parts.append(cosine(base, 0.0, total - w - hold))
    return parts[0] if len(parts) == 1 else sequence(parts)


def _manual(c: dict[str, Any]) -> Schedule:
    steps = c.get("schedule", [])
    steps = steps if isinstance(steps, list) else [steps]
    for i, x in enumerate(steps):
        if not isinstance(x, dict):
            raise ConfigError(f"schedule[{i}]", f"must be a block {{ step: … learning_rate: … "
                              f"}}, got {show(x)}")
    # the proto's defaults: step 0 and learning_rate 0.002
    bounds = [field(x, "step", 0, "count") for x in steps]
    rates = [field(c, "initial_learning_rate", 0.002, "number")] + \
        [field(x, "learning_rate", 0.002, "number") for x in steps]
    if not bounds:
        return constant(rates[0])
    if bounds[0] == 0:
        raise ScheduleError("the first boundary may not be 0 (TensorFlow refuses it too)")
    if not field(c, "warmup", False, "bool"):
        return piecewise(rates, bounds)
    rest = piecewise(rates[1:], [b - bounds[0] for b in bounds[1:]]) if len(bounds) > 1 \
        else constant(rates[1])
    return linear(rates[0], rates[1], bounds[0]) >> rest


def _constant(c: dict[str, Any]) -> Schedule:
    return constant(field(c, "learning_rate", 0.002, "number"))


_BUILDERS = {
    "exponential_decay_learning_rate": _exponential,
    "cosine_decay_learning_rate": _cosine,
    "manual_step_learning_rate": _manual,
    "constant_learning_rate": _constant,
}
