"""s(k) runs a function each schedule compiles once (``Schedule._compile``); the tree walk
``_at`` stays the reference. Every kind, realistic and extreme arguments, steps up to 2**63 - 1:
the closure gives the same bits (or the same error) as ``float(s._at(k, SCALAR))``."""

import struct

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st
from strategies import schedules, steps_for
from test_safety import STEPS, built

import lrkit
from lrkit._schedule import examples
from lrkit._xp import SCALAR


def outcome(f, k):
    try:
        return struct.pack("<d", f(k))
    except lrkit.ScheduleError as e:
        return type(e)


def check(s, ks):
    if s.kind == "plateau":
        s = s.schedule
    for k in ks:
        want = outcome(lambda k: float(s._at(k, SCALAR)), k)
        assert outcome(s, k) == want, (s, k)  # s(k): the checked function
        assert outcome(s._scalar, k) == want, (s, k)  # the unchecked one the adapters call


def test_every_kind_s_example():
    for s in examples().values():
        check(s, STEPS + list(range(0, 120, 3)))


@pytest.mark.fuzz
@budget(200)
@given(st.data())
def test_realistic_schedules(data):
    s = data.draw(schedules)
    check(s, data.draw(steps_for(s)))


@pytest.mark.fuzz
@budget(200)
@given(built())
def test_extreme_schedules(s):
    d = s.duration
    ends = [] if d is None else [int(d) + j for j in (-1, 0, 1) if 0 <= d + j < 2**63]
    check(s, STEPS + ends)


def test_a_held_step_is_the_held_one_downstream():
    # Found by the test above: the generated hold bound the variable to the step, not to the
    # held step, so the child after it saw 16776217 instead of the held 1.3 (5e-324 for 0.0).
    s = lrkit.sequence([lrkit.constant(0.0).clip(), lrkit.warmup(
        lrkit.polynomial(0.0, 5e-324, 1, power=5e-324, k_decay=1e-310), 0.3)], at=[1000])
    check(s, [0, 999, 1000, 1001, 16777217])


def test_a_product_holds_before_its_children_see_the_step():
    # Found by the test above: the generated product skipped _at's hold, so a child that
    # raises past its end (past_end("error")) saw step 2 of a 1-step product.
    s = lrkit.interpolate([[1, 0.0]]) * lrkit.interpolate([[1, 0.0]]).past_end("error")
    check(s, [0, 1, 2, 10])
    check(lrkit.interpolate([[1, 0.5]]).past_end("error") * 2.0, [0, 1, 2, 10])


def test_large_and_deep_trees_walk_or_compile_alike():
    # past 200 nodes the generated function is not built (the tree is walked); a chain 60 deep
    # compiles within the parser's nesting limit or walks: the same bits either way
    long = lrkit.constant(0.1, over=1)
    for _ in range(300):
        long = long >> lrkit.linear(0.1, 0.0, 3)
    deep = lrkit.cosine(0.1, 0.0, 10)
    for _ in range(60):
        deep = deep * 1.0001
    for s in (long, deep, lrkit.cosine(0.1, 0.0, 10)):
        check(s, [0, 1, 5, 500, 10**6])
        assert s(np.int64(5)) == s(5) and s(True) == s(1)  # other ints: checked, then the same
        for bad, rule in [(-1, "must be >= 0, got -1"), (1.5, "must be an int"),
                          ("3", "must be an int")]:
            with pytest.raises(lrkit.ScheduleError, match=rule):
                s(bad)


def test_restarts_cycles_found_in_integers_match_the_logarithm():
    # SGDR's whole T_0 and T_mult: the generated s(k) finds an int step's cycle by bisection
    # among exact integer starts below 2**53; the tree walk takes a logarithm and settles it.
    # Every cycle start, the steps beside it, and the steps past the integer table agree.
    for d, m in [(1, 2.0), (7, 2.0), (1000, 2.0), (3, 3.0), (10, 10.0), (1, 1.0), (5, 1.0)]:
        s = lrkit.restarts(lrkit.cosine(1.0, 0.1, d), period_mult=m, peak_decay=0.9)
        starts = [0] if m == 1.0 else s._starts_whole()[0]
        ks = {b + j for b in starts + [2**53, 2**63 - 2] for j in (-2, -1, 0, 1, 2) if b + j >= 0}
        check(s, sorted(ks) + list(range(0, 50)))
    check(lrkit.restarts(lrkit.linear(1.0, 0.0, 2.5), period_mult=2.0, limit=6),
          list(range(0, 200)))
    # cycle_index="log" keeps the logarithm's misses (timm's cycle 5 of 1, 3, 9, …: step 121)
    check(lrkit.restarts(lrkit.cosine(1.0, 0.01, 1), period_mult=3.0, limit=6,
                         cycle_index="log"), list(range(0, 400)))


def test_a_sequence_past_its_end_is_held_by_its_last_child():
    # The generated sequence leaves out its own hold where the last child holds at the same
    # step; not where that child overrides the hold (past_end) or the end is not whole.
    a, b = lrkit.linear(1.0, 0.5, 3), lrkit.cosine(0.5, 0.1, 4)
    cases = [a >> b, a >> b.past_end("error"), a >> b.past_end("continue"),
             a >> lrkit.cosine(0.5, 0.1, 4.5), lrkit.sequence([a, b], at=[5]),
             lrkit.warmup(a >> b, 2.5), (a >> b) * 2.0, lrkit.restarts(a >> b, period_mult=2.0)]
    for s in cases:
        check(s, [*range(0, 40), 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1])


def test_a_child_of_length_zero_does_not_lift_the_next_ones_hold():
    # Found by tests/test_laws.py: after a child of length 0 two children had the same local
    # step text, and the last child's hold was left out as if it filled a segment.
    a = lrkit.constant(0.0, over=1).skip(1)
    inner = lrkit.sequence([a, lrkit.linear(0.0, 1.0, 1)])
    check(lrkit.sequence([lrkit.cosine(1.0, 0.1, 20), inner]), [0, 19, 20, 21, 22, 10**9])


def test_s_k_is_the_compiled_function_from_construction_on():
    s = lrkit.warmup(lrkit.cosine(1.0, 0.0, 10), 3)
    assert s.__call__ is s._call  # the slot holds it: no Python frame between s(k) and it
    with pytest.raises(lrkit.ScheduleError, match="the step must be >= 0, got -1"):
        s(-1)
    assert s(4) == float(s._at(4, SCALAR))
    chained = s >> lrkit.constant(0.5, over=5)  # built by sequence._extended, not __init__
    assert chained.__call__ is chained._call and chained(20) == 0.5


def test_an_unbound_schedule_says_why_at_every_call():
    s = lrkit.cosine(1.0, 0.0, "2 epochs")
    for _ in range(2):
        with pytest.raises(lrkit.ScheduleError, match="epoch"):
            s(0)


def test_the_signature_of_s_k():
    import inspect

    assert str(inspect.signature(lrkit.cosine(1.0, 0.0, 10))) == "(k: 'int') -> 'float'"
