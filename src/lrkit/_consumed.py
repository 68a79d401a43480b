"""What a run consumes when the batch size changes: the count of samples (tokens) before each
update, from what one update consumes (an int, or a batch-size ramp of the count consumed so
far, as Megatron's). Shared by the adapters (``per_update=``) and ``lrkit.torch``'s batch
sampler.

What does not live here: the traced evaluation (each adapter's), the schedules.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from . import _saved
from ._combine import plateau
from ._schedule import Schedule
from ._shapes import batch_size
from .config import from_config
from .errors import ScheduleError

MAX_UPDATES = 10_000_000  # a ramp still changing after this many updates is refused


def per_update(p: Any, who: str, unit: str, name: str = "per_update",
               example: str = "a batch-size ramp") -> int | Schedule:
    """``p`` (the argument ``name``) checked: a whole number >= 1 (numpy's too), or a finite
    lrkit schedule (or its config) of the count of ``unit`` consumed so far."""
    if isinstance(p, dict):
        p = from_config(p)
    if isinstance(p, Schedule):
        p._require_bound()
        if p.duration is None or isinstance(p, plateau):
            raise ScheduleError(f"{who}: {name} must end (hold its last value) to give the "
                                f"count at any update, got {p!r}; e.g. lrkit.batch_size"
                                "(32, 1536, 6_000_000, multiple_of=16)")
        return p
    n = _saved.as_int(p)
    if n is None or n < 1:
        raise ScheduleError(f"{who}: {name} must be a whole number >= 1 or an lrkit schedule "
                            f"of the {unit} consumed ({example}), got {_saved.shown(p)}")
    return n


def amount(p: int | Schedule, count: int, who: str, name: str = "per_update") -> int:
    """What one update consumes (``name``'s value) when ``count`` has been consumed."""
    if isinstance(p, int):
        return p
    n = p(count)
    if not (n >= 1 and n.is_integer()):
        raise ScheduleError(f"{who}: {name} gives {n!r} at a count of {count}; it must give "
                            "whole numbers >= 1")
    return int(n)


class Consumed:
    """The count consumed before update ``k``: ``count(0) = 0``, ``count(k + 1) = count(k) +
    amount at count(k)``, held as segments of one amount (``starts``: the update, the count
    there, the amount), found once; an int ``n`` is one segment, ``n * k``. A
    ``lrkit.batch_size`` ramp only grows, so each segment's end is found by bisection; any
    other schedule is walked update by update (at most ``MAX_UPDATES``)."""

    def __init__(self, p: int | Schedule, who: str) -> None:
        self.per_update = p
        if isinstance(p, int):
            self.starts = [(0, 0, p)]
            return
        d = p.duration
        assert d is not None  # (checked by per_update)
        k = c = 0
        starts: list[tuple[int, int, int]] = []
        while True:
            n = amount(p, c, who)
            if not starts or n != starts[-1][2]:
                starts.append((k, c, n))
            if c >= d:
                break  # from here on the amount is the held last value
            if isinstance(p, batch_size):
                j = self._run(p, c, n, math.ceil((d - c) / n), who)
            elif k < MAX_UPDATES:
                j = 1
            else:
                raise ScheduleError(f"{who}: per_update still changes after {MAX_UPDATES:,} "
                                    f"updates ({p!r}); give a ramp that ends sooner, or a "
                                    "fixed per_update")
            k, c = k + j, c + j * n
        self.starts = starts

    @staticmethod
    def _run(p: Schedule, c: int, n: int, last: int, who: str) -> int:
        """The updates from count ``c`` until a monotone ``p`` gives another amount than
        ``n`` (``last``, where the ramp has ended, if it never does before)."""
        lo, hi = 0, 1
        while hi < last and amount(p, c + hi * n, who) == n:
            lo, hi = hi, min(2 * hi, last)
        while hi - lo > 1:  # amount(c + lo·n) == n, amount(c + hi·n) != n (or hi == last)
            mid = (lo + hi) // 2
            if amount(p, c + mid * n, who) == n:
                lo = mid
            else:
                hi = mid
        return hi

    def __call__(self, k: int) -> int:
        i = bisect.bisect_right(self.starts, (k, math.inf)) - 1
        k0, c0, n = self.starts[i]
        return c0 + n * (k - k0)
