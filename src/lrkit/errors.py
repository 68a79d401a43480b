"""The two exceptions lrkit raises for bad input.

A leaf says what is wrong (`ScheduleError`); the config and CLI layers add where it is
(`ConfigError`) without rewording the leaf's message.
"""

from __future__ import annotations

__all__ = ["ConfigError", "ScheduleError"]


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
    """Build the standard message: ``kind: 'arg' rule, got value[; fix]``."""
    text = f"{kind}: {arg!r} {rule}, got {got!r}"
    return ScheduleError(f"{text}; {fix}" if fix else text)
