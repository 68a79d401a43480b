"""Values that are always safe: for every argument set a constructor accepts, every evaluation
path gives finite values >= 0 at every step in [0, 2**63) — or construction refuses it with a
ScheduleError. The arguments are drawn from each field's declared role (its range, choices,
whether it may be zero or a real number of steps), pushed to the extremes: denormals, 1e308,
-0.0, lengths of 1e-300 and 2**62 steps."""

import math

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import event, given
from hypothesis import strategies as st

import lrkit
from lrkit._schedule import REGISTRY

EXTREME_FLOATS = [0.0, -0.0, 5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-8, 0.5, 1.0,
                  2.0, 1e10, 1e300, 1e308, 1.7976931348623157e308]
STEPS = [0, 1, 2, 3, 7, 2**24 + 1, 2**31 - 1, 2**53 + 1, 2**62, 2**63 - 1]


def number(meta):
    lo, hi = meta.get("lo"), meta.get("hi")
    lo_v = -1e308 if lo is None else lo
    hi_v = 1e308 if hi is None else hi
    inside = [x for x in EXTREME_FLOATS + [-x for x in EXTREME_FLOATS] if lo_v <= x <= hi_v]
    return st.sampled_from(inside) | st.floats(lo_v, hi_v, allow_nan=False)


times = st.sampled_from([1, 2, 3, 10, 1000, 2**31 - 1, 2**62, 0.5, 2.4, 1e-300, 1e-8, 1e18]) \
    | st.integers(1, 2**62) | st.floats(1e-300, 1e18)


def field(f, child):
    meta, role = f.metadata, f.metadata["role"]
    zero = meta.get("allow_zero")
    t = (st.just(0) | times) if zero else times
    s = {
        "value": st.sampled_from(EXTREME_FLOATS) | st.floats(0, 1.7e308),
        "number": number(meta),
        "time": t,
        "times": st.lists(t, min_size=1, max_size=4).map(sorted),
        "values": st.lists(st.sampled_from(EXTREME_FLOATS), min_size=1, max_size=5),
        "points": st.lists(st.tuples(t, st.sampled_from(EXTREME_FLOATS)), min_size=1,
                           max_size=4).map(lambda p: sorted(dict(p).items())),
        "choice": st.sampled_from(meta.get("choices", ("",))),
        "bool": st.booleans(),
        "int": st.integers(meta.get("lo", 0), meta.get("lo", 0) + 5),
        "schedule": child,
        "operand": st.sampled_from(EXTREME_FLOATS) | child,
        "schedules": st.lists(child, min_size=1, max_size=3),
    }[role]
    return (st.none() | s) if f.default is None else s


def kind(name, child):
    cls = REGISTRY[name]
    if name == "piecewise":  # one value more than boundaries
        return st.lists(st.tuples(times, st.sampled_from(EXTREME_FLOATS)), min_size=1,
                        max_size=4).flatmap(lambda p: st.tuples(
                            st.just(cls), st.fixed_dictionaries({
                                "values": st.just([v for _, v in p] + [1.0]),
                                "at": st.just(sorted(t for t, _ in p))})))
    return st.tuples(st.just(cls), st.fixed_dictionaries(
        {f.name: field(f, child) for f in cls._fields}))


LEAVES = sorted(n for n, c in REGISTRY.items()
                if not any(f.metadata["role"] in ("schedule", "schedules") for f in c._fields))


@st.composite
def built(draw, depth=2):
    child = built(depth=depth - 1) if depth > 0 else st.just(lrkit.cosine(1.0, 0.0, 10))
    names = sorted(REGISTRY) if depth > 0 else LEAVES
    cls, kwargs = draw(st.sampled_from(names).flatmap(lambda n: kind(n, child)))
    try:
        return cls(**kwargs)
    except (lrkit.ScheduleError, TypeError):
        return lrkit.constant(0.0)  # refused: nothing more to check


def check(s, steps):
    if "past_end('error')" in repr(s):  # raises past its end, by request
        return
    vals = [s(k) for k in steps]
    assert all(math.isfinite(v) and v >= 0 for v in vals), (s, list(zip(steps, vals)))
    vec = s.values(np.array(steps, dtype=np.int64))
    assert np.isfinite(vec).all() and (vec >= 0).all(), (s, vec)
    np.testing.assert_array_equal(vec, vals)


@pytest.mark.fuzz
@budget(600)
@given(built())
def test_every_accepted_schedule_is_finite_and_non_negative_at_extreme_steps(s):
    if s.kind == "plateau":
        s = s.schedule
    event(s.kind)
    d = s.duration
    ends = [] if d is None else [math.floor(d) + j for j in (-1, 0, 1) if 0 <= d + j < 2**63]
    check(s, sorted(set(STEPS + ends)))


