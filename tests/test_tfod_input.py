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
    ("constant_learning_rate: 5", "constant_learning_rate: must be a block { ... }, got 5"),
    ("exponential_decay_learning_rate { decay_steps: 1e999 }",
     "exponential_decay_learning_rate: decay_steps: must be a finite number, got inf"),
    ("exponential_decay_learning_rate { initial_learning_rate: abc }",
     "exponential_decay_learning_rate: initial_learning_rate: must be a finite number, "
     "got 'abc'"),
    ("exponential_decay_learning_rate { staircase: \"false\" }",
     "exponential_decay_learning_rate: staircase: must be true or false, got 'false'"),
    ("manual_step_learning_rate { schedule { step: 10 } schedule: 3 }",
     "manual_step_learning_rate: schedule[1]: must be a block { step: … learning_rate: … }, "
     "got 3"),
    ("cosine_decay_learning_rate { warmup_steps: 2.5 }",
     "cosine_decay_learning_rate: warmup_steps: must be a whole number of steps >= 0, got 2.5"),
])
def test_wrong_field_values_name_the_field(body, message):
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.from_tf_object_detection(BASE % body)
    assert str(info.value) == f"pipeline.config: {message}"


def test_a_step_without_learning_rate_takes_the_proto_default():
    # KeyError 'learning_rate' before; the proto's default learning_rate is 0.002
    s = lrkit.from_tf_object_detection(
        BASE % "manual_step_learning_rate { initial_learning_rate: 0.1 schedule { step: 100 } }")
    assert s(99) == 0.1 and s(100) == 0.002


def test_deep_nesting_is_a_config_error():
    with pytest.raises(lrkit.ConfigError, match="messages nest deeper than 64"):
        lrkit.from_tf_object_detection("a { " * 1000)


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
