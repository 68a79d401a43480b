"""The Schedule base: evaluation, binding, operators, repr and config hooks.

Every shape and combinator derives from ``Schedule`` and declares its arguments as annotated
class attributes ``name: type = arg(role, default=…)``; the base class turns them into a frozen
value (``__init__``, ``==``, ``hash``, ``repr``, pickle), like a frozen dataclass but without
generating code at import. Each field's *role* (``value``, ``number``, ``time``, ``times``,
``schedule``, …; ``_fields``) drives validation, binding, ``to_config``/``from_config``, the
JSON schema and the one-line text, so a new shape only declares its fields, checks what
involves several of them in ``__post_init__`` and writes ``_f``.

What does not live here: the formulas (``_shapes``, ``_combine``), file formats (``config``).
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Callable, Sequence

from ._fields import MAX_VALUE, ROLES, Number, Role
from ._fields import check_sorted as _check_sorted
from ._time import MIN_STEPS, Binding, Time, needs
from ._xp import SCALAR, Ops, namespace_for
from .errors import ScheduleError, fail

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**kwargs):
        return lambda cls: cls

# How deep schedules nest (a flat sequence of any length is one level): every walk over a tree
# (evaluation, repr, ==, config, the one-line syntax, pickle) stays far from Python's
# recursion limit, and eval(repr(s)) within its parser's nesting limit.
MAX_DEPTH = 64
MAX_NODES = 100_000
_MAX_VALUES = 2**28  # steps per values() call: 2 GiB of float64 output
_CHUNK = 2**16  # steps per evaluation in values(): bounded temporaries

__all__ = ["MAX_DEPTH", "MAX_NODES", "MAX_VALUE", "MISSING", "REGISTRY", "Field", "Schedule",
           "cached_property", "examples", "register", "sequence"]

REGISTRY: dict[str, type[Schedule]] = {}


def register(cls: type[Schedule]) -> type[Schedule]:
    """Add a schedule class to the registry under its ``kind``."""
    REGISTRY[cls.kind] = cls
    return cls


def examples() -> dict[str, Schedule]:
    """Every registered class's example instances (``_examples``) in the order the classes are
    registered (shapes, then combinators): ``kind`` for each class and ``kind:variant`` for an
    option that takes another code path. The contract test, the Hypothesis strategies and the
    gallery run these."""
    return {f"{kind}:{variant}" if variant else kind: s
            for kind, cls in REGISTRY.items() for variant, s in cls._examples().items()}


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """A declared argument: its name, default (``MISSING`` when required), its ``role`` (a
    ``_fields.Role``) and the declaration's metadata."""

    __slots__ = ("default", "metadata", "name", "role")

    def __init__(self, default: Any, role: Role, metadata: dict[str, Any]) -> None:
        self.name = ""
        self.default = default
        self.role = role
        self.metadata = metadata

    def check(self, owner: str, v: Any) -> Any:
        """The argument checked by its role (``None`` stays where it is the default)."""
        return v if v is None and self.default is None else self.role.check(owner, self.name, v)


def arg(role: str, default: Any = MISSING, **meta: Any) -> Any:
    """Declare an argument with a role (``_fields.ROLES``) and the options its role reads:
    ``lo``/``hi`` (with ``lo_open``/``hi_open``) for numbers, ``choices``, ``allow_zero``,
    ``strict`` and ``allow_empty`` for times, ``lo`` and ``rule`` for counts."""
    return Field(default, ROLES[role](**meta), {"role": role, "default": default, **meta})


