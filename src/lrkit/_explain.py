"""The phase table of a schedule: what runs when, and the values it starts and ends at.

An unbound schedule is explained in its own units when it counts in one (``5ep``, ``10%``,
``2.5M samples``): ``display_binding`` binds a stand-in for the missing quantity and ``Units``
turns steps back into that unit. The plot and the Jupyter display use the same.

What does not live here: warnings about mistakes (``lint``), pictures (``plot``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ._schedule import Schedule
from ._time import needs
from .errors import ScheduleError

__all__ = ["Explanation", "Phase", "Units", "explain"]

#: The option of the ``lrkit`` command that gives each binding quantity.
FLAGS = {"steps_per_epoch": "--steps-per-epoch", "total_steps": "--total",
         "samples_per_step": "--batch-size", "tokens_per_step": "--tokens-per-step"}


@dataclass(frozen=True)
class Units:
    """Positions of a schedule explained without ``missing``: ``steps`` steps of the stand-in
    binding make one ``name`` (``ep``, ``%``, ``samples``, ``tokens``)."""

    missing: str
    name: str
    steps: int
    stand_in: int

    def text(self, step: int) -> str:
        """``step`` of the stand-in binding in the unit: ``5ep``, ``2.5M samples``."""
        x = step / self.steps
        if self.name in ("ep", "%"):
            return f"{x:.4g}{self.name}"
        for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
            if x >= scale:
                return f"{x / scale:.4g}{suffix} {self.name}"
        return f"{x:.4g} {self.name}"

    def note(self) -> str:
        return (f"{self.missing} not given ({FLAGS[self.missing]}): shown in {self.name}, "
                f"values as if {self.missing}={self.stand_in}")


# The stand-in bound for a missing quantity, and the unit positions are then shown in: fine
# enough that whole steps show a unit string's position exactly to 3 decimals.
_STAND_IN = {"steps_per_epoch": Units("steps_per_epoch", "ep", 1000, 1000),
             "total_steps": Units("total_steps", "%", 1000, 100_000),
             "samples_per_step": Units("samples_per_step", "samples", 1, 1),
             "tokens_per_step": Units("tokens_per_step", "tokens", 1, 1)}


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
    """The phases of a schedule and the numbers around them; ``str()`` renders a table.

    With ``units``, a quantity was missing: ``schedule`` and the steps in ``phases``, ``peak``
    and ``final`` are those of the stand-in binding, and the table shows them in the unit.
    """

    schedule: Schedule
    phases: tuple[Phase, ...]
    total_steps: int | None
    steps_per_epoch: float | None
    peak: tuple[int, float]
    final: tuple[int, float] | None
    units: Units | None = None

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
        at = "at" if self.units else "at step"
        text = f"peak {v:.6g} {at} {self._at(k)}"
        if self.final is not None:
            text += f"; final {self.final[1]:.6g} {at} {self._at(self.final[0])}"
        return text if self.units is None else f"{text}\n{self.units.note()}"

    def to_markdown(self) -> str:
        rows = self.rows()
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "|".join("---" for _ in rows[0]) + "|")
        return "\n".join(lines) + f"\n\n{self.summary()}\n"

    def _at(self, step: int | None) -> str:
        if step is None:
            step = self.total_steps  # an open phase runs to the end of the run
        if step is None and self.units is not None and self.units.missing == "total_steps":
            step = self.units.stand_in  # 100%
        if step is None:
            return "∞"
        if self.units is not None:
            return self.units.text(step)
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
                "units": None if self.units is None else dict(self.units.__dict__),
                "phases": [dict(p.__dict__) for p in self.phases],
                "peak": {"step": self.peak[0], "value": self.peak[1]},
                "final": None if self.final is None else
                {"step": self.final[0], "value": self.final[1]}}


def explain(s: Schedule, total_steps: int | None = None,
            steps_per_epoch: float | None = None, *, samples_per_step: float | None = None,
            tokens_per_step: float | None = None) -> Explanation:
    """The phase table of ``s``, bound first with the quantities given.

    A schedule still counting in one unit of its own (all its times in epochs, or all in
    ``%``, samples or tokens) is shown in that unit, its values computed with a stand-in for
    the missing quantity (``Units``). One that mixes units is refused with a ScheduleError
    naming what to give.

    >>> print(explain(lrkit.warmup(lrkit.cosine(0.1, 0.0, 90), 10)))
    #  phase            start  end  lr at start    lr at end          min        max
    -  ---------------  -----  ---  -----------  -----------  -----------  ---------
    0  warmup (linear)      0   10   0.00909091    0.0909091   0.00909091  0.0909091
    1  cosine              10  100          0.1  3.04586e-05  3.04586e-05        0.1
    peak 0.1 at step 10; final 0 at step 100
    >>> print(explain(lrkit.parse("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)")))
    #  phase            start    end  lr at start  lr at end         min      max
    -  ---------------  -----  -----  -----------  ---------  ----------  -------
    0  warmup (linear)    0ep    5ep   1.9996e-05    0.09998  1.9996e-05  0.09998
    1  cosine             5ep  100ep          0.1      1e-05       1e-05      0.1
    peak 0.1 at 5ep; final 1e-05 at 100ep
    steps_per_epoch not given (--steps-per-epoch): shown in ep, values as if steps_per_epoch=1000
    """
    given = {"steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
             "samples_per_step": samples_per_step, "tokens_per_step": tokens_per_step}
    (s,), units = display_binding([s], given, "explain")
    run = units.stand_in if units is not None and units.missing == "total_steps" \
        else total_steps
    phases, peak, final = _explain(s, run)
    return Explanation(s, phases, total_steps, steps_per_epoch, peak, final, units)


def _explain(s: Schedule, total_steps: int | None) -> tuple[
        tuple[Phase, ...], tuple[int, float], tuple[int, float] | None]:
    """The phases, the peak and the final value of the bound ``s`` in a run of ``total_steps``."""
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
        # a phase the run cuts short ends with the run (`lrkit show … --total 50` listed 100)
        phases.append(Phase(label, start, None if end is None else stop, s(start), last,
                            float(v.min()), float(v.max())))
    peak_phase = max(phases, key=lambda p: p.high)
    top = _sample(peak_phase.start, peak_phase.end or peak_phase.start + 1)
    peak = (int(top[int(s.values(top).argmax())]), peak_phase.high)
    end_step = total_steps - 1 if total_steps is not None else d
    final = None if end_step is None else (end_step, s(end_step))
    return tuple(phases), peak, final


def display_binding(schedules: Sequence[Schedule], given: dict[str, Any],
                    caller: str) -> tuple[list[Schedule], Units | None]:
    """``schedules`` bound with the ``given`` quantities (None: not given); where one quantity
    is missing and every time counts in its unit, bound with its stand-in too, and the
    ``Units`` to show positions in. Otherwise a ScheduleError names what to give."""
    given = {k: v for k, v in given.items() if v is not None}
    missing = [m for s in schedules for m in s._missing if m[3] not in given]
    if not missing:
        return [s.bind(**given) if given else s for s in schedules], None
    wanted = list(dict.fromkeys(m[3] for m in missing))
    # "5ep" next to 500 steps (or a run of total_steps steps) has no one unit to be shown in
    own = len(wanted) == 1 and "total_steps" not in given and all(
        t == 0 or isinstance(t, str) and needs(t) == wanted * len(needs(t))
        for s in schedules for t in _times(s))
    if own:
        units = _STAND_IN[wanted[0]]
        try:
            return [s.bind(**given, **{units.missing: units.stand_in})
                    for s in schedules], units
        except ScheduleError:
            pass  # a time too short for the stand-in: ask for the quantity itself
    first: dict[str, tuple[str, str, Any, str]] = {}
    for m in missing:
        first.setdefault(m[3], m)
    what = " and ".join(f"{kind}'s {name!r} = {v!r} needs {need}"
                        for kind, name, v, need in first.values())
    why = ""
    if "total_steps" in given:
        why = "; the run's total_steps counts in steps, so no one unit shows its phases"
    elif not own:
        why = "; it also counts in other units, so no one unit shows its phases"
    raise ScheduleError(f"{caller}: {what}{why}; give {', '.join(f'{n}=...' for n in wanted)} "
                        f"(on the command line: {', '.join(FLAGS[n] for n in wanted)})")


def _times(s: Schedule) -> Iterator[Any]:
    """Every time argument in the tree of ``s``."""
    for f in s._fields:
        v = s.__dict__[f.name]
        if v is not None:
            yield from f.role.times(v)
    for c in s.children():
        yield from _times(c)


def _sample(start: int, stop: int) -> Any:
    """Every step of [start, stop), or 100,001 of them spread evenly with both ends."""
    import numpy as np

    if stop - start <= 100_001:
        return np.arange(start, max(stop, start + 1), dtype=np.int64)
    return np.unique(np.linspace(start, stop - 1, 100_001).astype(np.int64))
