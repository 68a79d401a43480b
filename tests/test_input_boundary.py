"""Bad input gets a clear lrkit error, fast: config trees, time strings and files.

Each measured failure is a regression test on the exception's type and its whole message;
a Hypothesis fuzz then checks that only ScheduleError/ConfigError ever escape ``from_config``
and that what it accepts round-trips.
"""

import copy
import json
import math
import os
import time
from pathlib import Path

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit import ConfigError, ScheduleError
from lrkit._schedule import MAX_NODES, REGISTRY, examples
from lrkit.config import MAX_FILE_BYTES
from lrkit.errors import show

KINDS = ", ".join(sorted(REGISTRY))


def _raises(build, exc, message):
    with pytest.raises(exc) as info:
        build()
    assert str(info.value) == message
    return info.value


# --- config trees -----------------------------------------------------------------------------

def test_an_unhashable_kind_is_an_unknown_kind():  # was TypeError: unhashable type: 'dict'
    _raises(lambda: lrkit.from_config({"kind": {"a": 1}}), ConfigError,
            f"schedule: unknown kind {{'a': 1}}; known kinds: {KINDS}")


def test_an_unhashable_key_is_an_unknown_key():
    _raises(lambda: lrkit.from_config({"kind": "constant", "value": 1.0, ("a",): 1}), ConfigError,
            "schedule: unknown key ('a',); valid keys: value, over")


@pytest.mark.parametrize("cfg,message", [
    ({"kind": "constant", "value": 10**400},
     "schedule: constant: 'value' must be finite, got ~1e+400"),
    ({"kind": "constant", "value": 10**5000},  # repr of 4300+ digits raised ValueError
     "schedule: constant: 'value' must be finite, got ~1e+5000"),
    ({"kind": "linear", "start": 1.0, "end": 0.0, "over": 10**5000},
     "schedule: linear: 'over' must be a finite number of steps below 2**63, got ~1e+5000"),
    ({"kind": "piecewise", "values": [1.0, 0.5], "at": [-(10**5000)]},
     "schedule: piecewise: 'at[0]' must be a finite number of steps below 2**63, got ~-1e+5000"),
    ({"kind": "constant", "value": math.nan},
     "schedule: constant: 'value' must be finite, got nan"),
    ({"kind": "sequence", "schedules": [{"kind": "constant", "value": 1.0, "over": 5},
                                       {"kind": "constant", "value": 10**5000}]},
     "schedule.schedules[1]: constant: 'value' must be finite, got ~1e+5000"),
])
def test_numbers_beyond_the_float_range(cfg, message):
    _raises(lambda: lrkit.from_config(cfg), ConfigError, message)


def test_a_huge_int_prints_as_its_magnitude_in_every_constructor_message():
    _raises(lambda: lrkit.constant(10**5000), ScheduleError,
            "constant: 'value' must be finite, got ~1e+5000")
    _raises(lambda: lrkit.constant(1.0).bind(steps_per_epoch=-(10**5000)), ScheduleError,
            "bind: 'steps_per_epoch' must be a finite number > 0, got ~-1e+5000")


def _product_tower(depth):
    """A product of the previous level with itself, ``depth`` deep: ``depth + 1`` mappings,
    ``2**(depth + 1) - 1`` nodes as a tree."""
    node = {"kind": "constant", "value": 1.0}
    for _ in range(depth):
        node = {"kind": "product", "left": node, "right": node}
    return node


def _yaml_tower(depth):
    def level(i):
        if i == 0:
            return "&a0 {kind: constant, value: 1.0}"
        return f"&a{i} {{kind: product, left: {level(i - 1)}, right: *a{i - 1}}}"
    return f"schedule: {level(depth)}\n"


def test_a_shared_mapping_is_built_once():
    cfg = _product_tower(10)
    s = lrkit.from_config(cfg)
    assert s.left is s.right and s.left.left is s.right.right
    tree = json.loads(json.dumps(cfg))  # the same config with every sharing expanded
    assert lrkit.from_config(tree) == s
    assert lrkit.from_config(s.to_config()) == s
    assert s(3) == 1.0


def test_a_shared_tree_too_large_to_walk_is_refused_at_build_time(tmp_path):
    # measured: > 20 s, building each of the 2**25 - 1 nodes of a 1 KB file
    p = tmp_path / "tower.yaml"
    p.write_text(_yaml_tower(24))
    assert p.stat().st_size < 1100
    start = time.perf_counter()
    err = _raises(lambda: lrkit.from_config(p), ConfigError,
                  f"tower.yaml: schedule{'.left' * 8}: product: a schedule holds at most "
                  f"{MAX_NODES} nodes, counting a shared part at every use; this one 131071")
    assert time.perf_counter() - start < 10, err  # a hang guard (it ran past 20 s)
    with pytest.raises(ConfigError, match="at most 100000 nodes"):
        lrkit.from_config(_product_tower(24))


