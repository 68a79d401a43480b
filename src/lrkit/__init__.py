"""lrkit: learning-rate (and other hyperparameter) schedules as values.

A schedule is an immutable value and a pure function of the 0-based update index ``k``:
``lrkit.cosine(0.1, 0.0, 1000)(0) == 0.1``. The same schedule evaluates on Python ints,
numpy arrays and traced tensors (torch, jax, ``keras.ops``). Framework adapters
(``lrkit.torch``, ``lrkit.keras``, ``lrkit.optax``) are imported on first use; ``import lrkit``
itself imports no framework and no numpy.
"""

from __future__ import annotations

import importlib

from ._combine import branch, plateau, restarts, warmup
from ._recipes import cooldown, extend, scale_lr, wsd, wsd_cycles
from ._schedule import Schedule, sequence
from ._shapes import (
    batch_size,
    constant,
    cosine,
    cyclic,
    exponential,
    geometric,
    interpolate,
    inverse_sqrt,
    inverse_time,
    linear,
    multistep,
    one_cycle,
    one_minus_sqrt,
    piecewise,
    polynomial,
    step,
    tanh,
)
from .errors import ConfigError, ScheduleError

__version__ = "0.1.0"

__all__ = [
    "ConfigError", "Schedule", "ScheduleError", "batch_size", "branch", "constant", "cooldown",
    "cosine", "cyclic", "explain", "exponential", "extend", "from_config", "from_deepspeed",
    "from_detectron2", "from_hf", "from_hf_trainer", "from_keras", "from_megatron",
    "from_mmengine", "from_tf_model_garden", "from_tf_object_detection", "from_timm", "from_torch",
    "from_ultralytics", "geometric", "interpolate", "inverse_sqrt", "inverse_time", "json_schema",
    "linear", "lint", "multistep", "one_cycle", "one_minus_sqrt", "parse", "piecewise", "plateau",
    "plot", "polynomial", "restarts", "scale_lr", "sequence", "step", "tanh", "warmup", "wsd",
    "wsd_cycles",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._explain import explain
    from ._lint import lint
    from ._plot import plot
    from .config import from_config, json_schema
    from .interop._deepspeed import from_deepspeed
    from .interop._detectron2 import from_detectron2
    from .interop._hf import from_hf
    from .interop._hf_trainer import from_hf_trainer
    from .interop._keras import from_keras
    from .interop._megatron import from_megatron
    from .interop._mmengine import from_mmengine
    from .interop._tfmg import from_tf_model_garden
    from .interop._tfod import from_tf_object_detection
    from .interop._timm import from_timm
    from .interop._torch import from_torch
    from .interop._ultralytics import from_ultralytics
    from .syntax import parse

_LAZY = {"recipes", "torch", "keras", "optax"}
_ON_USE = {"from_config": "config", "json_schema": "config", "parse": "syntax",
           "explain": "_explain", "lint": "_lint", "plot": "_plot",
           "from_torch": "interop._torch", "from_keras": "interop._keras",
           "from_tf_object_detection": "interop._tfod", "from_hf": "interop._hf",
           "from_timm": "interop._timm", "from_tf_model_garden": "interop._tfmg",
           **{f"from_{name}": f"interop._{name}" for name in (
               "deepspeed", "detectron2", "hf_trainer", "megatron", "mmengine", "ultralytics")}}


def __getattr__(name: str) -> Any:
    # PEP 562: adapters import their framework, and config its parsers, only when first used.
    if name in _ON_USE:
        return getattr(importlib.import_module(f"{__name__}.{_ON_USE[name]}"), name)
    if name in _LAZY:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
