"""Warnings about the mistakes people keep making with schedules, each with a stable code.

``lint(s, total_steps)`` evaluates the schedule over the run (every step up to two million,
a fine grid plus every phase boundary beyond) and returns ``LintWarning`` values; the codes
and their fixes are listed in ``docs/lint.md``. One cause gives one finding (a flat run is
LR001 alone), and a finding about part of the run is reported only above a share of it
(``hold``, ``zero_share``, ``last_stage_share``, ``warmup_share``). What does not live here:
the phase table (``explain``), pictures (``plot``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ._combine import branch
from ._explain import explain
from ._schedule import Schedule
from .errors import ScheduleError, show

__all__ = ["CODES", "LintWarning", "lint"]

CODES = {
    "LR001": "flat",
    "LR002": "jump",
    "LR003": "ends-early",
    "LR004": "never-finishes",
    "LR005": "rises-after-end",
    "LR006": "zero-first-update",
    "LR007": "long-warmup",
    "LR008": "partial-cycle",
    "LR009": "drifting-epochs",
    "LR010": "out-of-range",
    "LR011": "non-finite",
    "LR012": "floored-difference",
    "LR013": "long-last-stage",
}
#: One finding per cause: each code makes the codes it maps to redundant.
_SUBSUMES = {
    "LR001": {"LR003", "LR004", "LR006", "LR013"},  # nothing moves: where it ends says nothing
    "LR008": {"LR004"},  # a run stopping inside its last cycle is that cycle's finding
}
#: The command line's flag for each quantity a unit string can need.
_FLAG = {"total_steps": "--total", "steps_per_epoch": "--steps-per-epoch",
         "samples_per_step": "--batch-size", "tokens_per_step": "--tokens-per-step"}


@dataclass(frozen=True)
class LintWarning:
    """One finding: a stable ``code``, its ``name``, a message quoting the numbers, a fix."""

    code: str
    message: str
    fix: str

    @property
    def name(self) -> str:
        return CODES[self.code]

    def __str__(self) -> str:
        return f"{self.code} {self.name}: {self.message} Fix: {self.fix}"


def lint(s: Schedule, total_steps: int, steps_per_epoch: float | None = None, *,
         samples_per_step: float | None = None, tokens_per_step: float | None = None,
         jump: float = 0.2, max_value: float = 10.0, hold: float = 0.05,
         warmup_share: float = 0.25, zero_share: float = 0.001,
         last_stage_share: float = 0.5) -> list[LintWarning]:
    """Check ``s`` over a run of ``total_steps`` updates.

    Args:
      s: the schedule; unit strings (``"5ep"``, ``"10%"``, ``"1M samples"``) are bound with
        the quantities given, and one that needs a quantity not given raises ScheduleError.
      total_steps: the number of optimizer updates in the run.
      steps_per_epoch: updates per epoch, where the schedule uses epochs.
      samples_per_step, tokens_per_step: where the schedule uses samples or tokens.
      jump: the relative change at a phase boundary that counts as a jump.
      max_value: the largest sane value (an LR above 10 is almost always a mistake).
      hold: the share of the run a schedule may hold its final value before LR003 warns.
      warmup_share: the share of the run a warmup may take before LR007 warns.
      zero_share: the share of the run the updates at 0 at its start may take before LR006
        warns (0.1%: one wasted update warns in a run under 1,000 steps, not in 200,000).
      last_stage_share: the share of the run the last stage of a piecewise or multistep
        schedule may take before LR013 warns.

    Returns:
      The warnings, one per cause: a run whose value never changes gets LR001 alone (none if
      the schedule is built only from ``constant()``, which is flat on purpose), and a run
      ending inside its last cycle LR008 without LR004.

    >>> [w.code for w in lint(lrkit.exponential(0.004, 0.95, 800720, staircase=True), 200000)]
    ['LR001']
    >>> lint(lrkit.constant(0.01) * 0.5, 200000)
    []
    """
    import numpy as np

    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ScheduleError(f"lint: 'total_steps' must be a whole number of updates >= 1, got "
                            f"{total_steps!r}")
    out: list[LintWarning] = []
    out += _drifting_epochs(s, steps_per_epoch)
    b = _bind(s, {"total_steps": total_steps, "steps_per_epoch": steps_per_epoch,
                  "samples_per_step": samples_per_step, "tokens_per_step": tokens_per_step})
    ex = explain(b, total_steps=total_steps)
    bounds = sorted({p.start for p in ex.phases} | {p.end for p in ex.phases if p.end} |
                    ({math.ceil(b.duration)} if b.duration else set()))
    steps = _grid(total_steps, bounds)
    v = b.values(steps)
    w = _Warn(out)

    if not np.isfinite(v).all():
        k = int(steps[~np.isfinite(v)][0])
        w("LR011", f"the value is {v[~np.isfinite(v)][0]} at step {k}.",
          "bound the schedule (an exponential growth needs its 'end').")
        return out
    flat = bool(v.max() == v.min())
    if flat and not _only_constants(b):
        w("LR001", f"the value is {v[0]:g} for the whole run of {total_steps} steps: the "
          "schedule never changes.",
          "check the lengths against the run (a staircase decay every 800,720 steps does not "
          "move in a 200,000-step run), or use constant() on purpose.")
    out += _zero_start(b, steps, v, total_steps, zero_share)
    if v.max() > max_value:
        k = int(steps[int(np.argmax(v))])
        w("LR010", f"the value reaches {v.max():g} at step {k}, above {max_value:g}.",
          "check the units of the values (an LR above 10 is almost always a typo).")
    out += _jumps(b, ex, jump)
    staged = ex.phases[-1].kind == "hold" and _steps_into_its_end(b)
    if ex.phases[-1].kind == "hold" and not staged:
        out += _ends(b, total_steps, hold)
    else:  # a piecewise or multistep schedule's last stage is no hold
        out += [w for w in _ends(b, total_steps, hold) if w.code != "LR003"]
    for node in _walk(b):
        hit = node._floored(steps)
        if hit is not None and len(hit):
            w("LR012", f"'{node}' is below 0 at {len(hit)} of the checked steps (from step "
              f"{int(hit[0])} to {int(hit[-1])} of its own time), where it is floored at 0.",
              "check the operands: subtracting a larger schedule gives 0, not a negative value.")
    if _has_continue(b):
        k_min = int(np.argmin(v))
        later = v[k_min:]
        if k_min < len(v) - 1 and later.max() > v[k_min] + 0.01 * v.max():
            k_up = int(steps[k_min + int(np.argmax(later > v[k_min] + 0.01 * v.max()))])
            w("LR005", f"the value reaches its minimum {v[k_min]:g} at step "
              f"{int(steps[k_min])} and rises again from step {k_up} (the formula continues "
              "past its end).",
              "remove past_end('continue') or make the schedule as long as the run.")
    warm = sum(p.end - p.start for p in ex.phases if p.kind.startswith("warmup") and p.end)
    if warm > warmup_share * total_steps:
        w("LR007", f"warmup takes {warm} of {total_steps} steps "
          f"({100 * warm / total_steps:.0f}% of the run).",
          f"keep warmup under {100 * warmup_share:.0f}% of the run (a few % is typical).")
    out += _cycles(b, total_steps)
    out += _last_stage(ex, total_steps, last_stage_share, b if staged else None)
    causes = {f.code for f in out} | ({"LR001"} if flat else set())  # flat on purpose too
    gone = set().union(*(_SUBSUMES.get(c, set()) for c in causes))
    return [f for f in out if f.code not in gone]


class _Warn:
    def __init__(self, out: list[LintWarning]) -> None:
        self.out = out

    def __call__(self, code: str, message: str, fix: str) -> None:
        self.out.append(LintWarning(code, message, fix))


def _bind(s: Schedule, given: dict[str, Any]) -> Schedule:
    """``s`` bound with the quantities ``given``; a unit string whose quantity is missing is
    refused here, naming lint's argument and the CLI's flag (``bind`` would say ``.bind``)."""
    for kind, name, value, need in s._missing:
        if given.get(need) is None:
            raise ScheduleError(f"{kind}: {name!r} = {show(value)} needs {need} "
                                f"(lrkit.lint(..., {need}=...); CLI: {_FLAG[need]})")
    return s.bind(**given)


def _only_constants(s: Schedule) -> bool:
    """Whether every leaf of ``s`` is a ``constant()``: flat on purpose, however wrapped."""
    return all(n.kind == "constant" for n in _walk(s) if not n.children())


def _zero_start(s: Schedule, steps: Any, v: Any, total: int,
                share: float) -> list[LintWarning]:
    """LR006 when the updates at 0 at the start of the run are more than ``share`` of it."""
    import numpy as np

    if v[0] != 0:
        return []
    moved = np.flatnonzero(v != 0)
    if len(moved):  # the first update above 0, exact between two sampled steps
        lo, first = int(steps[moved[0] - 1]), int(steps[moved[0]])
        while first - lo > 1:
            mid = (lo + first) // 2
            lo, first = (mid, first) if s(mid) == 0 else (lo, mid)
    else:
        first = total
    if first <= share * total:
        return []
    pct = f"{100 * first / total:.3g}% of the run of {total} steps"
    said = ("the first update gets a value of 0 and is wasted" if first == 1 else
            f"the first {first} updates get a value of 0 and are wasted")
    return [LintWarning(
        "LR006", f"{said} ({pct}).",
        "start the warmup above 0 (lrkit's default warmup starts at target/(over + 1)).")]


_STAGE = re.compile(r"(\S+) \[(\d+)\]")  # the label of a staircase's stage (_stages)


def _last_stage(ex: Any, total: int, share: float,
                staged: Schedule | None = None) -> list[LintWarning]:
    """LR013 when the run ends in the last stage of a piecewise or multistep schedule (or of
    a ``staged`` one whose stages explain cannot split) and spends more than ``share`` of it
    there."""
    p = ex.phases[-1]
    m = _STAGE.fullmatch(p.kind)
    held = total - p.start
    if staged is not None:
        name = "stage"
    elif m is None or p.end is not None or int(m.group(2)) == 0:
        return []
    else:
        name = f"{m.group(1)} value"
    if held <= share * total:
        return []
    return [LintWarning(
        "LR013", f"the run holds the last {name} {p.first:g} from step {p.start} "
        f"to its end: {held} of {total} steps ({100 * held / total:.0f}% of the run).",
        "place the boundaries for this run (the last stage usually takes 10-30% of it; "
        "boundaries in '%' follow the run), or shorten the run.")]


def _walk(s: Schedule) -> list[Schedule]:
    """Every node of ``s``, iteratively."""
    out, todo = [], [s]
    while todo:
        node = todo.pop()
        out.append(node)
        todo += node.children()
    return out


def _grid(total: int, bounds: list[int]) -> Any:
    import numpy as np

    if total <= 2_000_000:
        return np.arange(total, dtype=np.int64)
    extra = [b + d for b in bounds for d in (-2, -1, 0, 1) if 0 <= b + d < total]
    grid = np.concatenate([np.linspace(0, total - 1, 1_000_000).astype(np.int64),
                           np.array(extra, dtype=np.int64)])
    grid.sort()  # then drop repeats: np.unique (hashing in numpy 2.4) is 100x slower here
    return grid[np.concatenate(([True], grid[1:] != grid[:-1]))]


def _jumps(s: Schedule, ex: Any, tol: float) -> list[LintWarning]:
    out: list[LintWarning] = []
    phases = ex.phases
    joins, node = {}, s  # a plan changed mid-run: the branch points (in the run's steps)
    while isinstance(node, branch):
        joins[math.ceil(node.at)] = node  # type: ignore[arg-type]
        node = node.schedule
    for a, b in zip(phases, phases[1:]):
        k = b.start
        moving = a.last is not None and a.last != a.first
        if not moving or k < 2 or b.kind == "hold":  # a drop after a flat stage is a decay
            continue
        before, after, slope = s(k - 1), s(k), abs(s(k - 1) - s(k - 2))
        size = abs(after - before)
        if size > tol * max(before, after) and size > 5 * slope:
            direction = "drops" if after < before else "jumps up"
            if k in joins and joins[k].join == "jump":
                out.append(LintWarning(
                    "LR002", f"the value {direction} from {before:g} to {after:g} at step {k}, "
                    "where the plan branches (join='jump').",
                    "start the new plan at the value the run has there: "
                    "branch(..., join='continue') scales it, or build it with lrkit.extend "
                    "or lrkit.cooldown."))
                continue
            out.append(LintWarning(
                "LR002", f"the value {direction} from {before:g} to {after:g} at step {k}, "
                f"where {a.kind} hands over to {b.kind}.",
                "make the phase before end where the next begins (a prefix warmup ramps to "
                "the next phase's first value)."))
    return out


def _ends(s: Schedule, total: int, hold: float) -> list[LintWarning]:
    if s.duration is None:
        return []
    d = math.ceil(s.duration)  # the first update past the end
    if d < total and (total - d) > hold * total:
        return [LintWarning(
            "LR003", f"the schedule ends at step {d} and holds {s(d):g} for the last "
            f"{total - d} steps ({100 * (total - d) / total:.0f}% of the run).",
            "make the schedule as long as the run (lengths in '%' follow the run).")]
    last, final = s(total - 1), s(d)
    if d > total and abs(last - final) > 0.01 * max(abs(final), abs(last), 1e-300):
        return [LintWarning(
            "LR004", f"the run ends at step {total}, {d - total} steps before the schedule "
            f"does: the last update gets {last:g}, never the final {final:g}.",
            "shorten the schedule to the run, or lengthen the run.")]
    return []


def _steps_into_its_end(s: Schedule) -> bool:
    """Whether ``s`` steps into its final value after a flat stretch, as a staircase's last
    stage begins: a multistep or piecewise schedule inside a product, a stretch or a
    ``stepped`` (mmdetection's warmup × MultiStepLR), whose phases explain cannot split."""
    d = s.duration
    if d is None or d < 2:
        return False
    k = math.ceil(d)
    before, final = s(k - 1), s(k)
    size = abs(final - before)
    return size > 1e-6 * max(abs(final), abs(before)) and size > 5 * abs(before - s(k - 2))


def _has_continue(s: Schedule) -> bool:
    return s._continues() or any(_has_continue(c) for c in s.children())


def _cycles(s: Schedule, total: int) -> list[LintWarning]:
    found = s._cycles(total)  # the cycles of the schedule the run ends in, if any
    if found is None:
        return []
    kind, done = found
    part = done - math.floor(done)
    if 0.05 < part < 0.95 or done < 0.95:
        return [LintWarning(
            "LR008", f"the run of {total} steps completes {done:.2f} {kind} cycles: it ends "
            f"{100 * part:.0f}% into cycle {math.floor(done) + 1}.",
            "fit the cycle lengths to the run so it ends at the end of a cycle.")]
    return []


def _drifting_epochs(s: Schedule, per: float | None) -> list[LintWarning]:
    if per is None or float(per).is_integer():
        return []
    from fractions import Fraction

    drifts = []
    for kind, name, value, need in s._missing:
        if need != "steps_per_epoch":
            continue
        exact = Fraction(per) * _epochs(value)
        if exact.denominator != 1:
            drifts.append(f"{kind}.{name}={value!r} is {float(exact):.2f} steps")
    if not drifts:
        return []
    return [LintWarning(
        "LR009", f"steps_per_epoch={per:g} is not whole, so epoch times round down: "
        + "; ".join(drifts[:4]) + ".",
        "use whole epochs of steps (drop the last partial batch), or give times in steps.")]


def _epochs(value: Any) -> Any:
    from fractions import Fraction

    from ._time import _terms

    return sum((a for a, u in _terms(value, "", "") if u == "epochs"), Fraction(0))

