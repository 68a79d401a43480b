"""``from_tf_object_detection``: the learning rate of a TensorFlow Object Detection API
``pipeline.config`` as an lrkit schedule.

The text is parsed by protobuf's own text-format parser against message types declared here
with the fields and defaults of ``object_detection/protos/optimizer.proto``, from the top of
the file down to the ``learning_rate`` block (``train_config { optimizer { <rms_prop |
momentum | adam>_optimizer { learning_rate { … } } } }``; a text holding just the
``optimizer`` or ``learning_rate`` block is read too). Every other field of the file (the
model, the input readers, ``aspect_ratios: [1.0, 2.0]`` lists) is skipped unread; inside the
optimizer a field the proto does not have is an error, as in the API. Numbers are read as
written (the proto's ``float`` fields are float32 and TensorFlow computes in float32: within
6e-8 relative of these values).

The four schedules of ``object_detection/utils/learning_schedules.py`` and
``builders/optimizer_builder.py`` (TF2): exponential decay with burn-in, a minimum and
staircase; cosine decay with warmup and hold (0 after ``total_steps``); manual steps with an
optional linear warmup to the first boundary; constant. The API's refusals are kept: an empty
manual schedule, a first boundary of 0, boundaries not increasing, a cosine base below its
warmup rate or ``total_steps`` below the warmup and hold.

Limits on untrusted text (a ``ConfigError`` with the line and column): blocks nest at most
``_MAX_NESTING`` deep and a line has at most ``_MAX_LINE`` characters (protobuf's tokenizer
slows quadratically on one long line; a ``pipeline.config`` line is short).
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path
from typing import Any

from .._schedule import Schedule, sequence
from .._shapes import constant, cosine, exponential, linear, piecewise
from ..errors import ConfigError, ScheduleError, show

__all__ = ["from_tf_object_detection"]

_MAX_NESTING = 64   # a pipeline.config nests about 6 deep
_MAX_LINE = 10_000  # characters

# optimizer.proto, from the file's top to the schedules: each message's fields as
# (name, type, default); a type is a message name, or "double" (the proto's float, read as
# written), "uint32" or "bool". A "*" marks a repeated field; _ONEOF names each oneof and how
# many of the message's first fields it holds.
_PROTO: dict[str, list[tuple[str, str, str | None]]] = {
    "Pipeline": [("train_config", "TrainConfig", None), ("optimizer", "Optimizer", None),
                 ("learning_rate", "LearningRate", None)],
    "TrainConfig": [("optimizer", "Optimizer", None)],
    "Optimizer": [("rms_prop_optimizer", "RMSPropOptimizer", None),
                  ("momentum_optimizer", "MomentumOptimizer", None),
                  ("adam_optimizer", "AdamOptimizer", None),
                  ("use_moving_average", "bool", "true"),
                  ("moving_average_decay", "double", "0.9999")],
    "RMSPropOptimizer": [("learning_rate", "LearningRate", None),
                         ("momentum_optimizer_value", "double", "0.9"),
                         ("decay", "double", "0.9"), ("epsilon", "double", "1.0")],
    "MomentumOptimizer": [("learning_rate", "LearningRate", None),
                          ("momentum_optimizer_value", "double", "0.9")],
    "AdamOptimizer": [("learning_rate", "LearningRate", None), ("epsilon", "double", "1e-8")],
    "LearningRate": [("constant_learning_rate", "ConstantLearningRate", None),
                     ("exponential_decay_learning_rate", "ExponentialDecayLearningRate", None),
                     ("manual_step_learning_rate", "ManualStepLearningRate", None),
                     ("cosine_decay_learning_rate", "CosineDecayLearningRate", None)],
    "ConstantLearningRate": [("learning_rate", "double", "0.002")],
    "ExponentialDecayLearningRate": [
        ("initial_learning_rate", "double", "0.002"), ("decay_steps", "uint32", "4000000"),
        ("decay_factor", "double", "0.95"), ("staircase", "bool", "true"),
        ("burnin_learning_rate", "double", "0.0"), ("burnin_steps", "uint32", "0"),
        ("min_learning_rate", "double", "0.0")],
    "ManualStepLearningRate": [("initial_learning_rate", "double", "0.002"),
                               ("schedule", "*LearningRateSchedule", None),
                               ("warmup", "bool", "false")],
    "LearningRateSchedule": [("step", "uint32", None),
                             ("learning_rate", "double", "0.002")],
    "CosineDecayLearningRate": [
        ("learning_rate_base", "double", "0.002"), ("total_steps", "uint32", "4000000"),
        ("warmup_learning_rate", "double", "0.0002"), ("warmup_steps", "uint32", "10000"),
        ("hold_base_rate_steps", "uint32", "0")],
}
_ONEOF = {"Optimizer": ("optimizer", 3), "LearningRate": ("learning_rate", 4)}
_PACKAGE = "object_detection.protos"
# Where an unknown field is skipped: outside the optimizer (the rest of the pipeline).
_LENIENT = {f"{_PACKAGE}.{m}" for m in ("Pipeline", "TrainConfig")}


def _message_class() -> Any:
    """The ``Pipeline`` message class, built once from ``_PROTO``."""
    global _PIPELINE
    if _PIPELINE is None:
        try:
            from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
        except ImportError:
            raise ConfigError("pipeline.config", "reading it needs protobuf: pip install "
                              "'lrkit[tfod]'") from None
        F = descriptor_pb2.FieldDescriptorProto
        types = {"double": F.TYPE_DOUBLE, "uint32": F.TYPE_UINT32, "bool": F.TYPE_BOOL}
        file = descriptor_pb2.FileDescriptorProto(name="lrkit_tfod.proto", package=_PACKAGE,
                                                  syntax="proto2")
        for name, fields in _PROTO.items():
            m = file.message_type.add(name=name)
            oneof, members = _ONEOF.get(name, ("", 0))
            if oneof:
                m.oneof_decl.add(name=oneof)
            for number, (field, kind, default) in enumerate(fields, 1):
                f = m.field.add(name=field, number=number, label=F.LABEL_REPEATED
                                if kind[0] == "*" else F.LABEL_OPTIONAL)
                if number <= members:
                    f.oneof_index = 0
                kind = kind.lstrip("*")
                if kind in types:
                    f.type = types[kind]
                else:
                    f.type, f.type_name = F.TYPE_MESSAGE, f".{_PACKAGE}.{kind}"
                if default is not None:
                    f.default_value = default
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file)
        _PIPELINE = message_factory.GetMessageClass(
            pool.FindMessageTypeByName(f"{_PACKAGE}.Pipeline"))
    return _PIPELINE


_PIPELINE: Any = None


def _parse(text: str, source: str) -> Any:
    """``text`` as a ``Pipeline`` message, or a ConfigError at the line and column."""
    _check_shape(text, source)
    pipeline = _message_class()()
    from google.protobuf import text_format

    class Parser(text_format._Parser):  # type: ignore[misc]
        # Unknown fields are skipped outside the optimizer only: a misspelt
        # ``decay_step`` inside it is an error, not a silent default.
        def _MergeField(self, tokenizer: Any, message: Any) -> None:
            self.allow_unknown_field = message.DESCRIPTOR.full_name in _LENIENT
            super()._MergeField(tokenizer, message)

    try:
        Parser(allow_unknown_field=True).ParseLines(text.split("\n"), pipeline)
    except text_format.ParseError as e:
        line, column = e.GetLine(), e.GetColumn()
        message = re.sub(r"^\d+:\d+ : ", "", str(e)).replace(f"{_PACKAGE}.", "")
        echo = re.match(r"'(.*)': ", message)  # protobuf quotes the whole line: show the spot
        if echo:
            here = text.split("\n")[line - 1][column - 1:]
            message = f"{message[echo.end():].rstrip('.')}, at {show(here, 30)}"
        unknown = re.match(r'Message type "(\w+)" has no field named "(\w+)"', message)
        if unknown:
            known = [f for f, _, _ in _PROTO[unknown[1]]]
            near = difflib.get_close_matches(unknown[2], known, 1)
            message += f" Did you mean {near[0]!r}?" if near else \
                f" Its fields: {', '.join(known)}."
        raise ConfigError(f"{source}, line {line}, column {column}", message) from None
    return pipeline


_SCAN = re.compile(r"""\#[^\n]*|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|[{}<>]""")


