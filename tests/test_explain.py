"""The phase table behind ``lrkit show``."""

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
