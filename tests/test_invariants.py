"""Invariants: exact values at every boundary, monotonicity where promised, holding past the
end, and the first update never getting 0 from a default warmup."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import schedules

import lrkit

DECAYS = [
    lrkit.linear(1.0, 0.1, 50), lrkit.cosine(1.0, 0.1, 50), lrkit.cosine(1.0, 0.0, 50, 2.0),
    lrkit.polynomial(1.0, 0.0, 50, power=0.5), lrkit.exponential(1.0, 0.9, 5),
    lrkit.inverse_time(1.0, 0.5, 5), lrkit.inverse_sqrt(1.0, 5), lrkit.step(1.0, 0.5, 7),
    lrkit.multistep(1.0, 0.5, [5, 20, 20]), lrkit.tanh(1.0, 0.0, 50),
    lrkit.one_minus_sqrt(1.0, 0.0, 50), lrkit.geometric(1.0, 1e-3, 50),
    lrkit.piecewise([1.0, 0.5, 0.1], [10, 20]),
]


@pytest.mark.parametrize("s", DECAYS, ids=lambda s: s.kind)
def test_decays_never_increase(s):
    v = s.values(np.arange(200))
    assert (np.diff(v) <= 0).all()


@pytest.mark.parametrize("s", [d for d in DECAYS if d.duration is not None],
                         ids=lambda s: s.kind)
def test_finite_shapes_hold_their_last_value(s):
    d = s.duration
    tail = s.values(np.array([d, d + 1, 10 * d, 2**40]))
    assert (tail == s(d)).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(schedules.filter(lambda s: s.duration is not None and s.duration > 0),
                min_size=2, max_size=4))
def test_sequence_boundaries_belong_to_the_next_child(kids):
    seq = lrkit.sequence(kids)
    assume(all(float(c.duration).is_integer() for c in kids))  # real ones: test_core_v2
    start = 0
    for i, c in enumerate(kids):
        assert seq(start) == c(0)                     # the boundary is the child's step 0
        if i + 1 < len(kids):
            assert seq(start + c.duration - 1) == c(c.duration - 1)   # its last step is its own
        start += c.duration
    assert seq(start + 5) == kids[-1](kids[-1].duration + 5)


@settings(max_examples=100, deadline=None)
@given(schedules, st.integers(1, 500))
def test_default_warmup_never_gives_zero_when_the_schedule_starts_above_zero(s, over):
    w = lrkit.warmup(s, over)
    if s(0) > 1e-300:  # a subnormal start may halve to 0
        ramp = w.values(np.arange(over))
        assert (ramp > 0).all() and (np.diff(ramp) > 0).all()
        assert w(over) == s(0)


def test_restart_boundaries_are_exact_for_float_multipliers():
    # cycles of 10, 30, 90, …: begins at 10, 40, 130, 400 where log() alone can be off by one.
    s = lrkit.restarts(lrkit.linear(1.0, 0.0, 10), period_mult=3.0)
    for b in (0, 10, 40, 130, 400, 1210):
        assert s(b) == 1.0 and s(b - 1 if b else 0) <= 1.0
    assert s(39) == pytest.approx(1 / 30)


C = lrkit.cosine(1.0, 0.1, 10)


@pytest.mark.parametrize("wrapped,formula", [
    # (c * 0.5) and c.stepped(1) used to hold where (c * constant(0.5)) continued
    (C * 0.5, lambda k: 0.5 * C.past_end("continue")(k)),
    (C * lrkit.constant(0.5), lambda k: 0.5 * C.past_end("continue")(k)),
    (C.stepped(1), lambda k: C.past_end("continue")(k)),
    (C.clip(max=0.8), lambda k: min(C.past_end("continue")(k), 0.8)),
    (C.stretch(2.0), lambda k: C.past_end("continue")(k // 2) if k % 2 == 0 else None),
    (C.skip(3), lambda k: C.past_end("continue")(k + 3)),
    (lrkit.warmup(C, 5), lambda k: C.past_end("continue")(k - 5)),
    (lrkit.constant(1.0, over=4) >> C, lambda k: C.past_end("continue")(k - 4)),
    (lrkit.plateau(C), lambda k: C.past_end("continue")(k)),
])
def test_continue_means_the_same_through_every_combinator(wrapped, formula):
    s = wrapped.past_end("continue")
    for k in range(25, 60):  # past every end: PyTorch's periodic cosine rises again
        if formula(k) is not None:
            assert s(k) == pytest.approx(formula(k), rel=1e-12, abs=1e-15), k
    assert any(s(k) != wrapped(k) for k in range(25, 60))


def test_every_combinator_passes_continue_on():
    # a registry-wide guard: wrapping a continued cosine in any unary combinator continues it
    from lrkit._schedule import REGISTRY

    c = lrkit.cosine(1.0, 0.0, 4)
    for kind, cls in REGISTRY.items():
        fields = cls._fields
        if not fields or fields[0].metadata["role"] != "schedule" or kind == "past_end":
            continue
        required = [f for f in fields[1:] if f.default is lrkit._schedule.MISSING]
        args = {"scale": [1.0], "stretch": [1.0], "stepped": [1], "skip": [1]}.get(kind, [])
        if len(args) != len(required):
            continue
        s = cls(c, *args).past_end("continue")
        assert s(6) > 0.4, (kind, s(6))  # the cosine at 6 of a 4-step decay is back at 0.5
