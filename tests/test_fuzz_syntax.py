"""Fuzzing the one-line syntax: random texts built from the grammar's pieces and from any
characters. The promise: lrkit.parse raises only ConfigError/ScheduleError, never hangs, and
whatever it accepts prints back to itself (parse(str(s)) == s) and evaluates to finite values
>= 0. `make fuzz` runs these with a large budget (the hypothesis profile "fuzz")."""

import math

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit

PIECES = ["cosine(", "linear(", "constant(", "warmup(", "step(", "one_cycle(", "restarts(",
          "sequence([", "interpolate([", "cyclic(", "plateau(", ")", "(", "[", "]", ",", ", ",
          " >> ", " * ", " + ", " - ", " / ", "->", " -> ", ".clip(", ".stretch(", ".skip(",
          ".stepped(", ".past_end(", "continue", "min=", "max=", "over=", "shape=", "cosine",
          "exp", "0", "1", "0.1", "1e-5", "-1", "5ep", "10%", "1k", "2.5M samples", "1e400",
          "9" * 50, "'100% - 5ep'", "'", "\"", " ", "x", "=", "True", "None", "\x00", "é"]

texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join) | st.text(max_size=200)


@pytest.mark.fuzz
@budget(400)
@given(texts)
def test_parse_raises_only_lrkit_errors_and_round_trips(text):
    try:
        s = lrkit.parse(text)
    except (lrkit.ConfigError, lrkit.ScheduleError) as e:
        assert len(str(e)) < 1000  # the message shows a window of the text, not all of it
        return
    assert lrkit.parse(str(s)) == s
    assert lrkit.from_config(s.to_config()) == s
    if not s._missing:
        for k in (0, 1, 7, 10**6, 2**63 - 1):
            v = s(k)
            assert math.isfinite(v) and v >= 0


@pytest.mark.parametrize("text,message", [
    # each raised a raw Python exception or hung before
    ("(" * 300 + "constant(1)" + ")" * 300, "brackets nest deeper than"),
    ("constant(-1k", "expected ',' or ')'"),
    ("constant(" + "9" * 4400 + ")", "a number has at most 40 characters"),
    ("constant(1" + "0" * 400 + ")", "a number has at most 40 characters"),
    ("cosine(1 -> 0, 1e400)", "the number 1e400 is outside the float range"),
    ("constant(1" + " " * 40000 + "x)", "expected ',' or ')'"),  # took 20 s (quadratic)
    ("warmup(5, 0.1, linear, 99) >> constant(1)",
     "warmup(...) >> takes at most 3 arguments before '>>' (over, start, shape), got 4"),
])
def test_measured_parser_failures(text, message):
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.parse(text)
    assert message in str(info.value)


def test_an_int_factor_multiplies():
    assert lrkit.parse("constant(1) * 2") == lrkit.constant(1.0) * 2.0