def _check_shape(text: str, source: str) -> None:
    """Refuse lines longer than ``_MAX_LINE`` and nesting deeper than ``_MAX_NESTING`` (one
    linear pass, comments and strings skipped) before protobuf's recursive parser sees it."""
    for n, line in enumerate(text.split("\n"), 1):
        if len(line) > _MAX_LINE:
            raise ConfigError(f"{source}, line {n}", f"longer than {_MAX_LINE:,} characters; "
                              "break the line")
    depth = 0
    for m in _SCAN.finditer(text):
        c = m.group()
        depth += 1 if c in "{<" else -1 if c in "}>" else 0
        if depth > _MAX_NESTING:
            row = text.count("\n", 0, m.start()) + 1
            column = m.start() - text.rfind("\n", 0, m.start())
            raise ConfigError(f"{source}, line {row}, column {column}",
                              f"blocks nest deeper than {_MAX_NESTING}")


def from_tf_object_detection(text: str | Path, source: str | None = None) -> Schedule:
    """The schedule of the ``learning_rate`` block of a ``pipeline.config``: its text, or a
    path to it (a ``Path``, or a string without ``{``).

    >>> s = from_tf_object_detection('''optimizer { rms_prop_optimizer { learning_rate {
    ...   exponential_decay_learning_rate {
    ...     initial_learning_rate: 0.004 decay_steps: 800720 decay_factor: 0.95 } } } }''')
    >>> s(0), s(800719), s(800720)
    (0.004, 0.004, 0.0038)
    """
    if isinstance(text, Path) or "{" not in text:
        from ..config import read_text

        path = Path(text)
        text, source = read_text(path), source or path.name
    source = source or "pipeline.config"
    p = _parse(text, source)
    optimizer = p.train_config.optimizer if p.HasField("train_config") else p.optimizer
    which = optimizer.WhichOneof("optimizer")
    block = getattr(optimizer, which).learning_rate if which else p.learning_rate
    name = block.WhichOneof("learning_rate")
    if name is None:
        raise ConfigError(source, "no learning rate: expected train_config { optimizer { "
                          "<kind>_optimizer { learning_rate { <schedule> { ... } } } } }")
    try:
        return _BUILDERS[name](getattr(block, name))
    except ConfigError as e:
        raise ConfigError(f"{source}: {name}.{e.where}", e.message) from None
    except ScheduleError as e:
        raise ConfigError(f"{source}: {name}", str(e)) from None


