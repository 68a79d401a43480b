"""Every system of the source documents (../shared/seeds) reproduced over whole runs.

Where Keras has the schedule, the reference is the real Keras schedule (float32, so 1e-6
relative); otherwise it is the article's own code, transcribed literally in seed_code.py.
"""

from pathlib import Path

import numpy as np
import pytest
from seed_code import (
    PolynomialDecay,
    StepDecay,
    article_burnin,
    article_resnet,
    article_yolov3,
)

import lrkit
from lrkit import recipes

EX = Path(__file__).parent.parent / "examples"


# --- 000_021403d58272f0c8: TensorFlow official ResNet learning_rate_with_decay -----------------



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



def test_yolov3():
    s = lrkit.from_config(EX / "yolov3.json")
    assert s == recipes.yolov3(1e-4, 1e-6, 2, 50, 2759)
    ref = article_yolov3(1e-4, 1e-6, 2, 20, 30, 2759)
    steps = np.arange(50 * 2759)                 # update k runs with global_step k + 1
    want = np.array([ref(float(k + 1)) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12)
    assert s(5516) < 1e-4 == s(5517)


# --- 004_e74184193f34c363: TF Object Detection exponential_decay_with_burnin -------------------



def test_object_detection_schedule_is_flat_for_800720_steps():
    s = lrkit.from_config(EX / "tf_object_detection.json")
    steps = np.concatenate([np.arange(0, 3_300_000, 97), [800719, 800720, 1601440]])
    want = np.array([article_burnin(int(k), 0.004, 800720, 0.95) for k in steps])
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-12)
    assert s(800719) == 0.004 and s(800720) == pytest.approx(0.004 * 0.95)
    assert len(set(s.values(np.arange(200_000)))) == 1
