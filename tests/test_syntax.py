"""The one-line syntax: parse(str(s)) == s for every kind, and errors that point at the column."""

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import schedules

import lrkit
from lrkit import ConfigError
from lrkit._schedule import examples

NS = {"lrkit": lrkit, **{n: getattr(lrkit, n) for n in lrkit.__all__}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules)
def test_text_round_trips(s):
    assert lrkit.parse(str(s)) == s
    assert lrkit.parse(repr(s)) == s


@pytest.mark.parametrize("name", list(examples()))
def test_every_kinds_examples_round_trip(name):
    # Every registered kind for certain (the random strategies draw its examples by chance)
    s = examples()[name]
    assert lrkit.parse(str(s)) == s
    assert lrkit.parse(repr(s)) == s


@pytest.mark.parametrize("text,value", [
    ("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)",
     lrkit.warmup(lrkit.cosine(0.1, 1e-5, "95ep"), "5ep")),
    ("warmup(500, shape=cosine) >> constant(0.1, over=1000) >> linear(0.1 -> 0, 200)",
     lrkit.warmup(lrkit.constant(0.1, over=1000) >> lrkit.linear(0.1, 0.0, 200), 500,
                  shape="cosine")),
    ("cosine(1 -> 0, 2.5M samples)", lrkit.cosine(1.0, 0.0, "2.5M samples")),
    ("cosine(1 -> 0, '100% - 5ep')", lrkit.cosine(1.0, 0.0, "100% - 5ep")),
    ("0.5 * cyclic(0.1, 1, 2k, mode=exp_range, gamma=0.999)",
     lrkit.cyclic(0.1, 1.0, "2k", mode="exp_range", gamma=0.999) * 0.5),
    ("restarts(cosine(1 -> 0.1, 10), period_mult=2, limit=3)",
     lrkit.restarts(lrkit.cosine(1.0, 0.1, 10), period_mult=2.0, limit=3)),
    ("plateau(warmup(5) >> constant(0.1), patience=3)",
     lrkit.plateau(lrkit.warmup(lrkit.constant(0.1), 5), patience=3)),
    ("tanh(1 -> 0, 10, lower=-6)", lrkit.tanh(1.0, 0.0, 10, lower=-6.0)),
    ("cosine(1 -> 0, 10).stretch(2).stepped(4).past_end(error)",
     lrkit.cosine(1.0, 0.0, 10).stretch(2.0).stepped(4).past_end("error")),
])
def test_examples(text, value):
    assert lrkit.parse(text) == value
    assert lrkit.parse(str(value)) == value


@pytest.mark.parametrize("text,message", [
    ("cosine(0.1 -> 0, 95ep",
     "expression, column 22: expected ',' or ')'\n  cosine(0.1 -> 0, 95ep\n"
     "                       ^"),
    ("cosin(0.1 -> 0, 10)",
     "expression, column 1: unknown schedule 'cosin'; did you mean 'cosine'?\n"
     "  cosin(0.1 -> 0, 10)\n  ^"),
    # an argument's error points at the argument (it pointed at column 1)
    ("cosine(0.1 -> 0, 0)",
     "expression, column 18: cosine: 'over' must be > 0 steps, got 0\n  cosine(0.1 -> 0, 0)\n"
     "                   ^"),
    ("warmup(5) >> cosine(0.1 -> -1, 10)",
     "expression, column 28: cosine: 'end' must be >= 0, got -1.0\n"
     "  warmup(5) >> cosine(0.1 -> -1, 10)\n                             ^"),
    ("warmup(-5) >> cosine(0.1 -> 0, 10)",
     "expression, column 8: warmup: 'over' must be > 0 steps, got -5.0"),
    ("cosine(0.1, 0, over=-1)", "expression, column 21: cosine: 'over' must be > 0 steps"),
    ("cosine(0.1, 0, 10).skip(-3)", "expression, column 25: skip: 'steps' must be > 0 steps"),
    ("linear(1 -> 0, 10) >> 3", "expression, column 1: '>>' joins schedules"),
    ("cosine(1 -> 0, 10) $", "expression, column 20: unexpected character '$'"),
    ("warmup(5ep)", "expression, column 1: expected a schedule such as cosine(0.1 -> 0, 100)"),
    ("import os", "expression, column 8: expected '>>', '*' or the end of the expression"),
])
def test_errors_point_at_the_column(text, message):
    with pytest.raises(ConfigError) as info:
        lrkit.parse(text)
    assert str(info.value).startswith(message)


def test_accepted_in_configs_and_from_config():
    assert lrkit.from_config("linear(0 -> 1, 5)") == lrkit.linear(0.0, 1.0, 5)
    cfg = {"kind": "warmup", "over": 5, "schedule": "cosine(1 -> 0, 10)"}
    assert lrkit.from_config(cfg) == lrkit.warmup(lrkit.cosine(1.0, 0.0, 10), 5)
    with pytest.raises(ConfigError, match=r"^schedule\.schedule: expression, column 1: "
                                          r"unknown schedule 'cosin'"):
        lrkit.from_config({"kind": "warmup", "over": 5, "schedule": "cosin(1 -> 0, 10)"})
