"""Array namespaces: the handful of operations every schedule formula is written against.

A formula receives ``k`` (a Python float, a float64 numpy array, or a framework tensor) and an
``Ops`` object and may only use arithmetic operators, comparisons and the methods below. The
same formula therefore runs as scalar math (no numpy), vectorized numpy, or a traced tensor
(torch, jax, ``keras.ops``). ``where`` evaluates both branches except on the scalar path, so
formulas keep every branch finite for any ``k >= 0`` (clamp before ``log``/``sqrt``/``**``).

What does not live here: the formulas themselves (``_shapes``, ``_combine``).
"""

from __future__ import annotations

import copy
import math

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SCALAR", "Ops", "namespace_for"]


class Ops:
    """The operations a formula may use; this base implements them on Python numbers.

    Steps arrive as integers where they can (a Python int, an integer array or tensor) and stay
    integers through ``diff``, ``top`` and ``idiv`` as long as the other operand is a whole
    number: the remaining distance ``over - k`` is then exact at any step, also in float32, and
    ``fl`` turns it into the computing float type once, before any division.
    """

    name = "scalar"
    scalar = True

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    def minimum(self, a: Any, b: Any) -> Any:
        return a if a <= b else b

    def maximum(self, a: Any, b: Any) -> Any:
        return a if a >= b else b

    def floor(self, x: Any) -> Any:
        return float(math.floor(x))

    # -- steps: exact in integers where they can be --------------------------------------------

    def fl(self, x: Any) -> Any:
        """``x`` in the computing float type."""
        return float(x)

    def diff(self, a: Any, b: Any) -> Any:
        """``a - b`` for steps and positions: exact (an integer) when both are whole. (Python
        ints are exact at any size, and lrkit keeps whole positions as ints.)"""
        return a - b

    def top(self, k: Any, d: Any) -> Any:
        """``min(k, d)`` for a step ``k`` and a position ``d``, keeping ``k``'s exactness."""
        return k if k <= d else d

    def idiv(self, a: Any, b: Any) -> Any:
        """The exact ``floor(a / b)``, an integer when ``a`` is an int and ``b`` whole
        (Python's ``//``: ``floor(a / b)`` may round up to the next whole number). A float
        ``a`` (a step shifted by a fraction) takes the array path's float steps, so both give
        the same bits where ``b`` is not a float (a period past 2**53)."""
        if isinstance(a, float):
            q = math.floor(a / b)
            q = q - 1 if q * b > a else q
            return q + 1 if (q + 1) * b <= a else q
        return a // _whole(b)

    def floordiv(self, a: Any, b: Any) -> Any:
        """``idiv`` as a float: a count of periods, ready for arithmetic."""
        return float(self.idiv(a, b))

    def mod(self, k: Any, period: Any) -> Any:
        """The exact remainder of a step ``k >= 0`` in a period (an integer when both are; a
        float step's ``fmod``, as on arrays)."""
        if isinstance(k, float):
            return math.fmod(k, float(period))
        return k % _whole(period)

    def times(self, n: Any, c: Any) -> Any:
        """``n · c`` for a count ``n``: exact in integers when ``c`` is whole."""
        return n * c

    def is_int(self, x: Any) -> bool:
        return isinstance(x, int)

    def ge(self, k: Any, c: Any) -> Any:
        """``k >= c`` for a step ``k`` and a position ``c`` (in integers: ``k >= ceil c``)."""
        return k >= c

    def le(self, k: Any, c: Any) -> Any:
        """``k <= c`` (in integers, ``k <= floor c``)."""
        return k <= c

    # The C functions themselves: one call on the hot scalar path.
    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)

    def expm1(self, x: Any) -> Any:
        try:
            return math.expm1(x)
        except OverflowError:
            return math.inf

    def log(self, x: Any) -> Any:
        return math.log(x) if x > 0 else -math.inf

    def log1p(self, x: Any) -> Any:
        return math.log1p(x) if x > -1 else -math.inf

    def exp(self, x: Any) -> Any:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf

    def power(self, a: Any, b: Any) -> Any:
        try:
            return float(a) ** float(b)
        except OverflowError:
            return math.inf
        except ZeroDivisionError:  # 0 ** negative
            return math.inf


