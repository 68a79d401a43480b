"""One test per validation rule, each asserting the whole message: the schedule, the argument,
the rule, the user's value and, where it helps, the fix."""

import math

import pytest

import lrkit
from lrkit import ConfigError, ScheduleError

CASES = [
    ("non-finite", lambda: lrkit.cosine(math.nan, 0.0, 10),
     "cosine: 'start' must be finite, got nan"),
    ("infinite", lambda: lrkit.constant(math.inf), "constant: 'value' must be finite, got inf"),
    ("negative value", lambda: lrkit.linear(-1, 0.0, 10),
     "linear: 'start' must be >= 0, got -1"),
    ("bool is no number", lambda: lrkit.cosine(True, 0.0, 10),
     "cosine: 'start' must be a number, got True"),
    ("string is no number", lambda: lrkit.cosine("0.1", 0.0, 10),
     "cosine: 'start' must be a number, got '0.1'"),
    ("zero length", lambda: lrkit.cosine(1.0, 0.0, 0),
     "cosine: 'over' must be > 0 steps, got 0"),
    ("negative length", lambda: lrkit.linear(1.0, 0.0, -5),
     "linear: 'over' must be > 0 steps, got -5"),
    ("not a time", lambda: lrkit.linear(1.0, 0.0, [2.5]),
     "linear: 'over' must be a number of steps or a unit string such as '5ep', '10%', "
     "'2.5M samples', got [2.5]"),
    ("infinite steps", lambda: lrkit.linear(1.0, 0.0, float("inf")),
     "linear: 'over' must be a finite number of steps below 2**63, got inf"),
    ("unknown unit", lambda: lrkit.cosine(1.0, 0.0, "5 fortnights"),
     "cosine: 'over' is not a time, got '5 fortnights'; write steps (1000), epochs ('5ep', "
     "'5 epochs'), a share of the run ('10%'), samples ('2.5M samples') or tokens "
     "('1B tokens'), optionally joined by ' + ' or ' - '"),
    ("unsorted boundaries", lambda: lrkit.piecewise([1.0, 0.5, 0.1], [20, 10]),
     "piecewise: 'at' must be strictly increasing, got [20, 10]; sort them and remove "
     "duplicates"),
    ("duplicate boundaries", lambda: lrkit.piecewise([1.0, 0.5, 0.1], [10, 10]),
     "piecewise: 'at' must be strictly increasing, got [10, 10]; sort them and remove "
     "duplicates"),
    ("unsorted milestones", lambda: lrkit.multistep(1.0, 0.1, [4, 2]),
     "multistep: 'at' must be sorted, got [4, 2]; sort them"),
    ("values vs boundaries", lambda: lrkit.piecewise([1.0, 0.5], [10, 20]),
     "piecewise: 'values' must have len(at) + 1 = 3 entries (one value before each boundary "
     "and one after the last), got [1.0, 0.5]"),
    ("unknown mode", lambda: lrkit.cyclic(0.1, 1.0, 10, mode="triangle"),
     "cyclic: 'mode' must be one of 'triangular', 'triangular2', 'exp_range', got 'triangle'; "
     "did you mean 'triangular'?"),
    ("unknown warmup shape", lambda: lrkit.warmup(lrkit.constant(1.0), 5, shape="linar"),
     "warmup: 'shape' must be one of 'linear', 'cosine', 'exp', 'constant', got "
     "'linar'; did you mean 'linear'?"),
    ("peak decay of a flat cycle",
     lambda: lrkit.restarts(lrkit.linear(1.0, 1.0, 3), peak_decay=0.5, decay="peak"),
     "restarts: 'decay' 'peak' needs a cycle whose start differs from its final value (it "
     "scales the distance between them), got 'peak'; use decay='distance'"),
    ("peak decay of a cycle that is not monotone",
     lambda: lrkit.restarts(lrkit.one_cycle(1.0, 10), peak_decay=0.5, decay="peak"),
     "restarts: 'schedule' must go from a start to an end value (linear, cosine, polynomial, "
     "tanh, …) when decay='peak' scales its start, got one_cycle(1.0, 10); use "
     "decay='distance', or a shape with start and end"),
    ("growing peaks", lambda: lrkit.restarts(lrkit.linear(0.0, 1.0, 5), peak_decay=2.0),
     "restarts: 'peak_decay' must be >= 0 and <= 1, got 2.0"),
    ("negative skip", lambda: lrkit.linear(1.0, 0.0, 5).skip(-1),
     "skip: 'steps' must be > 0 steps, got -1"),
    ("unknown past_end", lambda: lrkit.constant(1.0, over=5).past_end("wrap"),
     "past_end: 'policy' must be one of 'hold', 'continue', 'error', got 'wrap'"),
    ("infinite child needs at", lambda: lrkit.constant(1.0) >> lrkit.constant(0.5),
     "sequence: 'schedules[0]' is infinite, so it never ends; give the boundaries with "
     "at=[...], got constant(1.0)"),
    ("at length", lambda: lrkit.sequence([lrkit.constant(1.0), lrkit.constant(0.5)], at=[1, 2]),
     "sequence: 'at' must hold len(schedules) - 1 = 1 boundaries, got [1, 2]; one boundary "
     "between each two children"),
    ("restarts of infinite", lambda: lrkit.restarts(lrkit.constant(1.0)),
     "restarts: 'schedule' must be finite and last > 0 steps (one cycle), got constant(1.0)"),
    ("restarts shrinking", lambda: lrkit.restarts(lrkit.linear(1.0, 0.0, 5), period_mult=0.5),
     "restarts: 'period_mult' < 1 shrinks the cycles towards zero length, so it needs a limit, "
     "got 0.5; give limit=<number of cycles>"),
    ("plateau factor", lambda: lrkit.plateau(lrkit.constant(1.0), factor=1.5),
     "plateau: 'factor' must be > 0 and < 1, got 1.5"),
    ("plateau patience", lambda: lrkit.plateau(lrkit.constant(1.0), patience=-1),
     "plateau: 'patience' must be a whole number of observations >= 0, got -1"),
    ("growth needs end", lambda: lrkit.exponential(1.0, 2.0, 10),
     "exponential: 'end' is required when growing (rate > 1), or the value grows without "
     "bound, got None; give the value it should stop at"),
    ("end on the wrong side", lambda: lrkit.exponential(1.0, 0.5, 10, end=2.0),
     "exponential: 'end' must be <= start (1.0) when decaying (rate < 1), got 2.0"),
    ("one_cycle pct_start", lambda: lrkit.one_cycle(1.0, 100, pct_start=1.2),
     "one_cycle: 'pct_start' must be > 0 and < 1, got 1.2"),
    ("three-phase pct_start", lambda: lrkit.one_cycle(1.0, 100, pct_start=0.6, three_phase=True),
     "one_cycle: 'pct_start' must be > 0 and < 0.5, got 0.6"),
    ("clip bounds", lambda: lrkit.constant(1.0).clip(min=0.5, max=0.1),
     "clip: 'min' must be <= max (0.1), got 0.5"),
    ("negative scale", lambda: lrkit.constant(1.0) * -2.0,
     "scale: 'factor' must be >= 0, got -2.0"),
    ("geometric zero", lambda: lrkit.geometric(0.0, 1.0, 10),
     "geometric: 'start' must be > 0, got 0.0"),
    ("exp_range gamma", lambda: lrkit.cyclic(0.1, 1.0, 10, mode="exp_range", gamma=1.1),
     "cyclic: 'gamma' must be > 0 and <= 1, got 1.1"),
    ("scale_lr rule", lambda: lrkit.scale_lr(0.1, 512, 256, rule="cubic"),
     "scale_lr: 'rule' must be 'linear' or 'sqrt', got 'cubic'"),
    ("scale_lr batch", lambda: lrkit.scale_lr(0.1, 0, 256),
     "scale_lr: 'batch_size' must be a whole number > 0, got 0"),
    ("wsd too short", lambda: lrkit.wsd(1.0, 100, warmup=50, decay=50),
     "wsd: 'warmup' + 'decay' (50 + 50 steps) must be shorter than 'over' (100 steps), "
     "leaving a stable phase"),
    ("unbound", lambda: lrkit.cosine(1.0, 0.0, "5ep")(3),
     "cosine: 'over' = '5ep' needs steps_per_epoch; call .bind(steps_per_epoch=...) before "
     "evaluating"),
    ("unbound share", lambda: lrkit.warmup(lrkit.cosine(1.0, 0.0, 100), "10%").values([0]),
     "warmup: 'over' = '10%' needs total_steps; call .bind(total_steps=...) before evaluating"),
    ("warmup longer than the run",
     lambda: lrkit.warmup(lrkit.constant(1.0), "10ep").bind(steps_per_epoch=100,
                                                           total_steps=500),
     "warmup: 'over' = '10ep' is 1000 steps, longer than the whole run (total_steps=500); "
     "shorten the warmup or lengthen the run"),
    ("rounds to zero", lambda: lrkit.cosine(1.0, 0.0, "0.05ep").bind(steps_per_epoch=10),
     "cosine: 'over' = '0.05ep' resolves to 0.5 steps, which rounds down to 0; it must be > 0 "
     "steps"),
    ("bad binding", lambda: lrkit.constant(1.0).bind(steps_per_epoch=-3),
     "bind: 'steps_per_epoch' must be a finite number > 0, got -3"),
    ("float step", lambda: lrkit.constant(1.0)(1.5),
     "constant: the step must be an int (the 0-based index of the optimizer update), got 1.5"),
    ("negative step", lambda: lrkit.constant(1.0)(-1), "constant: the step must be >= 0, got -1"),
    ("negative steps", lambda: lrkit.constant(1.0).values([3, -1]),
     "constant: steps must be >= 0, got -1"),
    ("past end error", lambda: lrkit.linear(1.0, 0.0, 5).past_end("error")(6),
     "past_end: step 6 is past the end of the schedule (duration 5 steps) and the policy is "
     "'error'; stop the run by step 5 or use past_end('hold')"),
]


