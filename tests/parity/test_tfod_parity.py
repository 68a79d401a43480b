"""from_tf_object_detection against the TF Object Detection API's own schedule functions
(object_detection/utils/learning_schedules.py, TF2 version), transcribed below with NumPy in
place of tf ops since TensorFlow is not in the test environment; the exponential one is the
source document's own code (004_e74184193f34c363)."""

import math
from pathlib import Path

import numpy as np
import pytest
from seed_code import article_burnin as exponential_decay_with_burnin

import lrkit
from lrkit import ConfigError

EX = Path(__file__).parent.parent.parent / "examples"


def cosine_decay_with_warmup(global_step, learning_rate_base, total_steps,
                             warmup_learning_rate=0.0, warmup_steps=0, hold_base_rate_steps=0):
    learning_rate = 0.5 * learning_rate_base * (1 + math.cos(
        math.pi * (global_step - warmup_steps - hold_base_rate_steps)
        / float(total_steps - warmup_steps - hold_base_rate_steps)))
    if hold_base_rate_steps > 0:
        learning_rate = (learning_rate if global_step > warmup_steps + hold_base_rate_steps
                         else learning_rate_base)
    if warmup_steps > 0:
        slope = (learning_rate_base - warmup_learning_rate) / warmup_steps
        warmup_rate = slope * global_step + warmup_learning_rate
        learning_rate = warmup_rate if global_step < warmup_steps else learning_rate
    return 0.0 if global_step > total_steps else learning_rate


def manual_table(boundaries, rates, warmup=False):
    """manual_stepping's boundaries and rates, a warmup expanded into one boundary per step."""
    if warmup:
        slope = (rates[1] - rates[0]) * 1.0 / boundaries[0]
        warmup_steps = list(range(boundaries[0]))
        warmup_rates = [rates[0] + slope * step for step in warmup_steps]
        boundaries = warmup_steps + boundaries
        rates = warmup_rates + rates[1:]
    else:
        boundaries = [0] + boundaries
    return boundaries, rates


def manual_stepping(global_step, boundaries, rates, warmup=False):
    boundaries, rates = manual_table(boundaries, rates, warmup)
    rate_index = max(i for i, b in enumerate(boundaries) if global_step >= b)
    return rates[rate_index]


def config(block):
    return ("train_config { optimizer { momentum_optimizer { learning_rate { "
            f"{block} }} momentum_optimizer_value: 0.9 }} }} }}")


