"""Every system of the source documents (../shared/seeds) reproduced over whole runs.

Where Keras has the schedule, the reference is the real Keras schedule (float32, so 1e-6
relative); otherwise it is the article's own code, transcribed literally below and cited.
"""

import math
from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest

import lrkit
from lrkit import recipes

EX = Path(__file__).parent.parent / "examples"


def values(name):
    s = lrkit.from_config(EX / name)
    total = s.duration if s.duration is not None else None
    return s, total


# --- 000_021403d58272f0c8: TensorFlow official ResNet learning_rate_with_decay -----------------

def article_resnet(batch_size, batch_denom, num_images, boundary_epochs, decay_rates,
                   base_lr=0.1, warmup=False):
    """resnet_run_loop.py, as quoted in the article; tf.train.piecewise_constant(x, b, v) is
    v[0] for x <= b[0], v[i] for b[i-1] < x <= b[i], v[-1] after; tf.cast(..., tf.float32)."""
    initial_learning_rate = base_lr * batch_size / batch_denom
    batches_per_epoch = num_images / batch_size
    boundaries = [int(batches_per_epoch * epoch) for epoch in boundary_epochs]
    vals = [initial_learning_rate * decay for decay in decay_rates]

    def learning_rate_fn(global_step):
        lr = vals[bisect_left(boundaries, global_step)]
        if warmup:
            warmup_steps = int(batches_per_epoch * 5)
            warmup_lr = (initial_learning_rate * np.float32(global_step)
                         / np.float32(warmup_steps))
            return warmup_lr if global_step < warmup_steps else lr
        return lr

    return learning_rate_fn


@pytest.mark.parametrize("file,args,total,warmup_steps", [
    ("tf_resnet_imagenet.json",
     (256, 256, 1281167, [30, 60, 80, 90], [1, 0.1, 0.01, 0.001, 1e-4], 0.1, True), 450411,
     25022),
    ("tf_resnet_cifar10.yaml", (128, 128, 50000, [100, 150, 200], [1, 0.1, 0.01, 0.001]), 85937,
     0),
])
def test_tf_resnet(file, args, total, warmup_steps):
    s = lrkit.from_config(EX / file)
    assert s == recipes.tf_resnet(*args)
    ref = article_resnet(*args)
    steps = np.arange(total + 1000)
    got = s.values(steps)
    want = np.array([ref(int(k)) for k in steps], dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)   # the warmup is float32 in TF
    # After the warmup every value is bit-exact, so every boundary switches on the same step.
    after = steps >= warmup_steps
    np.testing.assert_array_equal(got[after], want[after])


def test_tf_resnet_warmup_starts_at_zero_then_jumps_into_the_piecewise_schedule():
    s = recipes.tf_resnet(256, 256, 1281167, [30, 60, 80, 90], [1, 0.1, 0.01, 0.001, 1e-4],
                          warmup=True)
    assert s(0) == 0.0 and s(25021) < 0.1 and s(25022) == 0.1
    assert s(150136) == 0.1 and s(150137) == pytest.approx(0.01)


# --- 002_41544ad2e7921c5a: learning-rate decay in Keras --------------------------------------

def test_keras_sgd_decay_matches_keras_and_the_article_table():
    keras = pytest.importorskip("keras")
    s = lrkit.from_config(EX / "keras_sgd_decay.toml")
    # Keras 2's SGD(decay=d) is lr / (1 + d * iterations): Keras 3's InverseTimeDecay(lr, 1, d).
    ref = keras.optimizers.schedules.InverseTimeDecay(0.01, 1, 0.01 / 40)
    steps = np.arange(40 * 782 + 100)
    np.testing.assert_allclose(s.values(steps), np.asarray(ref(steps)), rtol=1e-6)
    # The article's table: the LR at the start of epochs 1, 2, 3 and 38, 39, 40 (its last
    # three labels read 37, 38, 39: one epoch off).
    table = {1: 0.01000, 2: 0.00836, 3: 0.00719, 38: 0.00121, 39: 0.00119, 40: 0.00116}
    for epoch, lr in table.items():
        assert round(s((epoch - 1) * 782), 5) == lr


@pytest.mark.parametrize("file,make,total", [
    ("keras_exponential_decay.json",
     lambda S: S.ExponentialDecay(0.1, decay_steps=100000, decay_rate=0.96, staircase=True),
     1_000_000),
    ("keras_piecewise_constant_decay.json",
     lambda S: S.PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1]), 120_000),
    ("keras_polynomial_decay.json",
     lambda S: S.PolynomialDecay(0.1, 10000, 0.01, power=0.5), 12_000),
    ("keras_inverse_time_decay.json", lambda S: S.InverseTimeDecay(0.1, 1.0, 0.5), 100_000),
])
def test_keras_builtin_schedules(file, make, total):
    keras = pytest.importorskip("keras")
    s = lrkit.from_config(EX / file)
    ref = make(keras.optimizers.schedules)
    steps = np.arange(total + 1)
    np.testing.assert_allclose(s.values(steps), np.asarray(ref(steps)), rtol=1e-6)


