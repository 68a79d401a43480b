"""PyTorch adapter: an ``LRScheduler`` that owns one hyperparameter of an optimizer.

It evaluates the schedule at its counter and writes the value into the optimizer's param
groups; it keeps no other LR state. By default the counter counts *applied* optimizer updates
through the optimizer's step hooks, so gradient accumulation, a ``GradScaler`` that skips a
step, or calling ``scheduler.step()`` before, after or never all give the same LR sequence.

What does not live here: the schedules (``lrkit``), logging of applied values (``monitor``).
"""

from __future__ import annotations

import math
import operator
import re
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler as _TorchLRScheduler

from . import _consumed, _plateau, _saved
from ._combine import plateau, resumed
from ._groups import param_groups
from ._schedule import Schedule
from .errors import ConfigError, ScheduleError

__all__ = ["LRScheduler", "RampBatchSampler", "ema_avg_fn", "param_groups"]

STATE_VERSION = 1
_CLOCKS = ("optimizer", "manual", "samples", "tokens")
_ON_CHANGE = ("error", "use_new", "rescale", "branch")
_KEY = re.compile(r"^(\w+)(?:\[(\d+)\])?$")
_WHO = "lrkit.torch.LRScheduler"
_NOT_FAST: Any = object()  # what no group holds: the fast path's float when there is none


