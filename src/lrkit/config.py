"""Schedules from and to plain data: mappings, JSON/TOML/YAML files, and the JSON schema.

A config is ``{"kind": <kind>, <argument>: <value>, …}`` with keys equal to the constructor's
arguments and nested schedules nested. A file holds either such a mapping or a wrapper
``{"schedule": {...}, "bind": {"steps_per_epoch": …, "total_steps": …}, "description": "…"}``;
the wrapper's ``bind`` is applied on load. YAML is read with ``safe_load`` only.

What does not live here: the schedule classes, which declare their arguments' roles.
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._schedule import MAX_DEPTH, MISSING, REGISTRY, Field, Schedule
from .errors import ConfigError, ScheduleError

__all__ = ["from_config", "json_schema", "load_file"]

_WRAPPER_KEYS = ("schedule", "bind", "description")
_BIND_KEYS = ("steps_per_epoch", "total_steps", "samples_per_step", "tokens_per_step")


def from_config(config: Mapping[str, Any] | str | Path) -> Schedule:
    """Build a schedule from a config mapping, a JSON/TOML/YAML file path, or one-line text.

    Unknown kinds and keys are errors that suggest the nearest valid name; every error is a
    ``ConfigError`` naming the file and the path inside it
    (``run.yaml: schedule.schedules[1]: cosine: 'over' must be > 0 steps, got 0``).

    >>> from_config({"kind": "cosine", "start": 0.1, "end": 0.0, "over": 100})
    cosine(0.1, 0.0, 100)
    """
    if isinstance(config, str) and "(" in config:  # a one-line expression, not a path
        from .syntax import parse

        return parse(config)
    if isinstance(config, (str, Path)):
        data, source = load_file(config), Path(config).name
    else:
        data, source = config, ""
    return _from_document(data, source)


def load_file(path: str | Path) -> Any:
    """The plain data in a JSON, TOML or YAML file (YAML through ``safe_load`` only)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(p), f"cannot read the file ({e.strerror or e})") from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise ConfigError(p.name, "reading YAML needs PyYAML: pip install "
                                  "'lrkit[yaml]'") from None
            return yaml.load(text, Loader=_yaml_loader(yaml))  # noqa: S506 - a SafeLoader
    except ConfigError:
        raise
    except Exception as e:  # each parser's own error type; its message has line and column
        msg = str(e).replace("\n", " ")
        raise ConfigError(p.name, f"not valid {suffix[1:].upper()}: {msg}") from None
    raise ConfigError(p.name, f"unknown file type {suffix!r}; use .json, .toml, .yaml or .yml")


def _yaml_loader(yaml: Any) -> Any:
    """PyYAML's SafeLoader, reading floats as YAML 1.2 does: YAML 1.1 takes ``1e-3`` (no dot)
    for a string, which no user means."""
    import re

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))
    return Loader


def _from_document(data: Any, source: str) -> Schedule:
    if isinstance(data, Mapping) and "kind" not in data and "schedule" in data:
        _check_keys(data, _WRAPPER_KEYS, source, "")
        s = _build(data["schedule"], source, "schedule")
        bind = data.get("bind") or {}
        if not isinstance(bind, Mapping):
            raise ConfigError(_where(source, "bind"), f"must be a mapping, got {bind!r}")
        _check_keys(bind, _BIND_KEYS, source, "bind")
        try:
            return s.bind(**bind)
        except ScheduleError as e:
            raise ConfigError(_where(source, "bind"), str(e)) from None
    return _build(data, source, "schedule")


def _where(source: str, path: str) -> str:
    return ": ".join(p for p in (source, path) if p)


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], source: str,
                path: str) -> None:
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else \
                f"; valid keys: {', '.join(allowed)}"
            raise ConfigError(_where(source, path), f"unknown key {key!r}{hint}")


def _build(data: Any, source: str, path: str) -> Schedule:
    if isinstance(data, Schedule):
        return data
    if path.count(".") > MAX_DEPTH + 1:  # also a mapping that contains itself
        raise ConfigError(_where(source, path), f"schedules nest at most {MAX_DEPTH} deep")
    if isinstance(data, str):  # the one-line syntax, anywhere a schedule goes
        from .syntax import parse

        try:
            return parse(data)
        except ConfigError as e:
            raise ConfigError(_where(source, path), f"{e.where}: {e.message}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(_where(source, path),
                          f"a schedule must be a mapping with a 'kind', got {data!r}")
    kind = data.get("kind")
    if kind not in REGISTRY:
        kinds = sorted(REGISTRY)
        near = [] if kind is None else difflib.get_close_matches(str(kind), kinds, n=1)
        hint = f"did you mean {near[0]!r}?" if near else f"known kinds: {', '.join(kinds)}"
        what = "missing 'kind'" if kind is None else f"unknown kind {kind!r}"
        raise ConfigError(_where(source, path), f"{what}; {hint}")
    cls = REGISTRY[kind]
    fields = {f.name: f for f in cls._fields}
    _check_keys({k: v for k, v in data.items() if k != "kind"}, tuple(fields), source, path)
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is MISSING:
                raise ConfigError(_where(source, path),
                                  f"{kind}: missing required key {name!r}")
            continue
        try:
            kwargs[name] = f.role.from_data(
                data[name], lambda v, p: _build(v, source, p), f"{path}.{name}")
        except ConfigError as e:  # a role's own complaint about the shape of the data
            if e.where.startswith(path):
                raise ConfigError(_where(source, e.where), e.message) from None
            raise
    try:
        return cls(**kwargs)
    except ScheduleError as e:
        raise ConfigError(_where(source, path), str(e)) from None
    except TypeError as e:
        raise ConfigError(_where(source, path), f"{kind}: {e}") from None


# --- JSON schema ------------------------------------------------------------------------------

_REF = {"$ref": "#/$defs/schedule"}


def _field_schema(f: Field) -> dict[str, Any]:
    schema = f.role.schema()
    if f.default is None:
        return {"oneOf": [schema, {"type": "null"}]}
    if f.default is not MISSING:
        d = f.default
        schema["default"] = d if not (isinstance(d, float) and math.isinf(d)) else None
    return schema


def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for schedule configs and config files, from the registry."""
    defs: dict[str, Any] = {}
    for kind, cls in sorted(REGISTRY.items()):
        fields = cls._fields
        defs[kind] = {
            "type": "object",
            "description": (cls.__doc__ or "").strip().splitlines()[0],
            "properties": {"kind": {"const": kind}, **{f.name: _field_schema(f) for f in fields}},
            "required": ["kind"] + [f.name for f in fields if f.default is MISSING],
            "additionalProperties": False,
        }
    defs["schedule"] = {"oneOf": [{"$ref": f"#/$defs/{k}"} for k in sorted(REGISTRY)]
                        + [{"type": "string", "description": "the one-line syntax"}]}
    wrapper = {
        "type": "object",
        "properties": {
            "schedule": _REF,
            "bind": {"type": "object", "additionalProperties": False,
                     "properties": {k: {"type": "number", "exclusiveMinimum": 0}
                                    for k in _BIND_KEYS}},
            "description": {"type": "string"},
        },
        "required": ["schedule"],
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lrkit schedule",
        "oneOf": [_REF, wrapper],
        "$defs": defs,
    }