@pytest.mark.parametrize("name,build,message", CASES, ids=[c[0] for c in CASES])
def test_error_message(name, build, message):
    with pytest.raises(ScheduleError) as info:
        build()
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


CONFIG_CASES = [
    ({"kind": "cosin", "start": 1.0, "end": 0.0, "over": 10},
     "schedule: unknown kind 'cosin'; did you mean 'cosine'?"),
    ({"start": 1.0}, "schedule: missing 'kind'; known kinds: "),
    ({"kind": "cosine", "start": 1.0, "end": 0.0, "ovr": 10},
     "schedule: unknown key 'ovr'; did you mean 'over'?"),
    ({"kind": "cosine", "start": 1.0, "end": 0.0},
     "schedule: cosine: missing required key 'over'"),
    ({"kind": "sequence", "schedules": [{"kind": "constant", "value": 1.0, "over": 5},
                                        {"kind": "cosine", "start": 1.0, "end": 0.0,
                                         "over": 0}]},
     "schedule.schedules[1]: cosine: 'over' must be > 0 steps, got 0"),
]


@pytest.mark.parametrize("config,message", CONFIG_CASES)
def test_config_error_names_the_location(config, message):
    with pytest.raises(ConfigError) as info:
        lrkit.from_config(config)
    assert str(info.value).startswith(message)


