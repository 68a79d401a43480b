"""Record the hyperparameters each update actually used, next to the plan.

A ``Monitor`` takes one record per applied update — the update index, the epoch when known, and
per param group every watched hyperparameter — and hands it to writers: TensorBoard (the
``tensorboard`` package's event files), CSV and JSON Lines. At the start it writes the whole
planned curve under ``plan/…``, so the plan is visible from step 0 beside what was applied, and
it warns once, with numbers, when an applied value departs from the plan.

For PyTorch, ``Monitor.attach(optimizer)`` reads the values at the optimizer's step pre-hook,
i.e. exactly what the update uses, whoever wrote them, and numbers the update by the count of
the ``lrkit.torch.LRScheduler`` that drives the optimizer, so a resumed run logs its own steps.
optax states are read by ``record_optax``; Keras' ``lrkit.keras.LRLogger(monitor=…)`` calls
``record`` with the optimizer's ``iterations``. The Lightning and Hugging Face callbacks are in
``lrkit.integrations``.

The departure check allows for the format of the applied value (float32 in optax and Keras),
see ``Monitor``.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import socket
import struct
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
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
    """Scalars in a TensorBoard event file, written with the ``tensorboard`` package's records.

    The file is written directly rather than through ``EventFileWriter``, which imports
    TensorFlow where it is installed (seconds, and GPU memory in a PyTorch process). Records
    reach the disk at least every ``flush_secs`` seconds and on ``close()``.
    """

    def __init__(self, log_dir: str | Path, flush_secs: float = 10.0) -> None:
        try:
            from tensorboard.compat.proto.event_pb2 import Event
            from tensorboard.summary.writer.record_writer import RecordWriter
        except ImportError:
            raise ScheduleError("TensorBoardWriter needs the tensorboard package: "
                                "pip install tensorboard") from None
        self._event = Event
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_FILES)}")
        self.path = Path(log_dir) / name
        self._writer = RecordWriter(self.path.open("wb"))  # noqa: SIM115 - open until close()
        self._flush_secs = flush_secs
        self._flushed = time.monotonic()
        self._writer.write(Event(wall_time=time.time(),
                                 file_version="brain.Event:2").SerializeToString())
        self._writer.flush()

    def _scalar(self, tag: str, step: int, value: float) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
        event = self._event(wall_time=time.time(), step=step, summary=summary)
        self._writer.write(event.SerializeToString())

    def _maybe_flush(self) -> None:
        if time.monotonic() - self._flushed >= self._flush_secs:
            self._writer.flush()
            self._flushed = time.monotonic()

    def write(self, step: int, epoch: float | None, values: Mapping[str, float]) -> None:
        for tag, v in values.items():
            self._scalar(tag, step, v)
        self._maybe_flush()

    def write_plan(self, tag: str, steps: Sequence[int], values: Sequence[float]) -> None:
        for k, v in zip(steps, values):
            self._scalar(tag, k, v)
        self._maybe_flush()

    def close(self) -> None:
        if not self._writer.closed:
            self._writer.close()


_FILES = itertools.count()  # two writers in one second and process get two files


# Unit roundoff of the formats an applied value can come in, and the smallest error that is
# not a departure there (float32 may flush values below its normal range to 0; float16 rounds
# to subnormals 2**-24 apart). float64 is not listed: it gets the plain 1e-6 relative.
_FORMATS = {"float32": (2.0**-23, 2.0**-126), "bfloat16": (2.0**-7, 2.0**-126),
            "float16": (2.0**-10, 2.0**-24)}


class Monitor:
    """Records of applied hyperparameters, checked against the plan.

    Args:
      writers: where records go (``TensorBoardWriter``, ``CSVWriter``, ``JSONLWriter``, or any
        object with ``write(step, epoch, values)``, ``write_plan(tag, steps, values)`` and
        ``close()``).
      plan: the planned schedules by tag, e.g. ``{"lr/0": s}`` (see ``tag``); or one schedule
        for the tag ``"lr/0"``.
      total_steps: the run's length, for the planned curve written at the start.
      tolerance: the relative difference from the plan that counts as a departure. By default
        (``None``) it follows the format of the applied value: 1e-6 for float64; for float32
        (bfloat16, float16) its unit roundoff ``2**-23`` (``2**-7``, ``2**-10``) plus lrkit's
        float32 bound, ``1e-6 + 2e-7·x`` where the value is ``e^-x`` of the plan's largest
        (docs/concepts.md, "float32 to the last digits"), so lrkit's own float32 evaluation
        never counts as a departure.

    The update index of a record is, in this order: ``step=`` given to ``record``; the count of
    the ``lrkit.torch.LRScheduler`` driving the attached optimizer (so a resumed run logs its
    own steps); the monitor's own count of records.
    """

    def __init__(self, writers: Sequence[Any] = (), plan: Schedule | Mapping[str, Schedule] |
                 None = None, total_steps: int | None = None,
                 tolerance: float | None = None) -> None:
        self.writers = list(writers)
        self.plan = {"lr/0": plan} if isinstance(plan, Schedule) else dict(plan or {})
        self.tolerance = tolerance
        self.epoch: float | None = None
        self.count = 0
        self.records: list[dict[str, Any]] = []
        self.departures: list[str] = []
        self._warned = False
        self._hook: Any = None
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

    def record(self, values: Mapping[str, Any], step: int | None = None) -> None:
        """Record the values one update used (``step`` defaults to the next update index).

        A value may be a number or a 0-d array or tensor; its dtype sets the default tolerance
        (a Python float that float32 represents exactly is taken as a float32 value).
        """
        k = self.count if step is None else int(step)
        formats = {tag: _format(v) for tag, v in values.items()}
        clean = {tag: float(v) for tag, v in values.items()}
        self.records.append({"step": k, "epoch": self.epoch, **clean})
        for w in self.writers:
            w.write(k, self.epoch, clean)
        for tag, v in clean.items():
            s = self.plan.get(tag)
            if s is None:
                continue
            want = float(s(k))
            allowed = self._allowed(s, want, formats[tag])
            if not abs(v - want) <= allowed:
                self._depart(tag, k, v, want, allowed, formats[tag])
        self.count = k + 1

    def record_optax(self, state: Any) -> None:
        """Record what the last optax update used, read from the optimizer state.

        ``state`` is the state ``tx.update`` returned, holding an ``optax.inject_hyperparams``
        state (at the top or inside a chain). Its ``count`` says which update this was, so a
        restored state continues at its own step. ``learning_rate`` is tagged ``lr/0``, any
        other injected hyperparameter by its name (``momentum/0``, ``b1/0``).
        """
        injected = _injected(state)
        if injected is None:
            raise ScheduleError("lrkit.monitor: record_optax() needs an optax.inject_hyperparams "
                                f"state (with 'count' and 'hyperparams'), got "
                                f"{type(state).__name__}; build the optimizer as "
                                "optax.inject_hyperparams(optax.sgd)(learning_rate=...)")
        values = {self.tag("lr" if name == "learning_rate" else name, 0): v
                  for name, v in injected.hyperparams.items()
                  if v is not None and not isinstance(v, bool) and getattr(v, "shape", ()) == ()}
        self.record(values, step=int(injected.count) - 1)

    def _allowed(self, s: Schedule, want: float, fmt: str) -> float:
        """The largest difference from ``want`` that is not a departure, for a value in ``fmt``."""
        if self.tolerance is not None:
            return self.tolerance * abs(want)
        if fmt not in _FORMATS:
            return 1e-6 * abs(want)
        roundoff, floor = _FORMATS[fmt]
        top = float(s._top)
        drop = math.log(top / abs(want)) if 0.0 < abs(want) < top else 0.0
        return (roundoff + 1e-6 + 2e-7 * drop) * abs(want) + floor

    def _depart(self, tag: str, k: int, got: float, want: float, allowed: float,
                fmt: str) -> None:
        s = self.plan[tag]
        rel = allowed / abs(want) if want else allowed
        if abs(got - float(s(0))) <= rel * abs(got):
            hint = ("the value is still the plan's first one: is the scheduler stepped at all, "
                    "or only once per epoch?")
        elif _seen_before(s, k, got, rel):
            hint = "the value lags the plan: is the scheduler stepped per epoch, or late?"
        else:
            hint = "another writer may own this value"
        error = f"{abs(got - want) / abs(want):.2g}" if want else "inf"
        limit = (f"the tolerance {self.tolerance:g}" if self.tolerance is not None else
                 f"{rel:.2g} allowed for a {fmt} value")
        msg = (f"lrkit.monitor: update {k} used {tag}={got!r}, the plan says {want!r} "
               f"(relative error {error}, {limit}); {hint}")
        self.departures.append(msg)
        if not self._warned:
            self._warned = True
            warnings.warn(msg, RuntimeWarning, stacklevel=3)

    def attach(self, target: Any, hyperparams: Sequence[str] = ("lr",)) -> Monitor:
        """Record, for every update of a torch optimizer, what each group used.

        ``target`` is the optimizer or the ``lrkit.torch.LRScheduler`` that drives it. Either
        way the update index is that scheduler's ``count`` (found on the optimizer's step hooks
        when the optimizer is given), so after ``scheduler.load_state_dict(…)`` the records
        continue at the checkpoint's update.
        """
        optimizer = getattr(target, "optimizer", target)
        given = target if target is not optimizer and _is_lrkit_scheduler(target) else None
        return self._attach(optimizer, hyperparams, lambda: None, given)

    def _attach(self, optimizer: Any, hyperparams: Sequence[str],
                fallback: Callable[[], int | None], scheduler: Any = None) -> Monitor:
        """Attach with the update index from ``scheduler``, else one found on ``optimizer``,
        else ``fallback()`` (``None``: the monitor's own count)."""
        found = [scheduler]

        def before_update(opt: Any, args: Any, kwargs: Any) -> None:
            if found[0] is None:  # looked up at each update: it may be built after attach
                found[0] = _scheduler_of(opt)
            values = {}
            for i, g in enumerate(opt.param_groups):
                name = g.get("name", i)
                for h in hyperparams:
                    v = _read(g, h)
                    if v is not None:
                        values[self.tag(h, name)] = v
            self.record(values, found[0].count if found[0] is not None else fallback())

        if self._hook is not None:
            self._hook.remove()
        self._hook = optimizer.register_step_pre_hook(before_update)
        return self

    def close(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        for w in self.writers:
            w.close()


def _format(v: Any) -> str:
    """The floating-point format of an applied value: its dtype's name, or for a Python float
    ``"float32"`` where float32 represents it exactly (a float64 result almost never is)."""
    dtype = getattr(v, "dtype", None)
    if dtype is not None:
        return str(dtype).removeprefix("torch.")
    try:
        narrow = struct.unpack("f", struct.pack("f", v))[0]
    except (OverflowError, struct.error, TypeError):
        return "float64"
    return "float32" if narrow == v and math.isfinite(v) else "float64"


def _is_lrkit_scheduler(obj: Any) -> bool:
    mod = sys.modules.get("lrkit.torch")  # no lrkit scheduler exists unless it was imported
    return mod is not None and isinstance(obj, mod.LRScheduler)


def _scheduler_of(optimizer: Any) -> Any:
    """The ``lrkit.torch.LRScheduler`` driving ``optimizer``, if any: its step post-hook is
    its bound method ``_advance``; a scheduler on another clock names itself on the optimizer
    (``_lrkit_scheduler``)."""
    for hook in getattr(optimizer, "_optimizer_step_post_hooks", {}).values():
        owner = getattr(hook, "__self__", None)
        if _is_lrkit_scheduler(owner):
            return owner
    owner = getattr(optimizer, "_lrkit_scheduler", None)
    return owner if _is_lrkit_scheduler(owner) else None


def _injected(state: Any) -> Any:
    """The first state with ``count`` and ``hyperparams`` in an optax state tree."""
    if hasattr(state, "count") and isinstance(getattr(state, "hyperparams", None), Mapping):
        return state
    if isinstance(state, (tuple, list)):
        for part in state:
            found = _injected(part)
            if found is not None:
                return found
    return None


def _seen_before(s: Schedule, k: int, value: float, tolerance: float) -> bool:
    """Whether the plan had ``value`` at one of the (up to 100,000) updates before ``k``."""
    import numpy as np

    earlier = s.values(np.arange(max(k - 100_000, 0), k))
    return bool(np.isclose(earlier, value, rtol=tolerance, atol=0).any())


def _read(group: Mapping[str, Any], hyperparam: str) -> Any:
    """A group's value of ``hyperparam`` (``"lr"``, ``"betas[0]"``), as stored: a number or a
    tensor, whose dtype sets the tolerance; ``None`` if the group has no such key."""
    key, _, rest = hyperparam.partition("[")
    if key not in group:
        return None
    v = group[key]
    if rest:
        v = v[int(rest.rstrip("]"))]
    return v
