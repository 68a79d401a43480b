"""The two exceptions lrkit raises for bad input.

A leaf says what is wrong (`ScheduleError`); the config and CLI layers add where it is
(`ConfigError`) without rewording the leaf's message.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ScheduleError"]

#: The longest quoted value in a message: a user's value can be anything, of any size.
SHOWN_CHARS = 100
_SHOWN_ITEMS = 8   # entries of a list or mapping walked before "…"
_SHOWN_LEVELS = 4  # nesting levels walked: a cyclic or billion-laughs structure stops here


class ScheduleError(ValueError):
    """A schedule argument, step or binding breaks a rule.

    The message names the schedule, the argument, the rule, the value given and, where it
    helps, the fix: ``cosine: 'over' must be > 0 steps, got 0``.
    """


class ConfigError(ScheduleError):
    """A configuration (mapping, file or expression) is invalid at a known location.

    ``str(err)`` is ``"<where>: <message>"``; ``err.where`` and ``err.message`` hold the parts.
    """

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


def fail(kind: str, arg: str, rule: str, got: object, fix: str = "") -> ScheduleError:
    """Build the standard message: ``kind: 'arg' rule, got value[; fix]`` (value shown
    bounded, by ``show``)."""
    text = f"{kind}: {arg!r} {rule}, got {show(got)}"
    return ScheduleError(f"{text}; {fix}" if fix else text)


def show(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr(value)`` in at most ``limit`` characters, ending in "…" when cut.

    Small values print exactly as ``repr``. A large or nested value is walked only
    ``_SHOWN_ITEMS`` entries wide and ``_SHOWN_LEVELS`` deep, so a self-containing list or a
    YAML billion-laughs tree costs microseconds; an int too long for ``str`` (Python refuses
    4300+ digits) prints as its magnitude, ``~1e+400``.
    """
    out = _show(value, _SHOWN_LEVELS, limit)
    return out if len(out) <= limit else out[:limit - 1] + "…"


def _show(v: object, levels: int, limit: int) -> str:
    if isinstance(v, str):
        return repr(v[:limit + 1])
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 128:
        import math

        exp = math.log10(abs(v))
        return f"~{'-' if v < 0 else ''}{10 ** (exp % 1):.3g}e+{int(exp)}"
    if isinstance(v, (list, tuple, dict)) and type(v) in (list, tuple, dict):
        opened, closed = {list: ("[", "]"), tuple: ("(", ")"), dict: ("{", "}")}[type(v)]
        if not v:
            return repr(v)
        if levels == 0:
            return opened + "…" + closed
        items = iter(v.items() if isinstance(v, dict) else v)
        parts, size = [], 0
        for i, x in enumerate(items):
            if i == _SHOWN_ITEMS or size > limit:
                parts.append("…")
                break
            part = (f"{_show(x[0], levels - 1, limit)}: {_show(x[1], levels - 1, limit)}"
                    if isinstance(v, dict) else _show(x, levels - 1, limit))
            parts.append(part)
            size += len(part) + 2
        tail = "," if type(v) is tuple and len(v) == 1 else ""
        return opened + ", ".join(parts) + tail + closed
    try:  # numbers, schedules (whose repr is their arguments'), anything else
        return repr(v)
    except Exception:  # noqa: BLE001 - a repr that fails still needs a message
        return f"<{type(v).__name__}>"
