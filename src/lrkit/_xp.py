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
    """The operations a formula may use; this base implements them on Python floats."""

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

    def floordiv(self, a: Any, b: float) -> Any:
        """The exact ``floor(a / b)`` (Python's ``//``: ``floor(a / b)`` may round up to the next
        whole number); use it wherever a count of periods is wanted."""
        return float(a // b)

    # The C functions themselves: one call on the hot scalar path.
    cos = staticmethod(math.cos)
    sqrt = staticmethod(math.sqrt)
    tanh = staticmethod(math.tanh)

    def log(self, x: Any) -> Any:
        return math.log(x) if x > 0 else -math.inf

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

    def floordiv(self, a: Any, b: float) -> Any:
        # XLA rewrites a / c as a * (1/c), so floor(41 / 41) can come out 0 in float32:
        # settle the quotient with exact products instead.
        n = self.floor(a / b)
        n = self.where(n * b > a, n - 1.0, n)
        return self.where((n + 1.0) * b <= a, n + 1.0, n)

    def cos(self, x: Any) -> Any:
        return self.m.cos(x)

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

    numpy's own ``exp``, ``log``, ``tanh`` and ``power`` differ from the C library's in the
    last bit for some inputs, so these four call the same libm functions as the scalar path
    element by element; ``cos`` and ``sqrt`` agree and stay vectorized (a test checks both).
    """

    def __init__(self, name: str, mod: Any) -> None:
        super().__init__(name, mod)
        self._libm = {f: mod.frompyfunc(getattr(SCALAR, f), 1, 1) for f in ("exp", "log", "tanh")}
        self._pow = mod.frompyfunc(SCALAR.power, 2, 1)

    def floordiv(self, a: Any, b: float) -> Any:
        return self.m.floor_divide(a, b)  # exact, as Python's //

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

    def cos(self, x: Any) -> Any:
        return self._unary("cos", x)

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
    def const(self, x: Any, like: Any) -> Any:
        return self.m.convert_to_tensor(x, dtype=self.dtype)

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