class StepDecay:
    """The article's StepDecay, verbatim but for the plot method."""

    def __init__(self, initAlpha=0.01, factor=0.25, dropEvery=10):  # noqa: N803
        self.initAlpha = initAlpha
        self.factor = factor
        self.dropEvery = dropEvery

    def __call__(self, epoch):
        exp = np.floor((1 + epoch) / self.dropEvery)
        alpha = self.initAlpha * (self.factor ** exp)
        return float(alpha)


class PolynomialDecay:
    """The article's PolynomialDecay, verbatim but for the plot method."""

    def __init__(self, maxEpochs=100, initAlpha=0.01, power=1.0):  # noqa: N803
        self.maxEpochs = maxEpochs
        self.initAlpha = initAlpha
        self.power = power

    def __call__(self, epoch):
        decay = (1 - (epoch / float(self.maxEpochs))) ** self.power
        alpha = self.initAlpha * decay
        return float(alpha)


@pytest.mark.parametrize("file,schedule", [
    ("keras_step_decay.yaml", StepDecay(initAlpha=1e-1, factor=0.25, dropEvery=15)),
    ("keras_linear_decay.yaml", PolynomialDecay(maxEpochs=100, initAlpha=1e-1, power=1)),
    ("keras_poly_decay.yaml", PolynomialDecay(maxEpochs=100, initAlpha=1e-1, power=5)),
])
def test_per_epoch_schedules_as_keras_learning_rate_scheduler_applies_them(file, schedule):
    # LearningRateScheduler(schedule) sets schedule(epoch) before each epoch's first update, so
    # update k of an epoch of 391 updates uses schedule(k // 391).
    s = lrkit.from_config(EX / file)
    steps = np.arange(100 * 391)
    want = np.array([schedule(int(k) // 391) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12, atol=1e-300)


# --- 003_3733786f2ac62972: the YOLOv3 warmup + cosine ------------------------------------------

def article_yolov3(learn_rate_init, learn_rate_end, warmup_periods, first_stage_epochs,
                   second_stage_epochs, steps_per_period):
    """The article's TensorFlow code; global_step is a float64 variable starting at 1.0."""
    warmup_steps = float(warmup_periods * steps_per_period)
    train_steps = float((first_stage_epochs + second_stage_epochs) * steps_per_period)

    def learn_rate(global_step):
        if global_step < warmup_steps:
            return global_step / warmup_steps * learn_rate_init
        return learn_rate_end + 0.5 * (learn_rate_init - learn_rate_end) * (
            1 + math.cos((global_step - warmup_steps) / (train_steps - warmup_steps) * math.pi))

    return learn_rate


def test_yolov3():
    s = lrkit.from_config(EX / "yolov3.json")
    assert s == recipes.yolov3(1e-4, 1e-6, 2, 50, 2759)
    ref = article_yolov3(1e-4, 1e-6, 2, 20, 30, 2759)
    steps = np.arange(50 * 2759)                 # update k runs with global_step k + 1
    want = np.array([ref(float(k + 1)) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12)
    assert s(5516) < 1e-4 == s(5517)


# --- 004_e74184193f34c363: TF Object Detection exponential_decay_with_burnin -------------------

def article_burnin(global_step, learning_rate_base, learning_rate_decay_steps,
                   learning_rate_decay_factor, burnin_learning_rate=0.0, burnin_steps=0,
                   min_learning_rate=0.0, staircase=True):
    """The answer's exponential_decay_with_burnin; tf.train.exponential_decay with staircase
    is base * factor ** floor(step / decay_steps)."""
    if burnin_learning_rate == 0:
        burnin_learning_rate = learning_rate_base
    p = (global_step - burnin_steps) / learning_rate_decay_steps
    if staircase:
        p = math.floor(p)
    post_burnin_learning_rate = learning_rate_base * learning_rate_decay_factor ** p
    lr = burnin_learning_rate if global_step < burnin_steps else post_burnin_learning_rate
    return max(lr, min_learning_rate)


def test_object_detection_schedule_is_flat_for_800720_steps():
    s = lrkit.from_config(EX / "tf_object_detection.json")
    steps = np.concatenate([np.arange(0, 3_300_000, 97), [800719, 800720, 1601440]])
    want = np.array([article_burnin(int(k), 0.004, 800720, 0.95) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12)
    assert s(800719) == 0.004 and s(800720) == pytest.approx(0.004 * 0.95)
    assert len(set(s.values(np.arange(200_000)))) == 1
