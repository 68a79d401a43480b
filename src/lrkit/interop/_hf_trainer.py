"""``from_hf_trainer``: the LR schedule ``transformers.Trainer`` applies, from its arguments.

The arguments are a ``TrainingArguments`` (TRL's ``SFTConfig``, ``DPOConfig``, … included), a
mapping, or the YAML or JSON file TRL's CLI and most fine-tuning scripts read. The number of
optimizer updates is counted as ``Trainer.set_initial_training_values`` counts it (transformers
5.24): ``max_steps`` when > 0, else ``ceil(num_train_epochs · max(ceil(L / accumulation), 1))``
for ``L`` batches per epoch, per process, as accelerate's sharded dataloader yields them. The
warmup is ``TrainingArguments.get_warmup_steps``'s; the schedule then is ``from_hf``'s, which
is ``get_scheduler``'s also for a run that ends inside its warmup. The Trainer makes exactly
``total`` updates.

transformers 4.x's ``warmup_ratio`` is still read, as 4.x read it (``warmup_steps`` wins when
> 0). axolotl's configs are refused: axolotl counts the steps and picks the warmup itself and
hands the Trainer ``max_steps``. Nothing here imports transformers.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Mapping
from typing import Any

from .._schedule import Schedule
from ..errors import ConfigError, show
from ._hf import from_hf
from ._read import REQUIRED, field

__all__ = ["from_hf_trainer"]

# TrainingArguments' defaults (transformers 5.24) of the fields read here.
_DEFAULTS: dict[str, Any] = dict(
    lr_scheduler_type="linear", warmup_steps=0, num_train_epochs=3.0, max_steps=-1,
    per_device_train_batch_size=8, gradient_accumulation_steps=1, dataloader_drop_last=False,
    auto_find_batch_size=False)
_OTHER = ("learning_rate", "lr_scheduler_kwargs", "warmup_ratio", "accelerator_config",
          "parallelism_config", "deepspeed", "train_sampling_strategy", "num_generations")
# Types whose schedule needs no count of updates (unless the warmup is a ratio of it).
_NO_TOTAL = ("constant", "reduce_lr_on_plateau", "greedy", "constant_with_warmup",
             "inverse_sqrt")
_SET_BY_TRAINER = ("name", "num_warmup_steps", "num_training_steps", "base_lr")
_AXOLOTL = ("micro_batch_size", "num_epochs", "lr_scheduler")
_MAX_STEPS = 2**53  # past this a step is no longer an exact float


def from_hf_trainer(args: Any, *, num_examples: int | None = None,
                    steps_per_epoch: int | None = None,
                    world_size: int | None = None) -> Schedule:
    """The schedule ``transformers.Trainer(args=args, ...).train()`` applies at each update.

    Args:
        args: a ``TrainingArguments`` (or a TRL config class), a mapping of its fields, or a
            path to a YAML or JSON file of them. Fields read: ``learning_rate`` (required in a
            mapping: TRL's classes change its default), ``lr_scheduler_type``,
            ``lr_scheduler_kwargs`` (a dict or a JSON string), ``warmup_steps`` (a float below 1
            is a ratio), ``warmup_ratio`` (transformers 4.x), ``num_train_epochs``,
            ``max_steps``, ``per_device_train_batch_size``, ``gradient_accumulation_steps``,
            ``dataloader_drop_last``, ``world_size`` and ``accelerator_config``'s
            ``split_batches``/``even_batches``. Other keys are ignored.
        num_examples: rows in the training set the Trainer gets (after its own preprocessing,
            such as TRL's packing); the batches per epoch are counted from it.
        steps_per_epoch: batches per epoch of one process, ``len(trainer.get_train_dataloader())``,
            instead of ``num_examples``.
        world_size: processes (GPUs) training together; default the arguments' own, else 1.

    Returns:
        The schedule, step ``k`` being the ``k``-th optimizer update.
    """
    s: Schedule = _read_args(args, lambda a: _build(a, num_examples, steps_per_epoch,
                                                    world_size))
    return s


def updates(args: Any, *, num_examples: int | None = None, steps_per_epoch: int | None = None,
            world_size: int | None = None) -> int | None:
    """The number of optimizer updates the Trainer makes with ``args`` (``from_hf_trainer``'s
    arguments), or None when neither ``max_steps`` nor a count of examples or batches says:
    the run ``lrkit lint`` checks a schedule against."""
    n: int | None = _read_args(args, lambda a: _total(a, num_examples, steps_per_epoch,
                                                      world_size, needed=False))
    return n


def _read_args(args: Any, then: Any) -> Any:
    """``then`` of the fields of ``args`` (a file's errors named after the file)."""
    if not isinstance(args, (str, os.PathLike)):
        return then(_fields(args))
    from ..config import load_file

    source = os.path.basename(os.fspath(args))
    data = load_file(os.fspath(args))
    if not isinstance(data, Mapping):
        raise ConfigError(source, f"must hold a mapping of TrainingArguments fields, got "
                          f"{show(data)}")
    try:
        return then(_fields(data))
    except ConfigError as e:
        raise ConfigError(f"{source}: {e.where}", e.message) from None


def _fields(args: Any) -> dict[str, Any]:
    """The fields read, from a mapping or a TrainingArguments object."""
    if isinstance(args, Mapping):
        found = sorted(k for k in _AXOLOTL if k in args)
        if found:
            raise ConfigError(found[0], "is axolotl's key, and axolotl counts the steps itself "
                              "(sample packing, its own default warmup of 3% up to 100 steps, "
                              "its own schedulers) and hands the Trainer max_steps; lrkit reads "
                              "TrainingArguments fields (lr_scheduler_type, num_train_epochs, "
                              "per_device_train_batch_size, …) only")
        if "learning_rate" not in args:
            raise ConfigError("learning_rate", "is required: TrainingArguments' default is "
                              "5e-05 but TRL's configs change it (SFTConfig 2e-05, DPOConfig "
                              "1e-06, …); write the value the run uses")
        return {str(k): v for k, v in args.items()}
    if not (hasattr(args, "lr_scheduler_type") and hasattr(args, "learning_rate")):
        raise ConfigError("args", f"must be a transformers.TrainingArguments, a mapping of its "
                          f"fields or a path to a YAML or JSON file of them, got {show(args)}")
    a = {k: getattr(args, k, None) for k in (*_DEFAULTS, *_OTHER)}
    a["lr_scheduler_type"] = getattr(a["lr_scheduler_type"], "value", a["lr_scheduler_type"])
    a["world_size"] = getattr(args, "world_size", None)
    a["train_batch_size"] = getattr(args, "train_batch_size", None)  # x GPUs of DataParallel
    acc = a["accelerator_config"]
    if acc is not None and not isinstance(acc, (Mapping, str)):
        a["accelerator_config"] = {k: getattr(acc, k, None)
                                   for k in ("split_batches", "even_batches", "dispatch_batches")}
    return a


def _build(a: dict[str, Any], num_examples: Any, steps_per_epoch: Any,
           world_size: Any) -> Schedule:
    name = a.get("lr_scheduler_type", "linear")
    name = "linear" if name is None else name
    if not isinstance(name, str):
        raise ConfigError("lr_scheduler_type", f"must be a scheduler name such as 'cosine', "
                          f"got {show(name)}")
    lr = _read(a, "learning_rate", REQUIRED, "number")
    if lr < 0:
        raise ConfigError("learning_rate", f"must be >= 0, got {show(a['learning_rate'])}")
    kwargs = _scheduler_kwargs(a.get("lr_scheduler_kwargs"))
    _deepspeed(a.get("deepspeed"))
    warmup, total = _counts(a, name, num_examples, steps_per_epoch, world_size)
    if name == "polynomial" and total == warmup and total:
        raise ConfigError("warmup_steps", f"gives {warmup} warmup steps out of {total}: "
                          "transformers' polynomial schedule then divides by zero at the end "
                          "of the run (ZeroDivisionError); use fewer warmup steps")
    return from_hf(name, warmup, total, base_lr=lr, **kwargs)


def _deepspeed(ds: Any) -> None:
    """A DeepSpeed config given inline whose ``scheduler`` replaces the Trainer's (a file is
    not opened: lrkit reads only the path it is given)."""
    if isinstance(ds, str) and ds.startswith("{"):
        with contextlib.suppress(ValueError, RecursionError):
            ds = json.loads(ds)
    if isinstance(ds, Mapping) and "scheduler" in ds:
        raise ConfigError("deepspeed", "has a 'scheduler' section: DeepSpeed's scheduler then "
                          "replaces the Trainer's; import that section instead")


def _counts(a: Mapping[str, Any], name: str, num_examples: Any, steps_per_epoch: Any,
            world_size: Any) -> tuple[int, int | None]:
    """The warmup and the total the Trainer hands ``get_scheduler`` (None: not known, and
    ``name`` does not need it)."""
    ws = _read(a, "warmup_steps", 0, "number")
    if ws < 0:
        raise ConfigError("warmup_steps", f"must be >= 0 (transformers raises ValueError), got "
                          f"{show(a['warmup_steps'])}")
    ratio = ws if ws < 1 else 0.0
    if ws == 0 and a.get("warmup_ratio") is not None:
        ratio = _read(a, "warmup_ratio", 0.0, "number")
        if not 0 <= ratio <= 1:
            raise ConfigError("warmup_ratio", f"must lie in [0, 1] (transformers 4.x), got "
                              f"{show(a['warmup_ratio'])}")
    total = _total(a, num_examples, steps_per_epoch, world_size,
                   needed=name not in _NO_TOTAL or ratio > 0)
    if ws >= 1:
        return _bounded(int(ws), "warmup_steps"), total
    # get_warmup_steps: a ratio of the updates, rounded up (0 without a ratio)
    return (math.ceil(total * ratio) if ratio > 0 and total is not None else 0), total


def _read(a: Mapping[str, Any], key: str, default: Any, kind: str) -> Any:
    """Field ``key`` as ``field`` reads it; a string is first read as TRL's CLI reads YAML
    values, through argparse's ``type`` (``"5e-5"`` is 5e-05, ``"true"`` is True)."""
    v = a.get(key)
    if isinstance(v, str):
        text = v.strip().lower()
        if kind == "bool" and text in ("true", "yes", "t", "y", "1", "false", "no", "f", "n",
                                       "0"):
            v = text in ("true", "yes", "t", "y", "1")
        elif kind in ("number", "count"):
            with contextlib.suppress(ValueError):  # else field() names the value
                v = float(text) if kind == "number" else int(text)
    return field({key: v}, key, default, kind)


def _scheduler_kwargs(v: Any) -> dict[str, Any]:
    if v is None:
        return {}
    if isinstance(v, str):  # TrainingArguments parses a JSON object given as a string
        if not v.startswith("{"):
            raise ConfigError("lr_scheduler_kwargs", f"must be a mapping or a JSON object, got "
                              f"{show(v)}")
        try:
            v = _convert_str_dict(json.loads(v))
        except (ValueError, RecursionError) as e:
            raise ConfigError("lr_scheduler_kwargs", f"is not valid JSON: {e}") from None
    if not isinstance(v, Mapping):
        raise ConfigError("lr_scheduler_kwargs", f"must be a mapping such as "
                          f"{{'num_cycles': 1}}, got {show(v)}")
    for key in v:
        if not isinstance(key, str) or key in _SET_BY_TRAINER:
            raise ConfigError("lr_scheduler_kwargs", f"cannot hold the key {show(key)}: the "
                              "keys are the scheduler's own arguments (num_cycles, power, "
                              "min_lr_rate, …); the Trainer sets the warmup and total itself")
    return dict(v)


def _convert_str_dict(d: Any) -> Any:
    """transformers' ``_convert_str_dict``: "true"/"false" and digit strings in a JSON string
    ``lr_scheduler_kwargs`` become bools and numbers."""
    if not isinstance(d, dict):
        return d
    for key, value in d.items():
        if isinstance(value, dict):
            d[key] = _convert_str_dict(value)
        elif isinstance(value, str):
            if value.lower() in ("true", "false"):
                d[key] = value.lower() == "true"
            elif value.isdigit():
                d[key] = int(value)
            elif value.replace(".", "", 1).isdigit():
                d[key] = float(value)
    return d


def _total(a: Mapping[str, Any], num_examples: Any, steps_per_epoch: Any, world_size: Any,
           needed: bool) -> int | None:
    """Trainer.set_initial_training_values' ``max_steps``, or None when not needed and not
    known."""
    max_steps = float(_read(a, "max_steps", -1, "number"))
    if not max_steps.is_integer():
        raise ConfigError("max_steps", f"must be a whole number (-1 to train by epochs), got "
                          f"{show(a['max_steps'])}")
    epochs = _read(a, "num_train_epochs", 3.0, "number")
    if epochs < 0:
        raise ConfigError("num_train_epochs", f"must be >= 0, got "
                          f"{show(a['num_train_epochs'])}")
    accumulation = _at_least_one(a, "gradient_accumulation_steps")
    _at_least_one(a, "per_device_train_batch_size")
    _read(a, "dataloader_drop_last", False, "bool")
    batches = _batches(a, num_examples, steps_per_epoch, world_size)
    if max_steps > 0:
        return _bounded(int(max_steps), "max_steps")
    if batches is None:
        if not needed:
            return None
        raise ConfigError("max_steps", f"is {int(max_steps)} (train for num_train_epochs="
                          f"{epochs:g}), so the number of updates depends on the data: give "
                          "num_examples= (rows in the training set) or steps_per_epoch= "
                          "(len(trainer.get_train_dataloader())), or set max_steps > 0")
    per_epoch = max(batches // accumulation + int(batches % accumulation > 0), 1)
    if max_steps == 0:  # not epoch-based: the Trainer keeps max_steps = 0
        return 0
    updates: float = epochs * per_epoch
    if not updates < _MAX_STEPS:
        raise ConfigError("num_train_epochs", f"{epochs:g} x {per_epoch} updates an epoch "
                          f"gives {updates:g} updates; lrkit counts up to 2**53 steps")
    return math.ceil(updates)


def _batches(a: Mapping[str, Any], num_examples: Any, steps_per_epoch: Any,
             world_size: Any) -> int | None:
    """Batches per epoch of one process, as accelerate's prepared dataloader has them."""
    if num_examples is not None and steps_per_epoch is not None:
        raise ConfigError("steps_per_epoch", "give num_examples or steps_per_epoch, not both")
    if steps_per_epoch is not None:
        _context_parallel(a)
        return _bounded(_keyword("steps_per_epoch", steps_per_epoch, 1), "steps_per_epoch")
    if num_examples is None:
        return None
    n = _bounded(_keyword("num_examples", num_examples, 1), "num_examples")
    _context_parallel(a)
    for key, why in (("num_generations", "TRL's GRPO and RLOO trainers build their own "
                      "dataloader"),):
        if a.get(key) is not None:
            raise ConfigError(key, f"is set: {why}; give steps_per_epoch="
                              "len(trainer.get_train_dataloader()) or max_steps")
    if _read(a, "auto_find_batch_size", False, "bool"):
        raise ConfigError("auto_find_batch_size", "is true: the Trainer halves the batch size "
                          "at run time on out-of-memory errors, so the count of batches is not "
                          "known ahead; give steps_per_epoch or max_steps")
    if a.get("train_sampling_strategy") == "batch_rebalance":
        raise ConfigError("train_sampling_strategy", "is 'batch_rebalance', whose batches "
                          "depend on the sequence lengths; give steps_per_epoch or max_steps")
    if a.get("train_batch_size") is not None:  # a TrainingArguments object's
        size = _at_least_one(a, "train_batch_size")
    else:
        size = _at_least_one(a, "per_device_train_batch_size")
    drop = _read(a, "dataloader_drop_last", False, "bool")
    whole = n // size if drop else -(-n // size)
    procs = world_size if world_size is not None else a.get("world_size")
    procs = 1 if procs is None else _keyword("world_size", procs, 1)
    batches = whole if procs == 1 else _shard(a, whole, size, procs, drop)
    if batches == 0:  # drop_last: with max_steps the Trainer goes on, and makes no update
        over = f" over {procs} processes" if procs > 1 else ""
        raise ConfigError("num_examples", f"gives no batch: {n} examples in batches of {size}"
                          f"{over} with dataloader_drop_last; the Trainer would make no update")
    return batches


def _shard(a: Mapping[str, Any], whole: int, size: int, procs: int, drop: bool) -> int:
    """accelerate's ``BatchSamplerShard.__len__``: the batches of process 0."""
    acc = a.get("accelerator_config")
    if isinstance(acc, str) and acc.startswith("{"):
        try:
            acc = json.loads(acc)
        except ValueError as e:
            raise ConfigError("accelerator_config", f"is not valid JSON: {e}") from None
    if isinstance(acc, str):
        raise ConfigError("accelerator_config", f"is a file, {show(acc)}, which lrkit does not "
                          "open; write its split_batches and even_batches here as a mapping")
    acc = {} if acc is None else acc
    if not isinstance(acc, Mapping):
        raise ConfigError("accelerator_config", f"must be a mapping, got {show(acc)}")
    split = _read(acc, "split_batches", False, "bool")
    even = _read(acc, "even_batches", True, "bool")
    if _read(acc, "dispatch_batches", False, "bool"):
        raise ConfigError("accelerator_config", "has dispatch_batches: true; lrkit counts "
                          "sharded batches only: give steps_per_epoch")
    if split:
        if size > 1 and size % procs:
            raise ConfigError("accelerator_config", f"split_batches needs the batch size "
                              f"({size}) to be a multiple of world_size ({procs}), as accelerate "
                              "does")
        return whole
    if whole % procs == 0 or drop:
        return whole // procs
    if not even:
        raise ConfigError("accelerator_config", "has even_batches: false, so the processes get "
                          f"different numbers of batches ({whole} over {procs}); give "
                          "steps_per_epoch")
    return whole // procs + 1


def _context_parallel(a: Mapping[str, Any]) -> None:
    if a.get("parallelism_config") is not None:
        raise ConfigError("parallelism_config", "is set: sequence and context parallelism "
                          "change the Trainer's count of batches; give max_steps")


def _at_least_one(a: Mapping[str, Any], key: str) -> int:
    v: int = _read(a, key, _DEFAULTS.get(key, REQUIRED), "count")
    if v < 1:
        raise ConfigError(key, f"must be >= 1, got {show(a.get(key))}")
    return _bounded(v, key)


def _keyword(name: str, v: Any, least: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < least:
        raise ConfigError(name, f"must be a whole number >= {least}, got {show(v)}")
    return v


def _bounded(v: int, name: str) -> int:
    if v >= _MAX_STEPS:
        raise ConfigError(name, f"must be below 2**53, got {show(v)}")
    return v
