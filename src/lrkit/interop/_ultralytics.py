"""``from_ultralytics``: the per-group LR and momentum schedules of Ultralytics' YOLO trainer
(``ultralytics/engine/trainer.py``, ``BaseTrainer``, as released in 8.4.190) as lrkit
schedules.

The trainer steps a ``LambdaLR`` at the start of each epoch (``lf``: linear to ``lrf`` or
``one_cycle`` cosine) and, over its first ``nw`` batches, overwrites every group's LR and the
momentum with ``np.interp`` ramps while ``accumulate`` ramps from 1 to its nominal value. Which
batches end in an optimizer update follows from those counts alone, so each schedule here is a
function of the optimizer update index, computed by replaying the trainer's batch loop. Nothing
here imports ultralytics or numpy (``np.interp`` on two points is written out with numpy's own
arithmetic).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, linear
from ..errors import ConfigError, ScheduleError, show
from ._read import field

__all__ = ["from_ultralytics"]

#: ultralytics/cfg/default.yaml (8.4.190): the keys the schedules read.
_DEFAULTS: dict[str, Any] = dict(
    epochs=100, batch=16, nbs=64, optimizer="auto", cos_lr=False, lr0=0.01, lrf=0.01,
    momentum=0.937, warmup_epochs=3.0, warmup_momentum=0.8, warmup_bias_lr=0.1, time=None)
_OPTIMIZERS = ("Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSprop", "SGD")
_WITH_MOMENTUM = ("RMSprop", "SGD")  # their param groups hold "momentum"; Adam's hold betas
_MAX_WARMUP = 2_000_000  # warmup batches replayed one by one (~1 s)
_MAX_PIECES = 50_000     # pieces of one schedule (a sequence holds at most 100,000 nodes)


def from_ultralytics(hyp: Any, *, epochs: int | None = None, batches_per_epoch: int,
                     accumulate: int | None = None) -> dict[str, Schedule]:
    """The LR of each of ``build_optimizer``'s param groups, and the momentum, at each optimizer
    update of an Ultralytics training run.

    Args:
      hyp: the run's arguments: a mapping or the path of its ``args.yaml`` (or of a
        ``default.yaml``-shaped file). Read: ``lr0``, ``lrf``, ``cos_lr``, ``warmup_epochs``,
        ``warmup_bias_lr``, ``warmup_momentum``, ``momentum``, ``epochs``, ``nbs``, ``batch``,
        ``optimizer``, ``time``; absent keys take ``default.yaml``'s values.
      epochs: the run's epochs (default ``hyp["epochs"]``; the trainer reads 0 as 100).
      batches_per_epoch: ``len(train_loader)``, the batches of one epoch (``nb``).
      accumulate: the nominal gradient accumulation ``max(round(nbs / batch), 1)``; give it
        when ``batch`` was chosen at run time (``batch: -1`` or a memory fraction).

    Returns:
      ``{"weights": …, "batchnorm": …, "biases": …, "momentum": …}``: the LR of the groups
      ``build_optimizer`` makes (0: weights with decay, 1: normalization weights, 2: biases, the
      one tagged ``param_group="bias"``), and the momentum (SGD's and RMSprop's ``momentum``;
      for the Adam family it is ``betas[0]``, which the trainer never ramps: a constant).

    The clock is the optimizer update ``k``. The trainer counts batches,
    ``ni = i + nb · epoch``; for ``ni <= nw`` (``nw = round(min(warmup_epochs, epochs - 1) ·
    nb)``) it sets ``accumulate = max(1, round(interp(ni, [0, nw], [1, acc])))``, each group's
    LR to ``interp(ni, [0, nw], [start, lr0 · lf(epoch)])`` (start ``warmup_bias_lr`` for the
    biases, 0 for the others) and the momentum to ``interp(ni, [0, nw], [warmup_momentum,
    momentum])``; after that the LR is ``lr0 · lf(epoch)``, set at each epoch's start. Batch
    ``ni`` ends in an update when ``ni - last_update >= accumulate`` (``last_update`` starts at
    -1 and does not restart with the epoch), and update ``k`` uses what batch ``ni_k`` set. So
    with ``accumulate > 1`` update ``k`` is not batch ``k``: during the warmup the updates come
    every 1, then 2, … batches; after it, every ``acc`` batches. The schedules hold their last
    value after the run's last update.

    Refused: ``optimizer: auto`` (the trainer picks MuSGD or AdamW and their LR from the
    dataset at run time), ``MuSGD`` (its extra param groups), and ``time`` (epochs re-estimated
    from the wall clock).

    >>> s = from_ultralytics({"optimizer": "SGD", "epochs": 3, "warmup_epochs": 1, "batch": 64},
    ...                      batches_per_epoch=4)
    >>> [round(s["biases"](k), 4) for k in range(6)], round(s["weights"](4), 6)
    ([0.1, 0.0775, 0.055, 0.0325, 0.0067, 0.0067], 0.0067)
    """
    if isinstance(hyp, (str, os.PathLike)):
        from ..config import load_file

        hyp = load_file(Path(hyp))
    if not isinstance(hyp, Mapping):
        raise ScheduleError(f"from_ultralytics: 'hyp' must be a mapping of the run's arguments "
                            f"or the path of its args.yaml, got {show(hyp)}")
    a = _read(hyp, epochs, batches_per_epoch, accumulate)
    return _build(a)


def _read(hyp: Mapping[str, Any], epochs: Any, nb: Any, accumulate: Any) -> dict[str, Any]:
    a: dict[str, Any] = {}
    opt = hyp.get("optimizer", _DEFAULTS["optimizer"])
    names = {n.lower(): n for n in (*_OPTIMIZERS, "MuSGD", "auto")}
    opt = names.get(str(opt).lower(), opt) if isinstance(opt, str) else opt
    if opt == "auto":
        raise ConfigError("optimizer", "is 'auto': the trainer chooses MuSGD (lr0=0.01, "
                          "momentum=0.9) or AdamW (lr0 from the number of classes) from the "
                          "dataset size at run time and sets warmup_bias_lr to 0; set optimizer, "
                          "lr0, momentum and warmup_bias_lr to what the run's 'optimizer:' log "
                          "line printed")
    if opt == "MuSGD":
        raise ConfigError("optimizer", "MuSGD splits the groups further (a Muon group and head "
                          "groups at 3 x lr0); lrkit reads SGD, RMSprop and the Adam family")
    if opt not in _OPTIMIZERS:
        raise ConfigError("optimizer", f"unknown optimizer {show(opt)}; Ultralytics takes "
                          f"{', '.join(_OPTIMIZERS)}, MuSGD or auto")
    a["optimizer"] = opt
    if hyp.get("time"):
        raise ConfigError("time", f"is {show(hyp.get('time'))}: the trainer re-estimates the "
                          "epochs from the wall clock after each epoch, so the schedule is not "
                          "known in advance; set time to null and give epochs")
    for key in ("lr0", "lrf", "momentum", "warmup_momentum", "warmup_bias_lr", "warmup_epochs"):
        a[key] = field(hyp, key, _DEFAULTS[key], "number")
        if key != "warmup_epochs" and a[key] < 0:
            raise ConfigError(key, f"must be >= 0, got {show(hyp.get(key))}")
    a["cos_lr"] = field(hyp, "cos_lr", False, "bool")
    e = epochs if epochs is not None else hyp.get("epochs", _DEFAULTS["epochs"])
    e = field({"epochs": e}, "epochs", 0, "count") or 100  # `args.epochs or 100`
    a["epochs"] = e
    a["nb"] = field({"batches_per_epoch": nb}, "batches_per_epoch", None, "count")
    if a["nb"] is None or a["nb"] < 1:
        raise ConfigError("batches_per_epoch", f"must be a whole number >= 1 (len(train_loader))"
                          f", got {show(nb)}")
    if e * a["nb"] > 10**15:
        raise ConfigError("epochs", f"{e} epochs of {a['nb']} batches is past 10^15 batches")
    if accumulate is not None:
        acc = field({"accumulate": accumulate}, "accumulate", None, "count")
        if acc < 1:
            raise ConfigError("accumulate", f"must be >= 1, got {show(accumulate)}")
    else:
        batch = field(hyp, "batch", _DEFAULTS["batch"], "number")
        if batch < 1 or batch != int(batch):
            raise ConfigError("batch", f"is {show(hyp.get('batch'))}: the trainer picks the batch "
                              "size at run time (AutoBatch); give accumulate=max(round(nbs / "
                              "batch), 1) with the batch size it printed")
        nbs = field(hyp, "nbs", _DEFAULTS["nbs"], "number")
        if nbs < 0:
            raise ConfigError("nbs", f"must be >= 0, got {show(hyp.get('nbs'))}")
        acc = max(round(nbs / int(batch)), 1)  # BaseTrainer._build_train_pipeline
    a["acc"] = min(acc, a["nb"] * e)
    return a


def _interp(x: int, x1: int, y0: float, y1: float) -> float:
    """``np.interp(x, [0, x1], [y0, y1])`` for ``0 <= x``, with numpy's arithmetic."""
    if x >= x1:
        return y1
    return (y1 - y0) / (x1 - 0.0) * (x - 0.0) + y0


