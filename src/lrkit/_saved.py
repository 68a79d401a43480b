"""Checks of the states adapters save and load back: plain data in, checked values out.

A checkpoint is data, never a path or code: each field is checked for its type and range, and
a field that breaks a rule is a ``ConfigError`` naming where it is in the state
(``lrkit.torch.LRScheduler: state_dict['count']: must be an int >= 0, got -5``) and showing
the value in at most 100 characters (``errors.show``). A schedule is built from its config
mapping only: a string is refused, where ``lrkit.from_config`` would take it for a file path.

What does not live here: the plateau state's own fields (``_plateau.checked``), each adapter's
layout of its state (``torch``, ``keras``, ``optax``).
"""

from __future__ import annotations

import math
import operator

from .errors import ConfigError, ScheduleError
from .errors import show as shown

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from ._schedule import Schedule

__all__ = ["LIMIT", "as_int", "finite", "schedule", "shown", "whole"]

# Counts past this are not states any run reaches, and past it a Python int no longer converts
# to a float (factor ** n, float(k)): one bound for every count in a saved state.
LIMIT = 2**63


def as_int(v: Any) -> int | None:
    """``v`` as a Python int when it is an integer (numpy's too; not a bool or a float)."""
    try:
        return None if isinstance(v, (bool, float)) else operator.index(v)
    except TypeError:
        return None


def whole(v: Any, where: str) -> int:
    """``v`` as a Python int in [0, 2**63), else a ``ConfigError`` at ``where``."""
    n = as_int(v)
    if n is None or n < 0:
        raise ConfigError(where, f"must be an int >= 0, got {shown(v)}")
    if n >= LIMIT:
        raise ConfigError(where, f"must be an int < 2**63, got {shown(v)}")
    return n


def finite(v: Any, where: str, *, lo: float | None = 0.0,
           rule: str = "must be a finite number >= 0") -> float:
    """``v`` as a finite Python float (>= ``lo`` unless it is None), else a ``ConfigError``
    at ``where`` saying ``rule``."""
    try:
        f = math.nan if isinstance(v, (bool, str, bytes)) else float(v)
    except (TypeError, ValueError, OverflowError):
        f = math.nan
    if not math.isfinite(f) or (lo is not None and f < lo):
        raise ConfigError(where, f"{rule}, got {shown(v)}")
    return f


def schedule(config: Any, where: str) -> Schedule:
    """A schedule from its config mapping (``to_config()``'s output), never from a string."""
    from collections.abc import Mapping

    from .config import _build

    if not isinstance(config, Mapping):
        raise ConfigError(where, f"must be a schedule config {{'kind': ...}}, got "
                          f"{shown(config)}")
    try:
        return _build(config, "", "schedule")
    except ConfigError as e:  # the builder's locations start at "schedule": put ours there
        inner = e.where[len("schedule"):] if e.where.startswith("schedule") else \
            f": {e.where}" if e.where else ""
        raise ConfigError(f"{where}{inner}", e.message) from None
    except ScheduleError as e:
        raise ConfigError(where, str(e)) from None

