"""``from_megatron``: Megatron-LM's learning-rate arguments as an lrkit schedule.

Megatron-LM's ``get_optimizer_param_scheduler`` (``megatron/training/training.py``) turns the
arguments into a megatron-core ``OptimizerParamScheduler`` that counts *samples*: every length
is multiplied by ``--global-batch-size`` in iteration-based runs, the scheduler is built with
``step(0)`` and advanced by ``step(increment=global_batch_size)`` after each optimizer update.
Update ``k`` therefore uses the LR at sample ``n = k · global_batch_size``; this module builds
that function of ``k``.

Conventions reproduced: the warmup holds for ``n <= warmup`` (its last update gets the peak), a
warmup fraction is a share of the *decay* length (``fraction · lr_decay_steps``, a float in
samples), a sample-based length that is not a multiple of the batch puts a phase boundary
between two updates, ``min_lr`` from the update after ``lr_decay_*`` on (for
``inverse-square-root`` too, a jump), WSD's annealing phase counted back from the end of the
decay (it may begin inside the warmup), and WSD's ``exponential`` anneal ``2 · 0.5^r - 1``.

Not reproduced, and refused: ``--rampup-batch-size`` and ``--step-batch-size-schedule`` (the
batch size changes, so the update-to-sample map is not linear). Ignored: ``--decoupled-lr`` and
per-group multipliers (the schedule is the one of the groups without overrides), and updates
Megatron skips (an inf/NaN gradient skips the update and the scheduler step alike). Nothing here
imports Megatron.
"""

from __future__ import annotations

import argparse
import math
import numbers
import re
import shlex
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, exponential, inverse_sqrt, linear, one_minus_sqrt
from ..errors import ConfigError, ScheduleError, show

__all__ = ["from_megatron", "script_arguments"]

#: The arguments read, by argparse ``dest``, with the type Megatron's parser gives them.
_KINDS = {
    "lr": "float", "min_lr": "float", "lr_warmup_init": "float", "lr_warmup_fraction": "float",
    "lr_decay_style": "str", "lr_wsd_decay_style": "str",
    "lr_warmup_iters": "int", "lr_warmup_samples": "int", "lr_decay_iters": "int",
    "lr_decay_samples": "int", "lr_wsd_decay_iters": "int", "lr_wsd_decay_samples": "int",
    "train_iters": "int", "train_samples": "int", "global_batch_size": "int",
    "rampup_batch_size": "ramp", "step_batch_size_schedule": "ramp",
}
#: Megatron's defaults (megatron/training/config/training_config.py, SchedulerConfig).
_DEFAULTS: dict[str, Any] = {"min_lr": 0.0, "lr_warmup_init": 0.0, "lr_decay_style": "linear",
                             "lr_wsd_decay_style": "exponential", "lr_warmup_iters": 0,
                             "lr_warmup_samples": 0}
_CHOICES = {"lr_decay_style": ("constant", "linear", "cosine", "inverse-square-root", "WSD"),
            "lr_wsd_decay_style": ("exponential", "linear", "cosine", "minus_sqrt")}
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)=(\S*)\s*(?:#.*)?$")
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|([A-Za-z_]\w*))")
_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # what argparse takes as a value
_MAX_COUNT = 2**53  # counts stay exact in float64, as Megatron's float(num_steps) needs
_MAX_LR = 1e300
_SHORTEST = 2.0**-20  # lrkit's shortest length, in updates