def test_a_tower_within_the_budget_evaluates_prints_and_round_trips():
    s = lrkit.from_config(_product_tower(15))  # 65535 nodes as a tree
    start = time.perf_counter()
    assert s(7) == 1.0
    assert len(repr(s)) > 65535
    assert lrkit.from_config(s.to_config()) == s
    assert time.perf_counter() - start < 60  # a hang guard


def test_a_mapping_that_contains_itself_is_refused_by_the_depth_limit():
    cfg = {"kind": "sum", "right": 1.0}
    cfg["left"] = cfg
    with pytest.raises(ConfigError, match=r"^schedule(\.left)+: schedules nest at most 64 deep$"):
        lrkit.from_config(cfg)


def _laughs(levels=40):
    x = [1.0]
    for _ in range(levels):
        x = [x] * 10
    return x  # 10**40 leaves as a tree


def test_a_billion_laughs_value_is_shown_bounded():  # measured: the message never finished
    laughs = _laughs()
    start = time.perf_counter()
    err = _raises(lambda: lrkit.from_config({"kind": "piecewise", "values": laughs, "at": [1]}),
                  ConfigError, "schedule: piecewise: 'values[0]' must be a number, got "
                  + show(laughs[0]))
    assert len(err.message) < 200
    with pytest.raises(ConfigError, match="^schedule: a schedule must be a mapping with a "
                                          r"'kind', got \[\[\[\["):
        lrkit.from_config(laughs)
    assert time.perf_counter() - start < 10  # a hang guard


# --- time strings -----------------------------------------------------------------------------

def test_a_long_time_string_is_refused_at_once():  # measured: 6.4 s in the unit regex
    text = "1" + " " * 1600 + "!"
    start = time.perf_counter()
    _raises(lambda: lrkit.linear(1.0, 0.0, text), ScheduleError,
            "linear: 'over' is not a time: a time string has at most 100 characters, got 1602: "
            f"'1{' ' * 37}…")
    assert time.perf_counter() - start < 5  # a hang guard


