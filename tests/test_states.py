"""Saved states are data: a tampered checkpoint is refused with an lrkit.ConfigError naming the
key, is never read as a file path, and what is accepted resumes with finite values >= 0.

The torch scheduler's state_dict (a table of tampered states, then Hypothesis tampering), the
plateau state's plain data, the Keras plateau variables and optax's reduce_on_plateau state.
"""

import builtins
import copy
import io
import math
import os
import pathlib
import re

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit import ConfigError

torch = pytest.importorskip("torch")
from lrkit.torch import LRScheduler  # noqa: E402

PLATEAU = lrkit.plateau(lrkit.warmup(lrkit.cosine(0.1, 0.001, 20), 5), factor=0.5, patience=1)
W = "lrkit.torch.LRScheduler: "
S = W + "state_dict"


def scheduler(s=PLATEAU, **kw):
    torch.manual_seed(0)
    m = torch.nn.Linear(3, 3, dtype=torch.float64)   # an accepted LR of 1e298 is applied too
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    return m, opt, LRScheduler(opt, s, **kw)


def train(m, opt, n):
    for _ in range(n):
        m(torch.randn(4, 3, dtype=torch.float64)).pow(2).sum().backward()
        opt.step()
        opt.zero_grad()


def saved_state():
    m, opt, sched = scheduler()
    train(m, opt, 7)
    for metric in (1.0, 1.0, 1.0):
        sched.observe(metric)
    sd = sched.state_dict()
    assert sd["plateau"]["0"]["reductions"] == 1 and sd["count"] == 7
    return sd


def put(*path_and_value):
    *path, value = path_and_value

    def tamper(sd):
        d = sd
        for k in path[:-1]:
            d = d[k]
        d[path[-1]] = value
        return sd
    return tamper


def drop(*path):
    def tamper(sd):
        d = sd
        for k in path[:-1]:
            d = d[k]
        del d[path[-1]]
        return sd
    return tamper


def whole(value):
    return lambda sd: value


NESTED = {"kind": "plateau", "schedule": "/etc/hostname", "factor": 0.5, "patience": 1}

