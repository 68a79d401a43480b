"""A plan changed mid-run (issue 18, part 1): ``s.branch``, ``lrkit.extend``,
``lrkit.cooldown`` — one schedule equal to the old plan before the branch point, bit for bit,
and to the new one after it; an ordinary value (repr, config, syntax, explain, lint)."""

import struct

import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st
from strategies import schedules

import lrkit


def bits(x):
    return struct.pack("<d", x)


@pytest.mark.fuzz
@budget(150)
@given(schedules.filter(lambda s: "plateau" not in repr(s)),
       schedules.filter(lambda s: "plateau" not in repr(s)), st.integers(0, 300),
       st.sampled_from(["jump", "continue"]))
def test_branch_is_the_old_plan_then_the_new_one(old, new, at, join):
    try:
        b = old.branch(at, new, join=join)
    except lrkit.ScheduleError as e:  # continue from a new plan that starts at 0
        assert join == "continue" and new(0) == 0.0, e
        return
    factor = 1.0 if join == "jump" else old(at) / new(0)
    for k in [*range(0, at + 5), at + 50, 10**6]:
        if k < at:
            assert bits(b(k)) == bits(old(k))
        else:
            want = new(k - at) if factor == 1.0 else (new * factor)(k - at)
            assert bits(b(k)) == bits(want)
    assert lrkit.from_config(b.to_config()) == b == eval(repr(b), vars(lrkit))
    assert lrkit.parse(str(b)) == b


def test_continue_starts_the_new_plan_where_the_run_is():
    s = lrkit.cosine(1.0, 0.0, 100).branch(40, lrkit.cosine(1.0, 0.0, 200), join="continue")
    assert s(40) == lrkit.cosine(1.0, 0.0, 100)(40) and s.factor == s(40)
    assert s.duration == 240
    with pytest.raises(lrkit.ScheduleError, match=r"branch: 'then' must start above 0 for "
                       r"join='continue' .*; use join='jump'"):
        lrkit.constant(1.0).branch(3, lrkit.linear(0.0, 1.0, 5), join="continue")


def test_a_branch_at_zero_is_the_new_plan():
    new = lrkit.linear(0.5, 0.0, 4)
    assert [lrkit.cosine(1.0, 0.0, 9).branch(0, new)(k) for k in range(6)] == \
        [new(k) for k in range(6)]


def test_explain_shows_both_plans_and_units_bind():
    s = lrkit.parse("warmup(2ep) >> cosine(0.1 -> 0.0, 8ep)").branch(
        "5ep", lrkit.parse("linear(0.05 -> 0.0, 2ep)"))
    b = s.bind(steps_per_epoch=10)
    assert b.duration == 70 and b(49) == lrkit.parse(
        "warmup(2ep) >> cosine(0.1 -> 0.0, 8ep)").bind(steps_per_epoch=10)(49)
    table = lrkit.explain(b)
    assert [p.kind for p in table.phases] == ["warmup (linear)", "cosine", "linear"]
    assert [p.start for p in table.phases] == [0, 20, 50]


def test_extend_keeps_the_past_and_the_end():
    w = lrkit.wsd(1.0, 100, warmup=10, decay=20)
    e = lrkit.extend(w, 200, at=50)
    assert [e(k) for k in range(50)] == [w(k) for k in range(50)]
    assert e.duration == 200 and e(179) == 1.0
    assert [e(180 + j) for j in range(21)] == [w(80 + j) for j in range(21)]  # same decay
    c = lrkit.cosine(0.1, 0.001, 100)
    e = lrkit.extend(c, 300, at=40)   # re-drawn from the current value to the same end
    assert e(40) == c(40) and e(300) == 0.001 and e.then == lrkit.cosine(c(40), 0.001, 260)
    e = lrkit.extend(lrkit.warmup(c, 10), 300, at=4)   # the ramp as planned, then longer
    assert [e(k) for k in range(11)] == [lrkit.warmup(c, 10)(k) for k in range(11)]
    assert e.duration == 300


@pytest.mark.parametrize("call, message", [
    (lambda: lrkit.extend(lrkit.constant(1.0), 10, at=2), "'s' must be finite"),
    (lambda: lrkit.extend(lrkit.linear(1.0, 0.0, 10), 20, at=10),
     "'at' must be before the plan's end \\(10 updates\\); past it, continue with "
     "s.branch\\(at, <new plan>\\), got 10"),
    (lambda: lrkit.extend(lrkit.linear(1.0, 0.0, 10), 3, at=5), "'total' must be after 'at'"),
    (lambda: lrkit.extend(lrkit.linear(1.0, 0.0, 10) >> lrkit.constant(0.0, over=20), 12, at=5),
     "'total' ends 18 updates early, before the phase running at update 5 \\(linear, 5 updates "
     "left\\) can; shorten with lrkit.cooldown instead"),
    (lambda: lrkit.extend(lrkit.linear(1.0, 0.0, 10), 20, at=2.5), "'at' must be a whole"),
    (lambda: lrkit.cooldown(lrkit.constant(1.0), at=3, over=5, shape="sqrt"),
     "cooldown: 'shape' must be one of 'linear', 'cosine', '1-sqrt', 'exp', got 'sqrt'"),
    (lambda: lrkit.cooldown(lrkit.constant(1.0), at=-3, over=5), "'at' must be a whole"),
])
def test_recipes_say_what_is_wrong(call, message):
    with pytest.raises(lrkit.ScheduleError, match=message):
        call()


