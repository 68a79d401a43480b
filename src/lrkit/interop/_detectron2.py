"""``from_detectron2``: the LR schedule detectron2's ``build_lr_scheduler`` builds from a yacs
config (``SOLVER.*``), as an lrkit schedule of the base LR.

detectron2 composes fvcore ``ParamScheduler``s: the main one (``MultiStepParamScheduler``,
``CosineParamScheduler`` or ``StepWithFixedGammaParamScheduler``) behind a warmup in a
``WarmupParamScheduler`` (a ``CompositeParamScheduler``), read by ``LRMultiplier`` at
``where = k / MAX_ITER``. fvcore decides which phase and which stair holds with
``WHERE_EPSILON = 1e-6`` added to ``where``; those decisions are computed here with fvcore's
own floating-point expressions, in steps, so every boundary lands on the update detectron2
switches at (with MAX_ITER above 10⁶ the epsilon moves them a step or more early). Nothing
here imports detectron2, fvcore or yacs; YAML files are read with PyYAML's safe loader.
"""

from __future__ import annotations

import ast
import bisect
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, linear, piecewise
from ..errors import ConfigError, ScheduleError, show
from ._read import field

__all__ = ["from_detectron2"]

#: detectron2/config/defaults.py, ``_C.SOLVER`` (the keys the LR schedule reads).
_DEFAULTS: dict[str, Any] = dict(
    LR_SCHEDULER_NAME="WarmupMultiStepLR", MAX_ITER=40000, BASE_LR=0.001, BASE_LR_END=0.0,
    GAMMA=0.1, STEPS=(30000,), NUM_DECAYS=3, WARMUP_FACTOR=1.0 / 1000, WARMUP_ITERS=1000,
    WARMUP_METHOD="linear", RESCALE_INTERVAL=False, REFERENCE_WORLD_SIZE=0)
_KINDS = {"MAX_ITER": "count", "WARMUP_ITERS": "count", "NUM_DECAYS": "count",
          "REFERENCE_WORLD_SIZE": "count", "STEPS": "numbers", "RESCALE_INTERVAL": "bool",
          "LR_SCHEDULER_NAME": "str", "WARMUP_METHOD": "str"}  # the others are numbers
_NAMES = ("WarmupMultiStepLR", "WarmupCosineLR", "WarmupStepWithFixedGammaLR")
_METHODS = ("linear", "constant")
_EPS = 1e-6        # fvcore's ParamScheduler.WHERE_EPSILON
_BASE_DEPTH = 10   # _BASE_ files followed from the file given
_EARLY_LIMIT = 10_000  # steps fvcore's epsilon may pull into the main phase, one piece each
_STAIRS = 10_000  # STEPS or NUM_DECAYS: each stair costs a binary search over the run


