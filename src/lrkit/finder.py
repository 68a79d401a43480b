"""The LR range test (Leslie Smith's), for PyTorch: sweep the learning rate over a few hundred
updates, watch the loss, suggest a learning rate — and put everything back as it was.

What it restores, bitwise, also when the loop raises or is interrupted: parameters, buffers,
optimizer state and hyperparameters, the optimizer's step hooks (so an attached
``lrkit.torch.LRScheduler`` neither advances nor complains), and the torch, numpy and Python
random states.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._combine import warmup
from ._schedule import Schedule
from ._shapes import cosine, one_cycle
from .errors import ScheduleError

__all__ = ["RangeTestResult", "Suggestion", "range_test"]


@dataclass(frozen=True)
class Suggestion:
    """A suggested learning rate, or why there is none (``lr`` is then None)."""

    lr: float | None
    valid: bool
    reason: str


@dataclass(repr=False)
class RangeTestResult:
    """The sweep: learning rates, raw and smoothed losses, and suggestions from them.

    ``print(result)`` gives a one-line summary (``repr`` too); the arrays are attributes.
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    stopped_early: bool = False
    _cache: dict[str, Suggestion] = field(default_factory=dict, repr=False)

    def suggest(self) -> dict[str, Suggestion]:
        """``steepest`` (steepest descent in log-LR), ``valley`` (fastai's), ``minimum/10``."""
        if not self._cache:
            self._cache.update(_suggest(self.lrs, self.smoothed))
        return dict(self._cache)

    def _chosen(self) -> tuple[str, Suggestion] | None:
        for name in ("valley", "steepest", "minimum/10"):
            s = self.suggest()[name]
            if s.valid and s.lr is not None:
                return name, s
        return None

    @property
    def lr(self) -> float:
        """The default suggestion: ``valley``, else ``steepest``, else ``minimum/10``."""
        chosen = self._chosen()
        if chosen is not None and chosen[1].lr is not None:
            return chosen[1].lr
        reasons = "; ".join(f"{k}: {v.reason}" for k, v in self.suggest().items())
        raise ScheduleError(f"range test: no suggestion is valid ({reasons})")

    def __repr__(self) -> str:
        if not self.lrs:
            return "RangeTestResult(no points)"
        swept = (f"{len(self.lrs)} points, lr {self.lrs[0]:.4g} to {self.lrs[-1]:.4g}"
                 f"{', stopped early: the loss diverged' if self.stopped_early else ''}")
        chosen = self._chosen()
        if chosen is None:
            why = self.suggest()["valley"].reason
            return f"RangeTestResult({swept}; no suggestion: {why})"
        name, s = chosen
        return f"RangeTestResult({swept}; suggested lr {s.lr:.4g} ({name}: {s.reason}))"

    def to_schedule(self, kind: str = "one_cycle", over: int | str = "100%") -> Schedule:
        """A ready schedule from the suggestion: ``one_cycle`` peaking at ``lr``, or
        ``warmup_cosine`` (a 5% warmup to ``lr``, then a cosine to ``lr/100``)."""
        lr = self.lr
        if kind == "one_cycle":
            return one_cycle(lr, over)
        if kind == "warmup_cosine":
            if isinstance(over, int):
                w = max(1, over // 20)
                return warmup(cosine(lr, lr / 100, over - w), w)
            return warmup(cosine(lr, lr / 100, f"{over} - 5%" if "%" in str(over) else over),
                          "5%")
        raise ScheduleError(f"range test: 'kind' must be 'one_cycle' or 'warmup_cosine', got "
                            f"{kind!r}")

    def plot(self, ax: Any = None) -> Any:
        """Loss against LR (log axis) with the suggestions marked; a matplotlib Figure.

        The loss axis fits the smoothed curve: a spike of the raw loss (drawn faintly) may run
        off it rather than flatten the curve the suggestions come from.
        """
        from matplotlib.figure import Figure

        fig = ax.figure if ax is not None else Figure(figsize=(7, 4), layout="constrained")
        ax = ax if ax is not None else fig.add_subplot()
        ax.plot(self.lrs, self.losses, alpha=0.3, label="loss")
        ax.plot(self.lrs, self.smoothed, label="smoothed")
        for (name, s), color in zip(self.suggest().items(), ("C2", "C3", "C4")):
            if s.valid and s.lr is not None:
                ax.axvline(s.lr, color=color, linestyle="--", label=f"{name}: {s.lr:.4g}")
        finite = [v for v in self.smoothed if math.isfinite(v)]
        if finite:
            lo, hi = min(finite), max(finite)
            pad = 0.05 * (hi - lo) or 0.05 * abs(hi) or 1.0
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7)
        return fig


