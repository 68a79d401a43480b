"""Durations with units: parsing, binding and the rounding rule (round down once, exactly)."""

import math
from fractions import Fraction

import pytest

import lrkit
from lrkit import ScheduleError


@pytest.mark.parametrize("text,binding,steps", [
    (1000, {}, 1000),
    ("1000", {}, 1000),
    ("1k", {}, 1000),
    ("5ep", {"steps_per_epoch": 782}, 3910),
    ("5 epochs", {"steps_per_epoch": 782}, 3910),
    ("1 epoch", {"steps_per_epoch": 782}, 782),
    ("10%", {"total_steps": 1001}, 100),          # 100.1 rounds down
    ("2.5M samples", {"samples_per_step": 256}, 9765),   # 9765.625
    ("1B tokens", {"tokens_per_step": 2**20}, 953),      # 953.67…
    ("100% - 5ep", {"total_steps": 10000, "steps_per_epoch": 100}, 9500),
    ("2ep - 1", {"steps_per_epoch": 2759}, 5517),
    ("10%", {"total_steps": 999}, 99),                 # 99.9
    ("2.5ep", {"steps_per_epoch": 3}, 7),               # 7.5
    ("2.3ep", {"steps_per_epoch": 100}, 230),           # the text's 23/10, not the float 2.29999…
    ("0.29ep", {"steps_per_epoch": 100}, 29),           # int(0.29 * 100) would give 28
    # 1281167/256 = 5004.55859375, exact in binary: 30 epochs are 150136.7578125 steps
    ("30ep", {"steps_per_epoch": 1281167 / 256}, 150136),
    ("5ep", {"steps_per_epoch": 1281167 / 256}, 25022),  # 25022.79296875
    ("90ep", {"steps_per_epoch": 1281167 / 256}, 450410),  # 450410.2734375
])
def test_resolution(text, binding, steps):
    s = lrkit.constant(1.0, over=text).bind(**binding)
    assert s.over == steps and s.duration == steps


def test_sum_is_rounded_once():
    # 0.5 + 0.5 steps is one step; per-term rounding would give 0.
    s = lrkit.constant(1.0, over="0.5ep + 0.5ep").bind(steps_per_epoch=1)
    assert s.over == 1


def steps(text, **binding):
    return lrkit.constant(1.0, over=text).bind(**binding).over


@pytest.mark.parametrize("epochs", ["90", "1", "0.5", "2.4", "89.99", "0.001", "123.456"]
                         + [str(e) for e in range(2, 100)])
def test_float_steps_per_epoch_is_taken_at_its_exact_value(epochs):
    # The user wrote "<epochs>ep" and 1281167 / 256 (a float, exact in binary): the time is
    # exactly epochs · 1281167/256 steps, rounded down. The exact value is computed here from
    # the decimal text the user wrote, not from anything lrkit computed.
    exact = Fraction(epochs) * Fraction(1281167, 256)
    assert steps(f"{epochs}ep", steps_per_epoch=1281167 / 256) == math.floor(exact)


def test_a_float_binding_is_its_binary_value_and_a_fraction_is_exact():
    per = 3002333 / 6   # the float 500388.83333333331393…, a little below 3002333/6
    assert steps("228ep", steps_per_epoch=per) == 114088653       # 114088653.99999999557…
    assert steps("228ep", steps_per_epoch=Fraction(3002333, 6)) == 114088654  # 3002333 · 38
    assert int(per * 228) == 114088654   # TensorFlow's float product: a different rule


def test_bind_reaches_every_nested_time():
    s = lrkit.warmup(lrkit.sequence([lrkit.cosine(0.1, 0.0, "90%"),
                                     lrkit.multistep(1e-3, 0.5, ["1ep", "2ep"])]), "5%")
    b = s.bind(total_steps=1000, steps_per_epoch=10)
    assert b == lrkit.warmup(lrkit.sequence([lrkit.cosine(0.1, 0.0, 900),
                                             lrkit.multistep(1e-3, 0.5, [10, 20])]), 50)
    assert s.bind(total_steps=1000, steps_per_epoch=10, samples_per_step=3) == b
    assert b.bind(steps_per_epoch=3) is b      # nothing left to resolve
    assert lrkit.constant(1.0).bind() == lrkit.constant(1.0)


def test_unbound_duration_raises():
    with pytest.raises(ScheduleError, match="'over' = '5ep' needs steps_per_epoch"):
        _ = lrkit.cosine(1.0, 0.0, "5ep").duration


def test_unit_order_checked_after_bind():
    s = lrkit.piecewise([1.0, 0.1, 0.01], ["2ep", 100])
    with pytest.raises(ScheduleError, match="must be strictly increasing, got \\[200, 100\\]"):
        s.bind(steps_per_epoch=100)