def from_megatron(args: Any) -> Schedule:
    """The LR Megatron-LM's training loop gives each optimizer update, from its arguments.

    Args:
      args: Megatron's arguments as an ``argparse.Namespace``, a mapping (argparse's
        underscored names such as ``lr_decay_style``, or the dashed flags), or a list of
        command-line strings (``["--lr", "3e-4", "--lr-decay-style", "cosine", ...]``; flags
        other than the learning-rate ones are skipped). Read: ``--lr``, ``--min-lr``,
        ``--lr-decay-style``, ``--lr-wsd-decay-style``, ``--lr-wsd-decay-iters``/``-samples``,
        ``--lr-warmup-init``, ``--lr-warmup-fraction``/``-iters``/``-samples``,
        ``--lr-decay-iters``/``-samples``, ``--train-iters``/``-samples`` and
        ``--global-batch-size`` (required: the scheduler counts samples).

    Returns:
      The schedule ``s`` with ``s(k)`` the LR of the ``k``-th (0-based) optimizer update.

    >>> s = from_megatron(["--lr", "1.0", "--train-iters", "10", "--lr-warmup-iters", "2",
    ...                    "--global-batch-size", "8"])
    >>> [round(s(k), 3) for k in (0, 1, 2, 3, 6, 10, 11)]
    [0.0, 0.5, 1.0, 0.875, 0.5, 0.0, 0.0]
    """
    a = _arguments(args)
    for name in ("rampup_batch_size", "step_batch_size_schedule"):
        if a[name] is not None:
            raise _error(name, f"is not supported, got {show(a[name])}: a batch size that "
                         "changes during training makes the map from update to sample count "
                         "(Megatron's scheduler counts samples) non-linear; lrkit will read it "
                         "when its clock supports a batch-size ramp (drop the flag to import the "
                         "run at its final --global-batch-size, if the ramp is a negligible "
                         "part)")
    peak, low, init = a["lr"], a["min_lr"], a["lr_warmup_init"]
    if peak is None:
        raise _error("lr", "is required (the peak learning rate)")
    gbs = a["global_batch_size"]
    if gbs is None or gbs == 0:
        raise _error("global_batch_size", f"must be a whole number > 0, got {show(gbs)}; "
                     "Megatron's scheduler counts samples, and without the flag Megatron uses "
                     "--micro-batch-size times the data-parallel size: pass that number")
    warm, decay, wsd = _lengths(a, gbs)
    if low > peak:
        raise _error("min_lr", f"must be <= --lr ({peak!r}), got {low!r} (Megatron asserts it)")
    if init > peak:
        raise _error("lr_warmup_init", f"must be <= --lr ({peak!r}), got {init!r} (Megatron "
                     "asserts it)")
    style = a["lr_decay_style"]
    if style == "WSD" and wsd is None:
        flag = "--lr-wsd-decay-iters" if a["train_iters"] else "--lr-wsd-decay-samples"
        raise _error("lr_decay_style", f"'WSD' needs {flag} (the length of the annealing "
                     "phase); Megatron asserts it is set")
    try:
        return _schedule(init, peak, low, warm, decay, style, wsd, a["lr_wsd_decay_style"], gbs)
    except ConfigError:
        raise
    except ScheduleError as e:  # a shape's own limit (values up to 1e300): say where
        raise ConfigError("from_megatron", str(e)) from None


def updates(args: Any) -> int | None:
    """The run's optimizer updates (``from_megatron``'s arguments): ``--train-iters``, else
    ``--train-samples // --global-batch-size`` as Megatron's ``update_train_iters`` counts them
    without a ramp; None when the arguments do not say. The run ``lrkit lint`` checks."""
    a = _arguments(args)
    if a["train_iters"]:
        return int(a["train_iters"])
    if a["train_samples"] and a["global_batch_size"]:
        return int(a["train_samples"]) // int(a["global_batch_size"])
    return None