def _suggest(lrs: list[float], smoothed: list[float]) -> dict[str, Suggestion]:
    import numpy as np

    n = len(lrs)
    if n < 10:
        why = f"only {n} points before the loss diverged (at least 10 needed)"
        return {k: Suggestion(None, False, why) for k in ("steepest", "valley", "minimum/10")}
    loss = np.asarray(smoothed)
    span = float(loss.max() - loss.min())
    if not np.isfinite(loss).all() or span <= 1e-3 * max(abs(float(loss.min())), 1e-12):
        why = "the loss curve is flat: the sweep did not move the loss"
        return {k: Suggestion(None, False, why) for k in ("steepest", "valley", "minimum/10")}
    out = {}
    grad = np.gradient(loss, np.log10(lrs))
    i = int(np.argmin(grad[1:-1])) + 1
    out["steepest"] = Suggestion(lrs[i], bool(grad[i] < 0), "steepest descent of the loss" if
                                 grad[i] < 0 else "the loss never falls")
    # fastai's valley: the longest run of falling loss; 2/3 of the way down it.
    lds, best_end = [1] * n, 0
    for a in range(1, n):
        for b in range(a):
            if loss[a] < loss[b] and lds[a] < lds[b] + 1:
                lds[a] = lds[b] + 1
        if lds[best_end] < lds[a]:
            best_end = a
    start = best_end - lds[best_end]
    sections = (best_end - start) / 3
    j = min(max(start + int(sections) + int(sections / 2), 0), n - 1)
    out["valley"] = Suggestion(lrs[j], lds[best_end] >= 3,
                               "two-thirds down the longest descent" if lds[best_end] >= 3
                               else "no descent of at least 3 points")
    k = int(np.argmin(loss))
    out["minimum/10"] = Suggestion(lrs[k] / 10, k > 0, "a tenth of the LR at the lowest loss"
                                   if k > 0 else "the loss is lowest at the first LR")
    return out


def range_test(model: Any, optimizer: Any, loss_fn: Callable[..., Any] | None = None,
               data: Iterable[Any] = (), *, start_lr: float = 1e-7, end_lr: float = 10.0,
               num_steps: int = 100, shape: str = "exp", accumulation_steps: int = 1,
               smooth: float = 0.98, diverge_threshold: float = 5.0,
               train_step: Callable[[Any, Any], Any] | None = None,
               progress: bool = False) -> RangeTestResult:
    """Sweep the LR from ``start_lr`` to ``end_lr`` over ``num_steps`` updates; restore all.

    Args:
      model: a ``torch.nn.Module``.
      optimizer: its optimizer (every group gets the swept LR).
      loss_fn: ``loss_fn(model(inputs), targets)``; or give ``train_step``.
      data: an iterable of ``(inputs, targets)`` batches, cycled if shorter than the sweep.
      start_lr, end_lr: the sweep's ends, ``0 < start_lr < end_lr``.
      num_steps: updates in the sweep, >= 10.
      shape: the sweep's curve, ``exp`` (log-spaced LRs) or ``linear``.
      accumulation_steps: micro-batches per update.
      smooth: the EMA factor of the bias-corrected smoothed loss.
      diverge_threshold: stop when the smoothed loss exceeds this times the best (or is not
        finite).
      train_step: ``train_step(model, batch) -> loss`` instead of ``loss_fn``.
      progress: show a tqdm progress bar with the LR and loss.
    """
    import torch


    _check(model, optimizer, loss_fn, train_step, accumulation_steps)
    lrs = sweep_lrs(start_lr, end_lr, num_steps, shape)
    batches = iter(itertools.cycle(_first_batches(data)))

    def update(lr: float) -> float:
        for g in optimizer.param_groups:
            g["lr"] = lr if not isinstance(g["lr"], torch.Tensor) else g["lr"].fill_(lr)
        total = 0.0
        for _ in range(accumulation_steps):
            batch = next(batches)
            if train_step is not None:
                loss = train_step(model, batch)
            else:
                inputs, targets = batch
                loss = loss_fn(model(inputs), targets)  # type: ignore[misc]
            (loss / accumulation_steps).backward()
            total += float(loss.detach()) / accumulation_steps
        optimizer.step()
        optimizer.zero_grad()
        return total

    saved = _snapshot(model, optimizer)
    # The sweep sets the LR itself: an attached scheduler's hooks must not see its updates.
    optimizer._optimizer_step_pre_hooks.clear()
    optimizer._optimizer_step_post_hooks.clear()
    bar = _progress(num_steps) if progress else None
    try:
        model.train()
        return sweep(lrs, update, smooth, diverge_threshold, bar)
    finally:
        if bar is not None:
            bar.close()
        _restore(model, optimizer, saved)


