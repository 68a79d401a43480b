"""Durations with units: parsing, binding and the rounding rule (round down once, exactly)."""

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
    # TensorFlow's int(batches_per_epoch * epoch) with 1281167/256 images per step:
    ("30ep", {"steps_per_epoch": 1281167 / 256}, int(1281167 / 256 * 30)),
    ("5ep", {"steps_per_epoch": 1281167 / 256}, 25022),
])
def test_resolution(text, binding, steps):
    s = lrkit.constant(1.0, over=text).bind(**binding)
    assert s.over == steps and s.duration == steps


def test_sum_is_rounded_once():
    # 0.5 + 0.5 steps is one step; per-term rounding would give 0.
    s = lrkit.constant(1.0, over="0.5ep + 0.5ep").bind(steps_per_epoch=1)
    assert s.over == 1


def test_fractional_steps_per_epoch_is_exact():
    # 1281167/256 is exact in binary: the product is floored without any epsilon.
    per = 1281167 / 256
    for e in range(1, 100):
        s = lrkit.constant(1.0, over=f"{e}ep").bind(steps_per_epoch=per)
        assert s.over == (Fraction(per) * e).numerator // (Fraction(per) * e).denominator


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
