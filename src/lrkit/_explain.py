"""The phase table of a schedule: what runs when, and the values it starts and ends at.

What does not live here: warnings about mistakes (``lint``), pictures (``plot``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ._schedule import Schedule

__all__ = ["Explanation", "Phase", "explain"]


@dataclass(frozen=True)
class Phase:
    """One phase: ``kind`` runs on steps ``[start, end)`` (``end`` None: to the end of time)."""

    kind: str
    start: int
    end: int | None
    first: float
    last: float | None
    low: float
    high: float


@dataclass(frozen=True)
class Explanation:
    """The phases of a schedule and the numbers around them; ``str()`` renders a table."""

    schedule: Schedule
    phases: tuple[Phase, ...]
    total_steps: int | None
    steps_per_epoch: float | None
    peak: tuple[int, float]
    final: tuple[int, float] | None

    def rows(self) -> list[list[str]]:
        head = ["#", "phase", "start", "end", "lr at start", "lr at end", "min", "max"]
        out = [head]
        for i, p in enumerate(self.phases):
            out.append([str(i), p.kind, self._at(p.start), self._at(p.end), f"{p.first:.6g}",
                        "-" if p.last is None else f"{p.last:.6g}", f"{p.low:.6g}",
                        f"{p.high:.6g}"])
        return out

    def summary(self) -> str:
        k, v = self.peak
        text = f"peak {v:.6g} at step {self._at(k)}"
        if self.final is not None:
            text += f"; final {self.final[1]:.6g} at step {self._at(self.final[0])}"
        return text

    def to_markdown(self) -> str:
        rows = self.rows()
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
        return "\n".join(lines) + f"\n\n{self.summary()}\n"

    def _at(self, step: int | None) -> str:
        if step is None:
            step = self.total_steps  # an open phase runs to the end of the run
        if step is None:
            return "∞"
        if self.steps_per_epoch:
            return f"{step} ({step / self.steps_per_epoch:.4g} ep)"
        return str(step)

    def __str__(self) -> str:
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) if j == 1 else c.rjust(w)
                           for j, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n" + self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data: the schedule's config, the phases, the peak and the final value."""
        return {"schedule": self.schedule.to_config(), "total_steps": self.total_steps,
                "steps_per_epoch": self.steps_per_epoch,
                "phases": [dict(p.__dict__) for p in self.phases],
                "peak": {"step": self.peak[0], "value": self.peak[1]},
                "final": None if self.final is None else
                {"step": self.final[0], "value": self.final[1]}}


def explain(s: Schedule, total_steps: int | None = None,
            steps_per_epoch: float | None = None) -> Explanation:
    """The phase table of ``s`` (bound first with the given quantities, when any).

    >>> print(explain(lrkit.warmup(lrkit.cosine(0.1, 0.0, 90), 10)))
    #  phase            start  end  lr at start    lr at end          min        max
    -  ---------------  -----  ---  -----------  -----------  -----------  ---------
    0  warmup (linear)      0   10   0.00909091    0.0909091   0.00909091  0.0909091
    1  cosine              10  100          0.1  3.04586e-05  3.04586e-05        0.1
    peak 0.1 at step 10; final 0 at step 100
    """
    if total_steps is not None or steps_per_epoch is not None:
        s = s.bind(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
    spans = []
    for label, start, end in s._phases(0):  # each class lists its own (Schedule._phases)
        if total_steps is not None and start >= total_steps:
            break  # the run ends before this phase begins
        spans.append((label, start, end))
    d = None if s.duration is None else math.ceil(s.duration)
    open_ended = bool(spans) and spans[-1][2] is None
    if d is not None and total_steps is not None and total_steps > d and not open_ended:
        spans.append(("hold", d, total_steps))
    phases = []
    for label, start, end in spans:
        stop = end if total_steps is None or (end is not None and end < total_steps) \
            else total_steps
        last = s(stop - 1) if stop is not None and stop > start else None
        v = s.values(_sample(start, stop if stop is not None else start + 1))
        phases.append(Phase(label, start, end, s(start), last, float(v.min()), float(v.max())))
    peak_phase = max(phases, key=lambda p: p.high)
    top = _sample(peak_phase.start, peak_phase.end or peak_phase.start + 1)
    peak = (int(top[int(s.values(top).argmax())]), peak_phase.high)
    end_step = total_steps - 1 if total_steps is not None else d
    final = None if end_step is None else (end_step, s(end_step))
    return Explanation(s, tuple(phases), total_steps, steps_per_epoch, peak, final)


def _sample(start: int, stop: int) -> Any:
    """Every step of [start, stop), or 100,001 of them spread evenly with both ends."""
    import numpy as np

    if stop - start <= 100_001:
        return np.arange(start, max(stop, start + 1), dtype=np.int64)
    return np.unique(np.linspace(start, stop - 1, 100_001).astype(np.int64))
