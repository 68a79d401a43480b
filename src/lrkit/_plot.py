"""Pictures of schedules: a matplotlib ``Figure`` (imported on use), a plot for the terminal,
and the rich display Jupyter shows for a schedule.

The value axis turns logarithmic by itself when the values span more than two decades
(``_spans_decades``). An unbound schedule counting in one unit is drawn in that unit, as
``explain`` shows it.

What does not live here: the numbers themselves (``explain``), warnings (``lint``).
"""

from __future__ import annotations

import html
import importlib.util
import io
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._explain import display_binding, explain
from ._schedule import Schedule
from .errors import ScheduleError

__all__ = ["plot", "text_plot"]

Curves = Schedule | Sequence[Schedule] | Mapping[str, Schedule]


#: The x-axis label of a schedule drawn in its own unit (``explain.Units.name``).
_AXIS = {"ep": "epoch", "%": "% of the run", "samples": "samples", "tokens": "tokens"}
_FLOAT = re.compile(r"(?<![\w.])(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)")


def _short(text: str) -> str:
    """A schedule's text for a title or legend: floats as ``%.4g`` (``0.010000000000000002``
    reads ``0.01``), at most 100 characters. Whole numbers (steps) stay as they are."""
    text = _FLOAT.sub(lambda m: f"{float(m.group()):.4g}", text)
    return text if len(text) <= 100 else text[:99] + "…"


def _curves(s: Curves) -> dict[str, Schedule]:
    if isinstance(s, Schedule):
        return {_short(str(s)): s}
    if isinstance(s, Mapping):
        return {str(k): v for k, v in s.items()}
    short = {_short(str(x)): x for x in s}
    return short if len(short) == len({str(x) for x in s}) else {str(x): x for x in s}


def _spans_decades(values: Any) -> bool:
    """Whether a linear axis would hide the values: they span more than two decades (the
    largest positive over the least is above 100) and sit, on geometric average, more than a
    decade below the largest. The average, so a cosine or linear decay to ~0 (its last steps
    tiny, its mean log about -0.6 and -0.43 decades) and a warmup from ~0 stay linear, while a
    staircase or exponential decay over three or more decades turns logarithmic."""
    import numpy as np

    positive = values[values > 0]
    if not positive.size or positive.max() <= 100 * positive.min():
        return False
    return float(np.mean(np.log10(positive / positive.max()))) < -1.0


def _steps(curves: dict[str, Schedule], total_steps: int | None) -> Any:
    import numpy as np

    if total_steps is None:
        ends = [c.duration for c in curves.values() if c.duration is not None]
        total_steps = math.ceil(max(ends) * 1.05) + 1 if ends else 1000
    if total_steps <= 20_000:
        return np.arange(total_steps, dtype=np.int64)
    return np.unique(np.linspace(0, total_steps - 1, 20_000).astype(np.int64))


def plot(s: Curves, total_steps: int | None = None, steps_per_epoch: float | None = None, *,
         log: bool | None = None, ylabel: str = "learning rate", title: str | None = None,
         path: str | Path | None = None, ax: Any = None, samples_per_step: float | None = None,
         tokens_per_step: float | None = None) -> Any:
    """A matplotlib ``Figure`` of one schedule, several overlaid, or per-group curves.

    Args:
      s: a schedule, a list of schedules, or a mapping from label (e.g. a param group) to
        schedule.
      total_steps: the run's length (the x range; units are bound with it).
      steps_per_epoch: binds epoch units and adds an epoch axis on top.
      log: a logarithmic value axis (True), a linear one (False), or, by default, logarithmic
        when the values span more than two decades.
      ylabel: what the values are: ``"learning rate"``, ``"weight decay"``, ``"momentum"``…
      title: the title (default: the schedule's one-line text, numbers to 4 digits).
      path: also write the figure there (``.png`` or ``.svg``).
      ax: draw into this matplotlib ``Axes`` instead of a new figure.
      samples_per_step, tokens_per_step: bind sample and token units.

    Phase boundaries of the first schedule are marked with dashed lines and labelled. A
    schedule that still counts in one unit of its own (``5ep``, ``10%``) is drawn in it, as
    ``explain`` shows it; one that mixes units without the quantities is a ScheduleError.
    """
    import numpy as np

    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ScheduleError("plot: drawing needs matplotlib: pip install 'lrkit[plot]' (or "
                            "lrkit.explain(s) for the phase table, lrkit plot SCHEDULE in a "
                            "terminal)") from None

    named = _curves(s)
    if not named:
        raise ScheduleError("plot: nothing to plot; give a schedule")
    bound, units = display_binding(list(named.values()), {
        "steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
        "samples_per_step": samples_per_step, "tokens_per_step": tokens_per_step}, "plot")
    curves = dict(zip(named, bound))
    run = units.stand_in if units is not None and units.missing == "total_steps" \
        else total_steps
    steps = _steps(curves, run)
    x = steps if units is None else steps / units.steps
    fig = ax.figure if ax is not None else Figure(figsize=(8, 4), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    values = {label: c.values(steps) for label, c in curves.items()}
    for label, v in values.items():
        ax.plot(x, v, label=label, linewidth=1.6)
    first = next(iter(curves.values()))
    for p in explain(first, total_steps=run).phases[1:]:
        at = p.start if units is None else p.start / units.steps
        ax.axvline(at, color="0.6", linestyle="--", linewidth=0.8)
        ax.annotate(p.kind, (at, 1.0), xycoords=("data", "axes fraction"),
                    rotation=90, va="top", ha="right", fontsize=7, color="0.35")
    if log is None:
        log = _spans_decades(np.concatenate(list(values.values())))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step (optimizer update)" if units is None else
                  f"{_AXIS[units.name]} ({units.missing} not given)")
    ax.set_ylabel(ylabel)
    if title is None:
        title = _short(str(next(iter(named.values())))) if len(named) == 1 else "schedules"
    ax.set_title(title, fontsize=9)
    if steps_per_epoch and units is None:
        top = ax.secondary_xaxis("top", functions=(lambda k: k / steps_per_epoch,
                                                   lambda e: e * steps_per_epoch))
        top.set_xlabel("epoch")
    if len(curves) > 1:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path)
    return fig