def from_detectron2(cfg: Any) -> Schedule:
    """The LR ``build_lr_scheduler(cfg, optimizer)`` gives a param group whose LR is
    ``SOLVER.BASE_LR``, at each optimizer update.

    ``cfg`` is a detectron2 ``CfgNode`` (any mapping with a ``SOLVER`` node) or the path of a
    YAML config, whose ``_BASE_`` files are merged first as ``CfgNode.merge_from_file`` does
    (paths relative to the file naming them). Keys left out take detectron2's defaults
    (``WarmupMultiStepLR``, ``MAX_ITER`` 40000, ``BASE_LR`` 0.001, ``STEPS`` (30000,),
    ``WARMUP_FACTOR`` 0.001 over ``WARMUP_ITERS`` 1000, ``linear``). String values are read as
    yacs reads them (``STEPS: (60000, 80000)`` is a tuple).

    Step ``k`` is detectron2's iteration: ``LRMultiplier`` sets the LR for iteration 0 when it
    is built and its hook calls ``scheduler.step()`` after each iteration, so update ``k`` gets
    ``BASE_LR · multiplier(k / MAX_ITER)``. The run ends at ``MAX_ITER``; the schedule holds
    after that. A group with another base LR (``BIAS_LR_FACTOR``) follows ``s * factor``.
    (With ``WarmupStepWithFixedGammaLR`` the hook's ``step()`` after the last iteration asks
    fvcore for ``where = 1``, past its last stair: every update gets its LR, then fvcore raises
    IndexError.)

    Refused: ``REFERENCE_WORLD_SIZE`` != 0 (``DefaultTrainer`` rescales the LR, steps and
    lengths by the GPU count at run time: pass the config ``auto_scale_workers`` returns, with
    the key at 0), and what detectron2 itself rejects or crashes on (unknown names, steps not
    increasing or equal to ``MAX_ITER``, ``BASE_LR_END`` outside ``[0, BASE_LR]``, a
    ``WarmupStepWithFixedGammaLR`` whose last stairs fvcore indexes past).

    >>> s = from_detectron2({"SOLVER": {"BASE_LR": 0.02, "MAX_ITER": 90000,
    ...                                 "STEPS": (60000, 80000)}})
    >>> [round(s(k), 8) for k in (0, 500, 1000, 59999, 60000, 80000)]
    [2e-05, 0.01001, 0.02, 0.02, 0.002, 0.0002]
    """
    data: Mapping[str, Any]
    if isinstance(cfg, (str, os.PathLike)):
        path = Path(cfg)
        data, source = _load(path, 0, ()), path.name
    elif isinstance(cfg, Mapping):
        data, source = cfg, ""
    else:
        raise ScheduleError(f"from_detectron2: 'cfg' must be a detectron2 CfgNode, a mapping "
                            f"with a SOLVER node or a YAML file path, got {show(cfg)}")
    solver = data.get("SOLVER", {})
    if not isinstance(solver, Mapping):
        raise ConfigError(_where(source, "SOLVER"), f"must be a mapping, got {show(solver)}")
    if "SOLVER" not in data and "BASE_LR" in data:
        raise ConfigError(_where(source, "SOLVER"), "is missing, but BASE_LR is at the top "
                          "level; pass the whole config, {'SOLVER': {...}}")
    if "SOLVER" not in data:  # (every key left at its default is {"SOLVER": {}})
        raise ConfigError(_where(source, "SOLVER"), "is missing: not a detectron2 config with "
                          "a schedule; for detectron2's defaults pass {'SOLVER': {}}")
    s = {key: _read(solver, key, source) for key in _DEFAULTS}
    try:
        return _build(s)
    except ConfigError as e:
        raise ConfigError(_where(source, e.where), e.message) from None


def _where(source: str, key: str) -> str:
    return f"{source}: {key}" if source else key


def _read(solver: Mapping[str, Any], key: str, source: str) -> Any:
    where = f"SOLVER.{key}"
    if key in solver and solver[key] is None:
        raise ConfigError(_where(source, where), "is null; detectron2 needs a value here "
                          f"(its default is {_DEFAULTS[key]!r})")
    v = _decode(solver.get(key))
    kind = _KINDS.get(key, "number")
    if kind == "str":
        if v is None:
            return _DEFAULTS[key]
        if not isinstance(v, str):
            raise ConfigError(_where(source, where), f"must be a string, got {show(v)}")
        return v
    try:
        out = field({where: v}, where, _DEFAULTS[key], kind)
    except ConfigError as e:
        raise ConfigError(_where(source, e.where), e.message) from None
    return list(v) if kind == "numbers" and v is not None else out  # the user's numbers


def _decode(v: Any) -> Any:
    """A string as yacs' ``_decode_cfg_value`` reads it: a Python literal where it is one."""
    if isinstance(v, str) and len(v) <= 10_000:
        try:
            return ast.literal_eval(v)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return v
    return v


# -- the schedule ------------------------------------------------------------------------------

