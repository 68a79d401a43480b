"""Schedules from and to plain data: mappings, JSON/TOML/YAML files, and the JSON schema.

A config is ``{"kind": <kind>, <argument>: <value>, …}`` with keys equal to the constructor's
arguments and nested schedules nested. A file holds either such a mapping or a wrapper
``{"schedule": {...}, "bind": {"steps_per_epoch": …, "total_steps": …}, "description": "…"}``;
the wrapper's ``bind`` is applied on load. YAML is read with ``safe_load`` only.

Limits on untrusted input, each refused with a ``ConfigError`` naming the file or the place:
a file must be a regular file (after symlinks) of at most ``MAX_FILE_BYTES`` (1 MiB) of UTF-8
text, with no key repeated in a mapping (JSON and YAML would keep the last; TOML already
refuses). A mapping used in several places (a YAML alias, a dict reused in a Python config) is
built once; the schedule built must have at most ``MAX_NODES`` (100,000) nodes counted as a
tree, shared parts once per use, because evaluation, ``repr`` and ``to_config`` walk it as a
tree: a product of the previous level with itself, 24 deep, is 24 mappings in a 1 KB YAML file
but 2**24 nodes, and is refused at build time.

What does not live here: the schedule classes, which declare their arguments' roles.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._schedule import MAX_DEPTH, MAX_NODES, MISSING, REGISTRY, Field, Schedule
from .errors import ConfigError, ScheduleError, show

__all__ = ["MAX_FILE_BYTES", "MAX_NODES", "from_config", "json_schema", "load_file",
           "read_text"]

#: The largest config file read, in bytes: a schedule config is a few hundred bytes.
MAX_FILE_BYTES = 1 << 20

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
    """The plain data in a JSON, TOML or YAML file (YAML through ``safe_load`` only).

    The path and the suffix are checked before anything is read: a regular file (after
    symlinks; not a FIFO, device or directory) of at most ``MAX_FILE_BYTES`` of UTF-8 text. A
    key repeated in a JSON or YAML mapping is an error, as in TOML.
    """
    p = Path(_path(path))
    suffix = p.suffix.lower()
    if suffix not in (".json", ".toml", ".yaml", ".yml"):
        raise ConfigError(p.name, f"unknown file type {show(suffix)}; use .json, .toml, .yaml "
                                  "or .yml")
    text = read_text(p)
    if not text.strip():
        raise ConfigError(p.name, "the file is empty; write a schedule config such as "
                          '{"kind": "cosine", "start": 0.1, "end": 0, "over": 1000}')
    try:
        if suffix == ".json":
            return json.loads(text, object_pairs_hook=_json_object, parse_int=_json_int)
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
        msg = _yaml_message(e) if suffix in (".yaml", ".yml") else str(e).replace("\n", " ")
        if "integer string conversion" in msg:  # Python's advice is for programmers
            msg = "a whole number of more than 4300 digits is out of range"
        raise ConfigError(p.name, f"not valid {suffix[1:].upper()}: {msg}") from None


def _yaml_message(e: Exception) -> str:
    """PyYAML's error as one line: the problem at its line and column (its own text names
    ``<unicode string>`` and spreads over lines with a caret that points nowhere useful)."""
    mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
    if mark is None or problem is None:
        return str(e).replace("\n", " ")
    context = getattr(e, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    return f"{problem} at {where}" + (f" ({context})" if context else "")


def read_text(path: str | Path) -> str:
    """The UTF-8 text of a regular file of at most ``MAX_FILE_BYTES`` (checked before it is
    read, as ``load_file`` does), or a ``ConfigError`` naming the file."""
    p = Path(_path(path))
    return _decode(_read(p), p.name)


def _path(path: str | Path) -> str | Path:
    if "\0" in str(path):
        raise ConfigError(show(str(path)), "a file path cannot contain a NUL character")
    return path


def _read(p: Path) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``. The file is opened without
    blocking and checked through its descriptor, so a FIFO or device swapped in after a check
    on the path is refused too, never waited on or read forever."""
    def refuse(why: str) -> ConfigError:
        return ConfigError(str(p), f"cannot read the file ({why})")

    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise refuse(e.strerror or str(e)) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
        os.close(fd)
        if st.st_size > MAX_FILE_BYTES and stat.S_ISREG(st.st_mode):
            raise refuse(f"{st.st_size} bytes; a config file has at most {MAX_FILE_BYTES}")
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO" if \
            stat.S_ISFIFO(st.st_mode) else "a device or other special file"
        raise refuse(f"not a regular file but {what}")
    with os.fdopen(fd, "rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)  # files that report no size (/proc) are read so far
    if len(data) > MAX_FILE_BYTES:
        raise refuse(f"more than {MAX_FILE_BYTES} bytes; a config file has at most that many")
    return data


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ConfigError(name, f"not UTF-8 text: byte 0x{data[e.start]:02x} at offset "
                                f"{e.start} (line {line}) {e.reason}; save the file as "
                                "UTF-8") from None


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {show(key)}: each key may appear once in an object")
        out[key] = value
    return out


def _json_int(text: str) -> int:
    if len(text) > 4000:  # Python refuses to convert 4300+ digits, with advice for programmers
        raise ValueError(f"a whole number of {len(text)} digits is out of range")
    return int(text)


def _yaml_loader(yaml: Any) -> Any:
    """PyYAML's SafeLoader (its C parser where installed), reading floats as YAML 1.2 does
    (YAML 1.1 takes ``1e-3``, no dot, for a string, which no user means), a ``!!python/tuple``
    as a list, and refusing a key repeated in a mapping (PyYAML keeps the last one silently)."""
    import re

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag in ("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"):
                    continue  # "<<" merges: the mapping's own keys override merged ones
                key = self.construct_object(key_node, deep=deep)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # an unhashable key: the base class reports it
                if first is not key_node:
                    mark = key_node.start_mark
                    raise ValueError(f"duplicate key {show(key)} at line {mark.line + 1}, "
                                     f"column {mark.column + 1} (first at line "
                                     f"{first.start_mark.line + 1}): each key may appear once "
                                     "in a mapping")
            return super().construct_mapping(node, deep=deep)

    Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
        r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))
    # PyYAML's dump of a Python tuple (TF Model Garden's YAMLs hold them): a list, plain data
    Loader.add_constructor("tag:yaml.org,2002:python/tuple",
                           lambda self, node: self.construct_sequence(node))
    return Loader