@pytest.mark.fuzz
@budget(150)
@given(built())
def test_traced_float64_is_finite_and_non_negative(s):
    torch = pytest.importorskip("torch")
    k = torch.tensor(STEPS, dtype=torch.int64)
    out = s.evaluate(k, dtype=torch.float64).numpy()
    assert np.isfinite(out).all() and (out >= 0).all(), (s, out)


@pytest.mark.parametrize("build,message", [
    (lambda: lrkit.step(0.01, 10.0, 10), "step: 'end' is required when growing"),
    (lambda: lrkit.restarts(lrkit.linear(0.0, 1.0, 5), peak_decay=2.0),
     "restarts: 'peak_decay' must be >= 0 and <= 1, got 2.0"),
    (lambda: lrkit.restarts(lrkit.one_cycle(1.0, 10), peak_decay=0.5, decay="peak"),
     "restarts: 'schedule' must go from a start to an end value"),
    (lambda: lrkit.one_cycle(1.0, 10, div_factor=1e-310),
     "one_cycle: the values overflow the float range (peak / div_factor = inf)"),
    (lambda: lrkit.constant(1e300) * 1e10, "scale: the values overflow the float range"),
    (lambda: lrkit.multistep(1.0, 1e200, [1, 2]), "multistep: the values overflow"),
])
def test_what_would_overflow_or_go_negative_is_refused(build, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        build()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("s,k,want", [
    # each gave inf, NaN or a negative value before (issue: "values that are always safe")
    (lrkit.step(0.01, 10.0, 10, end=1.0), 2**31 - 1, 1.0),
    (lrkit.step(0.0, 1e308, 1, end=1.0), 2, 0.0),
    (lrkit.cosine(1.0, 0.0, 10, k_decay=1000), 5, 1.0),  # (0.5)^1000: the cosine at its start
    (lrkit.cyclic(0.01, 1.5, 953, down=5), 2**63 - 1, None),
])
def test_measured_unsafe_values(s, k, want):
    v = s(k)
    assert math.isfinite(v) and v >= 0
    if want is not None:
        assert v == pytest.approx(want, abs=1e-300)


def test_cyclic_at_the_last_step_is_exact():
    # 2**63 - 1 = 9627 cycles of 958 ... : the remainder, in integers, is 2**63 - 1 mod 958
    s = lrkit.cyclic(0.01, 1.5, 953, down=5)
    r = (2**63 - 1) % 958
    want = 0.01 + (1.5 - 0.01) * (r / 953 if r <= 953 else (958 - r) / 5)
    assert s(2**63 - 1) == pytest.approx(want, rel=1e-12)


def test_negative_zero_is_zero():
    s = lrkit.linear(-0.0, 1.0, 4)
    assert math.copysign(1.0, s.start) == 1.0 and repr(s) == "linear(0.0, 1.0, 4)"


def test_found_by_make_fuzz():
    # LRKIT_FUZZ_SCALE=40: a ZeroDivisionError, and a warmup ramp whose t·(k + 1) overflowed
    with pytest.raises(lrkit.ScheduleError, match="'period_mult' must be at least 2\\*\\*-20"):
        lrkit.restarts(lrkit.interpolate([[1, 0.0]]), period_mult=1e-300, limit=1)
    s = lrkit.warmup(lrkit.cosine(1e300, 0.0, 1, exponent=5e-324, k_decay=5e-324), 2**62)
    check(s, STEPS)


def test_a_fractional_shift_of_a_period_past_2_53_evaluates_alike():
    # Found by the fuzz test above: s(k) took k + 0.5 modulo 2**53 + 1 in exact integers while
    # s.values used fmod in floats (2**53 + 1 is no float): 5.7e-22 against 0.0 at k = 2**62.
    # A float step now takes the same float steps on both paths.
    s = lrkit.cyclic(0.0, 1e-08, 1, down=2**53, gamma=5e-324).skip(0.5)
    check(s, STEPS)
    check(lrkit.restarts(lrkit.cosine(1.0, 0.0, 2**53 + 1)).skip(0.25), STEPS)


def test_a_duration_past_the_int64_range_keeps_steps_exact():
    # Found by the fuzz test above: a warmup of 2**62 steps before a schedule of 2**62 lasts
    # 2**63, one past int64; holding the array of steps there turned them into floats, and at
    # 2**63 - 1 the value fell from 2.2e-319 (exact) to 0.0 (s(k) kept it).
    s = lrkit.warmup(lrkit.interpolate([[1, 1e-300], [2**62, 0.0]]), 2**62)
    check(s, STEPS)