def _build(s: dict[str, Any]) -> Schedule:
    name: str = s["LR_SCHEDULER_NAME"]
    m: int = s["MAX_ITER"]
    b: float = s["BASE_LR"]
    if s["REFERENCE_WORLD_SIZE"] != 0:
        raise ConfigError("SOLVER.REFERENCE_WORLD_SIZE", f"is {s['REFERENCE_WORLD_SIZE']}: "
                          "DefaultTrainer.auto_scale_workers then rescales BASE_LR, MAX_ITER, "
                          "STEPS and WARMUP_ITERS by the GPU count at run time; pass the config "
                          "it returns, with REFERENCE_WORLD_SIZE: 0")
    if m <= 0:
        raise ConfigError("SOLVER.MAX_ITER", f"must be > 0 iterations, got {m}")
    if b < 0:
        raise ConfigError("SOLVER.BASE_LR", f"must be >= 0, got {show(b)}")
    values, f = _main(name, s)
    method = s["WARMUP_METHOD"]
    if method not in _METHODS:
        raise ConfigError("SOLVER.WARMUP_METHOD", f"unknown method {show(method)}; detectron2's "
                          f"WarmupParamScheduler takes {' or '.join(map(repr, _METHODS))}")
    factor: float = s["WARMUP_FACTOR"]
    w_iters: int = s["WARMUP_ITERS"]
    rescale: bool = s["RESCALE_INTERVAL"]
    if factor < 0:
        raise ConfigError("SOLVER.WARMUP_FACTOR", f"must be >= 0, got {show(factor)}")
    # detectron2/solver/lr_scheduler.py, WarmupParamScheduler and CompositeParamScheduler
    wl = min(w_iters / m, 1.0)
    lengths = [wl, 1 - wl]
    if wl + lengths[1] != 1.0:
        lengths[1] = 1.0 - wl
    start = (wl + lengths[1]) - lengths[1]  # the main phase's scheduler_start, as fvcore sums it

    def where(k: int) -> float:  # what the main scheduler is called with at update k
        return (k / m - start) / lengths[1] if rescale else k / m

    def value(w: float) -> float:
        return float(f(w) if values is None else values[f(w)])

    first = _first(0, m, lambda k: k / m + _EPS > wl)  # first update of the main phase
    if rescale and first < m and lengths[1] == 0:
        raise ConfigError("SOLVER.RESCALE_INTERVAL", "with WARMUP_ITERS >= MAX_ITER leaves the "
                          "main phase no length; fvcore divides by zero (set it false)")
    parts: list[Schedule] = []
    try:
        end_value = value(0.0 if rescale else wl)
        start_value = factor * value(0.0)
        if first > 0:
            parts.append(constant(b * start_value, over=first) if method == "constant" else
                         linear(b * start_value, b * end_value, min(w_iters, m)))
        if first < m:
            value(where(m - 1))
            parts.extend(_main_parts(values, f, where, first, m, b,
                                     min(w_iters, m) if rescale else None))
    except IndexError:
        raise ConfigError("SOLVER.NUM_DECAYS", f"{s['NUM_DECAYS']} with MAX_ITER {m} and "
                          f"WARMUP_ITERS {w_iters}: fvcore's StepParamScheduler indexes past its "
                          "last stair (where + 1e-6 reaches 1), so detectron2 raises IndexError; "
                          "use MAX_ITER < 1,000,000 and WARMUP_ITERS < MAX_ITER") from None
    return parts[0] if len(parts) == 1 else sequence(parts, at=_starts(parts, first))


def _starts(parts: list[Schedule], first: int) -> list[int | float]:
    """Each child's start after the first: the warmup ends at ``first``, pieces are 1 step."""
    out: list[int | float] = []
    k: int | float = 0
    for i, p in enumerate(parts[:-1]):
        k = first if i == 0 and first > 0 else k + (p.duration or 0)
        out.append(k)
    return out