@pytest.mark.parametrize("n", [40, 98])
def test_the_unit_pattern_is_linear_within_the_cap(n):
    for text in ("1" + " " * n + "!", "1" * n + "!", "1" + " " * (n // 2) + "k" + " " * (n // 2)
                 + "!", "1" + " +" * (n // 2)):
        start = time.perf_counter()
        for _ in range(100):
            with pytest.raises(ScheduleError, match="is not a time"):
                lrkit.linear(1.0, 0.0, text)
        assert time.perf_counter() - start < 5, text  # a hang guard


def test_thousands_of_digits_are_refused_with_the_rule():  # was ValueError (4300 digits)
    _raises(lambda: lrkit.from_config({"kind": "linear", "start": 1.0, "end": 0.0,
                                       "over": "1" * 5000 + "ep"}), ConfigError,
            "schedule: linear: 'over' is not a time: a time string has at most 100 characters, "
            "got 5002: '" + "1" * 38 + "…")


def test_a_huge_exponent_is_refused_not_computed():  # 10**999999999 would never finish
    _raises(lambda: lrkit.cosine(1.0, 0.0, "1e999999999ep"), ScheduleError,
            "cosine: 'over' is not a time: an exponent must be within +-308 (the float range), "
            "got '1e999999999ep'")
    assert lrkit.cosine(1.0, 0.0, "1e3").over == 1000


def test_a_time_beyond_the_float_range_after_binding():
    _raises(lambda: lrkit.cosine(1.0, 0.0, "1e300ep").bind(steps_per_epoch=1e300), ScheduleError,
            "cosine: 'over' must be a finite number of steps below 2**63, got ~1e+600")


@pytest.mark.parametrize("text,binding,steps", [
    ("2.5 M samples", {"samples_per_step": 256}, 9765),
    ("2.5Msamples", {"samples_per_step": 256}, 9765),
    (" 5ep ", {"steps_per_epoch": 10}, 50),
    ("5.ep", {"steps_per_epoch": 10}, 50),
    ("1E-1 ep", {"steps_per_epoch": 10}, 1),
    (".5 epochs", {"steps_per_epoch": 10}, 5),
    ("1k", {}, 1000),
])
def test_the_rewritten_unit_pattern_reads_what_the_old_one_read(text, binding, steps):
    assert lrkit.linear(1.0, 0.0, text).bind(**binding).over == steps


def test_the_schema_caps_time_strings_as_the_constructor_does():
    jsonschema = pytest.importorskip("jsonschema")
    v = jsonschema.Draft202012Validator(lrkit.json_schema())
    ok = {"kind": "linear", "start": 1.0, "end": 0.0, "over": "1" + " " * 97 + "ep"}
    assert v.is_valid(ok)
    lrkit.from_config(ok)
    long = dict(ok, over="1" + " " * 98 + "ep")
    assert not v.is_valid(long)
    with pytest.raises(ConfigError, match="at most 100 characters"):
        lrkit.from_config(long)


# --- files ------------------------------------------------------------------------------------

def test_a_byte_that_is_not_utf8(tmp_path):  # was UnicodeDecodeError
    p = tmp_path / "run.json"
    p.write_bytes(b'{"kind": "constant",\n "value": "\xff"}')
    _raises(lambda: lrkit.from_config(p), ConfigError,
            "run.json: not UTF-8 text: byte 0xff at offset 32 (line 2) invalid start byte; "
            "save the file as UTF-8")


def test_a_nul_in_the_path():  # was ValueError: embedded null byte
    _raises(lambda: lrkit.from_config("run\0.json"), ConfigError,
            "'run\\x00.json': a file path cannot contain a NUL character")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_symlink_to_a_device_is_not_read(tmp_path):  # was read until MemoryError
    p = tmp_path / "zero.json"
    p.symlink_to("/dev/zero")
    _raises(lambda: lrkit.from_config(p), ConfigError,
            f"{p}: cannot read the file (not a regular file but a device or other special file)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_not_waited_on(tmp_path):  # was blocked forever
    p = tmp_path / "pipe.yaml"
    os.mkfifo(p)
    _raises(lambda: lrkit.from_config(p), ConfigError,
            f"{p}: cannot read the file (not a regular file but a FIFO)")


def test_a_directory(tmp_path):
    p = tmp_path / "run.json"
    p.mkdir()
    _raises(lambda: lrkit.from_config(p), ConfigError,
            f"{p}: cannot read the file (not a regular file but a directory)")


def test_a_file_over_the_size_cap(tmp_path):
    p = tmp_path / "big.json"
    p.write_text(" " * MAX_FILE_BYTES + '{"kind": "constant", "value": 1.0}')
    _raises(lambda: lrkit.from_config(p), ConfigError,
            f"{p}: cannot read the file ({MAX_FILE_BYTES + 34} bytes; a config file has at "
            f"most {MAX_FILE_BYTES})")


def test_the_suffix_is_checked_before_reading(tmp_path):
    p = tmp_path / "run.txt"
    if hasattr(os, "mkfifo"):
        os.mkfifo(p)  # would block if it were opened
    else:
        p.write_text("x")
    _raises(lambda: lrkit.from_config(p), ConfigError,
            "run.txt: unknown file type '.txt'; use .json, .toml, .yaml or .yml")


@pytest.mark.parametrize("name,text,message", [
    ("run.json", '{"kind": "constant",\n "value": 1.0, "value": 2.0}',
     "run.json: not valid JSON: duplicate key 'value': each key may appear once in an object"),
    ("run.yaml", "kind: constant\nvalue: 1.0\nvalue: 2.0\n",
     "run.yaml: not valid YAML: duplicate key 'value' at line 3, column 1 (first at line 2): "
     "each key may appear once in a mapping"),
    ("run.yaml", "schedule:\n  kind: constant\n  value: 1.0\nschedule: {kind: constant}\n",
     "run.yaml: not valid YAML: duplicate key 'schedule' at line 4, column 1 (first at line 1): "
     "each key may appear once in a mapping"),
    ("run.toml", 'kind = "constant"\nvalue = 1.0\nvalue = 2.0\n',
     "run.toml: not valid TOML: Cannot overwrite a value (at line 3, column 12)"),
])
def test_a_repeated_key_is_refused(tmp_path, name, text, message):  # JSON, YAML kept the last
    p = tmp_path / name
    p.write_text(text)
    _raises(lambda: lrkit.from_config(p), ConfigError, message)


def test_yaml_merge_keys_may_override(tmp_path):
    p = tmp_path / "run.yaml"
    p.write_text("kind: sequence\nschedules:\n  - &base {kind: constant, value: 1.0, over: 5}\n"
                 "  - {<<: *base, value: 2.0}\n")
    assert lrkit.from_config(p) == lrkit.constant(1.0, over=5) >> lrkit.constant(2.0, over=5)


@pytest.mark.parametrize("name,text,message", [
    ("run.yaml", "kind: constant\nvalue: .nan\n",
     "run.yaml: schedule: constant: 'value' must be finite, got nan"),
    ("run.yaml", "kind: linear\nstart: 1.0\nend: 0.0\nover: .inf\n",
     "run.yaml: schedule: linear: 'over' must be a finite number of steps below 2**63, got inf"),
    ("run.json", '{"kind": "constant", "value": 1e400}',
     "run.json: schedule: constant: 'value' must be finite, got inf"),
    ("run.json", '{"kind": "constant", "value": ' + "1" * 5000 + "}",
     "run.json: not valid JSON: a whole number of 5000 digits is out of range"),
    ("run.yaml", "kind: constant\nvalue: " + "1" * 5000 + "\n",
     "run.yaml: not valid YAML: a whole number of more than 4300 digits is out of range"),
    ("run.toml", 'kind = "constant"\nvalue = ' + "1" * 5000 + "\n",
     "run.toml: not valid TOML: a whole number of more than 4300 digits is out of range"),
])
def test_numbers_in_files(tmp_path, name, text, message):
    p = tmp_path / name
    p.write_text(text)
    _raises(lambda: lrkit.from_config(p), ConfigError, message)


# --- bounded values in messages ---------------------------------------------------------------

def test_show_is_repr_for_small_values():
    for v in (1, 1.5, -0.0, "5ep", [20, 10], (1,), (), {"a": [1, 2]}, None, True, [[]]):
        assert show(v) == repr(v)


def test_show_is_bounded_and_never_walks_a_whole_structure():
    cyclic: list = [1]
    cyclic.append(cyclic)
    assert show(cyclic) == "[1, [1, [1, [1, […]]]]]"
    assert show(list(range(100))) == "[0, 1, 2, 3, 4, 5, 6, 7, …]"
    assert show("x" * 500) == "'" + "x" * 98 + "…"
    start = time.perf_counter()
    assert len(show(_laughs())) == 100
    assert time.perf_counter() - start < 5  # a hang guard (it hung)
    assert show(10**5000) == "~1e+5000"
    assert show(2**200) == "~1.61e+60"

    class Broken:
        def __repr__(self):
            raise RuntimeError

    assert show(Broken()) == "<Broken>"


# --- fuzz: only lrkit errors escape, and what is accepted round-trips -------------------------

EXAMPLES = [s.to_config() for s in examples().values()]
KEYS = sorted({f.name for c in REGISTRY.values() for f in c._fields})
TIME_TEXT = st.text(alphabet="0123456789 .eE+-%kKMBGTepochsamplestokn!\t", max_size=30)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 200), st.sampled_from([2**63, 10**400, -10**400]),
    st.floats(), st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0, 1e300]), TIME_TEXT,
    st.sampled_from(["linear", "cosine", "hold", "min", "rel", "5ep", "10%", "constant(0.5)"]))


