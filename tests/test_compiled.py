"""s(k) runs a closure each schedule compiles once (``Schedule._compile``); the tree walk
``_at`` stays the reference. Every kind, realistic and extreme arguments, steps up to 2**63 - 1:
the closure gives the same bits (or the same error) as ``float(s._at(k, SCALAR))``."""

import struct

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
        assert outcome(s, k) == outcome(lambda k: float(s._at(k, SCALAR)), k), (s, k)


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
    for s in (long, deep):
        check(s, [0, 1, 5, 500, 10**6])
