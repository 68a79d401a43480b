"""``param_groups``: a model's parameters as PyTorch optimizer param groups, each with its own
LR and weight decay (name rules, no decay for biases and norms, layer-wise LR decay).

The groups carry their LR in ``"lr"``; one ``lrkit.torch.LRScheduler(opt, s, relative=True)``
then scales every group by ``s(k)``. What does not live here: the schedules (``lrkit``) and the
scheduler that drives the groups (``lrkit.torch``).
"""

from __future__ import annotations

import collections.abc
import fnmatch
import math
import numbers
import operator
import re
from collections.abc import Callable, Mapping
from itertools import chain
from typing import Any

import torch

from .errors import ConfigError, ScheduleError, fail, show

__all__ = ["param_groups"]

_WHO = "lrkit.torch.param_groups"
_SETTINGS = ("lr", "lr_mult", "weight_decay", "decay_mult")
_NAMED = "lr, lr_mult, weight_decay or decay_mult"
_PREV = 99999.0  # timm's MATCH_PREV_GROUP: a matcher suffix joining the previous layer


def param_groups(model: torch.nn.Module, *, lr: float, weight_decay: float = 0.0,
                 rules: Mapping[str, Mapping[str, float]] | None = None,
                 no_decay: str | None = "default", layer_decay: float | None = None,
                 depth: Callable[[str], int] | None = None,
                 lr_scale: bool = False) -> list[dict[str, Any]]:
    """Param groups for ``torch.optim.X(param_groups(model, lr=..., ...))``.

    Each trainable parameter (``requires_grad``) is in exactly one group; frozen ones are left
    out. Parameters with the same settings share a group, in the order of their first
    parameter in ``model.named_parameters()``. A group is ``{"name", "params", "lr",
    "weight_decay"}``, plus ``"layer"`` with ``layer_decay`` and ``"lr_scale"`` with
    ``lr_scale=True``. A parameter's settings are

      ``lr_p = (rule lr or lr · lr_mult) · layer_decay ** (L - layer(p))``
      ``wd_p = rule weight_decay or wd0(p) · decay_mult``

    where ``wd0(p)`` is ``weight_decay``, or 0 for a no-decay parameter, ``layer(p)`` is the
    parameter's layer id and ``L`` the largest one (the head's: its scale is 1).

    Args:
      model: a ``torch.nn.Module``.
      lr: the base LR, >= 0.
      weight_decay: the base weight decay, >= 0.
      rules: ``{pattern: settings}``: fnmatch patterns on the ``named_parameters()`` names
        (``"backbone.*"``, ``"*.bias"``), settings from ``lr`` (replaces the base LR),
        ``lr_mult`` (scales it), ``weight_decay`` (replaces the parameter's decay, no-decay ones
        included) and ``decay_mult`` (scales its default decay, 0 for no-decay parameters).
        Where several patterns match, the longest wins, the alphabetically first of equal
        length, and it alone applies (mmengine's ``custom_keys`` rule); settings it does not
        give keep their defaults. A pattern matching no parameter is an error.
      no_decay: ``"default"``: weight decay 0 for 1-D parameters (biases, LayerNorm, BatchNorm
        and GroupNorm weights), names ending in ``.bias`` and the names (fnmatch patterns) of
        the model's ``no_weight_decay()`` if it has one, as timm's ``create_optimizer_v2``;
        ``None``: decay everything.
      layer_decay: BEiT/ELECTRA layer-wise LR decay in (0, 1]: the layer ``L - n`` below the
        top gets ``layer_decay ** n`` of the LR. Layers come from ``depth``, or from the model's
        ``group_matcher()`` as timm's ``param_groups_layer_decay`` (stem 0, blocks 1.., the
        final norm with the last block, unmatched parameters such as the head on top).
      depth: ``name -> layer id`` (an int >= 0) for ``layer_decay``, evaluated on every
        parameter name.
      lr_scale: timm's convention for its schedulers (``timm.scheduler.*``): the layer factor
        goes into each group's ``"lr_scale"``, which they multiply in, and not into ``"lr"``.
        Leave it off for PyTorch's schedulers and lrkit's, which read ``"lr"`` only.

    Returns:
      The list of param-group dicts.

    >>> import torch
    >>> m = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    >>> [(g["name"], len(g["params"]), g["lr"], g["weight_decay"])
    ...  for g in param_groups(m, lr=0.1, weight_decay=0.05, rules={"1.*": {"lr_mult": 0.5}})]
    [('decay', 1, 0.1, 0.05), ('no_decay', 1, 0.1, 0.0), ('1.*/no_decay', 2, 0.05, 0.0)]

    References:
      Bao et al. 2021, BEiT (layer-wise decay); timm ``optim/_param_groups.py``; mmengine
      ``DefaultOptimWrapperConstructor`` (``paramwise_cfg.custom_keys``).
    """
    if not isinstance(model, torch.nn.Module):
        raise fail(_WHO, "model", "must be a torch.nn.Module", type(model).__name__)
    lr = _number("lr", lr)
    weight_decay = _number("weight_decay", weight_decay)
    if not (no_decay is None or isinstance(no_decay, str) and no_decay == "default"):
        raise fail(_WHO, "no_decay", "must be 'default' or None", no_decay)
    if not isinstance(lr_scale, bool):
        raise fail(_WHO, "lr_scale", "must be True or False", lr_scale)
    named = list(model.named_parameters())
    names = [n for n, _ in named]
    order, settings = _rules(rules, names)
    exempt = _no_decay(model) if no_decay else ()
    layers, top = _layers(model, names, layer_decay, depth)

    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for name, p in named:
        if not p.requires_grad:
            continue
        rule = next((pat for pat in order if fnmatch.fnmatchcase(name, pat)), None)
        s = settings[rule] if rule else {}
        flat = bool(no_decay) and (p.ndim <= 1 or name.endswith(".bias")
                                   or any(fnmatch.fnmatchcase(name, pat) for pat in exempt))
        wd = s.get("weight_decay", (0.0 if flat else weight_decay) * s.get("decay_mult", 1.0))
        base = s.get("lr", lr * s.get("lr_mult", 1.0))
        if not (math.isfinite(base) and math.isfinite(wd)):
            raise ConfigError(f"{_WHO}: rules[{show(rule)}]", f"{show(s)} makes the LR {base!r} "
                              f"and weight decay {wd!r} of {name!r} overflow; give 'lr' or "
                              "'weight_decay' itself")
        layer = layers.get(name)
        key = (layer, rule, wd == 0)
        if key not in groups:
            groups[key] = _group(key, base, wd, layer_decay, top, lr_scale)
        groups[key]["params"].append(p)
    if not groups:
        raise ScheduleError(f"{_WHO}: the model has no trainable parameters (every one has "
                            "requires_grad=False)")
    return list(groups.values())