def test_cooldown_decays_from_the_current_value():
    s = lrkit.cooldown(lrkit.warmup(lrkit.constant(3e-4), 100), at=700, over=300)
    assert s(699) == 3e-4 and s(700) == 3e-4 and s(1000) == 0.0
    assert s.then == lrkit.one_minus_sqrt(3e-4, 0.0, 300)


def test_lint_names_a_jump_at_the_branch_point():
    s = lrkit.cosine(0.1, 0.0, 1000).branch(300, lrkit.cosine(0.02, 0.0, 700))
    (w,) = lrkit.lint(s, 1000)
    assert w.code == "LR002" and "at step 300, where the plan branches (join='jump')" in \
        w.message and "join='continue'" in w.fix
    assert lrkit.lint(lrkit.cooldown(lrkit.cosine(0.1, 0.0, 1000), at=300, over=700),
                      1000) == []


def test_wsd_cycles_with_one_period_is_wsd():
    for shape in ("1-sqrt", "linear", "cosine", "exp"):
        end = 1e-3 if shape == "exp" else 0.0
        one = lrkit.wsd_cycles(0.1, [100], warmup=10, decay=30, end=end, decay_shape=shape)
        assert one == lrkit.wsd(0.1, 100, warmup=10, decay=30, end=end, decay_shape=shape)


def test_wsd_cycles_restart_at_each_peak_and_hold_the_end():
    s = lrkit.wsd_cycles([1.0, 0.5], ["10ep", "5ep"], warmup="1ep", decay=["2ep", "1ep"],
                         decay_shape="linear").bind(steps_per_epoch=10)
    assert s.duration == 150
    assert s(10) == 1.0 and s(79) == 1.0 and s(80) == 1.0 and s(99) == 0.05  # period 0 decays
    assert s(100) == 0.5 and s(139) == 0.5 and s(149) == 0.05 and s(150) == 0.0
    assert [c.kind for c in s.schedules] == ["warmup", "constant", "linear"]  # one sequence
    assert len(lrkit.explain(s).phases) == 5  # warmup, stable, decay, stable, decay
    assert lrkit.parse(str(s)) == s and lrkit.from_config(s.to_config()) == s


@pytest.mark.parametrize("kwargs, message", [
    (dict(periods=[]), "wsd_cycles: 'periods' must be a non-empty list of period lengths, got "
     "[]; e.g. periods=[10_000, 5_000]"),
    (dict(periods=100), "wsd_cycles: 'periods' must be a non-empty list of period lengths, got "
     "100; e.g. periods=[10_000, 5_000]"),
    (dict(peak=[1.0]), "wsd_cycles: 'peak' must be one value or one per period (2), got [1.0]"),
    (dict(decay=[1, 2, 3]), "wsd_cycles: 'decay' must be one value or one per period (2), got "
     "[1, 2, 3]"),
    (dict(decay=60), "wsd_cycles: 'decay' (60 steps) must fit in periods[1] (50 steps); "
     "shorten the decay or lengthen the period"),
    (dict(warmup=50, decay=60), "wsd_cycles: 'warmup' + 'decay' (50 + 60 steps) must fit in "
     "periods[0] (100 steps); shorten the decay or lengthen the period"),
    (dict(periods=[100, -5]), "wsd_cycles: 'periods[1]' must be > 0 steps, got -5"),
    (dict(decay_shape="sqrt"), "wsd_cycles: 'decay_shape' must be one of 'linear', 'cosine', "
     "'1-sqrt', 'exp', got 'sqrt'"),
    (dict(peak=-1.0), "wsd_cycles: 'peak' must be a finite number >= 0, got -1.0"),
    (dict(decay=[20, 60]), "wsd_cycles: 'decay[1]' (60 steps) must fit in periods[1] (50 "
     "steps); shorten the decay or lengthen the period"),
    (dict(warmup=0, start=0.0), "wsd_cycles: 'start' is where the warmup starts, and 'warmup' "
     "is 0, got 0.0; give a warmup, or leave start out"),
    (dict(peak=[1.0, float("nan")]), "wsd_cycles: 'peak[1]' must be a finite number >= 0, got "
     "nan"),
    (dict(decay=[5, "zz"]), "wsd_cycles: 'decay[1]' is not a time, got 'zz'; write steps "
     "(1000), epochs ('5ep', '5 epochs'), a share of the run ('10%'), samples ('2.5M samples') "
     "or tokens ('1B tokens'), optionally joined by ' + ' or ' - '"),
])
def test_wsd_cycles_says_what_is_wrong(kwargs, message):
    args = dict(peak=1.0, periods=[100, 50], warmup=10, decay=20) | kwargs
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.wsd_cycles(**args)
    assert str(info.value) == message


