"""Each lint rule with a schedule that triggers it and one that does not."""

import pytest

import lrkit
from lrkit import recipes

C = lrkit.cosine
CASES = [
    ("LR001", lrkit.exponential(0.004, 0.95, 800720, staircase=True), 200_000, None,
     lrkit.exponential(0.004, 0.95, 800720, staircase=True), 2_000_000),
    ("LR002", lrkit.sequence([lrkit.linear(0.01, 0.1, 10), C(0.02, 0.0, 90)]), 100, None,
     lrkit.warmup(C(0.1, 0.0, 90), 10), 100),
    ("LR003", C(0.1, 0.0, 50), 100, None, C(0.1, 0.0, 98), 100),
    ("LR004", C(0.1, 0.0, 150), 100, None, C(0.1, 0.0, 100), 100),
    ("LR005", C(0.1, 0.0, 50).past_end("continue"), 100, None,
     C(0.1, 0.0, 100).past_end("continue"), 100),
    ("LR006", recipes.tf_resnet(256, 256, 1281167, [30, 60, 80, 90],
                                [1, 0.1, 0.01, 0.001, 1e-4], warmup=True), 450411, None,
     recipes.tf_resnet(256, 256, 1281167, [30, 60, 80, 90], [1, 0.1, 0.01, 0.001, 1e-4]),
     450411),
    ("LR007", lrkit.warmup(C(0.1, 0.0, 60), 40), 100, None, lrkit.warmup(C(0.1, 0.0, 95), 5),
     100),
    ("LR008", lrkit.restarts(C(0.1, 0.0, 30)), 100, None, lrkit.restarts(C(0.1, 0.0, 25)), 100),
    ("LR008", lrkit.one_cycle(0.1, 200), 100, None, lrkit.one_cycle(0.1, 100), 100),
    ("LR009", lrkit.warmup(C(0.1, 0.0, "95ep"), "5ep"), 1000, 10.5,
     lrkit.warmup(C(0.1, 0.0, "95ep"), "5ep"), 1000, ),
    ("LR010", lrkit.constant(100.0, over=10) >> C(100.0, 0.0, 90), 100, None,
     lrkit.constant(1.0, over=10) >> C(1.0, 0.0, 90), 100),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_triggers_and_does_not(case):
    code, bad, total, per, good, good_total = case[:6]
    found = [w.code for w in lrkit.lint(bad, total, steps_per_epoch=per)]
    assert code in found
    clean = [w.code for w in lrkit.lint(good, good_total,
                                        steps_per_epoch=None if code != "LR009" else 10)]
    assert code not in clean


def test_messages_quote_the_numbers():
    (w,) = [w for w in lrkit.lint(lrkit.exponential(0.004, 0.95, 800720, staircase=True),
                                  200_000)]
    assert str(w) == ("LR001 flat: the value is 0.004 for the whole run of 200000 steps: the "
                      "schedule never changes. Fix: check the lengths against the run (a "
                      "staircase decay every 800,720 steps does not move in a 200,000-step "
                      "run), or use constant() on purpose.")
    (w,) = lrkit.lint(lrkit.cosine(0.1, 0.0, 50), 100)
    assert w.message == ("the schedule ends at step 50 and holds 0 for the last 50 steps "
                         "(50% of the run).")


def test_non_finite_values_are_refused_before_lint_could_see_them():
    # LR011 used to catch this overflow at lint time; construction now refuses it
    with pytest.raises(lrkit.ScheduleError, match="overflow"):
        lrkit.exponential(1.0, 1e300, 1, end=1e300) * 1e300


def test_every_code_is_documented():
    from pathlib import Path

    from lrkit._lint import CODES

    text = (Path(__file__).parent.parent / "docs" / "lint.md").read_text()
    for code, name in CODES.items():
        assert f"## {code} `{name}`" in text


def test_long_runs_are_sampled_but_boundaries_are_exact():
    s = lrkit.constant(0.1, over=5_000_000) >> lrkit.constant(0.2, over=1) >> \
        lrkit.constant(0.1)
    assert "LR001" not in [w.code for w in lrkit.lint(s, 10_000_000)]


def test_partial_cycle_found_inside_combinators():
    # the cycle the run ends in, however deep: 100 - 10 - 10 = 80 of 200 steps
    s = lrkit.constant(0.01, over=10) >> lrkit.warmup(lrkit.one_cycle(0.1, 200), 10)
    (w,) = [w for w in lrkit.lint(s, 100) if w.code == "LR008"]
    assert w.message == ("the run of 100 steps completes 0.40 one_cycle cycles: it ends 40% "
                         "into cycle 1.")
    fits = lrkit.constant(0.01, over=10) >> lrkit.warmup(lrkit.one_cycle(0.1, 80), 10)
    assert "LR008" not in [w.code for w in lrkit.lint(fits, 100)]


def test_no_partial_cycle_outside_the_cycles():
    shrinking = lrkit.restarts(C(0.1, 0.0, 10), period_mult=0.5, limit=3)  # 17.5 steps in all
    assert [w.code for w in lrkit.lint(shrinking, 100)] == ["LR003"]  # used to raise
    late = lrkit.constant(0.01, over=50) >> lrkit.restarts(C(0.1, 0.0, 30), period_mult=2.0)
    assert "LR008" not in [w.code for w in lrkit.lint(late, 40)]  # the run ends before them


def test_floored_difference_is_reported_with_its_steps():
    # linear(1 -> 0, 4) - 0.5 is 0.5 - 0.25 k: below 0 from k = 3 on (k = 2 is exactly 0)
    s = lrkit.linear(1.0, 0.0, 4) - 0.5
    found = [w for w in lrkit.lint(s, 10) if w.code == "LR012"]
    assert len(found) == 1 and "at 7 of the checked steps (from step 3 to 9" in found[0].message
    assert not [w for w in lrkit.lint(lrkit.linear(1.0, 0.0, 4) + 0.5, 10) if w.code == "LR012"]
