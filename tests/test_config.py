"""Config data and files: round-trips through JSON, TOML and YAML, and the JSON schema."""

import json
from pathlib import Path

import jsonschema
import pytest

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


def test_every_kind_is_registered_and_in_the_schema():
    schema = lrkit.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    from lrkit._schedule import REGISTRY

    assert set(schema["$defs"]) - {"schedule"} == set(REGISTRY)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_examples_validate_against_the_schema(path):
    jsonschema.validate(load_file(path), lrkit.json_schema())
    lrkit.from_config(path)


def test_schema_rejects_what_from_config_rejects():
    bad = {"kind": "cosine", "start": 0.1, "end": 0.0, "ovr": 10}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, lrkit.json_schema())
