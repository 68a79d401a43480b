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
    ("LR006", lrkit.linear(0.0, 0.1, 10) >> C(0.1, 0.0, 90), 100, None,
     lrkit.warmup(C(0.1, 0.0, 90), 10), 100),
    ("LR007", lrkit.warmup(C(0.1, 0.0, 60), 40), 100, None, lrkit.warmup(C(0.1, 0.0, 95), 5),
     100),
    ("LR008", lrkit.restarts(C(0.1, 0.0, 30)), 100, None, lrkit.restarts(C(0.1, 0.0, 25)), 100),
    ("LR008", lrkit.one_cycle(0.1, 200), 100, None, lrkit.one_cycle(0.1, 100), 100),
    ("LR009", lrkit.warmup(C(0.1, 0.0, "95ep"), "5ep"), 1000, 10.5,
     lrkit.warmup(C(0.1, 0.0, "95ep"), "5ep"), 1000, ),
    ("LR010", lrkit.constant(100.0, over=10) >> C(100.0, 0.0, 90), 100, None,
     lrkit.constant(1.0, over=10) >> C(1.0, 0.0, 90), 100),
    ("LR013", lrkit.multistep(0.1, 0.1, [10, 20]), 100, None,
     lrkit.multistep(0.1, 0.1, [50, 80]), 100),
    ("LR013", lrkit.warmup(lrkit.piecewise([0.1, 0.01], [20]), 5), 100, None,
     lrkit.warmup(lrkit.piecewise([0.1, 0.01], [60]), 5), 100),
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
    sections = {s.split("\n", 1)[0]: s for s in text.split("\n## ")[1:]}
    assert list(sections) == [f"{code} `{name}`" for code, name in CODES.items()]
    for head, body in sections.items():  # each with an example pytest runs
        assert "```python\n>>> " in body, head


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


def test_a_flat_run_is_one_finding():
    # a piecewise decay placed past the end of the run: flat (LR001), and the run never reaches
    # the final value (LR004) for the same cause, so LR001 alone
    s = lrkit.piecewise([3e-4, 3e-5, 3e-6], [900_000, 1_200_000])
    assert [w.code for w in lrkit.lint(s, 200_000)] == ["LR001"]
    assert [w.code for w in lrkit.lint(lrkit.cosine(0.1, 0.1, 50), 100)] == ["LR001"]  # not LR003
    flat_zero = lrkit.linear(0.0, 0.1, 500) >> lrkit.constant(0.1)
    assert [w.code for w in lrkit.lint(flat_zero * 0.0, 100)] == ["LR001"]  # not LR006 too
    # a run stopping inside its one cycle: LR008, which says the run never finishes it
    assert [w.code for w in lrkit.lint(lrkit.one_cycle(0.1, 200), 100)] == ["LR008"]
    # without the flat cause the same schedule's other finding is reported
    assert [w.code for w in lrkit.lint(lrkit.cosine(0.1, 0.0, 150), 100)] == ["LR004"]


@pytest.mark.parametrize("s", [
    lrkit.constant(0.01), lrkit.constant(0.01) * 0.5, lrkit.constant(0.01).clip(0.001),
    lrkit.constant(0.01, over=10) >> lrkit.constant(0.01), lrkit.constant(0.0),
], ids=repr)
def test_an_intentional_constant_is_not_reported(s):
    assert lrkit.lint(s, 200_000) == []


def test_zero_start_is_reported_by_its_share_of_the_run():
    warm0 = lrkit.linear(0.0, 0.1, 10) >> C(0.1, 0.0, 90)
    (w,) = lrkit.lint(warm0, 100)
    assert str(w) == ("LR006 zero-first-update: the first update gets a value of 0 and is "
                      "wasted (1% of the run of 100 steps). Fix: start the warmup above 0 "
                      "(lrkit's default warmup starts at target/(over + 1)).")
    # one update in 1,000 is 0.1%, not more: silent; in 999 it warns
    assert "LR006" not in [w.code for w in lrkit.lint(lrkit.linear(0.0, 0.1, 10) >>
                                                      C(0.1, 0.0, 990), 1000)]
    assert "LR006" in [w.code for w in lrkit.lint(lrkit.linear(0.0, 0.1, 10) >>
                                                  C(0.1, 0.0, 989), 999)]
    # TF's ResNet warmup from 0: one wasted update of 450,411 is noise
    tf = recipes.tf_resnet(256, 256, 1281167, [30, 60, 80, 90], [1, 0.1, 0.01, 0.001, 1e-4],
                           warmup=True)
    assert tf(0) == 0.0 and "LR006" not in [w.code for w in lrkit.lint(tf, 450411)]
    assert "LR006" in [w.code for w in lrkit.lint(tf, 450411, zero_share=0.0)]


