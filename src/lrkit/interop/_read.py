"""Typed reads of an importer's fields (a Keras ``config`` dict, a ``pipeline.config`` block):
each field is a number, a count of steps, a bool or a list of numbers, or a ConfigError names
the field, the rule and the value."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError, show

#: Marks a field without a default: its absence is an error.
REQUIRED: Any = object()
_LIST_LIMIT = 100_000  # entries of a list field (boundaries, values)


def field(c: Mapping[str, Any], key: str, default: Any, kind: str) -> Any:
    """Field ``key`` of ``c`` as ``kind``: "number" (a finite float), "count" (an int >= 0),
    "bool", "numbers" or "counts" (a list of those). ``default`` when absent (or None)."""
    v = c.get(key)
    if v is None:
        if default is REQUIRED:
            raise ConfigError(key, "is required")
        return default
    if kind == "bool":
        if not isinstance(v, bool):
            raise ConfigError(key, f"must be true or false, got {show(v)}")
        return v
    if kind in ("numbers", "counts"):
        if not isinstance(v, (list, tuple)) or len(v) > _LIST_LIMIT:
            raise ConfigError(key, f"must be a list of at most {_LIST_LIMIT:,} numbers, got "
                              f"{show(v)}")
        return [_one(x, f"{key}[{i}]", kind[:-1]) for i, x in enumerate(v)]
    return _one(v, key, kind)


def _one(v: Any, key: str, kind: str) -> Any:
    f = _finite(v)
    if f is None:
        raise ConfigError(key, f"must be a finite number, got {show(v)}")
    if kind == "count":
        if not f.is_integer() or f < 0:
            raise ConfigError(key, f"must be a whole number of steps >= 0, got {show(v)}")
        return int(f)
    return f


def _finite(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return None
    try:
        f = float(v)
    except OverflowError:  # an int past the float range
        return None
    return f if math.isfinite(f) else None