_junk = st.one_of(st.none(), st.booleans(), st.text(max_size=8), st.floats(allow_nan=True),
                  st.integers(-10, 10**6), st.lists(st.integers(-5, 500), max_size=4))


@pytest.mark.fuzz
@budget(200)
@given(st.one_of(st.floats(0, 10), st.lists(st.floats(0, 10), max_size=4), _junk),
       st.one_of(st.lists(st.integers(-5, 500) | st.sampled_from(["1ep", "10%", "x"]),
                          max_size=4), _junk),
       st.one_of(st.integers(0, 100), _junk),
       st.one_of(st.integers(1, 100), st.lists(st.integers(0, 200), max_size=4), _junk),
       st.one_of(st.floats(0, 1), _junk), st.sampled_from(["linear", "1-sqrt", "exp", "?"]))
def test_wsd_cycles_refuses_or_is_finite(peak, periods, warmup, decay, end, shape):
    safe_if_accepted(lambda: lrkit.wsd_cycles(peak, periods, warmup, decay, end=end,
                                              decay_shape=shape).bind(steps_per_epoch=7,
                                                                      total_steps=900))


def test_wsd_subtracts_every_term_of_a_length_given_as_a_sum():
    # '1ep + 10' steps of warmup: the stable phase is over - 1ep - 10 - decay (it was
    # over - 1ep + 10 - decay, a run 20 steps longer than 'over')
    for s in (lrkit.wsd(1.0, "20ep", warmup="1ep + 10", decay="2ep - 5"),
              lrkit.wsd_cycles(1.0, ["20ep"], warmup="1ep + 10", decay="2ep - 5")):
        b = s.bind(steps_per_epoch=100)
        assert b.duration == 2000
        assert b(109) < 1.0 == b(110) == b(2000 - 195 - 1) > b(2000 - 195 + 1)


@pytest.mark.parametrize("make, message", [
    (lambda: lrkit.wsd(1.0, "10ep", warmup="5ep", decay="5ep"),
     "wsd: 'warmup' + 'decay' ('5ep' + '5ep') must be shorter than 'over' ('10ep'), leaving a "
     "stable phase"),
    (lambda: lrkit.wsd_cycles(1.0, ["9ep", "20ep"], warmup="5ep", decay="5ep"),
     "wsd_cycles: 'warmup' + 'decay' ('5ep' + '5ep') must fit in periods[0] ('9ep'); shorten "
     "the decay or lengthen the period"),
    (lambda: lrkit.wsd_cycles(1.0, ["10%", "4%"], warmup="1%", decay=["2%", "5%"]),
     "wsd_cycles: 'decay[1]' ('5%') must fit in periods[1] ('4%'); shorten the decay or "
     "lengthen the period"),
])
def test_wsd_lengths_in_one_unit_are_checked_when_built(make, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        make()
    assert str(info.value) == message


def test_wsd_cycles_period_with_no_stable_phase_in_units():
    # as with steps (periods=[10, 20], warmup=5, decay=5), a period that is all warmup and
    # decay has no stable phase, rather than a zero-length one that binding refuses
    s = lrkit.wsd_cycles(1.0, ["10ep", "20ep"], warmup="5ep", decay="5ep")
    assert s.bind(steps_per_epoch=3) == lrkit.wsd_cycles(1.0, [30, 60], warmup=15, decay=15)


_lengths = st.sampled_from(["4ep", "1ep + 7", "10%", "2ep - 3", "25", "3%  + 1ep"])


@pytest.mark.fuzz
@budget(200)
@given(st.lists(st.sampled_from(["40ep", "30ep + 17", "60%", "35% - 2ep"]), min_size=1,
                max_size=3), _lengths, _lengths)
def test_wsd_cycles_lasts_its_periods(periods, warmup, decay):
    """Bound, the plan lasts exactly the sum of its periods, each resolved alone (the
    warmup and decays come out of them), or it is refused with a ScheduleError."""
    from lrkit._time import Binding, resolve_time

    b = Binding(steps_per_epoch=13, total_steps=5000)
    try:
        s = lrkit.wsd_cycles(1.0, periods, warmup=warmup, decay=decay).bind(
            steps_per_epoch=13, total_steps=5000)
    except lrkit.ScheduleError:
        return
    assert s.duration == sum(resolve_time(p, b, "t", "p") for p in periods)