def _node(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.builds(lambda kind, d: {"kind": kind, **d}, st.sampled_from(sorted(REGISTRY)),
                  st.dictionaries(st.sampled_from(KEYS), children, max_size=4)),
        st.sampled_from(EXAMPLES))


TREES = st.recursive(SCALARS, _node, max_leaves=12)


def _paths(c, path=()):
    items = c.items() if isinstance(c, dict) else enumerate(c) if isinstance(c, list) else ()
    for k, v in items:
        if k != "kind":
            yield path + (k,)
            yield from _paths(v, path + (k,))


@st.composite
def _configs(draw):
    """An example config with up to two of its values replaced by random trees."""
    c = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    for _ in range(draw(st.integers(0, 2))):
        paths = list(_paths(c))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = c
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = copy.deepcopy(draw(TREES))
    return c


def _check_accepted(s):
    c = s.to_config()
    json.dumps(c, allow_nan=False)  # plain JSON
    assert lrkit.from_config(c) == s
    try:
        assert 0 <= s(0) < math.inf
        assert 0 <= s(10**9) < math.inf
    except ScheduleError:  # an unbound unit string
        pass


@pytest.mark.fuzz
@budget(300)
@given(st.one_of(_configs(), TREES))
def test_fuzz_configs_raise_only_lrkit_errors_and_round_trip(cfg):
    try:
        s = lrkit.from_config(cfg)
    except ConfigError as e:
        assert len(str(e)) < 1000
        return
    _check_accepted(s)


@pytest.mark.fuzz
@budget(300)
@given(st.text(alphabet="0123456789 .eE+-%kKMBGTepochsamplestokn!\t_", max_size=120)
       | st.text(max_size=20),
       st.fixed_dictionaries({}, optional={
           "steps_per_epoch": st.floats(1e-300, 1e300) | st.integers(1, 10**30),
           "total_steps": st.integers(1, 10**30), "samples_per_step": st.floats(1e-300, 1e300),
           "tokens_per_step": st.integers(1, 10**30)}))
def test_fuzz_time_strings_raise_only_schedule_errors(text, binding):
    for build in (lambda: lrkit.linear(1.0, 0.0, text),
                  lambda: lrkit.piecewise([1.0, 0.5], [text])):
        try:
            s = build().bind(**binding)
        except ScheduleError as e:
            assert len(str(e)) < 1000
            continue
        _check_accepted(s)


def test_examples_dir_still_loads():
    for p in sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.*")):
        if p.suffix in (".json", ".toml", ".yaml", ".yml"):
            lrkit.from_config(p)