def text_plot(s: Schedule, total_steps: int | None = None, width: int = 72,
              height: int = 16, log: bool | None = None) -> str:
    """A plot for the terminal, in characters; ``log`` as for ``plot`` (marked ``log`` by the
    value axis)."""
    import numpy as np

    s = s.bind(total_steps=total_steps) if total_steps else s
    steps = _steps({"": s}, total_steps)
    width = min(width, len(steps))
    values = s.values(steps)
    log = _spans_decades(values) if log is None else log
    if log:  # rows by decade; a 0 sits on the bottom row with the least positive value
        positive = values[values > 0]
        values = np.log10(np.maximum(values, positive.min() if positive.size else 1.0))
    cols = np.array_split(values, width)
    hi = max(float(c.max()) for c in cols)
    lo = min(float(c.min()) for c in cols)
    span = (hi - lo) or 1.0
    grid = [[" "] * width for _ in range(height)]
    for x, c in enumerate(cols):
        top = round((float(c.max()) - lo) / span * (height - 1))
        bottom = round((float(c.min()) - lo) / span * (height - 1))
        for y in range(bottom, top + 1):
            grid[height - 1 - y][x] = "█" if top == bottom else "│"
    top_label, bottom_label = (10**hi, 10**lo) if log else (hi, lo)
    lines = [f"{top_label:>10.4g} ┤" + "".join(grid[0])]
    lines += ["           │" + "".join(r) for r in grid[1:-1]]
    lines.append(f"{bottom_label:>10.4g} ┤" + "".join(grid[-1]))
    last = int(steps[-1])
    lines.append(("       log └" if log else "           └") + "─" * width)
    lines.append(" " * 12 + "0" + f"{last:>{width - 1}}")
    return "\n".join(lines)


# Jupyter calls these for every schedule a cell shows: they never raise (an exception would
# fail the cell, and ``nbconvert --execute`` with it), and say in the page why a part is missing.

def svg(s: Schedule) -> str | None:
    """The schedule's plot as SVG text, or None where it cannot be drawn (no matplotlib, or
    ``plot`` refuses the schedule: ``html_view`` says why)."""
    try:
        fig = plot(s)
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
    except Exception:  # a display never raises
        return None
    return buf.getvalue()


def html_view(s: Schedule) -> str:
    """The plot and the phase table, for Jupyter; the reason instead where there are none."""
    head = f"<div><code>{html.escape(str(s))}</code>"
    try:
        ex = explain(s)
    except Exception as e:  # a display never raises
        why = str(e) if isinstance(e, ScheduleError) else f"{type(e).__name__}: {e}"
        return f"{head}<p>{html.escape(why)}</p></div>"
    rows = ex.rows()
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"
    table += "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                     for r in rows[1:]) + "</table>"
    notes = "".join(f"<p>{html.escape(line)}</p>" for line in ex.summary().splitlines())
    picture = svg(s)
    if picture is None and importlib.util.find_spec("matplotlib") is None:
        picture = "<p>(no picture: pip install 'lrkit[plot]' for matplotlib)</p>"
    return f"{head}{picture or ''}{table}{notes}</div>"