def _number(c: Any, key: str) -> float:
    v = float(getattr(c, key))
    if not math.isfinite(v):
        raise ConfigError(key, f"must be a finite number, got {show(v)}")
    return v


def _exponential(c: Any) -> Schedule:
    base = _number(c, "initial_learning_rate")
    decay = exponential(base, _number(c, "decay_factor"), c.decay_steps,
                        staircase=c.staircase)
    burnin_lr = _number(c, "burnin_learning_rate") or base
    s: Schedule = decay if c.burnin_steps <= 0 else \
        constant(burnin_lr, over=c.burnin_steps) >> decay
    floor = _number(c, "min_learning_rate")
    return s.clip(min=floor) if floor > 0 else s


def _cosine(c: Any) -> Schedule:
    base, warm_lr = _number(c, "learning_rate_base"), _number(c, "warmup_learning_rate")
    total, w, hold = c.total_steps, c.warmup_steps, c.hold_base_rate_steps
    if base < warm_lr:
        raise ConfigError("learning_rate_base", f"must be >= warmup_learning_rate "
                          f"({warm_lr}), got {base} (the API refuses it too)")
    if total < w + hold:
        raise ConfigError("total_steps", f"must be at least warmup_steps + "
                          f"hold_base_rate_steps ({w} + {hold}), got {total}")
    parts: list[Schedule] = []
    if w > 0:
        parts.append(linear(warm_lr, base, w))
    if hold > 0:
        parts.append(constant(base, over=hold))
    parts.append(cosine(base, 0.0, total - w - hold))
    return parts[0] if len(parts) == 1 else sequence(parts)


def _manual(c: Any) -> Schedule:
    if not c.schedule:
        raise ConfigError("schedule", "is empty: give at least one schedule { step: … "
                          "learning_rate: … } (the API refuses an empty one)")
    bounds = [x.step for x in c.schedule]
    rates = [_number(c, "initial_learning_rate")] + \
        [_number(x, "learning_rate") for x in c.schedule]
    if bounds[0] == 0:
        raise ConfigError("schedule[0].step", "must be > 0, got 0 (the API refuses a first "
                          "boundary of 0)")
    for i in range(1, len(bounds)):
        if bounds[i] <= bounds[i - 1]:
            raise ConfigError(f"schedule[{i}].step", f"must be > the step before "
                              f"({bounds[i - 1]}), got {bounds[i]}")
    if not c.warmup:
        return piecewise(rates, bounds)
    rest = piecewise(rates[1:], [b - bounds[0] for b in bounds[1:]]) if len(bounds) > 1 \
        else constant(rates[1])
    return linear(rates[0], rates[1], bounds[0]) >> rest


def _constant(c: Any) -> Schedule:
    return constant(_number(c, "learning_rate"))


_BUILDERS = {
    "exponential_decay_learning_rate": _exponential,
    "cosine_decay_learning_rate": _cosine,
    "manual_step_learning_rate": _manual,
    "constant_learning_rate": _constant,
}