def _main(name: str, s: dict[str, Any]) -> tuple[list[float] | None, Callable[[float], Any]]:
    """detectron2/solver/build.py, build_lr_scheduler: the main ParamScheduler as fvcore
    evaluates it: its stair values and the stair index at ``where``, or None and the cosine's
    value at ``where``."""
    m = s["MAX_ITER"]
    if name == "WarmupMultiStepLR":
        steps = [x for x in s["STEPS"] if x <= m]  # detectron2 drops later steps with a warning
        if len(steps) > _STAIRS:
            raise ConfigError("SOLVER.STEPS", f"must hold at most {_STAIRS:,} steps, got "
                              f"{len(steps):,}")
        for i, x in enumerate(steps):
            if not (steps[i - 1] if i else 0) < x < m:
                raise ConfigError("SOLVER.STEPS", f"must increase strictly from > 0 to < "
                                  f"MAX_ITER ({m}), got {show(list(s['STEPS']))}; fvcore's "
                                  "MultiStepParamScheduler refuses it")
        if m < len(steps) + 1:
            raise ConfigError("SOLVER.MAX_ITER", f"must be at least len(STEPS) + 1 = "
                              f"{len(steps) + 1} (fvcore), got {m}")
        try:
            values = [s["GAMMA"] ** k for k in range(len(steps) + 1)]
        except OverflowError:
            raise ConfigError("SOLVER.GAMMA", f"{show(s['GAMMA'])} to the power "
                              f"{len(steps)} overflows") from None
        _check_values(values, "SOLVER.GAMMA", s["GAMMA"])

        def multistep(where: float) -> int:
            return bisect.bisect_right(steps, int((where + _EPS) * m))
        return values, multistep
    if name == "WarmupCosineLR":
        b: float = s["BASE_LR"]
        if b == 0:
            raise ConfigError("SOLVER.BASE_LR", "is 0; WarmupCosineLR divides BASE_LR_END by it")
        end: float = s["BASE_LR_END"] / b
        if not 0.0 <= end <= 1.0:
            raise ConfigError("SOLVER.BASE_LR_END", f"must be within [0, BASE_LR] (detectron2 "
                              f"asserts it), got {show(s['BASE_LR_END'])} with BASE_LR {show(b)}")

        def cos(where: float) -> float:
            return end + 0.5 * (1 - end) * (1 + math.cos(math.pi * where))
        return None, cos
    if name == "WarmupStepWithFixedGammaLR":
        gamma, n = s["GAMMA"], s["NUM_DECAYS"]
        if not gamma > 0 or n <= 0:
            raise ConfigError("SOLVER.GAMMA" if not gamma > 0 else "SOLVER.NUM_DECAYS",
                              f"must be > 0 for WarmupStepWithFixedGammaLR (fvcore), got "
                              f"{show(gamma if not gamma > 0 else n)}")
        if n > _STAIRS:
            raise ConfigError("SOLVER.NUM_DECAYS", f"must be at most {_STAIRS:,}, got {n}")
        stairs = [1.0]
        for _ in range(n):
            stairs.append(stairs[-1] * gamma)
        _check_values(stairs, "SOLVER.GAMMA", gamma)

        def fixed_gamma(where: float) -> int:
            return int((where + _EPS) * len(stairs))
        return stairs, fixed_gamma
    raise ConfigError("SOLVER.LR_SCHEDULER_NAME", f"unknown scheduler {show(name)}; detectron2's "
                      f"build_lr_scheduler builds {', '.join(_NAMES)} (a project's own, such as "
                      "DeepLab's WarmupPolyLR, is not read)")


def _check_values(values: list[float], key: str, gamma: float) -> None:
    if not all(math.isfinite(v) and 0 <= v <= 1e300 for v in values):
        raise ConfigError(key, f"gives LR multipliers outside [0, 1e300] ({show(gamma)} to the "
                          f"power up to {len(values) - 1}); use 0 <= GAMMA")