def script_arguments(text: str) -> list[str]:
    """The words of a launch script (shell quoting, comments and line continuations as bash
    reads them), ready for ``from_megatron``.

    Variables the script sets on a line of their own (``GBS=512``, ``export LR=3e-4``) are
    substituted where used as ``$GBS``, ``${GBS}`` or ``${GBS:-512}`` (the default when the
    script never sets it), and a quoted ``ARGS="--lr 3e-4 ..."`` adds its words. Anything else
    stays as written (arguments ``$1``, arithmetic ``$((...))``, the environment, a variable
    set to different values in different branches), and ``from_megatron`` names the flag whose
    value it is.
    """
    known: dict[str, str] = {}

    def expand(word: str) -> str:
        def one(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(3)
            if name in known:
                return known[name]
            return m.group(2) if m.group(2) is not None else m.group(0)
        return _VARIABLE.sub(one, word)

    twice: set[str] = set()
    for line in text.splitlines():
        m = _ASSIGNMENT.match(line)
        if m and not m.group(2).startswith("("):
            name, value = m.group(1), expand(m.group(2).strip("\"'"))
            if known.get(name, value) != value:  # set in two branches: which one runs?
                twice.add(name)
            known[name] = value
    for name in twice:
        del known[name]
    try:
        words = shlex.split(text, comments=True)
    except ValueError as e:  # an unclosed quote
        raise ConfigError("from_megatron", f"the launch script does not split into words: "
                          f"{e}") from None
    out: list[str] = []
    for w in map(expand, words):
        name, eq, value = w.partition("=")
        if eq and name.isidentifier() and value.split() != [value]:
            # ARGS="--lr 3e-4 ..." is expanded unquoted later: its words are the script's too
            out += shlex.split(value.replace("\\\n", " "), comments=True)
        else:
            out.append(w)
    return out


def _error(name: str, message: str) -> ConfigError:
    return ConfigError(f"from_megatron: --{name.replace('_', '-')}", message)


# -- reading the arguments -------------------------------------------------------------------

def _arguments(args: Any) -> dict[str, Any]:
    """Each argument read, typed and checked, with Megatron's default when absent."""
    if isinstance(args, argparse.Namespace):
        raw = _from_mapping(vars(args))
    elif isinstance(args, Mapping):
        raw = _from_mapping(args)
    elif isinstance(args, (list, tuple)):
        raw = _from_command_line(args)
    else:
        fix = "; read a launch script's text with script_arguments first" if isinstance(
            args, str) else ""
        raise ConfigError("from_megatron", f"expected an argparse.Namespace, a mapping or a "
                          f"list of command-line strings, got {show(args)}{fix}")
    return {name: _typed(name, raw.get(name), _DEFAULTS.get(name)) for name in _KINDS}


def _from_mapping(m: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, v in m.items():
        if not isinstance(key, str):
            continue
        name = key.lstrip("-").replace("-", "_")
        if name not in _KINDS or v is None:
            continue
        if name in out and not _same(out[name], v):
            raise _error(name, f"is given twice with different values, {show(out[name])} and "
                         f"{show(v)}; keep one spelling")
        out[name] = v
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an array's ambiguous truth, a broken __eq__
        return False


def _from_command_line(tokens: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    """Megatron's parser for the flags read (``allow_abbrev=False``: whole names only; the last
    occurrence wins; ``--flag=value`` or ``--flag value``)."""
    for i, tok in enumerate(tokens):
        if not isinstance(tok, str):
            raise ConfigError("from_megatron", f"command-line item {i} must be a string, got "
                              f"{show(tok)}")
    out: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if not tok.startswith("--"):
            continue
        flag, eq, value = tok[2:].partition("=")
        name = flag.replace("-", "_")
        if name not in _KINDS or "_" in flag:  # argparse spells these flags with dashes
            continue
        n = 3 if name == "rampup_batch_size" else 1
        if eq:
            out[name] = value
            continue
        values = list(tokens[i:i + n])
        if len(values) < n or not all(not v.startswith("-") or _NEGATIVE_NUMBER.match(v)
                                      for v in values):
            raise _error(name, f"expects {n} value{'s' if n > 1 else ''} after it, got "
                         f"{show(values[:n])}")
        out[name] = values[0] if n == 1 else values
        i += n
    return out


def _typed(name: str, v: Any, default: Any) -> Any:
    if v is None:
        return default
    kind = _KINDS[name]
    if kind == "ramp":
        return v
    if kind == "str":
        if v not in _CHOICES[name]:
            near = [c for c in _CHOICES[name] if isinstance(v, str) and c.lower() == v.lower()]
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise _error(name, f"must be one of {', '.join(map(repr, _CHOICES[name]))}, got "
                         f"{show(v)}{hint}")
        return v
    if kind == "int":
        return _count(name, v)
    f = _number(name, v)
    if not 0 <= f <= (math.inf if name == "lr_warmup_fraction" else _MAX_LR):
        top = "" if name == "lr_warmup_fraction" else " and <= 1e300"
        raise _error(name, f"must be >= 0{top}, got {show(v)}")
    return f


def _number(name: str, v: Any) -> float:
    if isinstance(v, str):
        try:
            f = float(v)  # argparse's type=float
        except ValueError:
            raise _error(name, f"must be a number, got {show(v)}" + (
                " (expand shell variables first)" if "$" in v else "")) from None
    elif isinstance(v, numbers.Real) and not isinstance(v, bool):
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
    else:
        raise _error(name, f"must be a number, got {show(v)}")
    if not math.isfinite(f):
        raise _error(name, f"must be a finite number, got {show(v)}")
    return f


def _count(name: str, v: Any) -> int:
    if isinstance(v, str):
        try:
            n = int(v)  # argparse's type=int: "1000" and "1_000", not "1e3"
        except ValueError:
            raise _error(name, f"must be a whole number, got {show(v)}" + (
                " (expand shell variables first)" if "$" in v else "")) from None
    elif isinstance(v, numbers.Integral) and not isinstance(v, bool):
        n = int(v)
    else:
        f = _number(name, v)  # a float count is read if whole, as in a YAML "1.0e6"
        if not f.is_integer():
            raise _error(name, f"must be a whole number, got {show(v)}")
        n = int(f)
    if not 0 <= n <= _MAX_COUNT:
        raise _error(name, f"must be a whole number >= 0 and <= 2**53, got {show(v)}")
    return n


def _lengths(a: dict[str, Any], gbs: int) -> tuple[float, int, int | None]:
    """Warmup, decay and WSD-annealing lengths in samples, as get_optimizer_param_scheduler
    computes them, after validate_args' checks of which flags go together."""
    if a["train_iters"]:
        _only(a, "train_iters", ("train_samples", "lr_decay_samples"), ("lr_warmup_samples",))
        if a["lr_warmup_fraction"] is not None and a["lr_warmup_iters"]:
            raise _error("lr_warmup_fraction", "and --lr-warmup-iters are both given; give one")
        decay_iters = a["lr_decay_iters"]
        decay = (a["train_iters"] if decay_iters is None else decay_iters) * gbs
        wsd = None if a["lr_wsd_decay_iters"] is None else a["lr_wsd_decay_iters"] * gbs
        warm = a["lr_warmup_iters"] * gbs
    elif a["train_samples"]:
        _only(a, "train_samples", ("train_iters", "lr_decay_iters"), ("lr_warmup_iters",))
        if a["lr_warmup_fraction"] is not None and a["lr_warmup_samples"]:
            raise _error("lr_warmup_fraction", "and --lr-warmup-samples are both given; give "
                         "one")
        decay_samples = a["lr_decay_samples"]
        decay = a["train_samples"] if decay_samples is None else decay_samples
        wsd = a["lr_wsd_decay_samples"]
        warm = a["lr_warmup_samples"]
    else:
        raise _error("train_iters", "is required, or --train-samples (a run length > 0); "
                     "Megatron raises 'either train-iters or train-samples should be provided'")
    unit = "iters" if a["train_iters"] else "samples"
    if decay == 0:
        raise _error(f"lr_decay_{unit}", "must be > 0 (Megatron asserts lr_decay_steps > 0)")
    w: float = warm if a["lr_warmup_fraction"] is None else a["lr_warmup_fraction"] * decay
    if not w < decay:
        raise _error("lr_warmup_fraction" if a["lr_warmup_fraction"] is not None else
                     f"lr_warmup_{unit}", f"gives a warmup of {w!r} samples, not shorter than "
                     f"the decay ({decay} samples); Megatron asserts warmup < decay")
    return w, decay, wsd


def _only(a: dict[str, Any], mode: str, absent: tuple[str, ...], zero: tuple[str, ...]) -> None:
    """validate_args: a run counts in iterations or in samples, not both."""
    for name in absent:
        if a[name] is not None:
            raise _error(name, f"cannot be used with --{mode.replace('_', '-')} (Megatron "
                         f"asserts it is not given), got {show(a[name])}")
    for name in zero:
        if a[name]:
            raise _error(name, f"cannot be used with --{mode.replace('_', '-')} (Megatron "
                         f"asserts it is 0), got {show(a[name])}")


# -- the schedule ----------------------------------------------------------------------------

def _schedule(init: float, peak: float, low: float, warm: float, decay: int, style: str,
              wsd: int | None, wsd_style: str, gbs: int) -> Schedule:
    """OptimizerParamScheduler.get_lr at ``n = k · gbs``, phase by phase.

    A phase starts at the first update whose sample count passes Megatron's test, ``n > x``
    (computed exactly); where both sides of ``x`` give the same value it starts at ``n >= x``,
    which reads better (``linear(0, 1, 2) >> linear(1, 0, 8)``, no ``skip(1)``). Each phase
    sees ``(n - x0) / gbs``, the updates since its own origin ``x0``."""
    def after(x: float, same: bool) -> int:  # the first k with k · gbs > x (>= x when same)
        q = Fraction(x) / gbs
        return max(math.ceil(q) if same else math.floor(q) + 1, 0)

    # The warmup ends continuously (at the peak), except into a WSD anneal that began earlier.
    anneal_early = style == "WSD" and wsd is not None and decay - wsd < warm
    k_warm = after(warm, not anneal_early) if warm > 0 else 0
    parts: list[tuple[int, Schedule]] = []
    if k_warm == 1:
        parts.append((0, constant(init)))
    elif k_warm > 1:
        parts.append((0, linear(init, peak, _updates(warm, gbs, "warmup"))))
    if style == "constant":
        return _join([*parts, (k_warm, constant(peak))])
    if style == "inverse-square-root":
        # peak · sqrt(max(warm, 1) / max(n, 1)), from k_start on S / sqrt(1 + t / k_start),
        # then min_lr past the decay: a jump, so that boundary is n > decay exactly.
        k_start, k_end = max(k_warm, 1), after(decay, False)
        if k_warm == 0:
            parts.append((0, constant(peak)))
        if k_end > k_start:
            curve = inverse_sqrt(peak * math.sqrt(max(warm, 1) / (k_start * gbs)), k_start)
            parts.append((k_start, curve.clip(min=low) if low > 0 else curve))
        return _join([*parts, (k_end, constant(low))])
    k_end = after(decay, wsd != 0)  # a WSD without anneal jumps to min_lr after the decay
    if style == "WSD":
        assert wsd is not None
        origin = decay - wsd
        k_anneal = max(after(origin, True), k_warm)
        parts.append((k_warm, constant(peak)))
        if wsd > 0 and k_end > k_anneal:
            anneal = _anneal(wsd_style, peak, low, _updates(wsd, gbs, "WSD annealing"))
            parts.append((k_anneal, _shifted(anneal, k_anneal - Fraction(origin) / gbs)))
    elif k_end > k_warm:
        over = _updates(Fraction(decay) - Fraction(warm), gbs, "decay")
        fall = (linear if style == "linear" else cosine)(peak, low, over)
        parts.append((k_warm, _shifted(fall, k_warm - Fraction(warm) / gbs)))
    return _join([*parts, (k_end, constant(low))])


def _updates(samples: float | Fraction, gbs: int, phase: str) -> float:
    over = float(Fraction(samples) / gbs)
    if over < _SHORTEST:
        raise ConfigError("from_megatron", f"the {phase} phase lasts {over!r} updates "
                          f"({float(samples)!r} samples at a global batch size of {gbs}); "
                          "lrkit's shortest phase is 2**-20 updates")
    return over


def _anneal(style: str, peak: float, low: float, over: float) -> Schedule:
    if style == "linear":
        return linear(peak, low, over)
    if style == "cosine":
        return cosine(peak, low, over)
    if style == "minus_sqrt":
        return one_minus_sqrt(peak, low, over)
    d = peak - low  # exponential: low + d · (2 · 0.5^r - 1)
    if d == 0:
        return constant(low)
    s = exponential(2 * d, 0.5, over) - d
    return s + low if low > 0 else s


def _shifted(curve: Schedule, delta: Fraction) -> Schedule:
    """``curve`` ``delta`` (>= 0) updates on: ``value(t) = curve(t + delta)``."""
    d = float(delta)
    if d == 0:
        return curve
    if d >= _SHORTEST:
        return curve.skip(d)
    # A skip this short is below lrkit's time resolution: delay by one update, skip 1 + d.
    return (constant(curve(0), over=1) >> curve).skip(1 + d)


def _join(parts: list[tuple[int, Schedule]]) -> Schedule:
    """The phases in order, each from its start on; a phase that an equal or later start hides
    is dropped."""
    kept: list[tuple[int, Schedule]] = []
    for start, s in parts:
        while kept and kept[-1][0] >= start:
            kept.pop()
        kept.append((start, s))
    if len(kept) == 1:
        return kept[0][1]
    return sequence([s for _, s in kept], at=[start for start, _ in kept[1:]])