class _cached_property:  # noqa: N801 - the functools name, without its lock
    """``functools.cached_property`` without the lock Python 3.11 takes on every first access,
    which ``torch.compile`` cannot trace through."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


if TYPE_CHECKING:
    from functools import cached_property
else:
    cached_property = _cached_property


# --- checks that a shape's __post_init__ runs on one argument with other bounds -------------


def check_number(obj: Schedule, name: str, **bounds: Any) -> None:
    """Check ``obj.name`` as a number within ``bounds`` (``lo``, ``hi``, ``lo_open``, …)."""
    obj.__dict__[name] = Number(**bounds).check(obj.kind, name, obj.__dict__[name])


def check_sorted(obj: Schedule, name: str, values: tuple[Time, ...], *, strict: bool) -> None:
    """Positions in order (checked once all are steps; unit strings wait for bind)."""
    _check_sorted(obj.kind, name, values, strict=strict)


class _StepSignature:
    """``inspect.signature(s)``: ``(k: int) -> float``, as ``__call__`` (a slot holding the
    compiled function) has no useful signature of its own; on the class, None (its signature is
    the constructor's)."""

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return None
        import inspect

        return inspect.signature(_call_signature)


def _call_signature(k: int) -> float:  # the signature of s(k)
    raise NotImplementedError


# --- the base class ---------------------------------------------------------------------------


@dataclass_transform(frozen_default=True, field_specifiers=(arg,))
class Schedule:
    """A hyperparameter schedule: an immutable value and a pure function of the step.

    ``s(k)`` is the value for the optimizer update with 0-based index ``k``. Subclasses declare
    their arguments (see the module docstring) and implement ``_f(k, xp)``, the formula for
    ``0 <= k <= duration``.
    """

    kind: ClassVar[str] = "schedule"
    #: Fields shown positionally in ``repr`` (the others as keywords when not default).
    _positional: ClassVar[int] = 0
    _fields: ClassVar[tuple[Field, ...]] = ()
    #: An upper bound of the values (``_bound``), set at construction.
    _top: float
    #: 1 for a shape, 1 + the deepest child's for a combinator (at most ``MAX_DEPTH``).
    _depth: int
    #: The nodes of the tree, a shared child counted at every use (at most ``MAX_NODES``):
    #: every walk (evaluation, repr, config, bind) visits that many.
    _size: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = []
        for name in cls.__dict__.get("__annotations__", {}):
            f = cls.__dict__.get(name)
            if isinstance(f, Field):
                f.name = name
                own.append(f)
                delattr(cls, name)
        cls._fields = cls._fields + tuple(own)
        # derived, as dataclasses derive __init__: the kind is the class name in snake case,
        # the positional arguments of repr are the required ones
        if "kind" not in cls.__dict__:
            cls.kind = "".join(f"_{c.lower()}" if c.isupper() else c
                               for c in cls.__name__).lstrip("_")
        if "_positional" not in cls.__dict__:
            cls._positional = sum(f.default is MISSING for f in cls._fields)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{self.kind}() takes at most {len(fields)} positional arguments "
                            f"({len(args)} given)")
        values = {f.name: a for f, a in zip(fields, args)}
        names = {f.name for f in fields}
        for key, v in kwargs.items():
            if key not in names:
                raise TypeError(f"{self.kind}() got an unexpected keyword argument {key!r}")
            if key in values:
                raise TypeError(f"{self.kind}() got multiple values for argument {key!r}")
            values[key] = v
        for f in fields:
            if f.name not in values:
                if f.default is MISSING:
                    raise TypeError(f"{self.kind}() missing required argument {f.name!r}")
                values[f.name] = f.default
        for f in fields:  # each argument by its role, in order, quoting the user's value
            values[f.name] = f.check(self.kind, values[f.name])
        self.__dict__.update(values)
        kids = self.children()
        depth = 1 + max((c._depth for c in kids), default=0)
        size = 1 + sum(c._size for c in kids)
        if size > MAX_NODES:  # a schedule reused inside itself (s = s * s) grows as a tree
            raise ScheduleError(
                f"{self.kind}: a schedule holds at most {MAX_NODES} nodes, counting a shared "
                f"part at every use; this one {size}")
        if depth > MAX_DEPTH:
            raise ScheduleError(
                f"{self.kind}: schedules nest at most {MAX_DEPTH} deep, this one {depth}; "
                "a chain a >> b >> c is one flat sequence at any length: build long plans "
                "as chains or lists, not as nested calls")
        self.__dict__["_depth"] = depth
        self.__dict__["_size"] = size
        self.__post_init__()
        top = self._bound()
        if not top < math.inf:
            raise ScheduleError(
                f"{self.kind}: the values overflow the float range ({self._bound_text()} = "
                f"{top!r}); use arguments whose values stay below 1.8e308")
        self.__dict__["_top"] = top
        self._warm()

    def __post_init__(self) -> None:
        """Checks that involve several arguments (each one alone is checked by its role)."""

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        """Small instances of this class: ``{"": s}``, plus ``{"variant": s}`` for each option
        that takes another code path. Every registered class defines its own (a test checks);
        ``examples()`` collects them."""
        return {}

    def children(self) -> tuple[Schedule, ...]:
        """The schedules this one is built from, in field order (empty for a shape)."""
        d = self.__dict__
        return tuple(c for f in self._fields if d[f.name] is not None
                     for c in f.role.children(d[f.name]))

    def _bound(self) -> float:
        """An upper bound of the values: a combinator's is its children's largest (shapes and
        combinators that scale override it). Construction refuses an infinite bound, so every
        value of an accepted schedule is finite."""
        return max((c._top for c in self.children()), default=0.0)

    def _bound_text(self) -> str:
        return "the largest value"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.kind} is immutable: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{self.kind} is immutable: cannot delete {name!r}")

    def _args(self) -> tuple[Any, ...]:
        return tuple(self.__dict__[f.name] for f in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._args() == other._args()

    def __hash__(self) -> int:
        return hash((self.kind, self._args()))

    def _replace(self, **changes: Any) -> Schedule:
        return type(self)(**{f.name: changes.get(f.name, self.__dict__[f.name])
                             for f in self._fields})

    def _warm(self) -> None:
        # Derived data (duration, boundaries, …) is computed once, at construction: errors
        # surface where the user built the schedule, and traced evaluation (torch.compile,
        # jax.jit) only reads plain attributes.
        if self._missing:  # s(k) says why it cannot be evaluated, at every call
            object.__setattr__(self, "__call__", self._unbound_call)
            return
        for klass in type(self).__mro__:
            for name, attr in vars(klass).items():
                if isinstance(attr, _cached_property) and name not in self.__dict__:
                    getattr(self, name)
        object.__setattr__(self, "__call__", self.__dict__["_call"])  # compiled just above

    # -- the formula ---------------------------------------------------------------------------

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        raise NotImplementedError

    def _span(self) -> int | float | None:
        """Duration in steps of a bound schedule (None: infinite)."""
        return None

    def _at(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        """The value at local step ``k >= 0``. Past the end a finite schedule holds its last
        value; with ``hold=False`` (asked by ``past_end("continue")``, passed by every
        combinator to the children that end with it) the formula goes on."""
        d = self._duration
        if d is not None and hold:
            k = (k if k <= d else d) if xp.scalar else xp.top(k, d)
        return self._f(k, xp, hold)

    @cached_property
    def _duration(self) -> int | float | None:
        self._require_bound()
        try:
            d = self._span()
        except OverflowError:
            d = math.inf
        if d is not None and not d < math.inf:
            raise ScheduleError(f"{self.kind}: the duration overflows the float range; use "
                                "lengths (and stretch factors) that keep it finite")
        return int(d) if isinstance(d, float) and d.is_integer() else d

    @property
    def duration(self) -> int | float | None:
        """The length in steps (a real number: an int when whole), after which the value holds;
        ``None`` for infinite schedules.

        Raises ScheduleError while a length is still a unit string (call ``bind`` first).
        """
        return self._duration

    # -- presentation hooks (explain, lint): a default here, overridden where a class differs --

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        """The phases of this bound schedule when it starts at the real position ``offset``:
        ``(label, first update, end update)``, the end exclusive and ``None`` for a phase that
        never ends. A phase at position ``p`` starts at update ``ceil(p)``. By default one
        phase, labelled with the kind, spanning the whole schedule."""
        d = self.duration
        return [(self.kind, math.ceil(offset), None if d is None else math.ceil(offset + d))]

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        """``(kind, n)``: a run of ``steps`` local steps completes ``n`` cycles of the cyclic
        schedule this one ends with; ``None`` when it ends with no cycles, or the run ends
        before the first cycle or after the last."""
        return None

    def _continues(self) -> bool:
        """Whether this node itself evaluates its child past the end (``past_end("continue")``);
        its children answer for themselves."""
        return False

    def _floored(self, steps: Any) -> Any:
        """Where this node's own value is floored at 0 (a difference below 0), among ``steps``
        of its own time; ``None`` for a node that never floors."""
        return None

    # -- evaluation ----------------------------------------------------------------------------

    # ``s(k)``: the value at step ``k`` (a Python or numpy int >= 0), as a Python float. It is
    # the function each schedule compiles once (``_call``), held in the ``__call__`` slot so
    # that CPython finds it with no Python frame or attribute lookup of its own (calling an
    # instance costs twice a function call, and a cheap schedule is mostly call). ``_warm``
    # fills it at construction; an unbound schedule's holds ``_unbound_call``.
    __slots__ = ("__call__", "__dict__", "__weakref__")
    if TYPE_CHECKING:
        def __call__(self, k: int) -> float: ...

    def _unbound_call(self, k: Any) -> float:
        self._require_bound()  # raises: says which unit needs which binding
        raise AssertionError("unreachable: _unbound_call on a bound schedule")

    __signature__ = _StepSignature()

    def _step(self, k: Any) -> int:
        """A step given to ``s(k)`` other than a Python int >= 0, checked: an int."""
        try:
            i = operator.index(k)
        except TypeError:
            raise ScheduleError(
                f"{self.kind}: the step must be an int (the 0-based index of the optimizer "
                f"update), got {k!r}") from None
        if i < 0:
            raise ScheduleError(f"{self.kind}: the step must be >= 0, got {i}")
        return i

    @cached_property
    def _scalar(self) -> Callable[[Any], float]:
        """``k -> float(self._at(k, SCALAR))`` for a step ``k >= 0`` (unchecked): see
        ``_call``."""
        self._compile()
        return self.__dict__["_scalar"]  # type: ignore[no-any-return]

    @cached_property
    def _call(self) -> Callable[[Any], float]:
        """``s(k)``: ``_scalar`` behind the check of ``k``."""
        self._compile()
        return self.__dict__["_call"]  # type: ignore[no-any-return]

    def _compile(self) -> None:
        """Build ``_scalar`` and ``_call`` once per schedule: one generated Python function of
        ``k`` (``_emit``), with the same float operations in the same order as the tree walk
        ``_at``, which stays the reference (a test checks every kind bit for bit). The source
        holds numbers only (``repr`` of the validated arguments), never user text; a tree too
        large to compile walks the tree instead."""
        self._require_bound()
        src = _Source()
        try:
            body = self._emit("k", src)
        except (_TooLarge, RecursionError):  # or nested too deep
            at = self._at
            body = f"{src.bind(lambda k: float(at(k, SCALAR)))}(k)"
        src.env["step"] = self._step
        code = (f"def f(k):\n    return {body}\n"
                f"def g(k):\n    if type(k) is not int or k < 0:\n        return f(step(k))\n"
                f"    return {body}\n")
        try:
            exec(compile(code, "<lrkit schedule>", "exec"), src.env)  # noqa: S102
        except (RecursionError, SyntaxError, MemoryError):  # the parser's nesting limit
            at, step = self._at, self._step
            src.env["f"] = lambda k: float(at(k, SCALAR))
            src.env["g"] = lambda k: float(at(k if type(k) is int and k >= 0 else step(k), SCALAR))
        self.__dict__.update(_scalar=src.env["f"], _call=src.env["g"])

    def _emit(self, k: str, src: _Source) -> str:
        """A Python expression of the value at local step ``k`` (an expression, evaluated at
        most once, before anything else the result needs) that ``_scalar`` compiles: by default
        a call of the tree walk; a class with a plain formula writes it out."""
        src.node()
        at = self._at
        return f"{src.bind(lambda k: float(at(k, SCALAR)))}({k})"

    def values(self, steps: Any) -> Any:
        """Values at an array (or sequence) of int steps, as a float64 numpy array.

        At most 2**28 steps at once; they are evaluated in chunks, so the memory used beyond
        the input and the output is a few megabytes.
        """
        import numpy as np

        n = len(steps) if hasattr(steps, "__len__") and not hasattr(steps, "shape") else None
        arr = np.asarray(steps) if n is None or n <= _MAX_VALUES else None
        if arr is None or arr.size > _MAX_VALUES:
            raise ScheduleError(f"{self.kind}: values() takes at most 2**28 steps at once, got "
                                f"{arr.size if arr is not None else n}; evaluate in chunks")
        if arr.size and arr.dtype.kind not in "iuf":
            raise ScheduleError(
                f"{self.kind}: steps must be integers, got an array of dtype {arr.dtype}")
        self._require_bound()
        ops = namespace_for(np.zeros(0)).using(np.float64)
        out = np.empty(arr.shape, dtype=np.float64)
        flat, dest = arr.reshape(-1), out.reshape(-1)
        for i in range(0, flat.size, _CHUNK):
            k = self._steps_chunk(flat[i:i + _CHUNK], np)
            with np.errstate(over="ignore", under="ignore"):  # inf on the way to a finite value
                dest[i:i + _CHUNK] = self._at(k, ops)
        return out

    def _steps_chunk(self, k: Any, np: Any) -> Any:
        """A chunk of steps checked (whole, >= 0, below 2**63) and as int64."""
        if k.dtype.kind == "f" and not (np.isfinite(k).all() and (k == np.floor(k)).all()):
            raise ScheduleError(
                f"{self.kind}: steps must be integers, got an array of dtype {k.dtype}")
        if k.size and k.min() < 0:
            raise ScheduleError(f"{self.kind}: steps must be >= 0, got {k.min()}")
        if k.size and k.max() > 2**63 - 1:
            raise ScheduleError(f"{self.kind}: steps must be below 2**63, got {k.max()}")
        return k.astype(np.int64, copy=False)

    def evaluate(self, k: Any, xp: Any = None, dtype: Any = None) -> Any:
        """Evaluate on an array or traced tensor ``k`` of steps, branch-free.

        Args:
          k: int steps as a numpy array, a torch tensor (also inside ``torch.compile``), a jax
            array or tracer (also under ``jax.jit``) or a ``keras.ops`` tensor.
          xp: the namespace (``numpy``, ``torch``, ``jax.numpy``, ``keras.ops`` or its name);
            inferred from ``k`` when omitted. Pass ``keras.ops`` to trace through Keras.
          dtype: the float dtype to compute in; by default float64 where the backend has it
            enabled (jax needs ``jax_enable_x64``), else float32.

        Returns:
          A tensor of the backend's kind with ``k``'s shape, finite and >= 0. A negative step
          (an int32 counter that wrapped past 2**31) is evaluated as step 0. Integer steps stay
          integers until the remaining distance of each phase is known, so float32 keeps its
          precision at any step.
        """
        self._require_bound()
        ops = namespace_for(k, xp)
        if ops.name == "keras":
            ops, k = ops.native(k)  # type: ignore[attr-defined]
        ops = ops.using(dtype if dtype is not None else _default_dtype(ops))
        if not ops.is_int(k):
            k = ops.to_float(k, ops.dtype)
        k = ops.maximum(k, 0 if ops.is_int(k) else 0.0)
        like = ops.fl(k)
        return ops.maximum(ops.full_like(self._at(k, ops), like), 0.0)

    # -- binding -------------------------------------------------------------------------------

    @cached_property
    def _missing(self) -> list[tuple[str, str, Time, str]]:
        """Unresolved times as (kind, arg, value, needed quantity), in field order."""
        out = []
        for f in self._fields:
            v = self.__dict__[f.name]
            if v is not None:
                out += [(self.kind, f.name, t, n) for t in f.role.times(v) for n in needs(t)]
        for c in self.children():
            out += c._missing
        return out

    def _require_bound(self) -> None:
        if self._missing:
            kind, name, v, need = self._missing[0]
            raise ScheduleError(
                f"{kind}: {name!r} = {v!r} needs {need}; call "
                f".bind({need}=...) before evaluating")

    def bind(self, steps_per_epoch: float | None = None, total_steps: int | None = None,
             samples_per_step: float | None = None,
             tokens_per_step: float | None = None) -> Schedule:
        """Resolve every unit string (``"5ep"``, ``"10%"``, …) into steps, once.

        A unit string is converted exactly and rounded down once to whole steps (see
        ``docs/concepts.md``); a number of steps, whole or real, is kept as it is.
        Quantities a schedule does not need are ignored; a schedule with nothing to resolve is
        returned as it is, after the checks that need ``total_steps`` (a warmup longer than the
        run is an error).
        """
        return self._bind(Binding(steps_per_epoch, total_steps, samples_per_step,
                                  tokens_per_step))

    def _bind(self, b: Binding) -> Schedule:
        changes: dict[str, Any] = {}
        for f in self._fields:
            v = self.__dict__[f.name]
            if v is not None:
                new = f.role.bind(v, b, self.kind, f.name)
                if new is not v:
                    changes[f.name] = new
        if all(changes[n] == self.__dict__[n] for n in changes):
            return self
        return self._replace(**changes)

    # -- composition ---------------------------------------------------------------------------

    def __rshift__(self, other: Schedule) -> Schedule:
        if not isinstance(other, Schedule):
            return NotImplemented
        right = other.schedules if isinstance(other, sequence) and other.at is None else (other,)
        if isinstance(self, sequence) and self.at is None:
            return self._extended(right)  # a long chain grows in linear time
        return sequence([self, *right])

    def __mul__(self, other: Any) -> Schedule:
        if isinstance(other, Schedule):
            return Product(self, other)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Scale(self, other)
        return NotImplemented

    __rmul__ = __mul__

    def __add__(self, other: Any) -> Schedule:
        return Sum(self, other) if _is_operand(other) else NotImplemented

    def __radd__(self, other: Any) -> Schedule:
        return Sum(other, self) if _is_operand(other) else NotImplemented

    def __sub__(self, other: Any) -> Schedule:
        """``self - other``, floored at 0 (a value is never negative)."""
        return Difference(self, other) if _is_operand(other) else NotImplemented

    def __rsub__(self, other: Any) -> Schedule:
        return Difference(other, self) if _is_operand(other) else NotImplemented

    def __truediv__(self, other: Any) -> Schedule:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Quotient(self, other)
        return NotImplemented

    def clip(self, min: Schedule | float | None = None,  # noqa: A002
             max: Schedule | float | None = None) -> Schedule:  # noqa: A002
        """Values clipped to ``[min, max]``: numbers or schedules, either optional."""
        return Clip(self, min, max)

    def stretch(self, factor: float) -> Schedule:
        """The schedule slowed down by ``factor``: the value at ``k`` is ``s(k / factor)``."""
        return Stretch(self, factor)

    def stepped(self, every: Time) -> Schedule:
        """Change only every ``every`` steps: ``value(k) = s(floor(k/every)·every)``."""
        return Stepped(self, every)

    def skip(self, steps: Time) -> Schedule:
        """The schedule from step ``steps`` on: ``value(k) = s(k + steps)``."""
        return Skip(self, steps)

    def past_end(self, policy: str) -> Schedule:
        """What happens after the end: ``"hold"`` (default), ``"continue"`` or ``"error"``."""
        return PastEnd(self, policy)

    def branch(self, at: Time, then: Schedule, *, join: str = "jump") -> Schedule:
        """This schedule before update ``at``, then ``then`` (at its local step) from ``at``
        on; ``join="continue"`` scales ``then`` to start at this schedule's value there. See
        ``lrkit.branch``."""
        from ._combine import branch

        return branch(self, at, then, join=join)

    # -- data ----------------------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """Plain JSON data ``{"kind": …, <non-default arguments>}``; see ``lrkit.from_config``."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in self._fields:
            v = getattr(self, f.name)
            if f.default is not MISSING and v == f.default \
                    and type(v) is type(f.default):
                continue
            out[f.name] = _to_data(v)
        return out

    # -- printing: one printer, two styles -----------------------------------------------------
    # Python (repr, which evaluates back) or the one-line syntax (str, which lrkit.parse reads
    # back). A kind that reads as an operator declares ``_op``, one that reads as a method
    # ``_method``; the few that print otherwise (sequence, warmup, start -> end) override
    # ``_print``.

    #: The operator a kind reads as (``s * 0.5``, ``s1 + s2``): its two fields are the operands.
    _op: ClassVar[str] = ""
    #: The Schedule method a kind reads as (``s.clip(...)``): its first field is the receiver.
    _method: ClassVar[str] = ""
    #: How many of a method's arguments print bare (the others by name, unless defaults).
    _method_positional: ClassVar[int] = 9

    def __repr__(self) -> str:
        return self._print(False)

    def __str__(self) -> str:
        """The one-line syntax: ``warmup(5ep) >> cosine(0.1 -> 1e-05, 95ep)``."""
        return self._print(True)

    def _print(self, text: bool) -> str:
        fields, d = self._fields, self.__dict__
        if self._op:
            a, b = (d[f.name] for f in fields[:2])
            return f"{_operand(a, text)} {self._op} {_operand(b, text)}"
        if self._method:
            args = self._args_text(fields[1:], text, self._method_positional)
            return f"{_operand(d[fields[0].name], text)}.{self._method}({', '.join(args)})"
        return f"{self.kind}({', '.join(self._args_text(fields, text, self._positional))})"

    def _args_text(self, fields: Any, text: bool, positional: int) -> list[str]:
        """The arguments, the first ``positional`` ones bare, the others by name when they
        differ from their default."""
        out = []
        for i, f in enumerate(fields):
            v = self.__dict__[f.name]
            word = ("None" if v is None else f.role.text(v, str)) if text else _repr_value(v)
            if i < positional:
                out.append(word)
            elif f.default is MISSING or v != f.default:
                out.append(f"{f.name}={word}")
        return out

    def _compound(self, text: bool, in_chain: bool) -> bool:
        """Whether this schedule needs parentheses as an operand (or, ``in_chain``, as a link
        of a ``>>`` chain)."""
        return bool(self._op)

    def _repr_html_(self) -> str:
        """Jupyter: the plot and the phase table (an unbound schedule in its own units); never
        raises."""
        from ._plot import html_view

        return html_view(self)

    def _repr_svg_(self) -> str | None:
        """Jupyter: the plot, where matplotlib is installed."""
        from ._plot import svg

        return svg(self)

    def __reduce__(self) -> Any:
        # Rebuild through the constructor: checks and normalization run again, caches do not
        # travel, and the pickle holds only the arguments.
        return (_rebuild, (type(self), {f.name: getattr(self, f.name) for f in self._fields}))


_MAX_EMITTED = 200  # nodes in one generated function


class _TooLarge(Exception):
    """A tree with more than ``_MAX_EMITTED`` nodes: ``_scalar`` walks it."""


class _Source:
    """What a generated ``_scalar`` refers to: helper functions by name, and fresh names for
    the local variables its expression binds (``:=``)."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {"sin": math.sin, "float": float}
        self.nodes = 0
        self._n = 0
        self.within: set[str] = set()  # step expressions already inside their node's duration

    def node(self) -> None:
        """Count one more node; past ``_MAX_EMITTED`` the tree is walked instead."""
        self.nodes += 1
        if self.nodes > _MAX_EMITTED:
            raise _TooLarge

    def name(self) -> str:
        self._n += 1
        return f"t{self._n}"

    def bind(self, f: Any) -> str:
        name = f"f{self._n + 1}"
        self._n += 1
        self.env[name] = f
        return name


def clamp(k: str, d: Any, t: str, src: _Source) -> str:
    """``_at``'s hold as an expression binding ``t``: ``k`` held at the duration ``d`` (a
    no-op, left out, where ``k`` is known to be below it)."""
    return f"({t} := {k})" if d is None or k in src.within else \
        f"({t} := ({t} if ({t} := {k}) <= {d!r} else {d!r}))"


def _is_operand(v: Any) -> bool:
    return isinstance(v, Schedule) or isinstance(v, (int, float)) and not isinstance(v, bool)


def _rebuild(cls: type[Schedule], kwargs: dict[str, Any]) -> Schedule:
    return cls(**kwargs)


def _operand(v: Any, text: bool, in_chain: bool = False) -> str:
    """A number, or a schedule printed safe as an operand of an operator or a method."""
    if not isinstance(v, Schedule):
        return repr(v)
    out = v._print(text)
    return f"({out})" if v._compound(text, in_chain) else out


def _repr_value(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(_repr_value(x) for x in v) + "]"
    return repr(v)


def _to_data(v: Any) -> Any:
    if isinstance(v, Schedule):
        return v.to_config()
    if isinstance(v, tuple):
        return [_to_data(x) for x in v]
    return v


def _default_dtype(ops: Any) -> Any:
    if ops.name == "torch":
        return ops.m.float64
    if ops.name == "jax":

        return ops.m.float64 if _x64() else ops.m.float32
    if ops.name == "keras":
        import keras

        return "float32" if keras.backend.backend() == "jax" and not _x64() else "float64"
    return ops.m.float64


def _x64() -> bool:
    import jax

    return bool(getattr(jax.config, "jax_enable_x64", False))


# --- the value algebra: what the operators and methods above return -------------------------
# (their example instances use shapes, which import this module: the examples import them
# when asked, for tests and docs)


def _at(v: Any, k: Any, xp: Ops, hold: bool) -> Any:
    """An operand's value at ``k``: a schedule's, or the number itself."""
    return v if isinstance(v, float) else v._at(k, xp, hold)


def _top(v: Any) -> float:
    return v if isinstance(v, float) else v._top


@register
class sequence(Schedule):
    """Children one after another, each on its own half-open segment, seeing its local step.

    ``value(k) = schedules[i](k - b_i)`` for ``b_i <= k < b_{i+1}``, where ``b_0 = 0`` and the
    boundaries ``b_1, …`` are ``at`` or, by default, the cumulative durations of the children
    (all but the last must then be finite). The value at a boundary belongs to the next child;
    a child shorter than its segment holds its last value. ``a >> b`` builds the same.

    Args:
      schedules: the children, in order.
      at: optional boundaries (one fewer than children), strictly increasing, > 0.

    >>> s = linear(0.0, 1.0, 2) >> constant(0.5)
    >>> [s(k) for k in range(4)]
    [0.0, 0.5, 0.5, 0.5]
    """

    schedules: Sequence[Schedule] = arg("schedules")
    at: Sequence[Time] | None = arg("times", default=None, strict=True, allow_empty=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import constant, cosine, linear

        return {"": sequence([linear(0.1, 1.0, 6), cosine(1.0, 0.1, 20), constant(0.1)],
                             at=[6, 30])}

    def __post_init__(self) -> None:
        kids = self.schedules
        if self.at is not None:
            if len(self.at) != len(kids) - 1:
                raise fail(self.kind, "at", f"must hold len(schedules) - 1 = {len(kids) - 1} "
                           "boundaries", list(self.at), "one boundary between each two children")
        elif not any(c._missing for c in kids):
            for i, c in enumerate(kids[:-1]):
                if c.duration is None:
                    raise fail(self.kind, f"schedules[{i}]", "is infinite, so it never ends; "
                               "give the boundaries with at=[...]", c)

    def _extended(self, kids: Sequence[Schedule]) -> sequence:
        """``self >> kids``, built from this sequence's checked children and derived data, so
        that a chain of n ``>>`` costs O(n) per link in C (tuple and list copies), not in
        Python checks. Anything unusual goes through the constructor."""
        if self._missing or self.schedules[-1].duration is None or \
                not all(isinstance(c, Schedule) and not c._missing for c in kids) or \
                any(c.duration is None for c in kids[:-1]):
            return sequence([*self.schedules, *kids])
        new = object.__new__(sequence)
        d = new.__dict__
        d.update(schedules=(*self.schedules, *kids), at=None, _missing=[])
        d["_depth"] = max(self._depth, 1 + max(c._depth for c in kids))
        d["_size"] = self._size + sum(c._size for c in kids)
        if d["_depth"] > MAX_DEPTH or d["_size"] > MAX_NODES:
            return sequence([*self.schedules, *kids])  # the constructor says why
        d["_top"] = max(self._top, *(c._top for c in kids))
        starts = list(self._starts)
        for c in (self.schedules[-1], *kids[:-1]):
            b = starts[-1] + c.duration  # type: ignore[operator]
            starts.append(int(b) if isinstance(b, float) and b.is_integer() else b)
        d["_starts"] = starts
        new._warm()
        return new

    @cached_property
    def _starts(self) -> list[int | float]:
        """Where each child starts: ints when whole, so local steps stay exact integers."""
        if self.at is not None:
            return [0, *self.at]  # type: ignore[list-item]
        out: list[int | float] = [0]
        for c in self.schedules[:-1]:
            b = out[-1] + c.duration  # type: ignore[operator]
            out.append(int(b) if isinstance(b, float) and b.is_integer() else b)
        return out

    def _span(self) -> int | float | None:
        last = self.schedules[-1].duration
        return None if last is None else self._starts[-1] + last

    def _phases(self, offset: int | float) -> list[tuple[str, int, int | None]]:
        """Each child's phases, cut at its segment's end; a ``hold`` where a child is shorter
        than its segment."""
        if len(self.schedules) == 1:
            return super()._phases(offset)
        out: list[tuple[str, int, int | None]] = []
        ends = [*(math.ceil(offset + b) for b in self._starts[1:]), None]
        for c, a, end in zip(self.schedules, self._starts, ends):
            inner = [(k, st, en if en is not None and (end is None or en < end) else end)
                     for k, st, en in c._phases(offset + a) if end is None or st < end]
            if end is not None and inner and inner[-1][2] is not None and inner[-1][2] < end:
                inner.append(("hold", inner[-1][2], end))
            out += inner
        return out

    def _cycles(self, steps: int | float) -> tuple[str, float] | None:
        return self.schedules[-1]._cycles(steps - self._starts[-1])

    def _emit(self, k: str, src: _Source) -> str:
        # _f's bisection as a chain of comparisons (the same child for every step)
        src.node()
        w = src.name()
        starts, kids = self._starts, self.schedules
        if len(kids) == 1:
            return kids[0]._emit(f"({clamp(k, self._duration, w, src)} - {starts[0]!r})", src)
        # A child that fills its segment exactly (whole steps, no `at`) sees a local step below
        # its duration there: its own hold is a no-op, left out.
        # (Not after a child of length 0: two children would share a local step's text.)
        exact = self.at is None and all(isinstance(b, int) for b in starts) \
            and all(a < b for a, b in zip(starts, starts[1:]))
        local = [w if b == 0 else f"({w} - {b!r})" for b in starts]  # (x - 0 is x)
        if exact:
            src.within.update(local[:-1])
        # Past the end every step falls to the last child, which holds at its own end (the
        # same step, in integers) unless it overrides _at (past_end): the hold is left out.
        d = None if isinstance(self._duration, int) and type(kids[-1])._at is Schedule._at \
            and all(isinstance(b, int) for b in starts) else self._duration
        parts = [f"{kids[0]._emit(local[0], src)} if {clamp(k, d, w, src)} < {starts[1]!r}"]
        for i in range(1, len(kids) - 1):
            parts.append(f"{kids[i]._emit(local[i], src)} if {w} < {starts[i + 1]!r}")
        parts.append(kids[-1]._emit(local[-1], src))
        return f"({' else '.join(parts)})"

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        starts, kids = self._starts, self.schedules
        last = len(kids) - 1  # only the last child ends with the sequence
        if xp.scalar:
            i = bisect.bisect_right(starts, k) - 1
            return kids[i]._at(k - starts[i], xp, hold or i < last)
        out = kids[0]._at(k, xp, hold or last > 0)
        for i in range(1, len(kids)):
            local = xp.maximum(xp.diff(k, starts[i]), 0)
            out = xp.where(xp.ge(k, starts[i]), kids[i]._at(local, xp, hold or i < last), out)
        return out

    def _chained(self, text: bool) -> bool:
        """Printed as ``a >> b >> …``: Python compiles a chain of n operators n levels deep,
        so a long one prints as ``sequence([...])``; the one-line syntax reads any length."""
        nested = any(isinstance(c, sequence) and c.at is None for c in self.schedules)
        return self.at is None and 1 < len(self.schedules) <= (10**9 if text else 64) \
            and not nested

    def _print(self, text: bool) -> str:
        if self._chained(text):
            return " >> ".join(_operand(c, text) for c in self.schedules)
        return super()._print(text)

    def _compound(self, text: bool, in_chain: bool) -> bool:
        return self._chained(text) and not in_chain


@register
class Scale(Schedule):
    """``schedule * factor``."""

    _op = "*"

    schedule: Schedule = arg("schedule")
    factor: float = arg("number", lo=0.0)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 20) * 0.5}

    def _bound(self) -> float:
        return self.schedule._top * self.factor

    def _bound_text(self) -> str:
        return f"the schedule's largest value {self.schedule._top!r} times {self.factor!r}"

    def _span(self) -> int | float | None:
        return self.schedule.duration

    def _emit(self, k: str, src: _Source) -> str:
        # held first, as _at does (a child past_end("error") must not see the later steps)
        src.node()
        held = clamp(k, self._duration, src.name(), src)
        return f"({self.schedule._emit(held, src)} * {self.factor!r})"

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(k, xp, hold) * self.factor


@register
class Product(Schedule):
    """``left * right``, step by step; finite when both are, lasting the longer."""

    _op = "*"

    left: Schedule = arg("schedule")
    right: Schedule = arg("schedule")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine, cyclic

        return {"": cosine(1.0, 0.1, 20) * cyclic(0.5, 1.0, 3)}

    def _bound(self) -> float:
        return self.left._top * self.right._top

    def _bound_text(self) -> str:
        return f"the largest values' product {self.left._top!r} · {self.right._top!r}"

    def _span(self) -> int | float | None:
        a, b = self.left.duration, self.right.duration
        return None if a is None or b is None else max(a, b)

    def _emit(self, k: str, src: _Source) -> str:
        # held first, as _at does (a child past_end("error") must not see the later steps)
        src.node()
        u = src.name()
        return (f"({self.left._emit(u, src)} * {self.right._emit(u, src)} "
                f"if {clamp(k, self._duration, u, src)} is not None else 0.0)")

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.left._at(k, xp, hold) * self.right._at(k, xp, hold)



class _Arithmetic(Schedule):
    """``left <op> right`` step by step, each a number or a schedule (at least one); finite
    when every schedule in it is, lasting the longest."""

    left: Schedule | float = arg("operand")
    right: Schedule | float = arg("operand")
    _op = ""

    def __post_init__(self) -> None:
        if isinstance(self.left, float) and isinstance(self.right, float):
            raise fail(self.kind, "left", "or 'right' must be a schedule (two numbers make a "
                       "number)", self.left, f"write lrkit.constant({self.left!r}) for one")

    def _span(self) -> int | float | None:
        ds = [c.duration for c in self.children()]
        return None if None in ds else max(ds)  # type: ignore[type-var]


@register
class Sum(_Arithmetic):
    """``left + right``: a schedule plus a number or another schedule (DeepSpeed's and timm's
    offsets, a floor under a decay: ``cosine(0.1, 0.0, 1000) + 1e-5``)."""

    _op = "+"

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine, linear

        return {"": cosine(1.0, 0.1, 20) + linear(0.0, 0.3, 30),
                "number": 0.25 + cosine(1.0, 0.1, 20)}

    def _bound(self) -> float:
        return _top(self.left) + _top(self.right)

    def _bound_text(self) -> str:
        return f"the largest values' sum {_top(self.left)!r} + {_top(self.right)!r}"

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return _at(self.left, k, xp, hold) + _at(self.right, k, xp, hold)


@register
class Difference(_Arithmetic):
    """``left - right``, floored at 0: a value is never negative (``lint`` reports the steps
    where the floor acts). ``1 - s`` is the EMA decay of a momentum schedule ``s``."""

    _op = "-"

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine, linear

        return {"": cosine(1.0, 0.1, 20) - linear(0.0, 0.5, 30),
                "number": 1.0 - cosine(0.9, 0.1, 20)}

    def _bound(self) -> float:
        return _top(self.left)

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return xp.maximum(_at(self.left, k, xp, hold) - _at(self.right, k, xp, hold), 0.0)

    def _floored(self, steps: Any) -> Any:
        ops = namespace_for(steps).using("float64")
        raw = _at(self.left, steps, ops, True) - _at(self.right, steps, ops, True)
        return steps[raw < 0]


@register
class Quotient(Schedule):
    """``schedule / divisor`` for a number ``divisor > 0`` (exactly ``s(k) / divisor``, which
    ``s * (1 / divisor)`` is not in the last bit)."""

    _op = "/"

    schedule: Schedule = arg("schedule")
    divisor: float = arg("number", lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 20) / 3.0}

    def _bound(self) -> float:
        return self.schedule._top / self.divisor

    def _bound_text(self) -> str:
        return f"the schedule's largest value {self.schedule._top!r} / {self.divisor!r}"

    def _span(self) -> int | float | None:
        return self.schedule.duration

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(k, xp, hold) / self.divisor


@register
class Clip(Schedule):
    """``schedule.clip(min, max)``: values clipped to ``[min, max]``, each bound a number or a
    schedule (optional)."""

    _method = "clip"
    _method_positional = 0  # its bounds are optional: by name

    schedule: Schedule = arg("schedule")
    min: Schedule | float | None = arg("operand", default=None)
    max: Schedule | float | None = arg("operand", default=None)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 20).clip(min=0.4, max=0.8)}

    def _bound(self) -> float:
        top = self.schedule._top if self.max is None else min(self.schedule._top,
                                                               _top(self.max))
        return max(top, 0.0 if self.min is None else _top(self.min))

    def __post_init__(self) -> None:
        lo, hi = self.min, self.max
        if isinstance(lo, float) and isinstance(hi, float) and lo > hi:
            raise fail(self.kind, "min", f"must be <= max ({hi!r})", lo)

    def _span(self) -> int | float | None:
        ds = [c.duration for c in self.children()]
        return None if None in ds else max(ds)  # type: ignore[type-var]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        v = self.schedule._at(k, xp, hold)
        if self.min is not None:  # the lower bound first: max wins where they cross
            v = xp.maximum(v, _at(self.min, k, xp, hold))
        return v if self.max is None else xp.minimum(v, _at(self.max, k, xp, hold))


@register
class Stretch(Schedule):
    """``schedule.stretch(factor)``: ``value(k) = schedule(k / factor)``; lasts ``ceil(D·f)``.

    A quotient whose rounding lands next to a whole number ``n`` with ``n·factor == k`` in
    floating point is taken as ``n`` (``33 / 1.1`` is 30, not 29.999999999999996), in every
    backend alike: under ``jit``, XLA's reciprocal product fused into a multiply-add would
    otherwise put a staircase step or a phase boundary one update late.
    """

    _method = "stretch"

    schedule: Schedule = arg("schedule")
    factor: float = arg("number", lo=0.0, lo_open=True)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 9).stretch(2.5)}

    def _span(self) -> int | float | None:
        d = self.schedule.duration
        from fractions import Fraction

        return None if d is None else float(Fraction(d) * Fraction(self.factor))

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        # k / factor, taken as the whole n where n·factor == k (see the class docstring)
        k = xp.fl(k)
        t = k / self.factor
        n = xp.floor(t + 0.5)
        return self.schedule._at(xp.where(n * self.factor == k, n, t), xp, hold)

    def __post_init__(self) -> None:
        if self.factor < MIN_STEPS:
            raise fail(self.kind, "factor", "must be at least 2**-20 (about 1e-6)", self.factor,
                       "a faster schedule than a millionth of a step per update has no steps")


@register
class Stepped(Schedule):
    """``schedule.stepped(every)``: the value changes only every ``every`` steps.

    ``value(k) = schedule(floor(k / every) · every)``: a per-epoch schedule such as Keras'
    ``LearningRateScheduler`` applies, with ``every="1ep"``.
    """

    _method = "stepped"

    schedule: Schedule = arg("schedule")
    every: Time = arg("time")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 20).stepped(4)}

    def _span(self) -> int | float | None:
        d, e = self.schedule.duration, self.every
        return None if d is None else math.ceil(d / e) * e  # type: ignore[operator,return-value]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(xp.times(xp.idiv(k, self.every), self.every), xp, hold)


@register
class Skip(Schedule):
    """``schedule.skip(steps)``: the schedule from step ``steps`` on, ``value(k) =
    schedule(k + steps)``; lasts ``max(D - steps, 0)``. A warmup that overlaps the start of the
    schedule instead of delaying it (timm's ``warmup_prefix=False``) is
    ``ramp >> schedule.skip(W)``."""

    _method = "skip"

    schedule: Schedule = arg("schedule")
    steps: Time = arg("time")

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 20).skip(6)}

    def _span(self) -> int | float | None:
        d = self.schedule.duration
        return None if d is None else max(d - self.steps, 0)  # type: ignore[operator]

    def _shift(self, k: Any, xp: Ops) -> Any:
        # k + steps, held at the last step an int64 counter has (no overflow past it)
        return xp.diff(xp.top(k, _LAST - self.steps), -self.steps)  # type: ignore[operator]

    def _f(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        return self.schedule._at(self._shift(k, xp), xp, hold)



_POLICIES = ("hold", "continue", "error")
_LAST = 2**63 - 1  # the last step an evaluation is defined at


@register
class PastEnd(Schedule):
    """``schedule.past_end(policy)``: after the end, ``hold`` the last value, ``continue`` the
    formula (PyTorch's periodic cosine; floored at 0), or raise (``error``; traced evaluation,
    which cannot raise, holds)."""

    _method = "past_end"

    schedule: Schedule = arg("schedule")
    policy: str = arg("choice", choices=_POLICIES)

    @classmethod
    def _examples(cls) -> dict[str, Schedule]:
        from ._shapes import cosine

        return {"": cosine(1.0, 0.1, 10).past_end("continue")}

    def _bound(self) -> float:
        top = self.schedule._top
        if self.policy != "continue" or self.schedule._missing:
            return top
        # a continued formula is monotone or periodic past the end: its last step bounds it
        last = float(self.schedule._at(2**63 - 1, SCALAR, hold=False))
        return max(top, last) if last == last else math.inf

    def _span(self) -> int | float | None:
        return None if self.policy == "continue" else self.schedule.duration

    def _continues(self) -> bool:
        return self.policy == "continue"

    def _at(self, k: Any, xp: Ops, hold: bool = True) -> Any:
        # The policy is this node's: an enclosing past_end does not change it.
        if self.policy == "continue":
            v = self.schedule._at(k, xp, hold=False)
            return xp.where(v > 0.0, v, 0.0)  # also maps NaN to 0
        d = self.schedule.duration
        if self.policy == "error" and d is not None and xp.name in ("scalar", "numpy"):
            last = k if xp.scalar else k.max(initial=0.0)
            if last > d:
                raise ScheduleError(
                    f"past_end: step {int(last)} is past the end of the schedule (duration "
                    f"{d} steps) and the policy is 'error'; stop the run by step {d} or "
                    "use past_end('hold')")
        return self.schedule._at(k, xp)

    _f = _at