# (tampering, the start of the message)
TAMPERED = [
    (put("count", "abc"), f"{S}['count']: must be an int >= 0, got 'abc'"),
    (put("count", math.nan), f"{S}['count']: must be an int >= 0, got nan"),
    (put("count", 2.5), f"{S}['count']: must be an int >= 0, got 2.5"),
    (put("count", True), f"{S}['count']: must be an int >= 0, got True"),
    (put("count", None), f"{S}['count']: must be an int >= 0, got None"),
    (put("count", -5), f"{S}['count']: must be an int >= 0, got -5"),
    (put("count", -10**6), f"{S}['count']: must be an int >= 0, got -1000000"),
    (put("count", 2**63), f"{S}['count']: must be an int < 2**63, got 9223372036854775808"),
    (put("count", 10**5000), f"{S}['count']: must be an int < 2**63, got ~1e+5000"),
    (drop("count"), f"{S}: missing key 'count'"),
    (put("extra", 1), f"{S}: unknown key 'extra'; an lrkit state has keys lrkit, count, "),
    (put("lrkit", True), W + "state version True is not supported by this lrkit (version 1)"),
    (put("lrkit", [1]), W + "state version [1] is not supported"),
    (put("hyperparam", 3), f"{S}['hyperparam']: must be a str, got 3"),
    (put("relative", "yes"), f"{S}['relative']: must be true or false, got 'yes'"),
    (put("base_values", [math.nan]), f"{S}['base_values'][0]: must be a finite number >= 0, "
                                     "got nan"),
    (put("base_values", [-1.0]), f"{S}['base_values'][0]: must be a finite number >= 0, got -1.0"),
    (put("base_values", [math.inf]), f"{S}['base_values'][0]: must be a finite number >= 0, "
                                     "got inf"),
    (put("base_values", ["0.1"]), f"{S}['base_values'][0]: must be a finite number >= 0, "
                                  "got '0.1'"),
    (put("base_values", [10**400]), f"{S}['base_values'][0]: must be a finite number >= 0, "
                                    "got ~1e+400"),
    (put("base_values", 0.1), f"{S}['base_values']: must be a list of numbers, got 0.1"),
    (put("base_values", []), W + "the state has 0 param groups, the optimizer has 1"),
    (put("schedules", []), f"{S}['schedules']: must be a mapping from param group index to "
                           "data, got []"),
    (put("schedules", {"7": {"kind": "constant", "value": 0.1}}),
     f"{S}['schedules']: key '7' is not a param group index 0..0"),
    (put("schedules", {"-0": {"kind": "constant", "value": 0.1}}),
     f"{S}['schedules']: key '-0' is not a param group index 0..0"),
    (put("schedules", "0", "/etc/hostname"),
     f"{S}['schedules']['0']: must be a schedule config {{'kind': ...}}, got '/etc/hostname'"),
    (put("schedules", "0", "/dev/zero"),
     f"{S}['schedules']['0']: must be a schedule config {{'kind': ...}}, got '/dev/zero'"),
    (put("schedules", "0", "plateau(constant(0.1))"),
     f"{S}['schedules']['0']: must be a schedule config {{'kind': ...}}, got 'plateau("),
    (put("schedules", "0", {"kind": []}),
     f"{S}['schedules']['0']: unknown kind []; known kinds: "),
    (put("schedules", "0", {"kind": "cosin"}),
     f"{S}['schedules']['0']: unknown kind 'cosin'; did you mean 'cosine'?"),
    (put("schedules", "0", "schedule", "over", -3),
     f"{S}['schedules']['0'].schedule: warmup: 'over' must be"),
    (put("schedules", "0", NESTED), f"{S}['schedules']['0'].schedule: "),
    (put("plateau", []), f"{S}['plateau']: must be a mapping from param group index to data"),
    (put("plateau", "0", []), f"{S}['plateau']['0']: must be a mapping with keys best, bad, "
                              "cooldown, reductions, got []"),
    (put("plateau", "0", "reductions", 2.5),
     f"{S}['plateau']['0']['reductions']: must be an int >= 0, got 2.5"),
    (put("plateau", "0", "reductions", "x"),
     f"{S}['plateau']['0']['reductions']: must be an int >= 0, got 'x'"),
    (put("plateau", "0", "reductions", -1),
     f"{S}['plateau']['0']['reductions']: must be an int >= 0, got -1"),
    (put("plateau", "0", "bad", -1), f"{S}['plateau']['0']['bad']: must be an int >= 0, got -1"),
    (put("plateau", "0", "cooldown", math.inf),
     f"{S}['plateau']['0']['cooldown']: must be an int >= 0, got inf"),
    (put("plateau", "0", "best", math.nan),
     f"{S}['plateau']['0']['best']: must be a number or None, got nan"),
    (put("plateau", "0", "best", "x"),
     f"{S}['plateau']['0']['best']: must be a number or None, got 'x'"),
    (drop("plateau", "0", "cooldown"), f"{S}['plateau']['0']: missing key 'cooldown'"),
    (put("plateau", "0", "patience", 3), f"{S}['plateau']['0']: unknown key 'patience'"),
    (put("schedules", "0", {"kind": "constant", "value": 0.1}),
     f"{S}['plateau']['0']: a plateau state, but the state's schedule for group 0 is not a "
     "plateau"),
    (whole([1, 2]), W + "not an lrkit scheduler state (keys: list)"),
    (whole({"last_epoch": 3}), W + "not an lrkit scheduler state (keys: ['last_epoch'])"),
]


