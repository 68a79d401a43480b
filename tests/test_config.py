"""Config data and files: round-trips through JSON, TOML and YAML, and the JSON schema."""

import json
from pathlib import Path

import jsonschema
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.config import load_file

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.*"))
CONFIGS = [p for p in EXAMPLES if p.suffix in (".json", ".toml", ".yaml", ".yml")]


def test_nested_config_is_plain_json():
    s = lrkit.warmup(lrkit.cosine(0.1, 1e-5, "95ep"), "5ep", shape="cosine")
    assert s.to_config() == {
        "kind": "warmup", "over": "5ep", "shape": "cosine",
        "schedule": {"kind": "cosine", "start": 0.1, "end": 1e-5, "over": "95ep"},
    }
    assert lrkit.from_config(json.loads(json.dumps(s.to_config()))) == s


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yaml"])
def test_file_formats(tmp_path, suffix):
    p = tmp_path / f"run{suffix}"
    text = {
        ".json": '{"schedule": {"kind": "cosine", "start": 0.1, "end": 0.0, "over": "10ep"},'
                 ' "bind": {"steps_per_epoch": 10}}',
        ".toml": '[schedule]\nkind = "cosine"\nstart = 0.1\nend = 0.0\nover = "10ep"\n'
                 '[bind]\nsteps_per_epoch = 10\n',
        ".yaml": "schedule: {kind: cosine, start: 0.1, end: 0, over: 10ep}\n"
                 "bind: {steps_per_epoch: 10}\n",
    }[suffix]
    p.write_text(text)
    assert lrkit.from_config(p) == lrkit.cosine(0.1, 0.0, 100)


def test_yaml_exponent_without_dot_is_a_number(tmp_path):
    p = tmp_path / "run.yaml"
    p.write_text("kind: constant\nvalue: 1e-3\n")   # YAML 1.1 reads '1e-3' as a string
    assert lrkit.from_config(p) == lrkit.constant(1e-3)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(lrkit.json_schema())


# --- the schema accepts exactly what the constructors accept, argument by argument ----------
# Random configs mix valid and invalid values for each argument's role. A config passes the
# schema exactly when every argument passes its role's check (what from_config does before the
# cross-argument rules of __post_init__, which JSON Schema cannot express); and whatever
# from_config builds, the schema accepts.

NUMBERS = [0, 0.0, -0.0, -1.0, -1e-300, 1e-300, 0.5, 1, 1.0, 2.0, 1e10, 1e300, 1e301, 1e308,
           -1e308, 9.5e-7]
TIMES = [0, 1, 2, 10, 2.4, 0.5, 9.5e-7, 1e-9, -1, 2**62, 2**63, 1e19, "5ep", "0ep", "10%",
         "2.5M samples", "1B tokens", "100% - 5ep", "1000", "1k", "5 fortnights", "", "ep5",
         "5 EPOCHS", None, True, [1]]
OTHERS = ["linear", "cosine", "rel", "min", "distance", "x", True, False, 1, 0, -1, 3, 1.5, None,
          [], [1.0, 2.0], [[0, 1.0], [2, 0.5]], [[2, 1.0], [0, 0.5]], [1.0, -1.0], {"a": 1}]
CHILDREN = [{"kind": "cosine", "start": 1.0, "end": 0.0, "over": 10}, "constant(0.5, 20)",
            {"kind": "nope"}, 5, [], None]


def _draw_value(draw, f):
    role = f.metadata["role"]
    if role in ("value", "number"):
        pool = NUMBERS + OTHERS[:6]
    elif role in ("time",):
        pool = TIMES
    elif role == "times":
        return draw(st.lists(st.sampled_from(TIMES[:18]), max_size=4)
                    | st.sampled_from(TIMES))
    elif role == "schedule":
        pool = CHILDREN
    elif role == "operand":  # (the schema takes any string as one-line text: not drawn here)
        pool = NUMBERS + [c for c in CHILDREN if not isinstance(c, str)]
    elif role == "schedules":
        return draw(st.lists(st.sampled_from(CHILDREN[:2]), max_size=3)
                    | st.sampled_from(CHILDREN))
    else:
        pool = OTHERS + list(f.metadata.get("choices", ()))
    return draw(st.sampled_from(pool))


@st.composite
def _configs(draw):
    from lrkit._schedule import REGISTRY

    kind = draw(st.sampled_from(sorted(REGISTRY)))
    cfg = {"kind": kind}
    for f in REGISTRY[kind]._fields:
        if draw(st.booleans()) or f.default is lrkit._schedule.MISSING:
            cfg[f.name] = _draw_value(draw, f)
    return cfg


def _arguments_pass(cfg):
    from lrkit._schedule import MISSING, REGISTRY

    cls = REGISTRY[cfg["kind"]]
    for f in cls._fields:
        if f.name not in cfg:
            if f.default is MISSING:
                return False
            continue
        v = cfg[f.name]
        role = f.metadata["role"]
        if v is None and f.default is None:
            continue
        try:
            if role == "operand" and isinstance(v, (int, float)) and not isinstance(v, bool):
                f.check(cls.kind, v)
            elif role in ("schedule", "operand"):
                lrkit.from_config(v) if not isinstance(v, str) else lrkit.parse(v)
            elif role == "schedules":
                if not isinstance(v, list) or not v:
                    return False
                for c in v:
                    lrkit.from_config(c) if not isinstance(c, str) else lrkit.parse(c)
            else:
                f.check(cls.kind, v)
        except lrkit.ScheduleError as e:
            # JSON Schema cannot say "sorted": the order of positions is the constructor's
            if "must be sorted" not in str(e) and "strictly increasing" not in str(e):
                return False
        except (lrkit.ConfigError, TypeError, AttributeError):
            return False
    return True


@pytest.mark.fuzz
@budget(1500)
@given(_configs())
def test_the_schema_accepts_exactly_what_the_arguments_checks_accept(cfg):
    validator = jsonschema.Draft202012Validator(lrkit.json_schema())
    in_schema = validator.is_valid(cfg)
    assert in_schema == _arguments_pass(cfg), (cfg, [e.message for e in
                                                    validator.iter_errors(cfg)][:3])
    try:
        lrkit.from_config(cfg)
    except (lrkit.ConfigError, lrkit.ScheduleError):
        return
    assert in_schema


@pytest.mark.parametrize("cfg", [
    # each was accepted by the schema while the constructor refused it
    {"kind": "restarts", "schedule": {"kind": "cosine", "start": 1.0, "end": 0.0, "over": 5},
     "limit": 0},
    {"kind": "cosine", "start": 1.0, "end": 0.0, "over": 10, "exponent": -1},
])
def test_measured_schema_drift(cfg):
    with pytest.raises(lrkit.ConfigError):
        lrkit.from_config(cfg)
    assert not jsonschema.Draft202012Validator(lrkit.json_schema()).is_valid(cfg)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_examples_validate_against_the_schema(path):
    jsonschema.validate(load_file(path), lrkit.json_schema())
    lrkit.from_config(path)


def test_schema_rejects_what_from_config_rejects():
    bad = {"kind": "cosine", "start": 0.1, "end": 0.0, "ovr": 10}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, lrkit.json_schema())
