"""The reduce-on-plateau state machine: one state, one transition per rule, one reduced value.

Written once, branch-free, against the array namespace (``_xp.Ops``): the same functions run on
Python numbers (``lrkit.plateau``'s plain-data API, so ``lrkit.torch`` and the Keras callback),
on ``jax.numpy`` under ``jit`` (``lrkit.optax``) and on ``keras.ops`` (the Keras schedule).
They branch on the plateau's settings only, never on the data.

The plain-data form of a state (``plain``/``unplain``) is what checkpoints hold, so ``unplain``
checks every field (``checked``) and says which one is wrong.

What does not live here: the ``plateau`` schedule and its arguments (``_combine``), where each
adapter keeps the state (``torch``, ``keras``, ``optax``).
"""

from __future__ import annotations

import math
import numbers
from collections import namedtuple
from collections.abc import Mapping

from ._saved import finite, shown, whole
from .errors import ConfigError

TYPE_CHECKING = False  # typing is imported by type checkers only: it costs ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from ._combine import plateau
    from ._xp import Ops

__all__ = ["State", "checked", "init", "keras_rule", "observe", "plain", "reduce", "torch_rule",
           "unplain"]

# best: the best metric so far, +inf (mode "min") or -inf ("max") before there is one, as in
# PyTorch, so every comparison works unchanged, traced too; bad: the bad observations counted;
# cooldown: the observations still to ignore; reductions: the reductions so far.
State = namedtuple("State", ["best", "bad", "cooldown", "reductions"])
_MAX_COUNT = 2**31 - 1


def init(p: plateau) -> State:
    """The state before any observation."""
    return State(math.inf if p.mode == "min" else -math.inf, 0, 0, 0)


def _better(p: plateau, a: Any, best: Any, rel: bool) -> Any:
    # With best = inf, best·(1 - 1) is NaN: PyTorch's first observation fails a relative
    # threshold of 1, and so does lrkit's.
    t = p.threshold
    if p.mode == "min":
        return a < (best * (1.0 - t) if rel else best - t)
    return a > (best * (1.0 + t) if rel else best + t)


def _settle(p: plateau, best: Any, bad: Any, cooldown: Any, reductions: Any, reduce: Any,
            xp: Ops) -> State:
    return State(best, xp.where(reduce, 0, bad), xp.where(reduce, p.cooldown, cooldown),
                 xp.where(reduce, _plus_one(reductions, xp), reductions))


def _plus_one(n: Any, xp: Ops) -> Any:
    """``n + 1``, saturating below 2**31 (an int32 in traced states; a value reduced that many
    times has long reached its minimum), so a saved state always loads again."""
    return xp.where(n < _MAX_COUNT, n + 1, n)


def torch_rule(p: plateau, st: State, a: Any, xp: Ops) -> State:
    """PyTorch's ``ReduceLROnPlateau.step``: an observation not beating the best by the
    threshold is bad; bad observations during the cooldown are forgotten; reduce when more than
    ``patience`` are counted, then start the cooldown."""
    better = _better(p, a, st.best, p.threshold_mode == "rel")
    cooling = st.cooldown > 0
    bad = xp.where(cooling, 0, xp.where(better, 0, _plus_one(st.bad, xp)))
    cooldown = xp.where(cooling, st.cooldown - 1, st.cooldown)
    return _settle(p, xp.where(better, a, st.best), bad, cooldown, st.reductions,
                   bad > p.patience, xp)


def keras_rule(p: plateau, st: State, a: Any, xp: Ops) -> State:
    """Keras' ``ReduceLROnPlateau.on_epoch_end``: the cooldown is counted down first; an
    observation not beating the best by the threshold (always absolute: Keras' ``min_delta``)
    is counted outside the cooldown; reduce when ``patience`` are counted."""
    cooling = st.cooldown > 0
    cooldown = xp.where(cooling, st.cooldown - 1, st.cooldown)
    better = _better(p, a, st.best, False)
    counted = xp.where(better, False, cooldown == 0)
    bad = xp.where(counted, _plus_one(xp.where(cooling, 0, st.bad), xp), 0)
    return _settle(p, xp.where(better, a, st.best), bad, cooldown, st.reductions,
                   xp.where(counted, bad >= p.patience, False), xp)


_RULES = {"torch": torch_rule, "keras": keras_rule}


