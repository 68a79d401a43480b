"""Recipes and importers that reproduce another system's rounding of times, each against the
literal expression that system evaluates, over thousands of seeded random ratios.

lrkit's own unit strings follow one rule (the exact value, rounded down once; tests/test_time.py);
TensorFlow's ``int(batches_per_epoch * epoch)`` rounds a float product first and disagrees with
it about once in a thousand ratios, so whatever reproduces such a system computes the system's
expression itself. The expressions are transcribed here, each citing its source.
"""

import math
import random

import numpy as np
import pytest
from seed_code import article_resnet, article_yolov3

import lrkit
from lrkit import recipes

N = 4000


def tf_boundaries(num_images, batch_size, boundary_epochs):
    """tensorflow/models, official/r1/resnet/resnet_run_loop.py, learning_rate_with_decay
    (the source document 000_021403d58272f0c8 quotes it)."""
    batches_per_epoch = num_images / batch_size
    boundaries = [int(batches_per_epoch * epoch) for epoch in boundary_epochs]
    warmup_steps = int(batches_per_epoch * 5)
    return boundaries, warmup_steps


def random_resnet(rng):
    batch_size = rng.choice([rng.randint(1, 4096), 2 ** rng.randint(0, 12)])
    num_images = rng.randint(10 * batch_size, 20_000_000)   # >= 10 steps per epoch
    n = rng.randint(1, 4)
    if rng.random() < 0.7:
        epochs = sorted(rng.sample(range(6, 400), n))      # whole epochs, as TF's configs
    else:
        epochs = sorted(rng.sample(range(51, 4000), n))    # tenths: 5.1 … 399.9 epochs
        epochs = [e / 10 for e in epochs]
    return batch_size, num_images, epochs


def test_tf_resnet_boundaries_are_tensorflows_int_of_the_float_product():
    rng = random.Random(2024)
    unit_rule_differs = 0
    for _ in range(N):
        batch_size, num_images, epochs = random_resnet(rng)
        rates = [1.0] + [10.0 ** -(i + 1) for i in range(len(epochs))]
        warm = rng.random() < 0.5
        s = recipes.tf_resnet(batch_size, batch_size, num_images, epochs, rates, warmup=warm)
        ref = article_resnet(batch_size, batch_size, num_images, epochs, rates, warmup=warm)
        bounds, w = tf_boundaries(num_images, batch_size, epochs)
        for k in {b + d for b in bounds for d in (-1, 0, 1, 2)}:
            # tf.train.piecewise_constant keeps rates[i] up to and including bounds[i]
            assert s(k) == ref(k), (batch_size, num_images, epochs, k)
        if warm:
            assert s(w - 1) < s(w) == ref(w), (batch_size, num_images, w)
            assert s(w - 1) == pytest.approx(ref(w - 1), rel=1e-6)   # TF's ramp is float32
        # lrkit's own rule on the same numbers ("<e>ep + 1") is a different rule:
        per = num_images / batch_size
        unit = [lrkit.constant(1.0, over=f"{e}ep").bind(steps_per_epoch=per).over
                for e in epochs]
        unit_rule_differs += unit != bounds
    # The seeded draw holds ratios where the two rules disagree, so the loop above would have
    # caught a recipe that used unit strings.
    assert unit_rule_differs > 0


def test_tf_resnet_where_the_float_product_rounds_up():
    # 3002333/6 · 228 is 114088654 exactly; the float 3002333/6 is a little below it, and
    # TensorFlow's float product rounds back up to 114088654.0.
    assert int(3002333 / 6 * 228) == 114088654
    s = recipes.tf_resnet(6, 6, 3002333, [228], [1.0, 0.1])
    ref = article_resnet(6, 6, 3002333, [228], [1.0, 0.1])
    assert s(114088654) == ref(114088654) > s(114088655) == ref(114088655)
    by_units = lrkit.piecewise([0.1, 0.01], ["228ep + 1"]).bind(steps_per_epoch=3002333 / 6)
    assert by_units.at == (114088654,)   # lrkit's rule: floor(exact float · 228) + 1


