"""A hand-checkable reference table per family: every expected value is worked out by hand
from the formula in DESIGN.md (fractions of simple numbers), never copied from lrkit."""

import math

import pytest

from lrkit import (
    batch_size,
    constant,
    cosine,
    cyclic,
    exponential,
    geometric,
    interpolate,
    inverse_sqrt,
    inverse_time,
    linear,
    multistep,
    one_cycle,
    one_minus_sqrt,
    piecewise,
    plateau,
    polynomial,
    restarts,
    sequence,
    step,
    tanh,
    warmup,
    wsd,
)
from lrkit._schedule import REGISTRY

C = math.cos
TABLE = [
    ("constant", constant(0.5), {0: 0.5, 7: 0.5, 10**12: 0.5}),
    ("constant over", constant(0.5, over=3), {0: 0.5, 3: 0.5}),
    ("linear", linear(1.0, 0.0, 4), {0: 1.0, 1: 0.75, 2: 0.5, 3: 0.25, 4: 0.0, 9: 0.0}),
    ("linear up", linear(0.0, 2.0, 4), {0: 0.0, 1: 0.5, 4: 2.0, 5: 2.0}),
    ("cosine", cosine(1.0, 0.0, 4), {0: 1.0, 1: (1 + C(math.pi / 4)) / 2, 2: 0.5, 4: 0.0, 8: 0.0}),
    ("cosine floor", cosine(1.0, 0.1, 2), {0: 1.0, 1: 0.55, 2: 0.1, 3: 0.1}),
    ("cosine exponent", cosine(1.0, 0.0, 2, exponent=2.0), {1: 0.25, 2: 0.0}),
    # k-decay 2: progress k²/16, so k = 2 is a quarter of the way: ½(1 + cos(π/4))
    ("cosine k_decay", cosine(1.0, 0.0, 4, k_decay=2.0), {2: (1 + C(math.pi / 4)) / 2, 4: 0.0}),
    ("polynomial k_decay", polynomial(1.0, 0.0, 4, k_decay=2.0), {1: 15 / 16, 2: 0.75, 4: 0.0}),
    ("polynomial", polynomial(1.0, 0.0, 4, power=2.0), {0: 1.0, 1: 0.5625, 2: 0.25, 4: 0.0,
                                                         5: 0.0}),
    ("polynomial end", polynomial(1.0, 0.5, 2), {1: 0.75, 2: 0.5, 3: 0.5}),
    # Keras cycle=True: horizon 10·ceil(k/10): k=11 -> 1 - 11/20 = 0.45; k=21 -> 1 - 21/30.
    ("polynomial cycle", polynomial(1.0, 0.0, 10, cycle=True),
     {0: 1.0, 10: 0.0, 11: 0.45, 20: 0.0, 21: 1 - 21 / 30}),
    ("exponential", exponential(1.0, 0.5, 2), {0: 1.0, 2: 0.5, 4: 0.25, 1: 0.5 ** 0.5}),
    ("exponential staircase", exponential(1.0, 0.5, 2, staircase=True),
     {1: 1.0, 2: 0.5, 3: 0.5, 4: 0.25}),
    ("exponential begin", exponential(1.0, 0.5, 10, staircase=True, begin=5),
     {0: 1.0, 5: 1.0, 14: 1.0, 15: 0.5}),
    ("exponential end", exponential(1.0, 0.5, 1, end=0.2), {1: 0.5, 2: 0.25, 3: 0.2, 99: 0.2}),
    ("exponential growth", exponential(1.0, 2.0, 1, end=5.0), {1: 2.0, 2: 4.0, 3: 5.0}),
    ("inverse_time", inverse_time(1.0, 0.5, 10), {0: 1.0, 10: 1 / 1.5, 20: 0.5}),
    ("inverse_time staircase", inverse_time(1.0, 1.0, 2, staircase=True),
     {1: 1.0, 2: 0.5, 3: 0.5, 4: 1 / 3}),
    ("inverse_sqrt", inverse_sqrt(1.0, 1), {0: 1.0, 3: 0.5, 8: 1 / 3}),
    ("step", step(1.0, 0.5, 3), {0: 1.0, 2: 1.0, 3: 0.5, 5: 0.5, 6: 0.25}),
    ("multistep", multistep(1.0, 0.5, [2, 4]), {1: 1.0, 2: 0.5, 3: 0.5, 4: 0.25, 100: 0.25}),
    ("multistep repeated", multistep(1.0, 0.5, [2, 2]), {1: 1.0, 2: 0.25}),
    ("multistep at 0", multistep(1.0, 0.5, [0]), {0: 0.5}),
    ("piecewise", piecewise([1.0, 0.5, 0.25], [2, 4]), {1: 1.0, 2: 0.5, 3: 0.5, 4: 0.25}),
    ("interpolate", interpolate([(2, 0.0), (4, 1.0), (8, 0.0)]),
     {0: 0.0, 2: 0.0, 3: 0.5, 4: 1.0, 6: 0.5, 8: 0.0, 9: 0.0}),
    ("interpolate cosine", interpolate([(0, 1.0), (2, 0.0)], shape="cosine"),
     {0: 1.0, 1: 0.5, 2: 0.0}),
    ("tanh", tanh(1.0, 0.0, 4), {0: 0.5 * (1 - math.tanh(-7.0)), 2: 0.5 * (1 - math.tanh(-2.0)),
                                  4: 0.0, 5: 0.0}),
    ("cyclic", cyclic(0.0, 1.0, 2), {0: 0.0, 1: 0.5, 2: 1.0, 3: 0.5, 4: 0.0, 6: 1.0}),
    ("cyclic down", cyclic(0.0, 1.0, 1, down=3), {1: 1.0, 2: 2 / 3, 4: 0.0}),
    ("cyclic triangular2", cyclic(0.0, 1.0, 2, mode="triangular2"), {2: 1.0, 6: 0.5, 10: 0.25}),
    ("cyclic exp_range", cyclic(0.0, 1.0, 2, mode="exp_range", gamma=0.5), {2: 0.25, 1: 0.25}),
    ("one_cycle", one_cycle(1.0, 10, pct_start=0.5, div_factor=4.0, final_div_factor=5.0),
     {0: 0.25, 5: 1.0, 10: 0.05, 11: 0.05}),
    ("one_cycle linear", one_cycle(1.0, 10, pct_start=0.5, div_factor=4.0,
                                   final_div_factor=5.0, shape="linear"),
     {0: 0.25, 1: 0.4, 5: 1.0, 10: 0.05}),
    ("one_cycle three", one_cycle(1.0, 10, pct_start=0.25, div_factor=2.0,
                                  final_div_factor=5.0, three_phase=True, shape="linear"),
     {0: 0.5, 2: 0.9, 5: 0.5, 10: 0.1}),  # u = 2.5: 0.5 + 0.5·2/2.5
    ("one_minus_sqrt", one_minus_sqrt(1.0, 0.0, 4), {0: 1.0, 1: 0.5, 4: 0.0}),
    ("geometric", geometric(1.0, 0.01, 2), {0: 1.0, 1: 0.1, 2: 0.01, 3: 0.01}),
    ("warmup default", warmup(constant(1.0), 3), {0: 0.25, 1: 0.5, 2: 0.75, 3: 1.0}),
    ("warmup start", warmup(constant(1.0), 4, start=0.0), {0: 0.0, 1: 0.25, 4: 1.0}),
    ("warmup cosine", warmup(constant(1.0), 2, start=0.0, shape="cosine"), {1: 0.5, 2: 1.0}),
    ("warmup exp", warmup(constant(1.0), 2, start=0.01, shape="exp"),
     {0: 0.01, 1: 0.1, 2: 1.0}),
    ("warmup constant", warmup(constant(1.0), 2, start=0.1, shape="constant"),
     {0: 0.1, 1: 0.1, 2: 1.0}),
    ("warmup then decay", warmup(linear(1.0, 0.0, 2), 1, start=0.0), {0: 0.0, 1: 1.0, 2: 0.5,
                                                                       3: 0.0}),
    ("sequence", linear(0.0, 1.0, 2) >> linear(1.0, 0.0, 4), {0: 0.0, 1: 0.5, 2: 1.0, 4: 0.5,
                                                              6: 0.0}),
    ("sequence at", sequence([constant(1.0), constant(0.5)], at=[3]), {2: 1.0, 3: 0.5}),
    ("sequence cut", sequence([linear(1.0, 0.0, 4), constant(0.1)], at=[2]),
     {1: 0.75, 2: 0.1}),
    ("sequence hold", sequence([linear(1.0, 0.0, 2), constant(0.1)], at=[4]),
     {2: 0.0, 3: 0.0, 4: 0.1}),
    ("restarts", restarts(linear(1.0, 0.0, 2)), {0: 1.0, 1: 0.5, 2: 1.0, 3: 0.5}),
    ("restarts mult decay", restarts(linear(1.0, 0.0, 2), period_mult=2.0, peak_decay=0.5),
     {2: 0.5, 3: 0.375, 5: 0.125, 6: 0.25}),
    ("restarts limit", restarts(linear(1.0, 0.0, 2), limit=2), {3: 0.5, 4: 0.0, 99: 0.0}),
    # peak mode: cycle 1 starts at 0.5 (not 0.2 + 0.8·0.5) and keeps the final value 0.2
    ("restarts peak", restarts(linear(1.0, 0.2, 2), peak_decay=0.5, decay="peak"),
     {2: 0.5, 3: 0.2 + 0.4 * (0.5 - 0.2) / 0.8, 4: 0.25}),
    # cycle 5 of a 1-step cycle tripling in length starts at (3^5 - 1)/2 = 121, where
    # log(243)/log(3) lands just below 5: the log index gives cycle 4's end value
    ("restarts log index", restarts(linear(1.0, 0.0, 1), period_mult=3.0, cycle_index="log"),
     {120: 1 / 81, 121: 0.0, 122: 1 - 1 / 243}),
    ("restarts exact index", restarts(linear(1.0, 0.0, 1), period_mult=3.0), {121: 1.0}),
    ("plateau", plateau(linear(1.0, 0.0, 2)), {0: 1.0, 1: 0.5}),
    ("wsd", wsd(1.0, 10, warmup=2, decay=4, decay_shape="linear"),
     {0: 1 / 3, 1: 2 / 3, 2: 1.0, 6: 1.0, 7: 0.75, 10: 0.0}),
    ("wsd 1-sqrt", wsd(1.0, 10, warmup=2, decay=4), {6: 1.0, 7: 0.5, 10: 0.0}),
    ("scale", cosine(1.0, 0.0, 2) * 0.5, {0: 0.5, 1: 0.25}),
    ("product", linear(1.0, 0.0, 2) * constant(0.5), {1: 0.25}),
    ("clip", linear(1.0, 0.0, 4).clip(min=0.3, max=0.6), {0: 0.6, 2: 0.5, 4: 0.3}),
    ("stretch", linear(1.0, 0.0, 2).stretch(2.0), {1: 0.75, 2: 0.5, 4: 0.0}),
    ("stepped", linear(1.0, 0.0, 4).stepped(2), {1: 1.0, 2: 0.5, 3: 0.5, 4: 0.0}),
    ("skip", linear(1.0, 0.0, 4).skip(1), {0: 0.75, 2: 0.25, 3: 0.0, 9: 0.0}),
    # arithmetic: 1.0 - 0.25k + 0.5 ; the difference 0.5 - 0.25k floored at 0 from k = 2 on
    ("sum", linear(1.0, 0.0, 4) + 0.5, {0: 1.5, 1: 1.25, 4: 0.5, 9: 0.5}),
    ("sum of schedules", linear(1.0, 0.0, 4) + linear(0.0, 2.0, 8), {0: 1.0, 2: 1.0, 4: 1.0,
                                                                     6: 1.5, 8: 2.0}),
    ("difference", linear(1.0, 0.0, 4) - 0.5, {0: 0.5, 1: 0.25, 2: 0.0, 3: 0.0, 9: 0.0}),
    ("one minus", 1.0 - linear(0.5, 1.0, 4), {0: 0.5, 2: 0.25, 4: 0.0}),
    ("quotient", linear(1.0, 0.0, 4) / 4.0, {0: 0.25, 1: 0.1875, 4: 0.0}),
    ("clip by a schedule", constant(0.5).clip(min=linear(0.0, 1.0, 4)), {0: 0.5, 2: 0.5,
                                                                          3: 0.75, 9: 1.0}),
    ("skip past the end", linear(1.0, 0.0, 2).skip(5), {0: 0.0, 3: 0.0}),
    ("continue", cosine(1.0, 0.0, 2).past_end("continue"), {2: 0.0, 3: 0.5, 4: 1.0}),
    ("continue floor", linear(1.0, 0.0, 2).past_end("continue"), {3: 0.0}),
    # a plan changed at update 2: 1 - 0.25k before it, then the new plan at k - 2; "continue"
    # scales the new plan (0.8 at its start) to start at the old plan's 0.5: factor 0.625
    ("branch", linear(1.0, 0.0, 4).branch(2, constant(0.8, over=1) >> linear(0.8, 0.0, 2)),
     {0: 1.0, 1: 0.75, 2: 0.8, 3: 0.8, 4: 0.4, 5: 0.0, 9: 0.0}),
    # 32 -> 96 by 16 over 8 samples: 4 increments, one every 2 samples; 96 from 8 on
    ("batch_size", batch_size(32, 96, 8, multiple_of=16),
     {0: 32.0, 1: 32.0, 2: 48.0, 5: 64.0, 7: 80.0, 8: 96.0, 100: 96.0}),
    ("branch continue", linear(1.0, 0.0, 4).branch(2, linear(0.8, 0.0, 2), join="continue"),
     {1: 0.75, 2: 0.5, 3: 0.25, 4: 0.0}),
]


@pytest.mark.parametrize("name,s,expected", TABLE, ids=[t[0] for t in TABLE])
def test_reference_table(name, s, expected):
    for k, v in expected.items():
        assert s(k) == pytest.approx(v, rel=1e-12, abs=1e-15), (name, k)


def test_every_registered_kind_has_a_row():
    # A row of its own (the kind at the top of the row's schedule), worked out by hand.
    missing = set(REGISTRY) - {s.kind for _, s, _ in TABLE}
    assert not missing, f"add a hand-worked row to TABLE for {sorted(missing)}"