def _whole(x: Any) -> Any:
    """A whole float as an int (computed positions such as ``up + down`` come out as floats),
    so Python's integer arithmetic keeps large steps exact."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


SCALAR = Ops()


class _Module(Ops):
    """Ops backed by an array module with numpy-style function names (numpy, jax.numpy)."""

    scalar = False
    dtype: Any = None

    def __init__(self, name: str, mod: Any) -> None:
        self.name = name
        self.m = mod

    def using(self, dtype: Any) -> _Module:
        """A copy computing in ``dtype`` (Python numbers in ``where`` take that dtype)."""
        out = copy.copy(self)
        out.dtype = dtype
        return out

    def const(self, x: Any, like: Any) -> Any:
        return self.m.asarray(x, dtype=self.dtype)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if isinstance(cond, bool):  # a condition on constants only
            return a if cond else b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            a = self.const(a, cond)
        return self.m.where(cond, a, b)

    def minimum(self, a: Any, b: Any) -> Any:
        return self.m.minimum(a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.m.maximum(a, b)

    def floor(self, x: Any) -> Any:
        return self.m.floor(x)

    def is_int(self, x: Any) -> bool:
        return isinstance(x, int) or "int" in str(getattr(x, "dtype", ""))

    def _whole(self, n: Any, like: Any) -> int | None:
        """``n`` as an int when it is whole and fits ``like``'s integer type, else None."""
        if isinstance(n, int) or isinstance(n, float) and n.is_integer():
            limit = 2**31 if "int32" in str(getattr(like, "dtype", "")) else 2**63
            if -limit < n < limit:
                return int(n)
        return None

    def fl(self, x: Any) -> Any:
        if isinstance(x, (int, float)):
            return float(x)
        return self.cast(x) if self.is_int(x) else x

    def cast(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def diff(self, a: Any, b: Any) -> Any:
        if isinstance(b, (int, float)):
            n = self._whole(b, a) if self.is_int(a) else None
            return a - n if n is not None else self.fl(a) - float(b)
        if isinstance(a, (int, float)):
            n = self._whole(a, b) if self.is_int(b) else None
            return n - b if n is not None else float(a) - self.fl(b)
        return a - b if self.is_int(a) and self.is_int(b) else self.fl(a) - self.fl(b)

    def top(self, k: Any, d: Any) -> Any:
        if self.is_int(k):
            limit = 2**31 if "int32" in str(getattr(k, "dtype", "")) else 2**63
            if d >= limit:  # past every step the integer type holds: k itself, still exact
                return k
        n = self._whole(d, k) if self.is_int(k) else None
        return self.minimum(k, n) if n is not None else self.minimum(self.fl(k), float(d))

    def idiv(self, a: Any, b: Any) -> Any:
        n = self._whole(b, a) if self.is_int(a) else None
        if n is not None:
            return self.m.floor_divide(a, n)
        a = self.fl(a)
        # XLA rewrites a / c as a * (1/c), so floor(41 / 41) can come out 0 in float32:
        # settle the quotient with exact products instead.
        q = self.floor(a / b)
        q = self.where(q * b > a, q - 1.0, q)
        return self.where((q + 1.0) * b <= a, q + 1.0, q)

    def floordiv(self, a: Any, b: Any) -> Any:
        return self.fl(self.idiv(a, b))

    def ge(self, k: Any, c: Any) -> Any:
        n = self._whole(math.ceil(c), k) if self.is_int(k) else None
        return k >= n if n is not None else self.fl(k) >= float(c)

    def le(self, k: Any, c: Any) -> Any:
        n = self._whole(math.floor(c), k) if self.is_int(k) else None
        return k <= n if n is not None else self.fl(k) <= float(c)

    def mod(self, k: Any, period: Any) -> Any:
        n = self._whole(period, k) if self.is_int(k) else None
        if n is not None:
            return k % n
        return self.m.fmod(self.fl(k), float(period))  # exact, and k >= 0

    def times(self, n: Any, c: Any) -> Any:
        w = self._whole(c, n) if self.is_int(n) else None
        return n * w if w is not None else self.fl(n) * float(c)

    def cos(self, x: Any) -> Any:
        return self.m.cos(x)

    def sin(self, x: Any) -> Any:
        return self.m.sin(x)

    def expm1(self, x: Any) -> Any:
        return self.m.expm1(x)

    def log1p(self, x: Any) -> Any:
        return self.m.log1p(x)

    def sqrt(self, x: Any) -> Any:
        return self.m.sqrt(x)

    def log(self, x: Any) -> Any:
        return self.m.log(x)

    def tanh(self, x: Any) -> Any:
        return self.m.tanh(x)

    def exp(self, x: Any) -> Any:
        return self.m.exp(x)

    def power(self, a: Any, b: Any) -> Any:
        if self._narrow and isinstance(a, float) and a > 0:
            # In float32, a rounded base compounds: 0.99999**199 is off by 199 roundings.
            # exp(b · log a) with log a taken in float64 keeps one rounding.
            return self.exp(b * math.log(a))
        return self.m.power(a, b)

    @property
    def _narrow(self) -> bool:
        return "32" in str(self.dtype) or "16" in str(self.dtype)

    def to_float(self, k: Any, dtype: Any) -> Any:
        return self.m.asarray(k).astype(dtype)

    def full_like(self, value: Any, like: Any) -> Any:
        return self.m.zeros_like(like) + value


class _Numpy(_Module):
    """numpy, bit-identical to the scalar path.

    numpy's own ``exp``, ``log``, ``tanh``, ``expm1``, ``log1p`` and ``power`` differ from the
    C library's in the last bit for some inputs, so these call the same libm functions as the
    scalar path element by element; ``cos``, ``sin`` and ``sqrt`` agree and stay vectorized (a
    test checks them).
    """

    _LIBM = ("exp", "log", "tanh", "expm1", "log1p")

    def __init__(self, name: str, mod: Any) -> None:
        super().__init__(name, mod)
        self._libm = {f: mod.frompyfunc(getattr(SCALAR, f), 1, 1) for f in self._LIBM}
        self._pow = mod.frompyfunc(SCALAR.power, 2, 1)

    def idiv(self, a: Any, b: Any) -> Any:
        n = self._whole(b, a) if self.is_int(a) else None
        return self.m.floor_divide(a, n if n is not None else float(b))  # exact, as Python's //

    def _call(self, ufunc: Any, *args: Any) -> Any:
        with self.m.errstate(all="ignore"):  # libm's overflow flag; the result is inf anyway
            out = ufunc(*args)
        return out.astype(self.m.float64) if isinstance(out, self.m.ndarray) else float(out)

    def exp(self, x: Any) -> Any:
        return self._call(self._libm["exp"], x)

    def log(self, x: Any) -> Any:
        return self._call(self._libm["log"], x)

    def tanh(self, x: Any) -> Any:
        return self._call(self._libm["tanh"], x)

    def expm1(self, x: Any) -> Any:
        return self._call(self._libm["expm1"], x)

    def log1p(self, x: Any) -> Any:
        return self._call(self._libm["log1p"], x)

    def power(self, a: Any, b: Any) -> Any:
        return self._call(self._pow, a, b)


class _Torch(_Module):
    """torch functions want tensors where numpy accepts Python numbers."""

    def _t(self, x: Any, like: Any) -> Any:
        return x if isinstance(x, self.m.Tensor) else self.m.as_tensor(x, dtype=like.dtype,
                                                                         device=like.device)

    def const(self, x: Any, like: Any) -> Any:
        return self.m.as_tensor(x, dtype=self.dtype, device=like.device)

    def _pair(self, fn: Any, a: Any, b: Any) -> Any:
        ta, tb = isinstance(a, self.m.Tensor), isinstance(b, self.m.Tensor)
        if not (ta or tb):
            return getattr(SCALAR, fn.__name__)(a, b)
        like = a if ta else b
        return fn(self._t(a, like), self._t(b, like))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if isinstance(cond, bool):
            return a if cond else b
        like = a if isinstance(a, self.m.Tensor) else b if isinstance(b, self.m.Tensor) else None
        if like is None:
            like = a = self.const(a, cond)
        return self.m.where(cond, self._t(a, like), self._t(b, like))

    def minimum(self, a: Any, b: Any) -> Any:
        return self._pair(self.m.minimum, a, b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self._pair(self.m.maximum, a, b)

    def power(self, a: Any, b: Any) -> Any:
        if not isinstance(a, self.m.Tensor) and not isinstance(b, self.m.Tensor):
            return SCALAR.power(a, b)
        if self._narrow and isinstance(a, float) and a > 0:
            return self.m.exp(b * math.log(a))  # see _Module.power
        return self.m.pow(a, b)

    def _unary(self, name: str, x: Any) -> Any:
        if isinstance(x, self.m.Tensor):
            return getattr(self.m, name)(x)
        return getattr(SCALAR, name)(x)

    def floor(self, x: Any) -> Any:
        return self._unary("floor", x)

    def is_int(self, x: Any) -> bool:
        return isinstance(x, int) or isinstance(x, self.m.Tensor) and not x.is_floating_point()

    def cast(self, x: Any) -> Any:
        return x.to(self.dtype)

    def cos(self, x: Any) -> Any:
        return self._unary("cos", x)

    def sin(self, x: Any) -> Any:
        return self._unary("sin", x)

    def expm1(self, x: Any) -> Any:
        return self._unary("expm1", x)

    def log1p(self, x: Any) -> Any:
        return self._unary("log1p", x)

    def sqrt(self, x: Any) -> Any:
        return self._unary("sqrt", x)

    def log(self, x: Any) -> Any:
        return self._unary("log", x)

    def tanh(self, x: Any) -> Any:
        return self._unary("tanh", x)

    def exp(self, x: Any) -> Any:
        return self._unary("exp", x)

    def to_float(self, k: Any, dtype: Any) -> Any:
        return self.m.as_tensor(k).to(dtype)

    def full_like(self, value: Any, like: Any) -> Any:
        return self.m.full_like(like, value) if not isinstance(value, self.m.Tensor) else value


class _Keras(_Module):
    """``keras.ops``, for the backends it does not narrow. With the JAX backend, keras 3.15's
    ``cos``, ``tanh`` and ``floor`` return float32 for float64 input, so a ``keras.ops`` tensor
    of the jax or torch backend is evaluated with that backend's own functions (``native``)."""

    def native(self, k: Any) -> tuple[_Module, Any]:
        import keras

        k = self.m.convert_to_tensor(k)
        backend = keras.backend.backend()
        return (_get(backend), k) if backend in ("jax", "torch") else (self, k)

    def const(self, x: Any, like: Any) -> Any:
        return self.m.convert_to_tensor(x, dtype=self.dtype)

    def cast(self, x: Any) -> Any:
        return self.m.cast(x, self.dtype)

    def to_float(self, k: Any, dtype: Any) -> Any:
        return self.m.cast(k, dtype)

    def full_like(self, value: Any, like: Any) -> Any:
        return self.m.zeros_like(like) + value


_NUMPY: list[_Numpy] = []


def _get(name: str) -> _Module:
    # Only numpy's ops are cached (they build ufuncs); the others are built per call, so
    # tracing a first call under torch.compile installs no guard on a cache.
    if name == "numpy":
        if not _NUMPY:
            import numpy

            _NUMPY.append(_Numpy(name, numpy))
        return _NUMPY[0]
    if name == "torch":
        import torch

        return _Torch(name, torch)
    if name == "jax":
        import jax.numpy as jnp

        return _Module(name, jnp)
    import keras

    return _Keras(name, keras.ops)


def namespace_for(k: Any, xp: Any = None) -> _Module:
    """The ops for ``xp`` (a module or its name), or inferred from the type of ``k``."""
    if xp is not None:
        name = xp if isinstance(xp, str) else getattr(xp, "__name__", "")
        for key, prefixes in _NAMES.items():
            if name.startswith(prefixes):
                return _get(key)
        raise ValueError(
            f"evaluate: unsupported array namespace {name!r}; "
            "use numpy, torch, jax.numpy or keras.ops")
    mod = type(k).__module__
    if mod.startswith("torch"):
        return _get("torch")
    if mod.startswith(("jax", "jaxlib")):
        return _get("jax")
    if mod.startswith("keras") or mod.startswith("tensorflow"):
        return _get("keras")
    return _get("numpy")


_NAMES = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "jax": ("jax",),
    "keras": ("keras",),
}
