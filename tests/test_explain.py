"""The phase table behind ``lrkit show``."""

import pytest

import lrkit
from lrkit import explain


def rows(ex):
    return [(p.kind, p.start, p.end, p.first, p.last) for p in ex.phases]


def test_warmup_stable_decay_phases():
    ex = explain(lrkit.wsd(1.0, "100%", "10%", "20%", decay_shape="linear"), total_steps=100)
    assert rows(ex)[:2] == [("warmup (linear)", 0, 10, 1 / 11, 10 / 11),
                            ("constant", 10, 80, 1.0, 1.0)]
    assert rows(ex)[2][:4] == ("linear", 80, 100, 1.0)
    assert abs(rows(ex)[2][4] - 1 / 20) < 1e-15     # the run's last update: 19 of 20 steps in


def test_sequence_cut_and_hold():
    s = lrkit.sequence([lrkit.linear(1.0, 0.0, 10), lrkit.linear(0.5, 0.0, 2),
                        lrkit.constant(0.1)], at=[5, 20])
    assert rows(explain(s)) == [("linear", 0, 5, 1.0, 0.6), ("linear", 5, 7, 0.5, 0.25),
                                ("hold", 7, 20, 0.0, 0.0), ("constant", 20, None, 0.1, None)]


def test_run_shorter_and_longer_than_the_schedule():
    s = lrkit.cosine(1.0, 0.0, 50) >> lrkit.multistep(0.1, 0.5, [10, 20])
    assert [p.kind for p in explain(s, total_steps=55).phases] == ["cosine", "multistep [0]"]
    long = explain(s, total_steps=100)
    assert rows(long)[-1] == ("multistep [2]", 70, None, 0.025, 0.025)
    assert "70  100" in str(long)
    assert explain(lrkit.cosine(1.0, 0.0, 50), total_steps=80).phases[-1].kind == "hold"


def test_real_valued_boundaries_start_at_the_next_update():
    # a position p takes effect at update ceil(p) (docs/concepts.md, "Real-valued time")
    s = lrkit.constant(1.0, over=2.5) >> lrkit.linear(1.0, 0.0, 2)
    assert rows(explain(s)) == [("constant", 0, 3, 1.0, 1.0), ("linear", 3, 5, 0.75, 0.25)]
    # nested real positions add up before rounding: the cosine starts at 2.5 + 2.5 = 5, not
    # at ceil(2.5) + ceil(2.5) = 6, and its phase ends with the schedule at ceil(5 + 9.5)
    s = lrkit.constant(1.0, over=2.5) >> lrkit.warmup(lrkit.cosine(2.0, 0.0, 9.5), 2.5)
    assert [p[:3] for p in rows(explain(s))] == [
        ("constant", 0, 3), ("warmup (linear)", 3, 5), ("cosine", 5, 15)]
    assert s(4) < 2.0
    assert s(5) == 2.0 and s.duration == 14.5


def test_warmup_inside_a_sequence_inside_a_sequence():
    inner = lrkit.sequence([lrkit.linear(0.1, 0.2, 3),
                            lrkit.warmup(lrkit.cosine(1.0, 0.0, 20), 5)], at=[2])
    s = lrkit.sequence([lrkit.constant(0.5, over=4), inner, lrkit.constant(0.01)], at=[4, 30])
    ex = explain(s)
    assert [p[:3] for p in rows(ex)] == [
        ("constant", 0, 4), ("linear", 4, 6), ("warmup (linear)", 6, 11),
        ("cosine", 11, 30), ("constant", 30, None)]   # the linear and the cosine cut short
    assert rows(ex)[2][3:] == (1 / 6, 5 / 6) and rows(ex)[3][3] == 1.0


# --- unbound schedules: shown in their own unit, or refused naming what to give -------------

NOTE = "{q} not given ({flag}): shown in {unit}, values as if {q}={n}"


def table(ex):
    return [r[1:4] for r in ex.rows()[1:]]