def _group(key: tuple[Any, ...], lr: float, wd: float, decay: float | None, top: int,
           lr_scale: bool) -> dict[str, Any]:
    layer, rule, zero = key
    parts = ([] if layer is None else [f"layer_{layer}"]) + ([] if rule is None else [rule])
    g: dict[str, Any] = {"name": "/".join([*parts, "no_decay" if zero else "decay"]),
                         "params": [], "lr": lr, "weight_decay": wd}
    if decay is not None:
        scale = float(decay) ** (top - layer)
        g["layer"] = layer
        if lr_scale:
            g["lr_scale"] = scale
        else:
            g["lr"] = lr * scale
    elif lr_scale:
        g["lr_scale"] = 1.0
    return g


def _number(arg: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
        raise fail(_WHO, arg, "must be a finite number >= 0", v)
    return float(v)


def _rules(rules: Any, names: list[str]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """The patterns in the order they are tried (longest first, then alphabetical, as
    mmengine sorts ``custom_keys``) and each one's checked settings."""
    if rules is None:
        return [], {}
    if not isinstance(rules, Mapping):
        raise ConfigError(f"{_WHO}: rules", f"must be a mapping from a name pattern to its "
                          f"settings, e.g. {{'backbone.*': {{'lr_mult': 0.1}}}}, got {show(rules)}")
    checked = {}
    for pat, s in rules.items():
        where = f"{_WHO}: rules[{show(pat)}]"
        if not isinstance(pat, str) or not pat:
            raise ConfigError(where, "a pattern must be a non-empty string (an fnmatch pattern "
                              "on the named_parameters() names, e.g. 'backbone.*')")
        if not isinstance(s, Mapping):
            raise ConfigError(where, f"must be a mapping of settings ({_NAMED}), got {show(s)}")
        for k, v in s.items():
            if k not in _SETTINGS:
                raise ConfigError(where, f"unknown setting {show(k)}; a rule sets {_NAMED}")
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) \
                    or v < 0:
                raise ConfigError(where, f"{k!r} must be a finite number >= 0, got {show(v)}")
        for a, b in (("lr", "lr_mult"), ("weight_decay", "decay_mult")):
            if a in s and b in s:
                raise ConfigError(where, f"sets both {a!r} and {b!r}; give one ({a!r} replaces "
                                  f"the base value, {b!r} scales it)")
        if not any(fnmatch.fnmatchcase(n, pat) for n in names):
            raise ConfigError(where, f"matches no parameter of the model (its names: "
                              f"{show(names[:6])}{' …' if len(names) > 6 else ''}); fix the "
                              "pattern (fnmatch: '*' for any characters) or remove the rule")
        checked[pat] = {k: float(v) for k, v in s.items()}
    return sorted(sorted(checked), key=len, reverse=True), checked


def _no_decay(model: torch.nn.Module) -> tuple[str, ...]:
    """The name patterns of the model's ``no_weight_decay()`` (timm's models have one)."""
    method = getattr(model, "no_weight_decay", None)
    if not callable(method):
        return ()
    try:
        names = method()
        out = tuple(names)
    except Exception as e:  # noqa: BLE001 - the model's code: report it, whatever it raised
        raise ScheduleError(f"{_WHO}: model.no_weight_decay() failed: {show(e)}; pass "
                            "no_decay=None to skip it") from None
    if not all(isinstance(n, str) for n in out):
        raise ScheduleError(f"{_WHO}: model.no_weight_decay() must give parameter names "
                            f"(strings), got {show(names)}")
    return out


def _layers(model: torch.nn.Module, names: list[str], decay: Any,
            depth: Any) -> tuple[dict[str, int], int]:
    """Each parameter's layer id (over all parameters, frozen ones too, as timm) and the
    largest id; empty without ``layer_decay``."""
    if decay is None:
        if depth is not None:
            raise fail(_WHO, "depth", "is used only with layer_decay", depth,
                       "pass layer_decay=0.75 (say) too, or leave depth out")
        return {}, 0
    if isinstance(decay, bool) or not isinstance(decay, numbers.Real) \
            or not 0 < float(decay) <= 1:
        raise fail(_WHO, "layer_decay", "must be a number in (0, 1]", decay,
                   "BEiT and ELECTRA use 0.65-0.9")
    if depth is not None:
        if not callable(depth):
            raise fail(_WHO, "depth", "must be a function name -> layer id", depth)
        layers = {n: _layer_id(depth, n) for n in names}
    elif callable(getattr(model, "group_matcher", None)):
        layers = _matched_layers(model, names)
    else:
        raise ScheduleError(
            f"{_WHO}: layer_decay needs each parameter's layer: {type(model).__name__} has no "
            "group_matcher() (timm's models do); pass depth=, e.g. depth=lambda name: "
            "int(name.split('.')[1]) + 1 if name.startswith('blocks.') else "
            "0 if name.startswith(('patch_embed', 'cls_token', 'pos_embed')) else 13")
    top = max(layers.values())
    if top == 0:
        raise ScheduleError(f"{_WHO}: every parameter is in layer 0, so layer_decay has no "
                            "effect; check depth or group_matcher(), or leave layer_decay out")
    return layers, top


def _layer_id(depth: Callable[[str], Any], name: str) -> int:
    try:
        got = depth(name)
    except Exception as e:  # noqa: BLE001 - the user's function: report it, whatever it raised
        raise ScheduleError(f"{_WHO}: depth({name!r}) failed: {show(e)}") from None
    try:
        if isinstance(got, bool):
            raise TypeError
        n = operator.index(got)
    except TypeError:
        n = -1
    if n < 0:
        raise ScheduleError(f"{_WHO}: depth({name!r}) must be a layer id (an int >= 0), got "
                            f"{show(got)}")
    return n


def _matched_layers(model: torch.nn.Module, names: list[str]) -> dict[str, int]:
    """timm's ``group_parameters(model, model.group_matcher(coarse=False), reverse=True)``
    (``timm/models/_manipulate.py``, ``group_with_matcher``): each name's ordinal from the
    first matching pattern, unmatched names last, ordinals ranked into layer ids, an ordinal
    ending in 99999 joining the previous layer."""
    try:
        matcher = model.group_matcher(coarse=False)  # type: ignore[operator]
        rank = _ordinals(matcher)
        ords = {n: rank(n) for n in names}
    except Exception as e:  # noqa: BLE001 - the model's code: report it, whatever it raised
        raise ScheduleError(f"{_WHO}: reading the layers from model.group_matcher() failed: "
                            f"{show(e)}; pass depth=") from None
    layers, lid, seen = {}, -1, {}
    for k in sorted(set(ords.values())):
        if lid < 0 or k[-1] != _PREV:
            lid += 1
        seen[k] = lid
    for n in names:
        layers[n] = seen[ords[n]]
    return layers


def _ordinals(matcher: Any) -> Callable[[str], tuple[float, ...]]:
    if isinstance(matcher, dict):
        compiled = []
        for i, spec in enumerate(matcher.values()):
            if spec is None:
                continue
            if isinstance(spec, (tuple, list)):
                compiled += [(re.compile(s[0]), (i,), s[1]) for s in spec]
            else:
                compiled.append((re.compile(spec), (i,), None))
        matcher = compiled
    if isinstance(matcher, (list, tuple)):
        table = matcher

        def rank(name: str) -> tuple[float, ...]:
            for pattern, prefix, suffix in table:
                r = pattern.match(name)
                if r:
                    parts = (prefix, r.groups(), suffix)
                    return tuple(map(float, chain.from_iterable(filter(None, parts))))
            return (math.inf,)
        return rank

    def ordinal(name: str) -> tuple[float, ...]:
        o = matcher(name)
        return tuple(o) if isinstance(o, collections.abc.Iterable) else (o,)
    return ordinal
