"""Keras 3 adapter: a serializable ``LearningRateSchedule`` that traces on every backend, a
callback that puts the applied LR into ``logs`` (so Keras' ``TensorBoard`` plots it), and a
callback that drives ``lrkit.plateau`` while the optimizer keeps its schedule.

What does not live here: the schedules (``lrkit``), the monitor (``lrkit.monitor``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

from . import _consumed, _plateau, _saved
from ._combine import plateau, resumed
from ._schedule import Schedule
from ._xp import SCALAR, namespace_for
from .config import from_config
from .errors import ScheduleError

__all__ = ["LRLogger", "LearningRateSchedule", "Plateau", "change_plan", "per_epoch",
           "range_test", "schedule_hyperparameters"]

_WHO = "lrkit.keras.LearningRateSchedule"
_CLOCKS = ("updates", "samples", "tokens")


@keras.saving.register_keras_serializable(package="lrkit")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):  # type: ignore[misc]
    """An lrkit schedule as a Keras ``LearningRateSchedule``.

    Args:
      schedule: an lrkit schedule, its config mapping, or its one-line text.
      gradient_accumulation_steps: the optimizer's setting: Keras counts micro-steps, lrkit's
        schedule sees applied updates (``iterations // gradient_accumulation_steps``).
      steps_per_epoch, total_steps, samples_per_step, tokens_per_step: bind unit strings.
      clock: ``"updates"`` (default: the schedule's steps are optimizer updates), or
        ``"samples"`` / ``"tokens"``: its steps are samples (tokens), and update ``k`` gets its
        value at what the run consumed before it, given by ``per_update`` (an int64 count
        where the backend has it; under JAX without x64 a float32 position past 2**24).
      per_update: with ``clock="samples"`` (``"tokens"``), what one update consumes: an int,
        or an lrkit schedule of the count consumed so far (``lrkit.batch_size(...)``, a
        batch-size ramp as Megatron's). The count before update ``k`` follows from it, so a
        restored ``iterations`` resumes it (see ``docs/keras.md``).

    The formula is evaluated with the backend's own functions (``keras.ops`` narrows some of
    them to float32 on JAX), in float64 where the backend has it (JAX needs
    ``jax_enable_x64``), else in float32 to within 1e-6 of float64 (see ``docs/concepts.md``),
    and returned as float32.
    """

    def __init__(self, schedule: Schedule | Mapping[str, Any] | str,
                 gradient_accumulation_steps: int | None = None,
                 steps_per_epoch: float | None = None, total_steps: int | None = None,
                 samples_per_step: float | None = None,
                 tokens_per_step: float | None = None, clock: str = "updates",
                 per_update: int | Schedule | Mapping[str, Any] | None = None) -> None:
        if clock not in _CLOCKS:
            raise ScheduleError(f"{_WHO}: clock must be one of {', '.join(map(repr, _CLOCKS))}, "
                                f"got {clock!r}")
        if clock != "updates":
            if (samples_per_step if clock == "samples" else tokens_per_step) is not None:
                raise ScheduleError(f"{_WHO}: with clock={clock!r} the schedule's steps are "
                                    f"{clock}; leave {clock}_per_step out")
            samples_per_step, tokens_per_step = (1, tokens_per_step) if clock == "samples" \
                else (samples_per_step, 1)
        self.clock = clock
        self.per_update = _per_update(per_update, clock)
        self._consumed = None if clock == "updates" else _Consumed(self.per_update, _WHO)
        if isinstance(schedule, (Mapping, str)):
            schedule = from_config(schedule)
        if not isinstance(schedule, Schedule):
            raise ScheduleError(f"{_WHO}: 'schedule' must be an lrkit schedule, its config or "
                                f"its text, got {type(schedule).__name__}")
        given: dict[str, Any] = {
            k: v for k, v in dict(steps_per_epoch=steps_per_epoch, total_steps=total_steps,
                                  samples_per_step=samples_per_step,
                                  tokens_per_step=tokens_per_step).items() if v is not None}
        for kind, name, v, need in schedule._missing:
            if need not in given:
                raise ScheduleError(f"{_WHO}: {kind}: {name!r} = {v!r} needs {need}; pass "
                                    f"LearningRateSchedule(..., {need}=...) or bind the "
                                    "schedule first")
        self.schedule = schedule.bind(**given) if given else schedule
        n = gradient_accumulation_steps or 1
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ScheduleError(f"{_WHO}: 'gradient_accumulation_steps' must be a whole number "
                                f">= 1, got {gradient_accumulation_steps!r}")
        self.gradient_accumulation_steps = n
        #: a plateau schedule's state, as plain data (``lrkit.keras.Plateau`` moves it)
        self.plateau_state = self.schedule.init() if isinstance(self.schedule, plateau) else None
        self._watched = False  # a Plateau callback drives the state
        self._baked: int | None = None  # the reductions the latest trace holds as a constant

    def __call__(self, step: Any) -> Any:
        ops = keras.ops
        k = step if self.gradient_accumulation_steps == 1 else \
            ops.floor_divide(step, self.gradient_accumulation_steps)
        s = self.schedule
        if self._consumed is not None:
            k = self._consumed.traced(k)
        v = s.evaluate(k, ops)
        if isinstance(s, plateau):
            if not self._watched or self.plateau_state is None:
                raise ScheduleError(f"{_WHO}: a plateau schedule needs the lrkit.keras.Plateau "
                                    "callback in model.fit(callbacks=[...]) to observe its "
                                    "metric")
            n = self.plateau_state["reductions"]
            if _traced(step):  # a constant of the compiled step: Plateau has it traced again
                self._baked = n  # when n changes
            xp = namespace_for(v, ops).using(v.dtype)
            v = _plateau.reduce(s, v, ops.cast(n, v.dtype), xp)
        return ops.cast(v, "float32")

    def value(self, k: int) -> float:
        """The value lrkit plans for update ``k`` (float64, with the current plateau state)."""
        s = self.schedule
        if self._consumed is not None:
            k = self._consumed(k)
        if isinstance(s, plateau) and self.plateau_state is not None:
            return s.value(k, self.plateau_state)
        return s(k)

    def get_config(self) -> dict[str, Any]:
        config = {"schedule": self.schedule.to_config(),
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        if self.clock != "updates":
            p = self.per_update
            config.update(clock=self.clock,
                          per_update=p if isinstance(p, int) else p.to_config())
        if self.plateau_state is not None:  # (model.save: keras.models.load_model resumes it)
            config["plateau_state"] = dict(self.plateau_state)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild from ``get_config()``'s data, as a saved model holds it: the schedule from its
        config mapping only, never from a string (``lrkit.from_config`` would open a file)."""
        if not isinstance(config, Mapping):
            config = {}  # (the schedule's check below says what is missing)
        p = config.get("per_update")
        made = cls(_saved.schedule(config.get("schedule"), f"{_WHO}: config['schedule']"),
                   config.get("gradient_accumulation_steps"), clock=config.get("clock", "updates"),
                   per_update=_saved.schedule(p, f"{_WHO}: config['per_update']")
                   if isinstance(p, Mapping) else p)
        state = config.get("plateau_state")
        if state is not None and isinstance(made.schedule, plateau):
            made.plateau_state = _plateau.plain(made.schedule, _plateau.unplain(
                made.schedule, state, f"{_WHO}: config['plateau_state']"))
        return made


def _traced(x: Any) -> bool:
    """Whether ``x`` (the step) is being traced into a compiled function (JAX's ``jit``,
    TensorFlow's ``tf.function``), where a Python number becomes a constant. (torch runs
    eagerly; under ``torch.compile`` dynamo guards the number itself.)"""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return isinstance(getattr(x, "value", x), jax.core.Tracer)
    if backend == "tensorflow":
        import tensorflow as tf  # type: ignore[import-untyped]

        return not tf.executing_eagerly()
    return False


def _per_update(p: Any, clock: str) -> Any:
    if clock == "updates":
        if p is not None:
            raise ScheduleError(f"{_WHO}: per_update={_saved.shown(p)} is for clock='samples' "
                                "or 'tokens'; pass one of them with it, or leave it out")
        return None
    if p is None:
        raise ScheduleError(f"{_WHO}: clock={clock!r} needs per_update=, what one update "
                            f"consumes: an int, or a batch-size ramp such as lrkit.batch_size("
                            "32, 1536, 6_000_000, multiple_of=16)")
    return _consumed.per_update(p, _WHO, clock)


class _Consumed(_consumed.Consumed):
    """The count consumed before update ``k``, in Python and traced."""

    def traced(self, k: Any) -> Any:
        """The count at a traced update count (int64 where the backend has it, else float32,
        exact up to 2**24)."""
        ops = keras.ops
        wide = ops.cast(k, "int64")
        dtype = "int64" if keras.backend.standardize_dtype(wide.dtype) == "int64" else "float32"
        k = ops.cast(k, dtype)
        if len(self.starts) == 1:
            return k * self.starts[0][2]
        k0, c0, n = (ops.convert_to_tensor(np.array(col), dtype) for col in zip(*self.starts))
        i = ops.sum(ops.cast(k >= k0[1:], "int32"))  # the segment: starts at or before k
        return ops.take(c0, i) + ops.take(n, i) * (k - ops.take(k0, i))


def per_epoch(schedule: Schedule | Mapping[str, Any] | str) -> Any:
    """The function ``keras.callbacks.LearningRateScheduler`` calls at each epoch's start:
    ``f(epoch, lr) = schedule(epoch)``, a schedule whose step is the epoch (the source article's
    way: the LR changes once per epoch, whatever the optimizer's counter).

    >>> f = per_epoch(lrkit.step(0.1, 0.25, 15))
    >>> f(0, 0.1), f(15, 0.1)
    (0.1, 0.025)
    """
    s = from_config(schedule) if isinstance(schedule, (Mapping, str)) else schedule
    if not isinstance(s, Schedule):
        raise ScheduleError(f"lrkit.keras.per_epoch: expected an lrkit schedule, got "
                            f"{type(s).__name__}")
    s._require_bound()
    if isinstance(s, plateau):
        raise ScheduleError("lrkit.keras.per_epoch: a plateau schedule needs its metric: use "
                            "lrkit.keras.LearningRateSchedule with lrkit.keras.Plateau")

    def f(epoch: int, lr: float | None = None) -> float:
        return s(int(epoch))

    return f


def _lrkit_schedule(model: Any, who: str) -> LearningRateSchedule:
    # (under mixed precision the model's optimizer is a LossScaleOptimizer around the one
    # that holds the schedule)
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    lr = getattr(optimizer, "_learning_rate", None)
    if not isinstance(lr, LearningRateSchedule):
        raise ScheduleError(f"{who}: the optimizer's learning_rate is not an "
                            "lrkit.keras.LearningRateSchedule; pass learning_rate="
                            "lrkit.keras.LearningRateSchedule(schedule) to the optimizer")
    acc = optimizer.gradient_accumulation_steps or 1
    if acc != lr.gradient_accumulation_steps:
        raise ScheduleError(f"{who}: the optimizer accumulates {acc} micro-batches per update but "
                            f"the schedule was built with gradient_accumulation_steps="
                            f"{lr.gradient_accumulation_steps}; give it {acc}")
    return lr


def change_plan(model: Any, schedule: Schedule | Mapping[str, Any] | str, *,
                on_change: str = "branch") -> Schedule:
    """Resume a restored model with a different plan: the optimizer's lrkit schedule becomes
    the checkpoint's plan until the restored update count and ``schedule`` from there on.

    Call it after ``keras.models.load_model`` has restored the optimizer, before ``fit``.
    With ``on_change="branch"`` the installed plan is ``saved.branch(count,
    schedule.skip(count))`` (a plan that already is ``saved`` branched at ``count``, from
    ``lrkit.extend`` or ``lrkit.cooldown``, as it is), where ``count`` is the restored update
    count, or with ``clock="samples"`` (``"tokens"``) what those updates consumed: the model
    saved later holds that one schedule, and the run before ``count`` is the old plan bit for
    bit. ``on_change="use_new"`` installs ``schedule`` as it is. The clock, ``per_update``
    and accumulation stay. The next ``fit`` traces its train step again. Returns the
    installed plan.

    >>> model = keras.models.load_model("run.keras")  # doctest: +SKIP
    >>> change_plan(model, lrkit.extend(saved, 200_000, at=120_000))  # doctest: +SKIP
    """
    who = "lrkit.keras.change_plan"
    if on_change not in ("branch", "use_new"):
        raise ScheduleError(f"{who}: on_change must be 'branch' or 'use_new', got "
                            f"{on_change!r}")
    lr = _lrkit_schedule(model, who)
    new = from_config(schedule) if isinstance(schedule, (Mapping, str)) else schedule
    if not isinstance(new, Schedule):
        raise ScheduleError(f"{who}: 'schedule' must be an lrkit schedule, its config or its "
                            f"text, got {type(new).__name__}")
    if lr.clock != "updates" and new._missing:  # its steps are samples (tokens)
        new = new.bind(**{f"{lr.clock}_per_step": 1})
    for kind, name, v, need in new._missing:
        raise ScheduleError(f"{who}: {kind}: {name!r} = {v!r} needs {need}; bind the new plan "
                            f"first: schedule.bind({need}=...)")
    optimizer = model.optimizer
    count = int(optimizer.iterations) // lr.gradient_accumulation_steps
    if lr._consumed is not None:
        count = lr._consumed(count)  # the schedule's position: the samples (tokens) consumed
    if lr.plateau_state is not None:
        raise ScheduleError(f"{who}: the restored schedule is a plateau schedule, whose "
                            "reductions were measured against the old plan; build the optimizer "
                            "with the new plan")
    plan = new if on_change == "use_new" else resumed(lr.schedule, new, count, who)
    optimizer.learning_rate = LearningRateSchedule(plan, lr.gradient_accumulation_steps,
                                                   clock=lr.clock, per_update=lr.per_update)
    model.train_function = None  # traced with the old schedule: fit traces it again
    return plan


class LRLogger(keras.callbacks.Callback):  # type: ignore[misc]
    """Put the learning rate each update actually used into ``logs``.

    At each epoch's end ``logs[key]`` is the value the epoch's *last* update used (Keras'
    ``TensorBoard`` callback, placed after this one, then writes it as ``epoch_<key>``; its own
    ``epoch_learning_rate`` is the value of the *next* update). With ``every_n_batches`` the
    batch logs get it too. ``history`` keeps ``(update, value)`` for every update, and a
    ``monitor`` (``lrkit.monitor.Monitor``) gets a record per update under ``"lr/0"``.
    """

    def __init__(self, key: str = "lrkit_lr", every_n_batches: int | None = None,
                 monitor: Any = None) -> None:
        super().__init__()
        self.key = key
        self.every_n_batches = every_n_batches
        self.monitor = monitor
        self.history: list[tuple[int, float]] = []
        self._next: float | None = None

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if isinstance(getattr(model.optimizer, "_learning_rate", None), LearningRateSchedule):
            _lrkit_schedule(model, "lrkit.keras.LRLogger")  # its accumulation must agree

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        opt = self.model.optimizer
        self._update = int(keras.ops.convert_to_numpy(opt.iterations))
        self._next = float(keras.ops.convert_to_numpy(opt.learning_rate))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        opt = self.model.optimizer
        done = int(keras.ops.convert_to_numpy(opt.iterations))
        if done > self._update and self._next is not None:  # an update was applied
            self.history.append((self._update, self._next))
            if self.monitor is not None:
                self.monitor.epoch = self.epoch
                self.monitor.record({"lr/0": self._next}, step=self._update)
        if logs is not None and self.every_n_batches and (batch + 1) % self.every_n_batches == 0 \
                and self.history:
            logs[self.key] = self.history[-1][1]

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None and self.history:
            logs[self.key] = self.history[-1][1]


class Plateau(keras.callbacks.Callback):  # type: ignore[misc]
    """Drive the optimizer's ``lrkit.plateau`` schedule from a monitored metric, per epoch.

    Keras' own ``ReduceLROnPlateau`` cannot change a ``LearningRateSchedule`` (it raises a
    TypeError); this callback feeds the metric to the plateau state machine instead, and the
    schedule applies the reductions to its values. The state machine is ``lrkit.plateau``'s, the
    same code as in ``lrkit.torch`` and ``lrkit.optax``: the plateau's ``rule`` (PyTorch's by
    default, ``rule="keras"`` for Keras' own), ``cooldown``, ``min_value`` and ``eps`` mean the
    same in all three.

    The state is the schedule's ``plateau_state``, plain data: ``model.save`` keeps it in the
    schedule's config (``keras.models.load_model`` restores it with the whole optimizer), and
    ``model.save_weights`` and ``BackupAndRestore`` in the weights file, through an object this
    callback puts on the optimizer (so to resume from a weights file by hand, call
    ``set_model(model)`` before ``model.load_weights``). List it before ``BackupAndRestore``
    and ``ModelCheckpoint``, which save at the same epoch end. The number of reductions is a
    constant of the compiled train step: when it changes, the step is traced again (one
    compilation per reduction).
    """

    def __init__(self, monitor: str = "val_loss") -> None:
        super().__init__()
        self.monitor = monitor

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.lr = _lrkit_schedule(model, "lrkit.keras.Plateau")
        if not isinstance(self.lr.schedule, plateau):
            raise ScheduleError("lrkit.keras.Plateau: the optimizer's schedule is not a plateau; "
                                "wrap it as lrkit.plateau(...)")
        self.lr._watched = True
        saved = getattr(model.optimizer, _CHECKPOINT, None)
        if not (isinstance(saved, _PlateauCheckpoint) and saved.lr is self.lr):
            setattr(model.optimizer, _CHECKPOINT, _PlateauCheckpoint(self.lr))
            done = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
            if done and self.lr.plateau_state == self._schedule.init():
                warnings.warn(
                    f"lrkit.keras.Plateau: the optimizer has made {done} updates but the "
                    "plateau state is the initial one: weights loaded by load_weights before "
                    "this callback was set up do not bring it (Keras loads what exists). To "
                    "resume a plateau run from a weights file, call "
                    "Plateau(...).set_model(model) before model.load_weights(...); "
                    "keras.models.load_model and BackupAndRestore resume it as they are",
                    UserWarning, stacklevel=2)

    @property
    def _schedule(self) -> plateau:
        s = self.lr.schedule
        assert isinstance(s, plateau)  # checked in set_model
        return s

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._trace_again_if_changed()  # (BackupAndRestore may have restored a state)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metric = (logs or {}).get(self.monitor)
        if metric is None:
            raise ScheduleError(f"lrkit.keras.Plateau: no {self.monitor!r} in the epoch's logs "
                                f"(it has {sorted(logs or {})}); pass monitor= one of them")
        s = self._schedule
        state = _plateau.unplain(s, self.lr.plateau_state)
        self.lr.plateau_state = _plateau.plain(
            s, _plateau.observe(s, state, float(metric), SCALAR))
        self._trace_again_if_changed()

    def _trace_again_if_changed(self) -> None:
        lr = self.lr
        if lr._baked is not None and lr.plateau_state is not None \
                and lr._baked != lr.plateau_state["reductions"]:
            self.model.make_train_function(force=True)
            lr._baked = None


_CHECKPOINT = "_lrkit_plateau"  # the optimizer's attribute that Keras' saving walks to


class _PlateauCheckpoint(keras.layers.Layer):  # type: ignore[misc]
    """The plateau state in weights files: Keras saves (loads) the objects it finds on the
    optimizer's attributes, a layer among them, with their ``save_own_variables``
    (``load_own_variables``), which here write (read) the state's numbers. Not a layer of the
    model: it has no weights and is never called."""

    def __init__(self, lr: LearningRateSchedule) -> None:
        super().__init__(name="lrkit_plateau")
        self.lr = lr

    def save_own_variables(self, store: Any) -> None:
        st = self.lr.plateau_state or {}
        best = st.get("best")
        store["best"] = np.float64("nan" if best is None else best)
        for name in ("bad", "cooldown", "reductions"):
            store[name] = np.int64(st.get(name, 0))

    def load_own_variables(self, store: Any) -> None:
        keys = set(store.keys())
        if not keys:  # weights saved before this callback: the state stays
            return
        where = "lrkit.keras.Plateau: the checkpoint's plateau state"
        got = {name: np.asarray(store[name]).item() if name in keys else None
               for name in ("best", "bad", "cooldown", "reductions")}
        if isinstance(got["best"], float) and got["best"] != got["best"]:  # nan: none yet
            got["best"] = None
        s = self.lr.schedule
        assert isinstance(s, plateau)
        self.lr.plateau_state = _plateau.plain(s, _plateau.unplain(s, got, where))


# A hyperparameter Keras' optimizers compare in Python (``if self.momentum != 0``): a traced
# value cannot stand there.
_COMPARED = ("momentum",)


def schedule_hyperparameters(optimizer: Any, **schedules: Schedule) -> Any:
    """Schedule other hyperparameters of a Keras optimizer by update: ``beta_1`` (Adam's,
    AdamW's, Lion's momentum), ``beta_2``, ``weight_decay``, ``epsilon``, any numeric one its
    update reads through ``keras.ops``. Returns the optimizer.

    Each update reads ``schedule(k)`` at the update count ``k`` (``iterations`` divided by
    ``gradient_accumulation_steps``, as ``LearningRateSchedule`` counts), traced inside the
    train step like the LR, so a jitted step is traced once. Keras' own config still holds the
    numbers it was built with: after ``load_model`` call this again. SGD's and RMSprop's
    ``momentum`` is refused: those optimizers compare it in Python (``if momentum != 0``).

    >>> opt = schedule_hyperparameters(keras.optimizers.AdamW(lr), beta_1=lrkit.linear(
    ...     0.85, 0.95, 1000))  # doctest: +SKIP
    """
    who = "lrkit.keras.schedule_hyperparameters"
    plans: dict[str, Schedule] = {}
    for name, s in schedules.items():
        if name in ("learning_rate", "lr"):
            raise ScheduleError(f"{who}: the learning rate is scheduled by passing "
                                "learning_rate=lrkit.keras.LearningRateSchedule(schedule) to the "
                                "optimizer")
        current = getattr(optimizer, name, None)
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise ScheduleError(f"{who}: {type(optimizer).__name__} has no numeric "
                                f"hyperparameter {name!r} (it holds {_saved.shown(current)})")
        if name in _COMPARED:
            raise ScheduleError(f"{who}: {type(optimizer).__name__} compares {name!r} in Python "
                                f"(if {name} != 0), so it cannot be scheduled by update; use "
                                "Adam's or AdamW's beta_1, or lrkit.torch / lrkit.optax")
        if not isinstance(s, Schedule):
            raise ScheduleError(f"{who}: {name}= must be an lrkit schedule, got "
                                f"{type(s).__name__}")
        s._require_bound()
        if isinstance(s, plateau):
            raise ScheduleError(f"{who}: {name}= cannot be a plateau schedule (its metric "
                                "drives the learning rate only)")
        plans[name] = s
    apply = optimizer.apply  # (a second call wraps the first: both sets apply)
    acc = optimizer.gradient_accumulation_steps or 1

    def scheduled_apply(grads: Any, trainable_variables: Any = None) -> Any:
        ops = keras.ops
        k = optimizer.iterations if acc == 1 else ops.floor_divide(optimizer.iterations, acc)
        numbers = {name: getattr(optimizer, name) for name in plans}
        try:
            for name, s in plans.items():
                setattr(optimizer, name, ops.cast(s.evaluate(k, ops), "float32"))
            return apply(grads, trainable_variables)
        finally:  # the optimizer's config keeps its numbers
            for name, v in numbers.items():
                setattr(optimizer, name, v)

    optimizer.apply = scheduled_apply
    return optimizer


def range_test(model: Any, dataset: Any, *, start_lr: float = 1e-7, end_lr: float = 10.0,
               num_steps: int = 100, shape: str = "exp", smooth: float = 0.98,
               diverge_threshold: float = 5.0) -> Any:
    """The LR range test for a compiled Keras model (see ``lrkit.finder.range_test``).

    ``dataset`` yields ``(inputs, targets)`` batches (a list, a generator or a
    ``tf.data.Dataset``), cycled if shorter than the sweep. Weights and optimizer variables are
    restored afterwards, also when the loop raises; a ``LearningRateSchedule`` on the optimizer
    is put back too.
    """
    import itertools

    from .finder import sweep, sweep_lrs

    lrs = sweep_lrs(start_lr, end_lr, num_steps, shape)
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise ScheduleError("range_test: compile the model with an optimizer first")
    if not model.trainable_weights:
        raise ScheduleError("range_test: the model has no trainable parameters")
    batches = list(itertools.islice(iter(dataset), num_steps))
    if not batches:
        raise ScheduleError("range_test: 'dataset' holds no batch")
    weights = model.get_weights()
    if not opt.built:
        opt.build(model.trainable_variables)
    opt_values = [v.numpy() for v in opt.variables]
    schedule = opt._learning_rate
    opt._learning_rate = keras.Variable(float(start_lr), dtype="float32", trainable=False,
                                        name="lrkit_range_test_lr")
    cycle = itertools.cycle(batches)

    def update(lr: float) -> float:
        opt._learning_rate.assign(lr)
        return float(model.train_on_batch(*next(cycle), return_dict=True)["loss"])

    try:
        return sweep(lrs, update, smooth, diverge_threshold)
    finally:
        opt._learning_rate = schedule
        model.set_weights(weights)
        for v, value in zip(opt.variables, opt_values):
            v.assign(value)