def test_unbound_epochs_are_shown_in_epochs():
    s = lrkit.parse("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)")
    ex = explain(s)
    assert table(ex) == [["warmup (linear)", "0ep", "5ep"], ["cosine", "5ep", "100ep"]]
    # values as if an epoch were 1000 steps: the ramp's first is 0.1 / 5001
    assert ex.rows()[1][4] == f"{0.1 / 5001:.6g}" and ex.rows()[2][4:6] == ["0.1", "1e-05"]
    assert str(ex).splitlines()[-2:] == [
        "peak 0.1 at 5ep; final 1e-05 at 100ep",
        NOTE.format(q="steps_per_epoch", flag="--steps-per-epoch", unit="ep", n=1000)]
    assert ex.to_dict()["units"] == {"missing": "steps_per_epoch", "name": "ep",
                                     "steps": 1000, "stand_in": 1000}


def test_unbound_percent_runs_to_100_percent():
    ex = explain(lrkit.parse("warmup(2.5%) >> constant(0.1)"))
    assert table(ex) == [["warmup (linear)", "0%", "2.5%"], ["constant", "2.5%", "100%"]]
    assert ex.summary().splitlines()[1] == NOTE.format(q="total_steps", flag="--total",
                                                       unit="%", n=100000)


def test_unbound_samples_and_tokens_read_with_si_suffixes():
    ex = explain(lrkit.parse("warmup(2.5M samples) >> cosine(1 -> 0, 97.5M samples)"))
    assert table(ex) == [["warmup (linear)", "0 samples", "2.5M samples"],
                         ["cosine", "2.5M samples", "100M samples"]]
    assert "(--batch-size)" in ex.summary()
    ex = explain(lrkit.parse("warmup(500 tokens) >> linear(1 -> 0, 1.5k tokens)"))
    assert table(ex) == [["warmup (linear)", "0 tokens", "500 tokens"],
                         ["linear", "500 tokens", "2k tokens"]]
    assert "(--tokens-per-step)" in ex.summary()


def test_what_is_given_is_bound():
    s = lrkit.parse("warmup(5ep) >> cosine(0.1 -> 1e-5, 95%)")
    ex = explain(s, total_steps=1000, steps_per_epoch=10)
    assert rows(ex)[:2] == rows(explain(s.bind(steps_per_epoch=10, total_steps=1000)))[:2]
    assert [p[:3] for p in rows(ex)] == [("warmup (linear)", 0, 50), ("cosine", 50, 1000)]
    assert ex.units is None
    samples = lrkit.parse("cosine(1 -> 0, 1k samples)")
    assert explain(samples, samples_per_step=10).phases[0].end == 100


@pytest.mark.parametrize("text,kwargs,message", [
    ("warmup(500) >> cosine(0.1 -> 1e-5, 95ep)", {},
     "explain: cosine's 'over' = '95ep' needs steps_per_epoch; it also counts in other units, "
     "so no one unit shows its phases; give steps_per_epoch=... (on the command line: "
     "--steps-per-epoch)"),
    ("warmup(5ep) >> cosine(0.1 -> 1e-5, 95%)", {},
     "explain: warmup's 'over' = '5ep' needs steps_per_epoch and cosine's 'over' = '95%' needs "
     "total_steps; it also counts in other units, so no one unit shows its phases; give "
     "steps_per_epoch=..., total_steps=... (on the command line: --steps-per-epoch, --total)"),
    ("multistep(0.1, 0.1, [30ep, 60ep])", {"total_steps": 1000},
     "explain: multistep's 'at' = '30ep' needs steps_per_epoch; the run's total_steps counts in "
     "steps, so no one unit shows its phases; give steps_per_epoch=... (on the command line: "
     "--steps-per-epoch)"),
])
def test_mixed_units_say_what_to_give(text, kwargs, message):
    s = lrkit.parse(text)
    with pytest.raises(lrkit.ScheduleError) as info:
        explain(s, **kwargs)
    assert str(info.value) == message


def test_a_phase_the_run_cuts_short_ends_with_the_run():
    # `lrkit show 'cosine(0.1 -> 0, 100)' --total 50` listed the phase's end as 100
    ex = lrkit.explain(lrkit.warmup(lrkit.cosine(0.1, 0.0, 100), 10), total_steps=50)
    assert [(p.start, p.end) for p in ex.phases] == [(0, 10), (10, 50)]
    assert ex.phases[-1].last == lrkit.warmup(lrkit.cosine(0.1, 0.0, 100), 10)(49)