def _first(lo: int, hi: int, pred: Callable[[int], bool]) -> int:
    """The least ``k`` in ``[lo, hi)`` where the monotone ``pred`` holds, else ``hi``."""
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _main_parts(values: list[float] | None, f: Callable[[float], Any],
                where: Callable[[int], float], first: int, m: int, b: float,
                curve_at: int | None) -> list[Schedule]:
    """The main phase over updates ``first … m-1``: one child starting at ``first``, or, where
    fvcore's epsilon starts the rescaled cosine before its curve (at ``curve_at``), one-step
    pieces up to it; ``curve_at`` is None when the cosine runs on ``k / MAX_ITER``."""
    if values is None:
        if curve_at is None:
            c = cosine(b, b * f(1.0), m)
            return [c.skip(first) if first else c]
        if curve_at - first > _EARLY_LIMIT:
            raise ConfigError("SOLVER.MAX_ITER", f"{m} with RESCALE_INTERVAL starts the cosine "
                              f"{curve_at - first} updates early (fvcore's epsilon); lrkit "
                              f"reproduces at most {_EARLY_LIMIT}")
        early = [constant(b * f(where(k)), over=1) for k in range(first, curve_at)]
        return [*early, cosine(b, b * f(1.0), m - curve_at)]
    levels: list[int] = [f(where(first))]
    at: list[int] = []
    while True:  # each change of stair: the first update past the last one found
        k = _first(at[-1] + 1 if at else first + 1, m, lambda k: f(where(k)) > levels[-1])
        if k >= m:
            break
        at.append(k - first)
        levels.append(f(where(k)))
    vals = [b * values[i] for i in levels]
    return [piecewise(vals, at) if at else constant(vals[0])]


# -- files ---------------------------------------------------------------------------------------

class _PythonTag:
    """A ``!!python/...`` node (detectron2 loads those with yaml.unsafe_load; lrkit evaluates
    none): it stands for the value, and is an error only where the schedule reads it."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __repr__(self) -> str:
        return f"<unevaluated {self.tag}>"


def _load(path: Path, depth: int, chain: tuple[str, ...]) -> dict[str, Any]:
    """``fvcore.common.config.CfgNode.load_yaml_with_base``: the file's mapping with its
    ``_BASE_`` file(s) merged under it, bases relative to the file that names them."""
    import yaml

    from ..config import _yaml_loader, read_text

    where = str(path)
    if depth > _BASE_DEPTH:
        raise ConfigError(where, f"_BASE_ chain deeper than {_BASE_DEPTH} files: "
                          f"{' -> '.join(chain)}")
    real = os.path.realpath(path)
    if real in chain:
        raise ConfigError(where, f"_BASE_ chain loops back to it: {' -> '.join(chain)}")
    loader = _yaml_loader(yaml)
    loader.add_multi_constructor("tag:yaml.org,2002:python/",
                                 lambda self, suffix, node: _PythonTag(suffix))
    try:
        data = yaml.load(read_text(path), Loader=loader)  # noqa: S506 - a SafeLoader
    except ConfigError:
        raise
    except Exception as e:  # PyYAML's errors; the message has the line and column
        raise ConfigError(where, f"not valid YAML: {str(e).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(where, f"must hold a mapping of config keys, got {show(data)}")
    base = data.pop("_BASE_", None)
    if base is None:
        return data
    files = base if isinstance(base, list) else [base]
    merged: dict[str, Any] = {}
    for f in files:
        if not isinstance(f, str) or f.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: _BASE_", f"must name YAML files by path, got "
                              f"{show(f)}")
        f = os.path.expanduser(f) if f.startswith("~") else f
        child = Path(f) if f.startswith("/") else path.parent / f
        _merge(_load(child, depth + 1, (*chain, real)), merged, where)
    _merge(data, merged, where)
    return merged


def _merge(a: Mapping[str, Any], b: dict[str, Any], where: str) -> None:
    """fvcore's ``merge_a_into_b``: ``a``'s values over ``b``'s, mappings merged key by key."""
    for k, v in a.items():
        if isinstance(v, dict) and k in b:
            if not isinstance(b[k], dict):
                raise ConfigError(where, f"cannot merge the mapping {k} into a base's "
                                  f"{show(b[k])} (fvcore refuses it too)")
            _merge(v, b[k], where)
        else:
            b[k] = v