def check(s, ref, steps):
    want = np.array([ref(int(k)) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12, atol=1e-15)


def test_the_source_documents_config_is_flat_for_800720_steps():
    s = lrkit.from_tf_object_detection((EX / "pipeline.config").read_text())
    steps = np.concatenate([np.arange(0, 2_500_000, 997), [800719, 800720, 1601440]])
    check(s, lambda k: exponential_decay_with_burnin(k, 0.004, 800720, 0.95), steps)
    assert [w.code for w in lrkit.lint(s, 200_000)] == ["LR001"]


@pytest.mark.parametrize("seed", range(70))
def test_exponential_with_burnin(seed):
    rng = np.random.default_rng(seed)
    kw = dict(learning_rate_base=float(rng.uniform(1e-3, 1)),
              learning_rate_decay_steps=int(rng.integers(1, 50)),
              learning_rate_decay_factor=float(rng.uniform(0.5, 1)),
              burnin_learning_rate=float(rng.choice([0.0, 1e-4])),
              burnin_steps=int(rng.choice([0, int(rng.integers(1, 30))])),
              min_learning_rate=float(rng.choice([0.0, 1e-3])),
              staircase=bool(rng.integers(0, 2)))
    block = ("exponential_decay_learning_rate { "
             f"initial_learning_rate: {kw['learning_rate_base']!r} "
             f"decay_steps: {kw['learning_rate_decay_steps']} "
             f"decay_factor: {kw['learning_rate_decay_factor']!r} "
             f"burnin_learning_rate: {kw['burnin_learning_rate']!r} "
             f"burnin_steps: {kw['burnin_steps']} min_learning_rate: "
             f"{kw['min_learning_rate']!r} staircase: {str(kw['staircase']).lower()} }}")
    s = lrkit.from_tf_object_detection(config(block))
    check(s, lambda k: exponential_decay_with_burnin(k, **kw), np.arange(300))


@pytest.mark.parametrize("seed", range(70))
def test_cosine_with_warmup_and_hold(seed):
    rng = np.random.default_rng(seed)
    w, hold = int(rng.choice([0, int(rng.integers(1, 20))])), int(rng.choice([0, 7]))
    total = w + hold + int(rng.integers(1, 80))
    base, wlr = float(rng.uniform(0.01, 1)), float(rng.choice([0.0, 1e-3]))
    block = (f"cosine_decay_learning_rate {{ learning_rate_base: {base!r} total_steps: {total} "
             f"warmup_learning_rate: {wlr!r} warmup_steps: {w} hold_base_rate_steps: {hold} }}")
    s = lrkit.from_tf_object_detection(config(block))
    check(s, lambda k: cosine_decay_with_warmup(k, base, total, wlr, w, hold),
          np.arange(total + 20))


@pytest.mark.parametrize("seed", range(70))
def test_manual_stepping(seed):
    rng = np.random.default_rng(seed)
    bounds = sorted(set(rng.integers(1, 60, size=int(rng.integers(1, 5))).tolist()))
    rates = [float(x) for x in rng.uniform(1e-4, 1, len(bounds) + 1)]
    warmup = bool(rng.integers(0, 2))
    steps = " ".join(f"schedule {{ step: {b} learning_rate: {r!r} }}"
                     for b, r in zip(bounds, rates[1:]))
    block = (f"manual_step_learning_rate {{ initial_learning_rate: {rates[0]!r} {steps} "
             f"warmup: {str(warmup).lower()} }}")
    s = lrkit.from_tf_object_detection(config(block))
    check(s, lambda k: manual_stepping(k, bounds, rates, warmup), np.arange(100))


def test_constant():
    s = lrkit.from_tf_object_detection(config("constant_learning_rate { learning_rate: 0.01 }"))
    assert s == lrkit.constant(0.01)


@pytest.mark.parametrize("text,message", [
    ("optimizer { adam_optimizer { learning_rate { constant_learning_rate {\n"
     "  learning_rate: 0.01 } } }", "pipeline.config, line 2, column 27: Expected \"}\""),
    ("optimizer { adam_optimizer { epsilon: 1.0 } }",
     "pipeline.config: no learning rate: expected train_config { optimizer { "),
    ("optimizer { adam_optimizer { learning_rate { polynomial_lr { power: 2 } } } }",
     "pipeline.config, line 1, column 46: Message type \"LearningRate\" has no field named "
     "\"polynomial_lr\". Its fields: constant_learning_rate, "),
    ("optimizer { learning_rate { @ } }", "pipeline.config, line 1, column 13: Message type "
     "\"Optimizer\" has no field named \"learning_rate\""),
    ("train_config { optimizer { momentum_optimizer { learning_rate {\n"
     "  cosine_decay_learning_rate { learning_rate_base: 0.0001 } } } } }",
     "pipeline.config: cosine_decay_learning_rate.learning_rate_base: must be >= "
     "warmup_learning_rate (0.0002), got 0.0001 (the API refuses it too)"),
    ("train_config { optimizer { momentum_optimizer { learning_rate {\n"
     "  manual_step_learning_rate { initial_learning_rate: 0.1 } } } } }",
     "pipeline.config: manual_step_learning_rate.schedule: is empty"),
    ("train_config { optimizer { momentum_optimizer { learning_rate {\n"
     "  manual_step_learning_rate { schedule { step: 0 learning_rate: 0.1 } } } } } }",
     "pipeline.config: manual_step_learning_rate.schedule[0].step: must be > 0, got 0"),
    ("train_config { optimizer { momentum_optimizer { learning_rate {\n"
     "  exponential_decay_learning_rate { decay_step: 10 } } } } }",
     "pipeline.config, line 2, column 37: Message type \"ExponentialDecayLearningRate\" has "
     "no field named \"decay_step\". Did you mean 'decay_steps'?"),
])
def test_malformed_text(text, message):
    with pytest.raises(ConfigError) as info:
        lrkit.from_tf_object_detection(text)
    assert str(info.value).startswith(message)


def test_the_source_documents_code_under_tensorflow():
    tf = pytest.importorskip("tensorflow", reason="TensorFlow is optional for this check")

    def exponential_decay_with_burnin(global_step, learning_rate_base,
                                      learning_rate_decay_steps, learning_rate_decay_factor,
                                      burnin_learning_rate=0.0, burnin_steps=0,
                                      min_learning_rate=0.0, staircase=True):
        # Verbatim from the source document (004_e74184193f34c363), TF1 API via tf.compat.v1.
        if burnin_learning_rate == 0:
            burnin_learning_rate = learning_rate_base
        post_burnin_learning_rate = tf.compat.v1.train.exponential_decay(
            learning_rate_base,
            global_step - burnin_steps,
            learning_rate_decay_steps,
            learning_rate_decay_factor,
            staircase=staircase)
        if callable(post_burnin_learning_rate):  # TF2 eager returns a callable (not in source)
            post_burnin_learning_rate = post_burnin_learning_rate()
        return tf.maximum(tf.where(
            tf.less(tf.cast(global_step, tf.int32), tf.constant(burnin_steps)),
            tf.constant(burnin_learning_rate),
            post_burnin_learning_rate), min_learning_rate, name="learning_rate")

    cases = [dict(), dict(burnin_learning_rate=1e-4, burnin_steps=20, min_learning_rate=1e-3),
             dict(staircase=False, burnin_steps=5)]
    for kw in cases:
        block = ("exponential_decay_learning_rate { initial_learning_rate: 0.004 "
                 "decay_steps: 30 decay_factor: 0.5 "
                 f"burnin_learning_rate: {kw.get('burnin_learning_rate', 0.0)} "
                 f"burnin_steps: {kw.get('burnin_steps', 0)} "
                 f"min_learning_rate: {kw.get('min_learning_rate', 0.0)} "
                 f"staircase: {str(kw.get('staircase', True)).lower()} }}")
        s = lrkit.from_tf_object_detection(config(block))
        for k in range(0, 200, 7):
            want = float(exponential_decay_with_burnin(tf.constant(k), 0.004, 30, 0.5, **kw))
            assert s(k) == pytest.approx(want, rel=1e-6), (kw, k)