def test_zero_start_counts_every_zero_update_also_between_samples():
    # 4,005,000 steps are sampled every ~4 steps: the count of zeros is still exact
    s = lrkit.constant(0.0, over=5001) >> C(0.1, 0.0, 3_999_999)
    (w,) = [w for w in lrkit.lint(s, 4_005_000) if w.code == "LR006"]
    assert w.message == ("the first 5001 updates get a value of 0 and are wasted (0.125% of "
                         "the run of 4005000 steps).")
    assert "LR006" not in [w.code for w in lrkit.lint(lrkit.constant(0.0, over=4000) >>
                                                      C(0.1, 0.0, 4_001_000), 4_005_000)]


def test_long_last_stage_message_and_threshold():
    s = lrkit.linear(1e-4, 2e-3, 4_000) >> lrkit.piecewise([2e-3, 2e-4, 2e-5], [1_000, 2_000])
    (w,) = lrkit.lint(s, 50_000)
    assert str(w) == ("LR013 long-last-stage: the run holds the last piecewise value 2e-05 from "
                      "step 6000 to its end: 44000 of 50000 steps (88% of the run). Fix: place "
                      "the boundaries for this run (the last stage usually takes 10-30% of it; "
                      "boundaries in '%' follow the run), or shorten the run.")
    # exactly half the run in the last stage is not more than half: silent
    assert lrkit.lint(lrkit.multistep(0.1, 0.1, [20, 50]), 100) == []
    assert [w.code for w in lrkit.lint(lrkit.multistep(0.1, 0.1, [20, 49]), 100)] == ["LR013"]
    assert lrkit.lint(lrkit.multistep(0.1, 0.1, [20, 49]), 100, last_stage_share=0.6) == []
    # the run ends before the last stage: not this code (the first stage is no "last" stage)
    assert "LR013" not in [w.code for w in lrkit.lint(lrkit.piecewise([0.1, 0.01], [200]),
                                                      100)]


def test_unbound_schedules_are_bound_or_refused_naming_the_flag():
    s = lrkit.warmup(C(0.1, 0.0, "95%"), "5%")
    assert lrkit.lint(s, 1000) == lrkit.lint(s.bind(total_steps=1000), 1000) == []
    ep = lrkit.warmup(C(0.1, 0.0, "95ep"), "5ep")
    assert lrkit.lint(ep, 1000, steps_per_epoch=10) == []
    with pytest.raises(lrkit.ScheduleError) as e:
        lrkit.lint(ep, 1000)
    assert str(e.value) == ("warmup: 'over' = '5ep' needs steps_per_epoch (lrkit.lint(..., "
                            "steps_per_epoch=...); CLI: --steps-per-epoch)")
    samples = C(0.1, 0.0, "1M samples")
    with pytest.raises(lrkit.ScheduleError) as e:
        lrkit.lint(samples, 1000)
    assert str(e.value) == ("cosine: 'over' = '1M samples' needs samples_per_step "
                            "(lrkit.lint(..., samples_per_step=...); CLI: --batch-size)")
    assert lrkit.lint(samples, 1000, samples_per_step=1000) == []
    assert lrkit.lint(samples.bind(samples_per_step=1000), 1000) == []
    with pytest.raises(lrkit.ScheduleError, match=r"needs tokens_per_step \(lrkit.lint\(\.\.\., "
                       r"tokens_per_step=\.\.\.\); CLI: --tokens-per-step\)"):
        lrkit.lint(C(0.1, 0.0, "1B tokens"), 1000, samples_per_step=1000)
    assert lrkit.lint(C(0.1, 0.0, "1B tokens"), 1000, tokens_per_step=1e6) == []


@pytest.mark.parametrize("source, scheduler, base_lr, epochs, epoch_length", [
    ("open-mmlab/mmdetection configs/_base_/schedules/schedule_1x.py",
     [dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
      dict(type="MultiStepLR", begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)],
     0.02, 12, 100),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs256.py",
     dict(type="MultiStepLR", by_epoch=True, milestones=[30, 60, 90], gamma=0.1), 0.1, 100, 3),
])
def test_a_wrapped_multisteps_last_stage_is_not_an_early_end(source, scheduler, base_lr,
                                                             epochs, epoch_length):
    # mmdetection's 1x schedule linted over its own run: its last stage (epochs 11-12) is the
    # schedule, not a hold after it ends (was LR003: the warmup product hid the stages)
    pytest.importorskip("mmengine")
    s = lrkit.from_mmengine(scheduler, base_lr=base_lr, epoch_length=epoch_length,
                            max_epochs=epochs)
    assert lrkit.lint(s, epochs * epoch_length) == []
    (w,) = lrkit.lint(s, 3 * epochs * epoch_length)  # a run 3x longer: 2/3 in the last stage
    assert w.code == "LR013" and "the run holds the last stage" in w.message