@pytest.fixture
def no_files(monkeypatch):
    """Fail the test if anything opens or reads a file."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a file was opened: {args[:1]}")

    with monkeypatch.context() as mp:
        for owner, name in ((builtins, "open"), (io, "open"), (os, "open"),
                            (pathlib.Path, "open"), (pathlib.Path, "read_text"),
                            (pathlib.Path, "read_bytes")):
            mp.setattr(owner, name, refuse)
        yield


@pytest.mark.parametrize("i", range(len(TAMPERED)))
def test_tampered_state_is_refused_naming_the_key(i, no_files):
    tamper, message = TAMPERED[i]
    sd = tamper(copy.deepcopy(SAVED))
    m, opt, sched = scheduler()
    before = (sched.count, dict(sched.plateau_states[0]), opt.param_groups[0]["lr"])
    with pytest.raises(ConfigError) as info:
        sched.load_state_dict(sd)
    assert str(info.value).startswith(message), str(info.value)
    assert len(str(info.value)) < 400                       # values shown short
    assert (sched.count, sched.plateau_states[0], opt.param_groups[0]["lr"]) == before


SAVED = saved_state()


def test_the_saved_state_loads_and_continues():
    m, opt, sched = scheduler()
    sched.load_state_dict(copy.deepcopy(SAVED))
    assert sched.count == 7 and sched.plateau_states[0] == SAVED["plateau"]["0"]
    assert opt.param_groups[0]["lr"] == PLATEAU.value(7, SAVED["plateau"]["0"])


def test_a_long_value_is_shown_short():
    m, opt, sched = scheduler()
    with pytest.raises(ConfigError) as info:
        sched.load_state_dict({**SAVED, "count": "x" * 10_000})
    assert str(info.value) == f"{S}['count']: must be an int >= 0, got '{'x' * 98}…"


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text('{"kind": "constant", "value": 0.1}')
    return path


def test_a_path_that_exists_is_not_read(config_file, no_files):
    m, opt, sched = scheduler(lrkit.constant(0.1))
    sd = sched.state_dict()
    sd["schedules"]["0"] = str(config_file)     # a valid config, were it read
    with pytest.raises(ConfigError, match=r"\['schedules'\]\['0'\]: must be a schedule config"):
        sched.load_state_dict(sd)


def test_relative_base_that_overflows_is_refused():
    m, opt, sched = scheduler(lrkit.constant(2.0), relative=True)
    sd = sched.state_dict()
    sd["base_values"] = [1e308]
    with pytest.raises(ConfigError, match=re.escape(
            f"{S}['base_values'][0]: 1e+308 times the schedule's largest value 2.0 overflows")):
        sched.load_state_dict(sd)


# --- Hypothesis: random tampering gives a ConfigError or a state that resumes safely --------

leaves = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
          | st.text(max_size=6) | st.sampled_from(["/etc/hostname", "/dev/zero", "0", "kind",
                                                   "cosine", "plateau", "5ep"]))
json_like = st.recursive(leaves, lambda c: st.lists(c, max_size=3)
                         | st.dictionaries(st.text(max_size=6) | st.sampled_from(
                             ["0", "kind", "best", "over", "value", "schedule"]), c, max_size=3),
                         max_leaves=8)


NUDGES = [lambda x: x + 1, lambda x: x * 2, lambda x: x // 2, lambda x: -x, lambda x: x + 0.5,
          lambda x: x * 1e300, lambda x: str(x), lambda x: 0, lambda x: 1, lambda x: -1,
          lambda x: 2**63 - 1, lambda x: 2**63, lambda x: 10**400, lambda x: math.nan,
          lambda x: math.inf, lambda x: None]


def tamper(data, draw, top=True):
    """``data`` with one part replaced, deleted or added, at a random depth: mostly a leaf
    nudged (so that many tampered states are still valid), sometimes anything JSON holds."""
    if isinstance(data, dict) and data and (top or draw(st.integers(0, 7))):
        key = draw(st.sampled_from(sorted(data, key=str)))
        action = draw(st.sampled_from(["deeper"] * 6 + ["delete", "add"]))
        if action == "delete":
            return {k: v for k, v in data.items() if k != key}
        if action == "add":
            new = draw(st.sampled_from(["0", "1", "x", "kind", "best"]))
            return {**data, new: draw(json_like)}
        return {**data, key: tamper(data[key], draw, top=False)}
    if isinstance(data, list) and data and draw(st.integers(0, 7)):
        i = draw(st.integers(0, len(data) - 1))
        return [*data[:i], tamper(data[i], draw, top=False), *data[i + 1:]]
    if isinstance(data, (int, float)) and not isinstance(data, bool) and abs(data) < 1e300 \
            and draw(st.integers(0, 3)):
        return draw(st.sampled_from(NUDGES))(data)
    if isinstance(data, str) and draw(st.booleans()):
        return draw(st.sampled_from(["cosine", "linear", "constant", "warmup", "max", "abs",
                                     "keras", "/etc/hostname", "/dev/zero", "5ep", "", "lr"]))
    return draw(json_like)


@pytest.mark.fuzz
@budget(300)
@given(st.data(), st.sampled_from(["error", "use_new", "rescale"]), st.booleans())
def test_tampered_state_is_refused_or_resumes_safely(data, on_change, relative):
    sd = copy.deepcopy(SAVED)
    for _ in range(data.draw(st.integers(1, 3), label="rounds")):
        sd = tamper(sd, data.draw)
    m, opt, sched = scheduler(on_change=on_change, relative=relative)
    try:
        sched.load_state_dict(sd)
    except ConfigError:
        return
    for _ in range(3):
        for i in range(len(opt.param_groups)):
            v = opt.param_groups[i]["lr"]
            assert math.isfinite(v) and v >= 0, v
            assert math.isfinite(sched.current(i)) and sched.current(i) >= 0
        train(m, opt, 1)
        sched.observe(data.draw(st.floats(-1e3, 1e3), label="metric"))
    assert sched.state_dict()["count"] >= 0


# --- the plateau state's plain data ---------------------------------------------------------


@pytest.mark.parametrize("state, message", [
    ({"best": None, "bad": -1, "cooldown": 0, "reductions": 0},
     "plateau state['bad']: must be an int >= 0, got -1"),
    ({"best": math.nan, "bad": 0, "cooldown": 0, "reductions": 0},
     "plateau state['best']: must be a number or None, got nan"),
    ({"best": None, "bad": 0, "cooldown": 0}, "plateau state: missing key 'reductions'"),
    ("best", "plateau state: must be a mapping with keys best, bad, cooldown, reductions"),
])
def test_observe_checks_the_state_it_is_given(state, message):
    with pytest.raises(ConfigError) as info:
        PLATEAU.observe(state, 1.0)
    assert str(info.value).startswith(message)


def test_plain_states_round_trip_normalized():
    import numpy as np

    from lrkit import _plateau

    st_ = {"best": np.float32(0.5), "bad": np.int64(1), "cooldown": 0, "reductions": 2}
    assert _plateau.checked(st_) == {"best": 0.5, "bad": 1, "cooldown": 0, "reductions": 2}
    assert all(type(v) in (int, float) for v in _plateau.checked(st_).values())
    assert _plateau.plain(PLATEAU, _plateau.unplain(PLATEAU, PLATEAU.init())) == PLATEAU.init()


def test_an_infinite_best_round_trips():
    # PyTorch keeps an infinite metric as the best (nothing beats -inf in mode "min"); the state
    # lrkit saves then must load again. A NaN metric is a bad observation and never the best.
    from lrkit import _plateau

    s = PLATEAU.observe(PLATEAU.observe(PLATEAU.init(), float("nan")), -math.inf)
    assert s["best"] == -math.inf and _plateau.checked(s) == s
    assert PLATEAU.observe(s, -1e300)["bad"] == 1


def test_counts_saturate_so_a_saved_state_always_loads():
    # Found by the fuzz test above: a loaded state with reductions = 2**63 - 1 reduced once more
    # and its state_dict was then refused (2**63 is past what a state may hold).
    from lrkit import _plateau

    s = {"best": 0.0, "bad": 2**63 - 1, "cooldown": 0, "reductions": 2**63 - 1}
    for metric in (1.0, 2.0, 3.0):
        s = PLATEAU.observe(s, metric)
        assert _plateau.checked(s) == s
