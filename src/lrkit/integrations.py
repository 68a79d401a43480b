"""Callbacks that log, through a trainer's own loggers, what each update applied next to the plan.

``LightningMonitor`` is a Lightning ``Callback`` (``lightning.pytorch``, or ``pytorch_lightning``
where only that is installed) and ``HFMonitor`` a Hugging Face ``TrainerCallback``. Each runs a
``lrkit.monitor.Monitor`` on the optimizer's step pre-hook, so it sees the value each update
used whoever wrote it, numbers updates by the ``lrkit.torch.LRScheduler``'s count (else by the
trainer's global step, so a resumed run logs its own steps) and warns on a departure.

The classes are built on first access, which imports the framework: ``import lrkit`` and
``import lrkit.integrations`` import neither. Plain PyTorch, Keras and optax use
``lrkit.monitor`` directly.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from ._schedule import Schedule
from .monitor import Monitor

__all__ = ["HFMonitor", "LightningMonitor"]  # noqa: F822 - built by __getattr__ on first use

Plan = Schedule | Mapping[str, Schedule] | None


def __getattr__(name: str) -> Any:
    if name == "LightningMonitor":
        return _lightning_monitor()
    if name == "HFMonitor":
        return _hf_monitor()
    raise AttributeError(f"module 'lrkit.integrations' has no attribute {name!r}")


def _with_plan(monitor: Monitor, step: int, values: Mapping[str, float]) -> dict[str, float]:
    """``values`` and, for each planned tag among them, ``plan/<tag>`` at ``step``."""
    planned = {f"plan/{tag}": float(monitor.plan[tag](step)) for tag in values
               if tag in monitor.plan}
    return {**values, **planned}


def _torch_optimizer(opt: Any) -> Any:
    """The torch optimizer inside wrappers such as Accelerate's ``AcceleratedOptimizer`` (a
    torch ``Optimizer`` subclass without step hooks of its own, which calls ``.optimizer``)."""
    while hasattr(opt, "optimizer"):
        opt = opt.optimizer
    return opt


@functools.cache
def _lightning_monitor() -> type:
    try:
        pl: Any = importlib.import_module("lightning.pytorch")
    except ImportError:
        pl = importlib.import_module("pytorch_lightning")

    class _Loggers:
        """A monitor writer that hands records to the trainer's loggers, every
        ``log_every_n_steps`` updates as Lightning's own logging does."""

        def __init__(self, owner: Any) -> None:
            self.owner = owner

        def write(self, step: int, epoch: float | None, values: Mapping[str, float]) -> None:
            trainer = self.owner.trainer
            if trainer is None or (step + 1) % max(trainer.log_every_n_steps, 1):
                return
            metrics = _with_plan(self.owner.monitor, step, values)
            for logger in trainer.loggers:
                logger.log_metrics(metrics, step=step)

        def write_plan(self, tag: str, steps: Sequence[int], values: Sequence[float]) -> None:
            pass  # the planned value goes with each record

        def close(self) -> None:
            pass  # the loggers belong to the trainer

    class LightningMonitor(pl.Callback):  # type: ignore[misc]
        """Log ``lr/<group>`` (each update's applied value) and ``plan/lr/<group>`` to the
        trainer's loggers, and warn when they part.

        Args:
          plan: the planned schedule(s), as for ``lrkit.monitor.Monitor``.
          hyperparams: the param-group keys to record (``"lr"``, ``"momentum"``, ``"betas[0]"``).
          tolerance: as for ``Monitor`` (by default it follows the applied value's dtype).

        It watches the trainer's first optimizer; ``monitor`` is the underlying ``Monitor``
        (its ``records`` and ``departures``).
        """

        def __init__(self, plan: Plan = None, hyperparams: Sequence[str] = ("lr",),
                     tolerance: float | None = None) -> None:
            super().__init__()
            self.hyperparams = tuple(hyperparams)
            self.trainer: Any = None
            self.monitor = Monitor([_Loggers(self)], plan=plan, tolerance=tolerance)

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self.trainer = trainer
            self.monitor._attach(_torch_optimizer(trainer.optimizers[0]), self.hyperparams,
                                 lambda: int(trainer.global_step))

        def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
            self.monitor.epoch = trainer.current_epoch

        def on_train_end(self, trainer: Any, pl_module: Any) -> None:
            self.monitor.close()

    return LightningMonitor


@functools.cache
def _hf_monitor() -> type:
    transformers: Any = importlib.import_module("transformers")

    class HFMonitor(transformers.TrainerCallback):  # type: ignore[misc]
        """Add ``lr/<group>`` (the value the last update used) and ``plan/lr/<group>`` to the
        Trainer's logs, and warn when they part.

        Args:
          plan: the planned schedule(s), as for ``lrkit.monitor.Monitor``.
          hyperparams: the param-group keys to record (``"lr"``, ``"momentum"``, ``"betas[0]"``).
          tolerance: as for ``Monitor`` (by default it follows the applied value's dtype).

        The values join the logs dict, so ``state.log_history`` (``trainer_state.json``) and
        the callbacks after this one get them. The Trainer calls its reporting callbacks
        (TensorBoard, W&B, …) before those given in ``callbacks=``: ``install(trainer)`` puts
        this one first so they log the values too. ``monitor`` is the underlying ``Monitor``.
        """

        def __init__(self, plan: Plan = None, hyperparams: Sequence[str] = ("lr",),
                     tolerance: float | None = None) -> None:
            self.hyperparams = tuple(hyperparams)
            self.monitor = Monitor(plan=plan, tolerance=tolerance)
            self._state: Any = None

        def install(self, trainer: Any) -> HFMonitor:
            """Put this callback first in ``trainer``'s callbacks; returns it."""
            trainer.callback_handler.callbacks.insert(0, self)
            return self

        def on_train_begin(self, args: Any, state: Any, control: Any, optimizer: Any = None,
                           **kwargs: Any) -> None:
            self._state = state
            self.monitor._attach(_torch_optimizer(optimizer), self.hyperparams,
                                 lambda: int(self._state.global_step))

        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._state = state

        def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.monitor.epoch = state.epoch

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None,
                   **kwargs: Any) -> None:
            if logs is None or "learning_rate" not in logs or not self.monitor.records:
                return  # only the training logs, which describe the last update
            last = self.monitor.records[-1]
            values = {k: v for k, v in last.items() if k not in ("step", "epoch")}
            extra = _with_plan(self.monitor, last["step"], values)
            logs.update(extra)
            if state.log_history and state.log_history[-1].get("step") == state.global_step:
                state.log_history[-1].update(extra)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.monitor.close()

    return HFMonitor