def _build(a: dict[str, Any]) -> dict[str, Schedule]:
    e, nb, acc, lrf, lr0 = a["epochs"], a["nb"], a["acc"], a["lrf"], a["lr0"]

    def lf(x: int) -> float:  # BaseTrainer._setup_scheduler; utils/torch_utils.py one_cycle
        if a["cos_lr"]:
            return float(max((1 - math.cos(x * math.pi / e)) / 2, 0) * (lrf - 1) + 1)
        return float(max(1 - x / e, 0) * (1.0 - lrf) + lrf)

    if e > _MAX_PIECES:
        raise ConfigError("epochs", f"must be at most {_MAX_PIECES:,} (one piece each), got {e:,}")
    w = min(a["warmup_epochs"], max(e - 1, 0))  # BaseTrainer._get_warmup_iterations
    nw = round(w * nb) if w > 0 else 0
    if nw > _MAX_WARMUP:
        raise ConfigError("warmup_epochs", f"gives {nw:,} warmup batches; lrkit replays at most "
                          f"{_MAX_WARMUP:,}")
    # The warmup's updates: (batch, epoch) of each, replaying the batch loop of _do_train.
    updates: list[int] = []
    last = -1
    for ni in range(nw + 1 if nw else 0):
        if ni - last >= max(1, round(_interp(ni, nw, 1.0, float(acc)))):
            updates.append(ni)
            last = ni
    # After it accumulate is `acc` for good: updates at last + acc, last + 2·acc, …
    k0 = len(updates)
    starts = {"weights": 0.0, "batchnorm": 0.0, "biases": a["warmup_bias_lr"]}
    out: dict[str, Schedule] = {}
    for name, lr_start in starts.items():
        ramp = [_interp(ni, nw, lr_start, lr0 * lf(ni // nb)) for ni in updates]
        out[name] = _join(updates, ramp, nb, k0, last, acc, e,
                          [lr0 * lf(x) for x in range(e)])
    m = a["momentum"]
    if a["optimizer"] in _WITH_MOMENTUM and nw:
        ramp = [_interp(ni, nw, a["warmup_momentum"], m) for ni in updates]
        out["momentum"] = _join(updates, ramp, nb, k0, last, acc, e, [m] * e)
    else:
        out["momentum"] = constant(m)
    return out


def _join(updates: list[int], ramp: list[float], nb: int, k0: int, last: int, acc: int,
          e: int, per_epoch: list[float]) -> Schedule:
    """One schedule over updates: the warmup's values (linear pieces, one per run of updates
    evenly spaced within an epoch), then one constant per epoch from the first update in it."""
    parts: list[Schedule] = []
    at: list[int] = []
    i = 0
    while i < len(updates):  # a run: same epoch, same spacing, so its values are a line in k
        j = i + 1
        while j < len(updates) and updates[j] // nb == updates[i] // nb and \
                (j == i + 1 or updates[j] - updates[j - 1] == updates[i + 1] - updates[i]):
            j += 1
        if j - i == 1:
            parts.append(constant(ramp[i], over=1))
        else:
            parts.append(linear(ramp[i], ramp[j - 1], j - 1 - i))
        at.append(i)
        i = j
    first = last + acc  # the first batch after the warmup's updates that ends in an update
    # The run's updates: the warmup's, then one every `acc` batches from `first` to its end;
    # the last epoch's value lasts until then (so the schedule's duration is the run's).
    total = k0 + max(0, (e * nb - 1 - first) // acc + 1)
    for x in range(first // nb, e):
        k = k0 + max(0, -(-(x * nb - first) // acc))  # first update with batch >= x · nb
        if parts and at[-1] == k:
            parts.pop()
            at.pop()
        parts.append(constant(per_epoch[x]))
        at.append(k)
        if len(parts) > _MAX_PIECES:
            raise ConfigError("epochs", f"the schedule needs more than {_MAX_PIECES:,} pieces "
                              f"({e:,} epochs); lrkit reproduces runs up to that")
    if not parts:
        return constant(per_epoch[-1], over=total) if total else constant(per_epoch[-1])
    while len(parts) > 1 and at[-1] >= total:  # epochs in which no update ends
        parts.pop()
        at.pop()
    if isinstance(parts[-1], constant) and parts[-1].over is None and total > at[-1]:
        parts[-1] = constant(parts[-1].value, over=total - at[-1])
    return parts[0] if len(parts) == 1 else sequence(parts, at=at[1:])