def sweep_lrs(start_lr: float, end_lr: float, num_steps: int, shape: str) -> list[float]:
    """The sweep's learning rates, after checking its arguments."""
    import numpy as np

    if not (0 < start_lr < end_lr) or not math.isfinite(end_lr):
        raise ScheduleError(f"range_test: the sweep needs 0 < start_lr < end_lr, got "
                            f"start_lr={start_lr!r}, end_lr={end_lr!r}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 10:
        raise ScheduleError(f"range_test: 'num_steps' must be a whole number >= 10, got "
                            f"{num_steps!r}")
    if shape not in ("exp", "linear"):
        raise ScheduleError(f"range_test: 'shape' must be 'exp' or 'linear', got {shape!r}")
    space = np.geomspace if shape == "exp" else np.linspace
    return [float(x) for x in space(start_lr, end_lr, num_steps)]


def sweep(lrs: list[float], update: Callable[[float], float], smooth: float,
          diverge_threshold: float, bar: Any = None) -> RangeTestResult:
    """Run ``update(lr) -> loss`` over ``lrs`` with a smoothed loss and a divergence stop."""
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best = 0.0, math.inf
    for i, lr in enumerate(lrs):
        loss = update(lr)
        avg = smooth * avg + (1 - smooth) * loss
        s = avg / (1 - smooth ** (i + 1))  # bias-corrected, as Adam's moments
        losses.append(loss)
        smoothed.append(s)
        if bar is not None:
            bar.set_postfix(lr=f"{lr:.2e}", loss=f"{s:.4g}")
            bar.update(1)
        if not math.isfinite(s) or s > diverge_threshold * best:
            return RangeTestResult(lrs[:i + 1], losses, smoothed, True)
        best = min(best, s)
    return RangeTestResult(lrs, losses, smoothed, False)


def _check(model: Any, optimizer: Any, loss_fn: Any, train_step: Any,
           accumulation: int) -> None:
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ScheduleError(f"range_test: 'model' must be a torch.nn.Module, got "
                            f"{type(model).__name__}")
    if not any(p.requires_grad for p in model.parameters()):
        raise ScheduleError("range_test: the model has no trainable parameters")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ScheduleError(f"range_test: 'optimizer' must be a torch.optim.Optimizer, got "
                            f"{type(optimizer).__name__}")
    if (loss_fn is None) == (train_step is None):
        raise ScheduleError("range_test: give exactly one of loss_fn and train_step")
    if isinstance(accumulation, bool) or not isinstance(accumulation, int) or accumulation < 1:
        raise ScheduleError(f"range_test: 'accumulation_steps' must be a whole number >= 1, "
                            f"got {accumulation!r}")


def _first_batches(data: Iterable[Any]) -> list[Any]:
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise ScheduleError(f"range_test: 'data' must be an iterable of (inputs, targets) "
                            f"batches, got {type(data).__name__}")
    batches = list(data)
    if not batches:
        raise ScheduleError("range_test: 'data' holds no batch")
    return batches


def _snapshot(model: Any, optimizer: Any) -> dict[str, Any]:
    import numpy as np
    import torch

    return {
        "model": copy.deepcopy(model.state_dict()),
        "training": model.training,
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "pre_hooks": dict(optimizer._optimizer_step_pre_hooks),
        "post_hooks": dict(optimizer._optimizer_step_post_hooks),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),
        "python_rng": random.getstate(),
        # the hyperparameter objects themselves: a tensor LR must stay the same tensor
        "tensors": [{k: v for k, v in g.items() if isinstance(v, torch.Tensor)}
                    for g in optimizer.param_groups],
    }


def _restore(model: Any, optimizer: Any, saved: dict[str, Any]) -> None:
    import numpy as np
    import torch

    model.load_state_dict(saved["model"])
    model.train(saved["training"])
    for p in model.parameters():
        p.grad = None
    optimizer.load_state_dict(saved["optimizer"])
    for group, tensors in zip(optimizer.param_groups, saved["tensors"]):
        for key, original in tensors.items():
            original.copy_(group[key])
            group[key] = original
    optimizer._optimizer_step_pre_hooks.update(saved["pre_hooks"])
    optimizer._optimizer_step_post_hooks.update(saved["post_hooks"])
    torch.set_rng_state(saved["torch_rng"])
    np.random.set_state(saved["numpy_rng"])
    random.setstate(saved["python_rng"])


def _progress(total: int) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="LR range test")