def _from_document(data: Any, source: str) -> Schedule:
    if isinstance(data, Mapping) and "kind" not in data and "schedule" in data:
        _check_keys(data, _WRAPPER_KEYS, source, "")
        s = _build(data["schedule"], source, "schedule", _Memo())
        bind = data.get("bind") or {}
        if not isinstance(bind, Mapping):
            raise ConfigError(_where(source, "bind"), f"must be a mapping, got {show(bind)}")
        _check_keys(bind, _BIND_KEYS, source, "bind")
        try:
            return s.bind(**bind)
        except ScheduleError as e:
            raise ConfigError(_where(source, "bind"), str(e)) from None
    return _build(data, source, "schedule", _Memo())


def _where(source: str, path: str) -> str:
    return ": ".join(p for p in (source, path) if p)


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], source: str,
                path: str) -> None:
    for key in data:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1) if isinstance(key, str) else []
            hint = f"; did you mean {near[0]!r}?" if near else \
                f"; valid keys: {', '.join(allowed)}"
            raise ConfigError(_where(source, path), f"unknown key {show(key)}{hint}")


class _Memo:
    """What one ``from_config`` call has built: each mapping (or string) by ``id``, so a
    part used in several places is built once (its size as a tree, a shared part counted at
    every use, is the schedule's own ``_size``, refused past ``MAX_NODES`` by its
    constructor)."""

    def __init__(self) -> None:
        self.built: dict[int, tuple[Any, Schedule]] = {}  # the data kept alive: ids stay unique


def _build(data: Any, source: str, path: str, memo: _Memo | None = None) -> Schedule:
    memo = _Memo() if memo is None else memo
    hit = memo.built.get(id(data))
    if hit is not None:
        return hit[1]
    s = _build_new(data, source, path, memo)
    if isinstance(data, (Mapping, str)):
        memo.built[id(data)] = (data, s)
    return s


def _build_new(data: Any, source: str, path: str, memo: _Memo) -> Schedule:
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
                          f"a schedule must be a mapping with a 'kind', got {show(data)}")
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in REGISTRY:
        kinds = sorted(REGISTRY)
        near = difflib.get_close_matches(kind, kinds, n=1) if isinstance(kind, str) else []
        hint = f"did you mean {near[0]!r}?" if near else f"known kinds: {', '.join(kinds)}"
        what = "missing 'kind'" if kind is None else f"unknown kind {show(kind)}"
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
                data[name], lambda v, p: _build(v, source, p, memo), f"{path}.{name}")
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