def observe(p: plateau, st: State, metric: Any, xp: Ops) -> State:
    """The state after one more observation of the monitored metric, by ``p.rule``."""
    return _RULES[p.rule](p, st, metric, xp)


def reduce(p: plateau, base: Any, n: Any, xp: Ops) -> Any:
    """The value ``base`` takes after ``n`` reductions: ``base`` while ``n = 0``, else
    ``max(base·factor^j, min_value)`` with ``j = n``, or with ``eps > 0`` the number of them
    PyTorch applies before it skips one (``_applied``). ``n`` has ``base``'s float type."""
    j = n if p.eps == 0 else _applied(p, base, n, xp)
    return xp.where(n > 0, xp.maximum(base * xp.power(p.factor, j), p.min_value), base)


def _applied(p: plateau, base: Any, n: Any, xp: Ops) -> Any:
    # PyTorch reduces one step at a time, old -> new = max(old·f, m), and skips a step when
    # old - new <= eps. A skipped step leaves old unchanged, so every later step is skipped too.
    # From base, step i + 1 meets old = base·f^i and is applied iff
    #     base·f^i - max(base·f^(i+1), m) > eps  <=>  base·f^i > T = max(eps / (1 - f), m + eps),
    # which holds for a prefix of the steps (base·f^i decreases). Of n steps, then,
    #     j = #{0 <= i < n : base·f^i > T} = clamp(ceil(log(T / base) / log f), 0, n).
    # The logarithms can put j one off at a boundary; PyTorch's own test on the neighbouring
    # steps settles it.
    f, m, eps = p.factor, p.min_value, p.eps

    def applies(i: Any) -> Any:  # step i + 1
        old = base * xp.power(f, i)
        return old - xp.maximum(old * f, m) > eps

    x = (math.log(max(eps / (1.0 - f), m + eps)) - xp.log(base)) / math.log(f)
    j = -xp.floor(-xp.minimum(xp.maximum(x, 0.0), n))  # ceil, in [0, n]
    j = xp.where(applies(j - 1.0), j, xp.maximum(j - 1.0, 0.0))
    return xp.minimum(xp.where(applies(j), j + 1.0, j), n)


def plain(p: plateau, st: State) -> dict[str, Any]:
    """``st`` as plain data (JSON): Python numbers, and ``None`` for a best not known yet."""
    best = float(st.best)
    return {"best": None if best == init(p).best else best, "bad": int(st.bad),
            "cooldown": int(st.cooldown), "reductions": int(st.reductions)}


def unplain(p: plateau, d: Any, where: str = "plateau state") -> State:
    """The state from its plain data (``plain``'s output, and lrkit's saved states).

    ``d`` is checked as ``checked`` does; a ``ConfigError`` names ``where`` and the key.
    """
    c = checked(d, where)
    best = c["best"]
    return State(init(p).best if best is None else best, c["bad"], c["cooldown"],
                 c["reductions"])


_KEYS = ("best", "bad", "cooldown", "reductions")


def checked(d: Any, where: str = "plateau state") -> dict[str, Any]:
    """Plain data ``d`` as a well-formed plateau state, normalized (Python ``int``/``float``).

    ``best`` is a number or ``None`` (no best yet): an infinite one is the best after an
    infinite metric, as in PyTorch (a NaN metric never becomes the best, so a NaN best is
    refused); ``bad``, ``cooldown`` and ``reductions`` are ints >= 0. Anything else is a
    ``ConfigError`` at ``where[key]``.
    """
    if not isinstance(d, Mapping):
        raise ConfigError(where, f"must be a mapping with keys {', '.join(_KEYS)}, got "
                          f"{shown(d)}")
    extra = [k for k in d if k not in _KEYS]
    if extra:
        raise ConfigError(where, f"unknown key {shown(extra[0])}; a plateau state has keys "
                          f"{', '.join(_KEYS)}")
    missing = [k for k in _KEYS if k not in d]
    if missing:
        raise ConfigError(where, f"missing key {missing[0]!r}")
    best = d["best"]
    infinite = isinstance(best, numbers.Real) and not isinstance(best, numbers.Integral) \
        and math.isinf(best)
    if best is not None and not infinite:
        best = finite(best, f"{where}['best']", lo=None, rule="must be a number or None")
    return {"best": None if best is None else float(best),
            **{k: whole(d[k], f"{where}[{k!r}]") for k in _KEYS[1:]}}

