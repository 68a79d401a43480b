"""Hypothesis strategies: random valid schedules (bound, in steps) and steps that hit their
boundaries.

The leaves are random arguments for the shapes below and, for every registered kind, the
class's own example instances (``lrkit._schedule.examples()``): a new kind is part of every
law from its first commit, before it has random arguments here."""

import math

from hypothesis import strategies as st

import lrkit
from lrkit._schedule import examples
from lrkit._shapes import _Anneal

# LRs from 1e-8 up, and exact zeros: XLA flushes subnormal numbers to zero, and values below
# 1e-300 are not learning rates.
values = st.just(0.0) | st.floats(1e-8, 10.0)
positive = st.floats(1e-3, 10.0)
lengths = st.integers(1, 60)
EXAMPLES = list(examples().values())


@st.composite
def leaves(draw):
    which = draw(st.sampled_from([
        "constant", "constant_over", "linear", "cosine", "polynomial", "exponential",
        "inverse_time", "inverse_sqrt", "step", "multistep", "piecewise", "interpolate", "tanh",
        "cyclic", "one_cycle", "one_minus_sqrt", "geometric", "example"]))
    if which == "example":
        return draw(st.sampled_from(EXAMPLES))
    v, w, n = draw(values), draw(values), draw(lengths)
    if which == "constant":
        return lrkit.constant(v)
    if which == "constant_over":
        return lrkit.constant(v, over=n)
    if which == "linear":
        return lrkit.linear(v, w, n)
    if which == "cosine":
        return lrkit.cosine(v, w, n, exponent=draw(st.sampled_from([1.0, 0.5, 2.0])),
                            k_decay=draw(st.sampled_from([1.0, 1.0, 2.0, 0.5])))
    if which == "polynomial":
        return lrkit.polynomial(v, w, n, power=draw(st.sampled_from([0.5, 1.0, 2.0])),
                                cycle=draw(st.booleans()),
                                k_decay=draw(st.sampled_from([1.0, 1.0, 2.0, 0.5])))
    if which == "exponential":
        rate = draw(st.floats(0.1, 3.0))
        end = v * (0.5 if rate < 1 else 2.0) if rate > 1 or draw(st.booleans()) else None
        return lrkit.exponential(v, rate, n, staircase=draw(st.booleans()),
                                 begin=draw(st.integers(0, 20)), end=end)
    if which == "inverse_time":
        return lrkit.inverse_time(v, draw(st.floats(0.0, 3.0)), n,
                                  staircase=draw(st.booleans()))
    if which == "inverse_sqrt":
        return lrkit.inverse_sqrt(v, n)
    if which == "step":
        return lrkit.step(v, draw(st.floats(0.1, 1.0)), n)
    if which == "multistep":
        at = sorted(draw(st.lists(st.integers(0, 80), min_size=1, max_size=4)))
        return lrkit.multistep(v, draw(st.floats(0.1, 1.0)), at)
    if which == "piecewise":
        at = sorted(set(draw(st.lists(st.integers(1, 80), min_size=1, max_size=4))))
        vals = draw(st.lists(values, min_size=len(at) + 1, max_size=len(at) + 1))
        return lrkit.piecewise(vals, at)
    if which == "interpolate":
        ks = sorted(set(draw(st.lists(st.integers(0, 80), min_size=1, max_size=4))))
        pts = [(k, draw(values)) for k in ks]
        return lrkit.interpolate(pts, shape=draw(st.sampled_from(["linear", "cosine"])))
    if which == "tanh":
        return lrkit.tanh(v, w, n)
    if which == "cyclic":
        return lrkit.cyclic(v, w, n, down=draw(st.none() | lengths),
                            mode=draw(st.sampled_from(["triangular", "triangular2",
                                                       "exp_range"])),
                            gamma=draw(st.floats(0.9, 1.0)))
    if which == "one_cycle":
        three = draw(st.booleans())
        return lrkit.one_cycle(draw(positive), n + 4,
                               pct_start=draw(st.floats(0.1, 0.45 if three else 0.9)),
                               three_phase=three,
                               shape=draw(st.sampled_from(["cosine", "linear"])))
    if which == "one_minus_sqrt":
        return lrkit.one_minus_sqrt(v, w, n)
    return lrkit.geometric(draw(positive), draw(positive), n)


def _finite(s):
    return s.duration is not None


def extend(children):
    finite = children.filter(_finite)

    @st.composite
    def combine(draw):
        which = draw(st.sampled_from(["sequence", "sequence_at", "warmup", "restarts", "scale",
                                      "product", "clip", "stretch", "stepped", "skip",
                                      "continue", "plateau"]))
        if which == "sequence":
            kids = draw(st.lists(finite, min_size=1, max_size=3)) + [draw(children)]
            return lrkit.sequence(kids)
        if which == "sequence_at":
            kids = draw(st.lists(children, min_size=2, max_size=3))
            at = sorted(set(draw(st.lists(st.integers(1, 100), min_size=len(kids) - 1,
                                          max_size=len(kids) - 1))))
            if len(at) != len(kids) - 1:
                return kids[0]
            return lrkit.sequence(kids, at=at)
        if which == "warmup":
            shape = draw(st.sampled_from(["linear", "cosine", "exp", "constant"]))
            inner = draw(children)
            start = draw(st.none() | positive)
            if shape == "exp" and inner(0) <= 0:
                shape = "linear"
            return lrkit.warmup(inner, draw(lengths), start=start, shape=shape)
        if which == "restarts":
            cycle = draw(finite.filter(lambda s: s.duration > 0))
            decay = draw(st.sampled_from(["distance", "peak"]))
            if cycle(0) == cycle(math.ceil(cycle.duration)) or not isinstance(cycle, _Anneal):
                decay = "distance"
            return lrkit.restarts(cycle, period_mult=draw(st.sampled_from([1.0, 1.5, 2.0])),
                                  peak_decay=draw(st.floats(0.0, 1.0)),
                                  limit=draw(st.none() | st.integers(1, 4)), decay=decay,
                                  cycle_index=draw(st.sampled_from(["exact", "log"])))
        if which == "scale":
            return draw(children) * draw(st.floats(0.0, 4.0))
        if which == "product":
            return draw(children) * draw(children)
        if which == "clip":
            lo = draw(st.none() | st.floats(0.0, 1.0))
            return draw(children).clip(min=lo, max=draw(st.none() | st.floats(1.0, 5.0)))
        if which == "stretch":
            return draw(children).stretch(draw(st.sampled_from([0.5, 2.0, 3.0])))
        if which == "stepped":
            return draw(children).stepped(draw(lengths))
        if which == "skip":
            return draw(children).skip(draw(lengths))
        if which == "plateau":
            return lrkit.plateau(draw(children), factor=draw(st.floats(0.1, 0.9)),
                                 patience=draw(st.integers(0, 5)),
                                 mode=draw(st.sampled_from(["min", "max"])))
        return draw(children).past_end(draw(st.sampled_from(["continue", "hold"])))

    return combine()


schedules = st.recursive(leaves(), extend, max_leaves=5)


@st.composite
def steps_for(draw, s, n=40):
    """Steps around every boundary of ``s`` plus random ones, up to a bit past its end."""
    d = math.ceil(s.duration or 200)  # durations are real: the updates around the end
    ks = set(draw(st.lists(st.integers(0, 2 * d + 10), min_size=1, max_size=n)))
    ks |= {0, 1, d - 2, d - 1, d, d + 1}
    ks |= {2**40, 10**9}
    return sorted(k for k in ks if k >= 0)
