"""TF Object Detection text at the input boundary: mutated pipeline.config text and wrong field
types give a ConfigError naming the field (or the line and column), never another exception."""

from pathlib import Path

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit

BASE = "optimizer { momentum_optimizer { learning_rate { %s } } }"
EXAMPLE = (Path(__file__).parent.parent / "examples" / "pipeline.config").read_text()


@pytest.mark.parametrize("body,message", [
    # each raised a raw Python exception (or read a quoted "false" as true) before
    ("constant_learning_rate: 5", ', line 1, column 74: Expected "{", at \'5 } } }\''),
    ("exponential_decay_learning_rate { decay_steps: 1e999 }",
     ", line 1, column 97: Couldn't parse integer: 1e999, at '1e999 } } } }'"),
    ("exponential_decay_learning_rate { initial_learning_rate: abc }",
     ", line 1, column 107: Couldn't parse float: abc, at 'abc } } } }'"),
    ("exponential_decay_learning_rate { initial_learning_rate: nan }",
     ": exponential_decay_learning_rate.initial_learning_rate: must be a finite number, got nan"),
    ("exponential_decay_learning_rate { staircase: \"false\" }",
     ', line 1, column 95: Expected "true" or "false", at \'"false" } } } }\''),
    ("manual_step_learning_rate { schedule { step: 10 } schedule: 3 }",
     ', line 1, column 110: Expected "{", at \'3 } } } }\''),
    ("cosine_decay_learning_rate { warmup_steps: 2.5 }",
     ", line 1, column 93: Couldn't parse integer: 2.5, at '2.5 } } } }'"),
    ("cosine_decay_learning_rate { warmup_steps: -2 }",
     ", line 1, column 93: Value out of range: -2, at '-2 } } } }'"),
    ("constant_learning_rate {} exponential_decay_learning_rate {}",
     ', line 1, column 76: Field "exponential_decay_learning_rate" is specified along with '
     'field "constant_learning_rate", another member of oneof "learning_rate" for message type '
     '"LearningRate".'),
])
def test_wrong_field_values_name_the_field(body, message):
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.from_tf_object_detection(BASE % body)
    assert str(info.value) == f"pipeline.config{message}"


def test_a_step_without_learning_rate_takes_the_proto_default():
    # KeyError 'learning_rate' before; the proto's default learning_rate is 0.002
    s = lrkit.from_tf_object_detection(
        BASE % "manual_step_learning_rate { initial_learning_rate: 0.1 schedule { step: 100 } }")
    assert s(99) == 0.1 and s(100) == 0.002


def test_deep_nesting_and_long_lines_are_config_errors():
    # protobuf's parser recurses into skipped blocks (RecursionError at ~300) and slows
    # quadratically on one long line (100,000 fields on a line took 100 s)
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.from_tf_object_detection("a { " * 1000)
    assert str(info.value) == "pipeline.config, line 1, column 259: blocks nest deeper than 64"
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.from_tf_object_detection("optimizer {}\n" + "z: 1 " * 100_000)
    assert str(info.value) == ("pipeline.config, line 2: longer than 10,000 characters; break "
                               "the line")
    # braces in strings and comments do not count
    text = '# {{{{\nmodel { name: "{{{{{{" }\n' + BASE % "constant_learning_rate { }"
    assert lrkit.from_tf_object_detection(text)(0) == 0.002


def test_a_megabyte_of_other_fields_parses_in_seconds():
    import time

    text = BASE % "constant_learning_rate { learning_rate: 0.1 }" + "\nz: [1, 2]" * 90_000
    t = time.perf_counter()
    assert lrkit.from_tf_object_detection(text)(0) == 0.1
    assert time.perf_counter() - t < 20  # ~1 s here; a guard against a quadratic parser


@st.composite
def mutated(draw):
    text = EXAMPLE
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from(["{", "}", ":", " ", "\n", "1e999", "abc", '"false"', "5",
                                      "-1", "0", "#", "'", "<", ">", "[", "]", ""]))
        cut = draw(st.integers(0, 12))
        text = text[:i] + piece + text[i + cut:]
    return text


@pytest.mark.fuzz
@budget(200)
@given(mutated())
def test_mutated_pipeline_configs_raise_only_lrkit_errors(text):
    try:
        s = lrkit.from_tf_object_detection(text)
    except (lrkit.ConfigError, lrkit.ScheduleError):
        return
    v = s(1000)
    assert v >= 0 and v == v
