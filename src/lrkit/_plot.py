"""Pictures of schedules: a matplotlib ``Figure`` (imported on use), a plot for the terminal,
and the rich display Jupyter shows for a schedule.

What does not live here: the numbers themselves (``explain``), warnings (``lint``).
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._explain import explain
from ._schedule import Schedule
from .errors import ScheduleError

__all__ = ["plot", "text_plot"]

Curves = Schedule | Sequence[Schedule] | Mapping[str, Schedule]


def _curves(s: Curves) -> dict[str, Schedule]:
    if isinstance(s, Schedule):
        return {str(s): s}
    if isinstance(s, Mapping):
        return {str(k): v for k, v in s.items()}
    return {str(x): x for x in s}


def _steps(curves: dict[str, Schedule], total_steps: int | None) -> Any:
    import numpy as np

    if total_steps is None:
        ends = [c.duration for c in curves.values() if c.duration is not None]
        total_steps = math.ceil(max(ends) * 1.05) + 1 if ends else 1000
    if total_steps <= 20_000:
        return np.arange(total_steps, dtype=np.int64)
    return np.unique(np.linspace(0, total_steps - 1, 20_000).astype(np.int64))


def plot(s: Curves, total_steps: int | None = None, steps_per_epoch: float | None = None, *,
         log: bool = False, title: str | None = None, path: str | Path | None = None,
         ax: Any = None) -> Any:
    """A matplotlib ``Figure`` of one schedule, several overlaid, or per-group curves.

    Args:
      s: a schedule, a list of schedules, or a mapping from label (e.g. a param group) to
        schedule.
      total_steps: the run's length (the x range; units are bound with it).
      steps_per_epoch: binds epoch units and adds an epoch axis on top.
      log: a logarithmic value axis.
      title: the title (default: the schedule's one-line text).
      path: also write the figure there (``.png`` or ``.svg``).
      ax: draw into this matplotlib ``Axes`` instead of a new figure.

    Phase boundaries of the first schedule are marked with dashed lines and labelled.
    """
    from matplotlib.figure import Figure

    curves = {k: v.bind(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
              for k, v in _curves(s).items()}
    if not curves:
        raise ScheduleError("plot: nothing to plot; give a schedule")
    steps = _steps(curves, total_steps)
    fig = ax.figure if ax is not None else Figure(figsize=(8, 4), layout="constrained")
    ax = ax if ax is not None else fig.add_subplot()
    for label, c in curves.items():
        ax.plot(steps, c.values(steps), label=label, linewidth=1.6)
    first = next(iter(curves.values()))
    ex = explain(first, total_steps=total_steps)
    for p in ex.phases[1:]:
        ax.axvline(p.start, color="0.6", linestyle="--", linewidth=0.8)
        ax.annotate(p.kind, (p.start, 1.0), xycoords=("data", "axes fraction"),
                    rotation=90, va="top", ha="right", fontsize=7, color="0.35")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step (optimizer update)")
    ax.set_ylabel("value")
    if title is None:
        title = str(first) if len(curves) == 1 else "schedules"
        title = title if len(title) <= 100 else title[:99] + "…"
    ax.set_title(title, fontsize=9)
    if steps_per_epoch:
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
              height: int = 16) -> str:
    """A plot for the terminal, in characters."""
    import numpy as np

    s = s.bind(total_steps=total_steps) if total_steps else s
    steps = _steps({"": s}, total_steps)
    width = min(width, len(steps))
    cols = np.array_split(s.values(steps), width)
    hi = max(float(c.max()) for c in cols)
    lo = min(float(c.min()) for c in cols)
    span = (hi - lo) or 1.0
    grid = [[" "] * width for _ in range(height)]
    for x, c in enumerate(cols):
        top = round((float(c.max()) - lo) / span * (height - 1))
        bottom = round((float(c.min()) - lo) / span * (height - 1))
        for y in range(bottom, top + 1):
            grid[height - 1 - y][x] = "█" if top == bottom else "│"
    lines = [f"{hi:>10.4g} ┤" + "".join(grid[0])]
    lines += ["           │" + "".join(r) for r in grid[1:-1]]
    lines.append(f"{lo:>10.4g} ┤" + "".join(grid[-1]))
    last = int(steps[-1])
    lines.append("           └" + "─" * width)
    lines.append(" " * 12 + "0" + f"{last:>{width - 1}}")
    return "\n".join(lines)


def svg(s: Schedule) -> str | None:
    """The schedule's plot as SVG text, or None without matplotlib."""
    try:
        fig = plot(s)
    except ImportError:
        return None
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return buf.getvalue()


def html_view(s: Schedule) -> str:
    """The plot and the phase table, for Jupyter."""
    ex = explain(s)
    rows = ex.rows()
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"
    table += "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                     for r in rows[1:]) + "</table>"
    picture = svg(s) or ""
    return (f"<div><code>{html.escape(str(s))}</code>{picture}{table}"
            f"<p>{html.escape(ex.summary())}</p></div>")