def test_file_errors_name_the_file(tmp_path):
    p = tmp_path / "run.yaml"
    p.write_text("schedule:\n  kind: sequence\n  schedules:\n"
                 "    - {kind: constant, value: 1.0, over: 5}\n"
                 "    - {kind: cosine, start: 1.0, end: 0.0, over: 0}\n")
    with pytest.raises(ConfigError) as info:
        lrkit.from_config(p)
    assert str(info.value) == ("run.yaml: schedule.schedules[1]: cosine: 'over' must be > 0 "
                               "steps, got 0")
    assert info.value.where == "run.yaml: schedule.schedules[1]"


def test_yaml_tags_are_rejected(tmp_path):
    p = tmp_path / "evil.yaml"
    p.write_text("schedule: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError) as info:
        lrkit.from_config(p)
    assert str(info.value).startswith("evil.yaml: not valid YAML: could not determine a "
                                      "constructor for the tag")


def test_malformed_json_reports_line_and_column(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"kind": "cosine",\n "start": }')
    with pytest.raises(ConfigError) as info:
        lrkit.from_config(p)
    assert str(info.value) == "bad.json: not valid JSON: Expecting value: line 2 column 11 " \
                              "(char 29)"


def test_unknown_wrapper_and_bind_keys(tmp_path):
    with pytest.raises(ConfigError, match=r"^bind: unknown key 'step_per_epoch'; did you mean "
                                          r"'steps_per_epoch'\?$"):
        lrkit.from_config({"schedule": {"kind": "constant", "value": 1.0},
                           "bind": {"step_per_epoch": 3}})
    with pytest.raises(ConfigError, match=r"^unknown key 'bnd'; did you mean 'bind'\?$"):
        lrkit.from_config({"schedule": {"kind": "constant", "value": 1.0}, "bnd": {}})


def test_missing_file():
    with pytest.raises(ConfigError, match=r"^nope\.json: cannot read the file"):
        lrkit.from_config("nope.json")