class LRScheduler(_TorchLRScheduler):
    """Drive ``hyperparam`` of ``optimizer``'s param groups from lrkit schedules.

    Args:
      optimizer: a ``torch.optim.Optimizer``.
      schedule: one schedule for every group, or a mapping from group index or group
        ``"name"`` to a schedule (groups left out are not touched).
      relative: multiply each group's initial value by the schedule instead of writing the
        schedule's value itself (two groups at 1e-3 and 1e-4 keep their 10:1 ratio).
      hyperparam: the group key to drive: ``"lr"``, ``"momentum"``, ``"weight_decay"``,
        ``"betas[0]"``, ``"betas[1]"`` or any numeric key.
      clock: ``"optimizer"`` counts applied updates through the optimizer's step hooks;
        ``"manual"`` advances on ``step()`` as PyTorch's schedulers do; ``"samples"`` and
        ``"tokens"`` evaluate the schedule at the samples (tokens) the run has consumed,
        told after each update by ``step(samples=n)`` (``step(tokens=n)``): a schedule written
        in samples or tokens follows what the run really consumed when the batch size
        changes. Its lengths are then in samples (tokens): ``"2.5M samples"`` binds as is,
        ``steps_per_epoch`` is the samples (tokens) of an epoch.
      per_update: with ``clock="samples"`` (``"tokens"``), what one update consumes when it
        follows from the count so far: an int, or an lrkit schedule of the count consumed
        (``lrkit.batch_size(...)``, a batch-size ramp as Megatron's, which
        ``lrkit.torch.RampBatchSampler`` feeds). The scheduler then counts updates through
        the optimizer's hooks and works the count out itself, so ``step()`` takes no
        ``samples=`` (Lightning and Hugging Face's Trainer call it without).
      on_change: when a checkpoint's schedule differs from this one: ``"error"``, ``"use_new"``
        (evaluate the new schedule at the saved counter), ``"rescale"`` (continue the new
        schedule from the saved fraction of the run) or ``"branch"`` (keep the history: the
        plan becomes ``saved.branch(count, new.skip(count))``, the checkpoint's schedule before
        the saved counter and the new one, in the run's steps, from it; a new plan built as
        ``saved.branch(count, ...)``, e.g. by ``lrkit.extend`` or ``lrkit.cooldown``, is
        installed as it is).
      strict: raise instead of warning when something else changed a value lrkit wrote.
      steps_per_epoch, total_steps, samples_per_step, tokens_per_step: bind schedules written
        with units (``"5ep"``, ``"10%"``, …).

    Between updates each group holds the value the next update will use.
    """

    def __init__(self, optimizer: torch.optim.Optimizer,
                 schedule: Schedule | Mapping[Any, Schedule],
                 *, relative: bool = False, hyperparam: str = "lr", clock: str = "optimizer",
                 on_change: str = "error", strict: bool = False,
                 steps_per_epoch: float | None = None, total_steps: int | None = None,
                 samples_per_step: float | None = None,
                 tokens_per_step: float | None = None,
                 per_update: int | Schedule | None = None) -> None:
        # Everything is checked before anything is written to the optimizer.
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise ScheduleError(
                f"{_WHO}: 'optimizer' must be a torch.optim.Optimizer, got "
                f"{type(optimizer).__name__}; pass the optimizer itself")
        for name, v, ok in (("clock", clock, _CLOCKS), ("on_change", on_change, _ON_CHANGE)):
            if v not in ok:
                raise ScheduleError(f"{_WHO}: {name!r} must be one of "
                                    f"{', '.join(map(repr, ok))}, got {v!r}")
        if per_update is not None and clock not in ("samples", "tokens"):
            raise ScheduleError(f"{_WHO}: per_update is for clock='samples' or 'tokens', this "
                                f"scheduler's clock is {clock!r}")
        derived = None if per_update is None else _consumed.Consumed(
            _consumed.per_update(per_update, _WHO, clock), _WHO)
        key, index = _parse_key(hyperparam)
        groups = optimizer.param_groups
        plan = _assign(schedule, groups)
        if clock in ("samples", "tokens"):  # a step of the schedule is one sample (token)
            given = samples_per_step if clock == "samples" else tokens_per_step
            if given is not None:
                raise ScheduleError(f"{_WHO}: with clock={clock!r} the schedule's steps are "
                                    f"{clock}; leave {clock}_per_step out")
            samples_per_step, tokens_per_step = (1, tokens_per_step) if clock == "samples" \
                else (samples_per_step, 1)
        binding = dict(steps_per_epoch=steps_per_epoch, total_steps=total_steps,
                       samples_per_step=samples_per_step, tokens_per_step=tokens_per_step)
        for i, s in list(plan.items()):
            plan[i] = _prepare(s, i, binding)
            _read(groups[i], key, index, i, hyperparam)  # raises if the key is missing
        initial = f"initial_{hyperparam}"
        bases = [float(g.get(initial, _read(g, key, index, i, hyperparam)))
                 for i, g in enumerate(groups)]

        self.optimizer = optimizer
        self.hyperparam, self._key, self._index = hyperparam, key, index
        self.schedules: dict[int, Schedule] = plan
        self.relative, self.clock, self.on_change, self.strict = relative, clock, on_change, strict
        self.base_values = bases
        self.base_lrs = list(bases)  # the name PyTorch's schedulers use
        self.count = 0
        #: what the run has consumed (clock "samples" or "tokens"): the schedule's position
        self.consumed = 0
        self._previous = 0  # the position the latest update used
        self._by_updates = clock in ("optimizer", "manual")
        self._derived = derived  # the count before each update, from per_update
        self.plateau_states = {i: s.init() for i, s in plan.items() if isinstance(s, plateau)}
        self._written: dict[int, float] = {}  # what lrkit last wrote, to notice other writers
        # The fast path (``_advance``): one schedule's compiled s(k) for every group, and the
        # float each group holds while only lrkit writes (``_NOT_FAST`` when there is none).
        self._shared = self._fast_path()
        self._last: Any = _NOT_FAST
        self._step_count = 1  # PyTorch's attribute (accelerate adds to it); lrkit's is count
        if relative:
            for i in plan:
                groups[i].setdefault(initial, bases[i])
        self._write()
        self._hooks = []
        # Under torch.compile the update runs eagerly (a graph break) instead of being traced,
        # which would install a guard on the counter and recompile at every update.
        self._eager_advance = torch.compiler.disable(self._advance)  # type: ignore[no-untyped-call]
        if clock == "optimizer" or derived is not None:  # the hook is the bound method
            # (lrkit.monitor finds self here)
            self._hooks = [optimizer.register_step_post_hook(self._advance)]
        else:  # (and here, for the clocks that take no hook)
            # (setattr: writing optimizer.__dict__ itself would turn its attribute values
            # into a dict, and every self.x in optimizer.step() would get slower)
            setattr(optimizer, "_lrkit_scheduler", self)  # noqa: B010
        if clock == "manual" and type(self).step is LRScheduler.step:  # (not a subclass's)
            self.step = self._manual_step  # type: ignore[method-assign]  # step() is the update

    # -- the values ----------------------------------------------------------------------------

    @property
    def last_epoch(self) -> int:
        """PyTorch's name for the counter."""
        return self.count

    @last_epoch.setter
    def last_epoch(self, value: int) -> None:
        pass  # PyTorch's base class assigns it; lrkit's counter is ``count``

    @property
    def position(self) -> int:
        """Where the schedule is evaluated for the next update: ``count`` updates, or the
        samples (tokens) consumed with those clocks."""
        return self.count if self._by_updates else self.consumed

    def applied(self, k: int, group: int = 0) -> float:
        """The value update ``k`` gets in ``group`` (with the current plateau state); with
        the samples (tokens) clock, the value at ``k`` samples (tokens) consumed."""
        if isinstance(k, bool) or operator.index(k) < 0:
            raise ScheduleError(f"{_WHO}: applied() takes an update index >= 0, got {k!r}")
        return float(self._value(group, self.schedules[group], operator.index(k)))

    def current(self, group: int = 0) -> float:
        """The value the next update will use in ``group``."""
        return self.applied(self.position, group)

    def _value(self, i: int, s: Schedule, k: int) -> float:
        v: float = s._scalar(k)
        if isinstance(s, plateau):
            v = s.apply(v, self.plateau_states[i])
        return v * self.base_values[i] if self.relative else v

    def get_lr(self) -> list[float | torch.Tensor]:
        return [self.current(i) if i in self.schedules else
                float(_read(g, self._key, self._index, i, self.hyperparam))
                for i, g in enumerate(self.optimizer.param_groups)]

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The values the most recent update used (before any update: the first one's).

        This is what Hugging Face's Trainer logs as the update's ``learning_rate``; the value
        the *next* update will use is ``current()``, and the optimizer's groups hold it.
        """
        k = max(self.count - 1, 0) if self._by_updates else self._previous
        return [self.applied(k, i) if i in self.schedules else
                float(_read(g, self._key, self._index, i, self.hyperparam))
                for i, g in enumerate(self.optimizer.param_groups)]

    @property
    def _last_lr(self) -> list[float | torch.Tensor]:  # PyTorch's attribute, read by loggers
        return self.get_last_lr()

    @_last_lr.setter
    def _last_lr(self, value: Any) -> None:
        pass

    def _write(self) -> None:
        """Write the next update's value into every scheduled group (the hot path)."""
        groups, key, index = self.optimizer.param_groups, self._key, self._index
        k = self.position
        shared: dict[int, float] = {}
        for i, s in self.schedules.items():
            if isinstance(s, plateau) or self.relative:
                v = self._value(i, s, k)
            else:  # one evaluation for the groups that share a schedule
                v = shared[id(s)] if id(s) in shared else shared.setdefault(id(s), s._scalar(k))
            g = groups[i]
            if index is None and not isinstance(g[key], torch.Tensor):
                g[key] = self._written[i] = v
            else:
                _store(g, key, index, v)
                self._written[i] = float(_read(g, key, index, i, ""))
        # the fast path's float: every group holds the one lrkit just wrote
        last = next(iter(self._written.values()), _NOT_FAST)
        self._last = last if self._shared is not None and all(
            g.get(key) is last for g in groups) else _NOT_FAST

    # -- the clock -----------------------------------------------------------------------------

    def _advance(self, _optimizer: Any = None, _args: Any = None, _kwargs: Any = None) -> None:
        """One update done: count it and write the next update's values (the hot path: the
        optimizer's step hook, whose arguments it leaves unused, named so that no tuple is
        made for them). Outside compilation it runs directly, without the cost of a
        disabled-dynamo wrapper."""
        if torch.compiler.is_dynamo_compiling():
            return self._eager_advance()  # type: ignore[no-any-return]
        self.count = count = self.count + 1
        shared = self._shared
        if shared is not None:  # the common case, spelled out: it runs at every update
            groups, key, last = self.optimizer.param_groups, self._key, self._last
            if len(groups) == self._n:
                v = shared(count)
                for g in groups:
                    if g[key] is not last:  # something else wrote, or a tensor value
                        return self._update(v)
                    g[key] = v
                self._last = v
                return
        self._update()

    def _manual_step(self, metrics: float | None = None, epoch: int | None = None, *,
                     samples: int | None = None, tokens: int | None = None) -> None:
        """``step()`` with ``clock="manual"``: the common call is ``_advance`` spelled out again
        (the call it saves is a measurable part of the update, ``benchmarks/bench_torch.py``);
        any other goes to ``LRScheduler.step``."""
        if metrics is None and epoch is None and samples is None and tokens is None:
            if torch.compiler.is_dynamo_compiling():
                return self._eager_advance()  # type: ignore[no-any-return]
            self.count = count = self.count + 1
            shared = self._shared
            if shared is not None:
                groups, key, last = self.optimizer.param_groups, self._key, self._last
                if len(groups) == self._n:
                    v = shared(count)
                    for g in groups:
                        if g[key] is not last:
                            return self._update(v)
                        g[key] = v
                    self._last = v
                    return
            return self._update()
        return LRScheduler.step(self, metrics, epoch, samples=samples, tokens=tokens)

    def _update(self, fresh: float = _NOT_FAST) -> None:
        """The rest of an update whose count is taken: notice values something else wrote,
        then write every group. ``fresh``: the value the fast path already wrote into the
        groups before it met one that does not hold ``_last``."""
        last = self._last
        if last is not _NOT_FAST:  # every group held ``last`` (the fast path keeps no
            groups, key = self.optimizer.param_groups, self._key  # ``_written``)
            self._written = {i: fresh if groups[i].get(key) is fresh else last
                             for i in self._written}
            self._last = _NOT_FAST  # (until _write: a strict owner check may raise first)
        for i, want in self._written.items():
            self._check_owner(i, want)
        if self._derived is not None:
            self._previous, self.consumed = self.consumed, self._derived(self.count)
        self._write()

    def _fast_path(self) -> Any:
        """Every group under one schedule, absolute values, a plain key, the update clocks:
        its compiled s(k) for ``_advance`` (and ``_n``, the number of groups, with it)."""
        plan, groups = self.schedules, self.optimizer.param_groups
        one = next(iter(plan.values())) if plan else None
        self._n = len(groups)
        if one is None or len({id(s) for s in plan.values()}) > 1 or self.relative \
                or set(plan) != set(range(len(groups))) or self._index is not None \
                or isinstance(one, plateau) or not self._by_updates:
            return None  # (the samples and tokens clocks take _write's path)
        return one._scalar

    def _check_owner(self, i: int, want: float) -> None:
        found = float(_read(self.optimizer.param_groups[i], self._key, self._index, i, ""))
        if found != want and not (math.isnan(found) and math.isnan(want)):
            self._not_the_owner(i, want, found)

    def _not_the_owner(self, i: int, want: float, found: float) -> None:
        msg = (f"{_WHO}: param_groups[{i}][{self.hyperparam!r}] was changed by something "
               f"else: update {self.count - 1} used {found!r} where lrkit planned {want!r}; lrkit "
               f"writes its value again. Let one scheduler own {self.hyperparam!r} "
               "(strict=True makes this an error)")
        if self.strict:
            raise ScheduleError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=3)

    def step(self, metrics: float | None = None, epoch: int | None = None, *,  # type: ignore[override]
             samples: int | None = None, tokens: int | None = None) -> None:
        """Feed a plateau metric (``step(metric)``) and, with ``clock="manual"``, advance;
        with ``clock="samples"`` (``"tokens"``) advance by the ``samples`` (``tokens``) the
        update just made consumed.

        With the default ``clock="optimizer"`` the counter follows the applied updates, so
        calling ``step()`` before, after or instead of ``optimizer.step()`` changes nothing.
        """
        if metrics is None and epoch is None and samples is None and tokens is None and (
                self._by_updates or self._derived is not None):  # the common case first
            if self.clock == "manual":  # (``_manual_step`` takes this call)
                self._advance()
            return
        if epoch is not None:
            raise ScheduleError(f"{_WHO}: step(epoch=...) is not supported: lrkit counts "
                                "updates itself; use load_state_dict to resume")
        counted = self._by_updates or self._derived is not None  # (no samples= needed)
        n = None if samples is None and tokens is None and counted \
            else self._amount(samples, tokens)  # (checked before anything changes)
        if metrics is not None:
            self.observe(metrics)
        if n is None:  # the update clocks
            if self.clock == "manual":
                self._advance()
            return
        self._previous = self.consumed
        self.consumed = min(self.consumed + n, _saved.LIMIT - 1)
        self._advance()

    def _amount(self, samples: Any, tokens: Any) -> int:
        """What ``step(samples=…)`` / ``step(tokens=…)`` says this update consumed."""
        amount = {"samples": samples, "tokens": tokens}
        for name, v in amount.items():
            if v is not None and self.clock != name:
                raise ScheduleError(f"{_WHO}: step({name}=...) needs clock={name!r}, this "
                                    f"scheduler's clock is {self.clock!r}")
            if v is not None and self._derived is not None:
                raise ScheduleError(f"{_WHO}: with per_update the scheduler works out the "
                                    f"{name} each update consumed; call step() without "
                                    f"{name}=")
        n = amount[self.clock]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ScheduleError(f"{_WHO}: clock={self.clock!r} advances by the {self.clock} "
                                f"each update consumed: step({self.clock}=<int >= 0>), got "
                                f"{n!r}")
        return n

    def observe(self, metric: float) -> None:
        """Feed the monitored metric to every plateau schedule; takes effect on the next update."""
        if not self.plateau_states:
            raise ScheduleError(f"{_WHO}: observe() needs a plateau schedule; wrap the schedule "
                                "as lrkit.plateau(...)")
        for i, state in self.plateau_states.items():
            s = self.schedules[i]
            assert isinstance(s, plateau)
            self.plateau_states[i] = s.observe(state, float(metric))
        self._write()

    # -- state ---------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Plain data (JSON, pickle and ``torch.load(weights_only=True)`` safe)."""
        return {
            "lrkit": STATE_VERSION,
            "count": self.count,
            "consumed": self.consumed,
            "hyperparam": self.hyperparam,
            "relative": self.relative,
            "base_values": list(self.base_values),
            "schedules": {str(i): s.to_config() for i, s in self.schedules.items()},
            "plateau": {str(i): dict(st) for i, st in self.plateau_states.items()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the counter, plateau state and base values; O(1) and exact.

        The state is checked first, every field (``_checked_state``): a malformed one raises
        ``lrkit.ConfigError`` naming its key, and nothing is changed.
        """
        count, bases, saved, plateaus = _checked_state(state_dict,
                                                       len(self.optimizer.param_groups))
        consumed = _saved.whole(state_dict.get("consumed", 0),
                                f"{_WHO}: state_dict['consumed']")
        if self.relative:
            for i, s in self.schedules.items():
                if not math.isfinite(bases[i] * s._top):
                    raise ConfigError(
                        f"{_WHO}: state_dict['base_values'][{i}]",
                        f"{bases[i]!r} times the schedule's largest value {s._top!r} "
                        "overflows the float range")
        previous = consumed
        if self._derived is not None:  # (checked before anything changes)
            want = self._derived(count)
            if "consumed" in state_dict and consumed != want:
                raise ConfigError(f"{_WHO}: state_dict['consumed']", f"is {consumed}, but "
                                  f"per_update gives {want} after {count} updates; resume "
                                  "with the checkpoint's per_update")
            consumed, previous = want, self._derived(max(count - 1, 0))
        changed = [i for i in set(saved) | set(self.schedules)
                   if saved.get(i) != self.schedules.get(i)]
        if changed and not self._by_updates:
            if self.on_change not in ("error", "branch"):
                raise ConfigError(_WHO, f"on_change={self.on_change!r} works with the update "
                                  f"clocks; with clock={self.clock!r} use 'branch' or 'error'")
            self._on_change(saved, changed, consumed)
        elif changed:
            count = self._on_change(saved, changed, count)
        self.count, self.consumed, self._previous = count, consumed, previous
        self.base_values = bases
        self.base_lrs = list(self.base_values)
        for i, st in plateaus.items():
            if i in self.plateau_states:
                self.plateau_states[i] = st
        self._write()

    def _on_change(self, saved: dict[int, Schedule], changed: list[int], count: int) -> int:
        if self.on_change == "error":
            diff = "; ".join(f"group {i}: checkpoint {saved.get(i)!r}, now "
                             f"{self.schedules.get(i)!r}" for i in sorted(changed))
            raise ConfigError(
                _WHO, f"the checkpoint's schedule differs from this scheduler's ({diff}); "
                "pass on_change='use_new' to evaluate the new schedule at the saved step, or "
                "'rescale' to continue it from the saved fraction of the run")
        if self.on_change == "use_new":
            return count
        if self.on_change == "branch":
            self._branch(saved, changed, count)
            return count
        i = sorted(changed)[0]
        old, new = saved.get(i), self.schedules.get(i)
        if old is None or new is None or not old.duration or not new.duration:
            raise ConfigError(_WHO, f"on_change='rescale' needs finite schedules in the "
                              f"checkpoint and now (group {i}: {old!r} -> {new!r})")
        return min(round(count / old.duration * new.duration), _saved.LIMIT - 1)

    def _branch(self, saved: dict[int, Schedule], changed: list[int], count: int) -> None:
        """``on_change="branch"``: each changed group's plan becomes the checkpoint's until
        ``count`` and the new one after it (one schedule, saved as such)."""
        plan, made = dict(self.schedules), {}  # type: ignore[var-annotated]
        for i in sorted(changed):
            old, new = saved.get(i), self.schedules.get(i)
            if old is None or new is None:
                raise ConfigError(_WHO, f"on_change='branch' needs a schedule for group {i} in "
                                  f"the checkpoint and now ({old!r} -> {new!r}); use "
                                  "on_change='use_new'")
            # (groups that shared a schedule share the branched one)
            plan[i] = made.get((old, new)) or made.setdefault(
                (old, new), resumed(old, new, count, _WHO))
        self.schedules = plan
        self._shared = self._fast_path()

    def close(self) -> None:
        """Detach from the optimizer's step hooks."""
        for h in self._hooks:
            h.remove()
        self._hooks = []


_STATE_KEYS = ("lrkit", "count", "hyperparam", "relative", "base_values", "schedules", "plateau")
_OPTIONAL_KEYS = ("consumed",)  # (states saved before the samples and tokens clocks)


def _checked_state(sd: Any, n: int) -> tuple[int, list[float], dict[int, Schedule],
                                             dict[int, dict[str, Any]]]:
    """The count, base values, schedules and plateau states of a saved state, each checked.

    A checkpoint is data, never a path: a schedule is built from its config mapping only
    (``lrkit.from_config`` would open a file named by a string). Every error is a
    ``ConfigError`` naming the key, e.g. ``state_dict['count']: must be an int >= 0, got -5``.
    """
    show = _saved.shown
    if not isinstance(sd, Mapping) or "lrkit" not in sd:
        keys = show(sorted(map(str, sd))) if isinstance(sd, Mapping) else type(sd).__name__
        raise ConfigError(_WHO, f"not an lrkit scheduler state (keys: {keys}); it was saved "
                          "by another scheduler")
    version = sd["lrkit"]
    if type(version) is not int or version != STATE_VERSION:
        raise ConfigError(_WHO, f"state version {show(version)} is not supported by this "
                          f"lrkit (version {STATE_VERSION})")
    at = f"{_WHO}: state_dict"
    for key in sd:
        if key not in _STATE_KEYS and key not in _OPTIONAL_KEYS:
            raise ConfigError(at, f"unknown key {show(key)}; an lrkit state has keys "
                              f"{', '.join(_STATE_KEYS)}")
    for key in _STATE_KEYS:
        if key not in sd:
            raise ConfigError(at, f"missing key {key!r}")
    count = _saved.whole(sd["count"], f"{at}['count']")
    if not isinstance(sd["hyperparam"], str):
        raise ConfigError(f"{at}['hyperparam']", f"must be a str, got {show(sd['hyperparam'])}")
    if not isinstance(sd["relative"], bool):
        raise ConfigError(f"{at}['relative']", f"must be true or false, got "
                          f"{show(sd['relative'])}")
    bases = sd["base_values"]
    if not isinstance(bases, (list, tuple)):
        raise ConfigError(f"{at}['base_values']", f"must be a list of numbers, got {show(bases)}")
    if len(bases) != n:
        raise ConfigError(_WHO, f"the state has {len(bases)} param groups, the optimizer has "
                          f"{n}; build the optimizer with the same groups as the checkpoint")
    values = [_saved.finite(v, f"{at}['base_values'][{i}]") for i, v in enumerate(bases)]
    saved = {i: _saved.schedule(c, f"{at}['schedules'][{k!r}]")
             for k, i, c in _by_group(sd["schedules"], n, f"{at}['schedules']")}
    plateaus = {}
    for k, i, st in _by_group(sd["plateau"], n, f"{at}['plateau']"):
        if not isinstance(saved.get(i), plateau):
            raise ConfigError(f"{at}['plateau'][{k!r}]", f"a plateau state, but the state's "
                              f"schedule for group {i} is not a plateau")
        plateaus[i] = _plateau.checked(st, f"{at}['plateau'][{k!r}]")
    return count, values, saved, plateaus


def _by_group(data: Any, n: int, where: str) -> list[tuple[Any, int, Any]]:
    """``(key, group index, value)`` for a mapping keyed by group index (``"0"``, ``"1"``, …)."""
    if not isinstance(data, Mapping):
        raise ConfigError(where, f"must be a mapping from param group index to data, got "
                          f"{_saved.shown(data)}")
    out = []
    for k, v in data.items():
        i = k if type(k) is int else int(k) if isinstance(k, str) and k.isdecimal() \
            and len(k) < 20 else -1
        if not 0 <= i < n:
            raise ConfigError(where, f"key {_saved.shown(k)} is not a param group index "
                              f"0..{n - 1}")
        out.append((k, i, v))
    return out


def _parse_key(hyperparam: str) -> tuple[str, int | None]:
    m = _KEY.match(hyperparam) if isinstance(hyperparam, str) else None
    if m is None:
        raise ScheduleError(f"{_WHO}: 'hyperparam' must be a param-group key such as 'lr', "
                            f"'momentum' or 'betas[0]', got {hyperparam!r}")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def _assign(schedule: Any, groups: list[dict[str, Any]]) -> dict[int, Schedule]:
    if isinstance(schedule, Schedule):
        return dict.fromkeys(range(len(groups)), schedule)
    if not isinstance(schedule, Mapping):
        raise ScheduleError(f"{_WHO}: 'schedule' must be an lrkit schedule or a mapping from "
                            f"group index or name to schedules, got {type(schedule).__name__}")
    names = {str(g["name"]): i for i, g in enumerate(groups) if g.get("name") is not None}
    out = {}
    for ref, s in schedule.items():
        if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(groups):
            i = ref
        elif isinstance(ref, str) and ref in names:
            i = names[ref]
        else:
            raise ScheduleError(
                f"{_WHO}: no param group {ref!r}; the optimizer has groups 0..{len(groups) - 1}"
                + (f" named {sorted(names)}" if names else " (give a group a 'name' key to "
                   "refer to it by name)"))
        out[i] = s
    return out


def _prepare(given_schedule: Any, i: int, binding: dict[str, Any]) -> Schedule:
    s = given_schedule
    if not isinstance(s, Schedule):
        raise ScheduleError(f"{_WHO}: the schedule for group {i} must be an lrkit schedule, got "
                            f"{type(s).__name__}")
    given = {k: v for k, v in binding.items() if v is not None}
    for kind, name, v, need in s._missing:
        if need not in given:
            raise ScheduleError(f"{_WHO}: {kind}: {name!r} = {v!r} needs {need}; pass "
                                f"LRScheduler(..., {need}=...) or bind the schedule first")
    if given:
        try:
            s = s.bind(**given)
        except ScheduleError as e:
            raise ScheduleError(f"{_WHO}: {e}") from None
    _no_nested_plateau(s, top=True)
    return s


def _no_nested_plateau(s: Schedule, top: bool) -> None:
    if isinstance(s, plateau) and not top:
        raise ScheduleError(f"{_WHO}: a plateau schedule must be the outermost one (its "
                            "reductions apply to everything inside it); write "
                            "lrkit.plateau(<the whole schedule>)")
    for f in s._fields:
        v = getattr(s, f.name)
        for child in (v if isinstance(v, tuple) else (v,)):
            if isinstance(child, Schedule):
                _no_nested_plateau(child, top=False)


def _read(group: dict[str, Any], key: str, index: int | None, i: int, shown: str) -> Any:
    if key not in group:
        raise ScheduleError(
            f"{_WHO}: param_groups[{i}] has no {key!r} (it has {sorted(group)[:12]}); "
            f"choose a hyperparam this optimizer uses")
    v = group[key]
    if index is not None:
        if not isinstance(v, (tuple, list)) or index >= len(v):
            raise ScheduleError(f"{_WHO}: param_groups[{i}][{key!r}] is {v!r}, which has no "
                                f"element {index} ({shown!r})")
        v = v[index]
    if isinstance(v, torch.Tensor):
        return v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ScheduleError(f"{_WHO}: param_groups[{i}][{shown or key!r}] is {v!r}, not a "
                            "number lrkit can schedule")
    return v


def _store(group: dict[str, Any], key: str, index: int | None, value: float) -> None:
    if index is None:
        if isinstance(group[key], torch.Tensor):
            group[key].fill_(value)  # in place: same tensor, dtype and device (no recompile)
        else:
            group[key] = value
        return
    old = group[key]
    if isinstance(old[index], torch.Tensor):
        old[index].fill_(value)
    else:
        group[key] = type(old)(value if j == index else v for j, v in enumerate(old))


class RampBatchSampler(torch.utils.data.Sampler[list[Any]]):
    """Batches whose size follows a batch-size ramp (GPT-3, Megatron's
    ``--rampup-batch-size``): give it to a ``DataLoader`` as ``batch_sampler=``.

    Args:
      sampler: the indices to batch, iterated once per pass: a ``RandomSampler``, a
        ``SequentialSampler``, or on each rank of a distributed run its ``DistributedSampler``.
      batch_size: the global batch of one update: an int, or an lrkit schedule of the samples
        consumed so far (``lrkit.batch_size(32, 1536, 6_000_000, multiple_of=16)``).
      accumulate: micro-batches per update; the global batch is split among them.
      world_size: processes sharing each update; the global batch is split among them too,
        so each rank's batches have ``batch_size / (accumulate * world_size)`` indices.
      drop_last: drop a pass's last update, all its micro-batches, when the pass ends before
        it is complete (the default: then every update consumes the ramp's batch, which is
        what ``LRScheduler(per_update=...)`` counts). With ``False`` it comes short.
      consumed: the samples consumed before the first batch (on resume, the scheduler's
        ``consumed``; the sampler's own runs ahead of training by the loader's prefetch).
      length: a sequence-length warmup: an int or an lrkit schedule of the samples consumed;
        each index then comes as ``(index, length)``, for the dataset to cut its sample to.

    ``lrkit.torch.LRScheduler(opt, plan, clock="samples", per_update=batch_size)`` evaluates a
    schedule in samples at what these batches consumed before each update.
    """

    def __init__(self, sampler: Any, batch_size: int | Schedule, *, accumulate: int = 1,
                 world_size: int = 1, drop_last: bool = True, consumed: int = 0,
                 length: int | Schedule | None = None) -> None:
        who = "lrkit.torch.RampBatchSampler"
        if not (hasattr(sampler, "__iter__") and hasattr(sampler, "__len__")):
            raise ScheduleError(f"{who}: 'sampler' must be a sized iterable of indices (a "
                                f"torch Sampler, a range), got {type(sampler).__name__}")
        self.accumulate, self.world_size = (_count(v, f"{who}: {name!r}") for name, v in (
            ("accumulate", accumulate), ("world_size", world_size)))
        self.sampler, self.drop_last = sampler, bool(drop_last)
        self.batch_size = _consumed.per_update(batch_size, who, "samples", "batch_size")
        self.length = None if length is None else _consumed.per_update(
            length, who, "samples", "length", "a sequence-length ramp")
        self.consumed = _saved.whole(consumed, f"{who}: consumed")
        self._who = who

    def _split(self, count: int) -> int:
        """Each micro-batch's size on this rank, for the update after ``count`` samples."""
        g = _consumed.amount(self.batch_size, count, self._who, "batch_size")
        parts = self.accumulate * self.world_size
        if g % parts:
            raise ScheduleError(f"{self._who}: the global batch {g} (at {count} samples) must "
                                f"split evenly into accumulate * world_size = {parts} parts; "
                                "give a ramp in multiples of it (multiple_of=)")
        return g // parts

    def __iter__(self) -> Any:
        indices = iter(self.sampler)
        while True:
            size = self._split(self.consumed)
            update = [i for _, i in zip(range(size * self.accumulate), indices)]
            if not update or len(update) < size * self.accumulate and self.drop_last:
                return
            if self.length is not None:
                length = _consumed.amount(self.length, self.consumed, self._who, "length")
                update = [(i, length) for i in update]
            for j in range(0, len(update), size):
                yield update[j:j + size]
            self.consumed += len(update) * self.world_size

    def __len__(self) -> int:
        """The micro-batches of the next pass (the ramp's batch sizes from ``consumed``)."""
        left, count, batches = len(self.sampler), self.consumed, 0
        while left > 0:
            size = self._split(count)
            took = min(left, size * self.accumulate)
            if took < size * self.accumulate and self.drop_last:
                break
            batches += -(-took // size)
            left, count = left - took, count + took * self.world_size
        return batches


def _count(v: Any, where: str) -> int:
    """``v`` as an int >= 1 (numpy's too), else a ``ScheduleError`` at ``where``."""
    n = _saved.as_int(v)
    if n is None or n < 1:
        raise ScheduleError(f"{where} must be a whole number >= 1, got {_saved.shown(v)}")
    return n


def ema_avg_fn(decay: Schedule) -> Any:
    """An exponential moving average whose decay follows a schedule, for
    ``torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=ema_avg_fn(decay))`` (EMA
    weights, or the teacher of DINO/BYOL whose momentum rises to 1 by a cosine).

    ``AveragedModel`` copies the model at its first ``update_parameters`` call; the ``k``-th
    average after that (``k = n_averaged - 1``, from 0) is ``ema + (1 - decay(k)) · (p - ema)``,
    as ``torch.optim.swa_utils.get_ema_multi_avg_fn`` computes it with a constant decay.

    >>> decay = lrkit.cosine(0.996, 1.0, 10_000)  # DINO's teacher momentum, rising to 1
    >>> ema = AveragedModel(student, multi_avg_fn=ema_avg_fn(decay))  # doctest: +SKIP
    """
    s = decay
    if not isinstance(s, Schedule):
        raise ScheduleError(f"ema_avg_fn: 'decay' must be an lrkit schedule, got "
                            f"{type(s).__name__}")
    s._require_bound()  # (a unit string left: the error says which and how to bind it)
    if s._top > 1.0:
        raise ScheduleError(f"ema_avg_fn: the decay must stay in [0, 1], but {s!r} reaches "
                            f"{s._top!r}")
    at = s._scalar

    def multi_avg_fn(averaged: Any, current: Any, n_averaged: Any) -> None:
        torch._foreach_lerp_(averaged, current, 1.0 - at(int(n_averaged) - 1))

    return multi_avg_fn