def test_yolov3_matches_the_article_over_random_runs():
    # Source document 003_3733786f2ac62972 (YOLOv3, TensorFlow): warmup_steps and train_steps
    # are warmup_periods * steps_per_period and (first + second) * steps_per_period, as float64
    # constants; global_step starts at 1.0, so update k runs with global_step k + 1.
    rng = random.Random(7)
    for _ in range(N):
        per = rng.randint(1, 5000)
        first, second = rng.randint(0, 30), rng.randint(1, 30)
        warm = rng.randint(0, first + second - 1)
        init, end = rng.choice([1e-4, 1e-3, rng.uniform(1e-5, 1.0)]), rng.choice([0.0, 1e-6])
        s = recipes.yolov3(init, end, warm, first + second, per)
        ref = article_yolov3(init, end, warm, first, second, per)
        w, t = warm * per, (first + second) * per
        for k in {0, 1, w - 2, w - 1, w, w + 1, (w + t) // 2, t - 2, t - 1} - {-1, -2}:
            # 1e-12 of the peak: the article's 1 + cos(…) loses digits near the end; a step
            # off would differ by far more (init/W in the warmup, ~init·(π/(T-W))² at the end)
            assert s(k) == pytest.approx(ref(float(k + 1)), rel=1e-12, abs=1e-12 * init), \
                (init, end, warm, first + second, per, k)


def test_hf_warmup_ratio_is_a_ceiling_of_the_float_product():
    # transformers, training_args.py, TrainingArguments.get_warmup_steps:
    #   math.ceil(num_training_steps * self.warmup_steps)  (a float below 1 is a ratio;
    #   math.ceil(num_training_steps * self.warmup_ratio) before transformers 5)
    rng = random.Random(11)
    for _ in range(N):
        total = rng.randint(1, 2_000_000)
        ratio = rng.choice([rng.randint(1, 999) / 1000, rng.random()]) or 0.5
        w = math.ceil(total * ratio)
        s = lrkit.from_hf("constant_with_warmup", ratio, total, base_lr=1.0)
        assert s(w - 1) < 1.0 == s(w), (total, ratio, w)


def keras_last_step_before(b):
    """keras/src/optimizers/schedules/learning_rate_schedule.py, PiecewiseConstantDecay.__call__:
    ``b = ops.cast(ops.convert_to_tensor(b), step.dtype)`` then ``step <= b`` keeps the value
    before it; a Python float becomes a tensor of Keras' default floatx (float32) and the cast
    to the integer step dtype truncates toward zero."""
    return int(np.float32(b).astype(np.int64)) if isinstance(b, float) else b


def test_keras_fractional_boundaries_truncate_their_float32_value():
    rng = random.Random(3)
    for _ in range(N):
        total = rng.randint(10, 3_000_000)
        b = rng.choice([rng.randint(1, 99) / 100 * total,    # "0.29 * total_steps"
                        rng.uniform(0, total), float(rng.randint(0, 2**26))])
        s = lrkit.from_keras({"class_name": "PiecewiseConstantDecay",
                              "config": {"boundaries": [b], "values": [1.0, 2.0]}})
        last = keras_last_step_before(b)
        assert s(last) == 1.0 and s(last + 1) == 2.0, (b, last)


def test_keras_boundary_examples():
    # 0.29 * 100 is 28.999999999999996, 29.0 in float32: Keras switches at step 30.
    for b, last in [(0.29 * 100, 29), (16777217.5, 16777218), (100.5, 100), (100000, 100000),
                    (2**24 + 1, 2**24 + 1), (float(2**24 + 1), 2**24)]:
        assert keras_last_step_before(b) == last
        s = lrkit.from_keras({"class_name": "PiecewiseConstantDecay",
                              "config": {"boundaries": [b], "values": [1.0, 2.0]}})
        assert s.at == (last + 1,)


def test_keras_fractional_warmup_is_not_truncated():
    # keras CosineDecay.__call__: warmup while step < cast(warmup_steps) (float32), ramping
    # initial + (target - initial) * step / warmup_steps, then the decay at step - warmup_steps.
    rng = random.Random(5)
    for _ in range(200):
        w = rng.choice([rng.randint(1, 999) / 20, rng.uniform(1, 100)])
        s = lrkit.from_keras({"class_name": "CosineDecay", "config": {
            "initial_learning_rate": 0.0, "decay_steps": 1000, "alpha": 0.0,
            "warmup_target": 1.0, "warmup_steps": w}})
        w32 = float(np.float32(w))
        for k in range(int(w32) + 3):
            ramp, decay = k / w32, 0.5 * (1.0 + math.cos(math.pi * (k - w32) / 1000))
            want = ramp if k < w32 else decay
            assert s(k) == pytest.approx(want, rel=1e-12, abs=1e-15), (w, k)
