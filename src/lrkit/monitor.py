"""Record the hyperparameters each update actually used, next to the plan.

A ``Monitor`` takes one record per applied update — the update index, the epoch when known, and
per param group every watched hyperparameter — and hands it to writers: TensorBoard (the
``tensorboard`` package's event files), CSV and JSON Lines. At the start it writes the whole
planned curve under ``plan/…``, so the plan is visible from step 0 beside what was applied, and
it warns once, with numbers, when an applied value departs from the plan.

For PyTorch, ``Monitor.attach(optimizer)`` reads the values at the optimizer's step pre-hook,
i.e. exactly what the update uses, whoever wrote them. Keras and optax adapters call
``record`` themselves.
"""

from __future__ import annotations

import csv
import json
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._schedule import Schedule
from .errors import ScheduleError

__all__ = ["CSVWriter", "JSONLWriter", "Monitor", "TensorBoardWriter"]


class CSVWriter:
    """One row per record: ``step,epoch,<tag>,…`` (columns fixed by the first record)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file = self.path.open("w", newline="")  # noqa: SIM115 - open until close()
        self._writer: Any = None

    def write(self, step: int, epoch: float | None, values: Mapping[str, float]) -> None:
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, ["step", "epoch", *values])
            self._writer.writeheader()
        self._writer.writerow({"step": step, "epoch": "" if epoch is None else epoch, **values})

    def write_plan(self, tag: str, steps: Sequence[int], values: Sequence[float]) -> None:
        with self.path.with_suffix(".plan.csv").open("a", newline="") as f:
            w = csv.writer(f)
            w.writerows([tag, k, v] for k, v in zip(steps, values))

    def close(self) -> None:
        self._file.close()


class JSONLWriter:
    """One JSON object per record: ``{"step": …, "epoch": …, "<tag>": value, …}``."""

    def __init__(self, path: str | Path) -> None:
        self._file = Path(path).open("w")  # noqa: SIM115 - open until close()

    def write(self, step: int, epoch: float | None, values: Mapping[str, float]) -> None:
        self._file.write(json.dumps({"step": step, "epoch": epoch, **values}) + "\n")

    def write_plan(self, tag: str, steps: Sequence[int], values: Sequence[float]) -> None:
        for k, v in zip(steps, values):
            self._file.write(json.dumps({"plan": tag, "step": k, "value": v}) + "\n")

    def close(self) -> None:
        self._file.close()


class TensorBoardWriter:
    """Scalars in a TensorBoard event file, written with the ``tensorboard`` package."""

    def __init__(self, log_dir: str | Path) -> None:
        try:
            from tensorboard.summary.writer.event_file_writer import EventFileWriter
        except ImportError:
            raise ScheduleError("TensorBoardWriter needs the tensorboard package: "
                                "pip install tensorboard") from None
        self._writer = EventFileWriter(str(log_dir))

    def _scalar(self, tag: str, step: int, value: float) -> None:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
        self._writer.add_event(Event(wall_time=time.time(), step=step, summary=summary))

    def write(self, step: int, epoch: float | None, values: Mapping[str, float]) -> None:
        for tag, v in values.items():
            self._scalar(tag, step, v)

    def write_plan(self, tag: str, steps: Sequence[int], values: Sequence[float]) -> None:
        for k, v in zip(steps, values):
            self._scalar(tag, k, v)

    def close(self) -> None:
        self._writer.close()


class Monitor:
    """Records of applied hyperparameters, checked against the plan.

    Args:
      writers: where records go (``TensorBoardWriter``, ``CSVWriter``, ``JSONLWriter``, or any
        object with ``write(step, epoch, values)``, ``write_plan(tag, steps, values)`` and
        ``close()``).
      plan: the planned schedules by tag, e.g. ``{"lr/0": s}`` (see ``tag``); or one schedule
        for the tag ``"lr/0"``.
      total_steps: the run's length, for the planned curve written at the start.
      tolerance: the relative difference from the plan that counts as a departure.
    """

    def __init__(self, writers: Sequence[Any] = (), plan: Schedule | Mapping[str, Schedule] |
                 None = None, total_steps: int | None = None, tolerance: float = 1e-6) -> None:
        self.writers = list(writers)
        self.plan = {"lr/0": plan} if isinstance(plan, Schedule) else dict(plan or {})
        self.tolerance = tolerance
        self.epoch: float | None = None
        self.count = 0
        self.records: list[dict[str, Any]] = []
        self.departures: list[str] = []
        self._warned = False
        if total_steps is not None:
            self._write_plan(total_steps)

    @staticmethod
    def tag(hyperparam: str, group: int | str) -> str:
        """The tag of a hyperparameter in a group: ``"lr/0"``, ``"momentum/head"``."""
        return f"{hyperparam}/{group}"

    def _write_plan(self, total: int) -> None:
        import numpy as np

        steps = np.unique(np.linspace(0, total - 1, min(total, 10_000)).astype(np.int64))
        for tag, s in self.plan.items():
            values = s.values(steps).tolist()
            for w in self.writers:
                w.write_plan(f"plan/{tag}", steps.tolist(), values)

    def record(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Record the values one update used (``step`` defaults to the next update index)."""
        k = self.count if step is None else step
        clean = {tag: float(v) for tag, v in values.items()}
        self.records.append({"step": k, "epoch": self.epoch, **clean})
        for w in self.writers:
            w.write(k, self.epoch, clean)
        for tag, v in clean.items():
            s = self.plan.get(tag)
            if s is None:
                continue
            want = s(k)
            if not math.isclose(v, want, rel_tol=self.tolerance, abs_tol=1e-300):
                self._depart(tag, k, v, want)
        self.count = k + 1

    def _depart(self, tag: str, k: int, got: float, want: float) -> None:
        s = self.plan[tag]
        if math.isclose(got, s(0), rel_tol=self.tolerance):
            hint = ("the value is still the plan's first one: is the scheduler stepped at all, "
                    "or only once per epoch?")
        elif _seen_before(s, k, got, self.tolerance):
            hint = "the value lags the plan: is the scheduler stepped per epoch, or late?"
        else:
            hint = "another writer may own this value"
        msg = (f"lrkit.monitor: update {k} used {tag}={got!r}, the plan says {want!r}; {hint}")
        self.departures.append(msg)
        if not self._warned:
            self._warned = True
            warnings.warn(msg, RuntimeWarning, stacklevel=3)

    def attach(self, optimizer: Any, hyperparams: Sequence[str] = ("lr",)) -> Monitor:
        """Record, for every update of a torch optimizer, what each group used."""
        def before_update(opt: Any, args: Any, kwargs: Any) -> None:
            values = {}
            for i, g in enumerate(opt.param_groups):
                name = g.get("name", i)
                for h in hyperparams:
                    v = _read(g, h)
                    if v is not None:
                        values[self.tag(h, name)] = v
            self.record(values)

        self._hook = optimizer.register_step_pre_hook(before_update)
        return self

    def close(self) -> None:
        if getattr(self, "_hook", None) is not None:
            self._hook.remove()
        for w in self.writers:
            w.close()


def _seen_before(s: Schedule, k: int, value: float, tolerance: float) -> bool:
    """Whether the plan had ``value`` at one of the (up to 100,000) updates before ``k``."""
    import numpy as np

    earlier = s.values(np.arange(max(k - 100_000, 0), k))
    return bool(np.isclose(earlier, value, rtol=tolerance, atol=0).any())


def _read(group: Mapping[str, Any], hyperparam: str) -> float | None:
    key, _, rest = hyperparam.partition("[")
    if key not in group:
        return None
    v = group[key]
    if rest:
        v = v[int(rest.rstrip("]"))]
    return float(v.item() if hasattr(v, "item") else v)
