"""from_keras against Keras itself (JAX backend, float32): 240 seeded random configurations of
every schedule class, the full per-update sequence past the end, at 1e-6 relative; the Keras 2
``decay`` argument against the source article's table; ReduceLROnPlateau against Keras'
callback."""

import os
import subprocess
import sys

import numpy as np
import pytest

import lrkit

keras = pytest.importorskip("keras")
K = keras.optimizers.schedules


def random_schedule(rng):
    kind = rng.choice(["ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
                       "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts"])
    lr = float(rng.choice([1.0, 0.1, float(rng.uniform(1e-4, 1))]))
    steps = int(rng.integers(1, 60))
    if kind == "ExponentialDecay":
        return K.ExponentialDecay(lr, steps, float(rng.uniform(0.1, 1)),
                                  staircase=bool(rng.integers(0, 2)))
    if kind == "PiecewiseConstantDecay":
        b = sorted(set(rng.integers(0, 80, size=int(rng.integers(1, 5))).tolist()))
        return K.PiecewiseConstantDecay(b, [float(v) for v in rng.uniform(0, 1, len(b) + 1)])
    if kind == "PolynomialDecay":
        return K.PolynomialDecay(lr, steps, end_learning_rate=float(rng.choice([1e-4, 0.0,
                                                                                lr / 10])),
                                 power=float(rng.choice([0.5, 1.0, 2.0])),
                                 cycle=bool(rng.integers(0, 2)))
    if kind == "InverseTimeDecay":
        return K.InverseTimeDecay(lr, steps, float(rng.uniform(0, 2)),
                                  staircase=bool(rng.integers(0, 2)))
    if kind == "CosineDecay":
        warm = bool(rng.integers(0, 2))
        return K.CosineDecay(0.0 if warm else lr, steps, alpha=float(rng.choice([0.0, 0.1])),
                             warmup_target=lr if warm else None,
                             warmup_steps=int(rng.integers(0, 20)) if warm else 0)
    return K.CosineDecayRestarts(lr, steps, t_mul=float(rng.choice([1.0, 2.0, 1.5])),
                                 m_mul=float(rng.choice([1.0, 0.5])),
                                 alpha=float(rng.choice([0.0, 0.1])))


CONFIGS = list(range(240))


@pytest.mark.parametrize("seed", CONFIGS)
def test_parity(seed):
    ref = random_schedule(np.random.default_rng(seed))
    s = lrkit.from_keras(ref)
    assert lrkit.from_keras(K.serialize(ref)) == s
    steps = np.arange(400)
    try:
        want = np.asarray(ref(steps), dtype=np.float64)
    except (TypeError, ValueError):  # CosineDecay's warmup branches with ops.cond: vmap it
        import jax

        want = np.asarray(jax.vmap(ref)(steps), dtype=np.float64)
    got = s.values(steps)
    scale = max(float(np.abs(want).max()), 1e-30)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * scale)


def test_keras2_decay_reproduces_the_article_table():
    cfg = {"class_name": "SGD", "config": {"learning_rate": 0.01, "momentum": 0.9,
                                           "decay": 0.01 / 40}}
    s = lrkit.from_keras(cfg)
    assert s == lrkit.inverse_time(0.01, 0.00025, 1)
    table = {1: 0.01000, 2: 0.00836, 3: 0.00719, 38: 0.00121, 39: 0.00119, 40: 0.00116}
    assert {e: round(s((e - 1) * 782), 5) for e in table} == table


@pytest.mark.parametrize("seed", range(30))
def test_reduce_lr_on_plateau_matches_the_callback(seed):
    rng = np.random.default_rng(seed)
    cb = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=float(rng.choice([0.1, 0.5])), patience=int(rng.integers(0, 4)),
        min_delta=float(rng.choice([0.0, 0.1])), cooldown=int(rng.integers(0, 3)),
        min_lr=float(rng.choice([0.0, 0.01])), mode=str(rng.choice(["min", "max", "auto"])))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    cb.set_model(model)
    cb.on_train_begin()
    s = lrkit.from_keras(cb, lrkit.constant(0.5))
    state = s.init()
    for epoch, m in enumerate(rng.integers(0, 4, size=30).astype(float)):
        cb.on_epoch_end(epoch, {"loss": m})
        state = s.observe(state, m)
        got = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        assert s.value(0, state) == pytest.approx(got, rel=1e-6), epoch


@pytest.mark.parametrize("obj,message", [
    (lambda: K.ExponentialDecay(0.1, 10, 1.5), "from_keras: ExponentialDecay.decay_rate: "
     "must be <= 1, got 1.5: a rate above 1 grows without bound"),
    (lambda: {"class_name": "WarmupCosine", "config": {}},
     "from_keras: WarmupCosine is not a Keras schedule lrkit reads; known: CosineDecay, "),
    (lambda: {"class_name": "InverseTimeDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 0, "decay_rate": 0.1}},
     "from_keras: InverseTimeDecay.decay_steps: must be > 0 steps, got 0"),
    (lambda: {"class_name": "CosineDecay", "config": {"initial_learning_rate": "0.1",
                                                      "decay_steps": 10}},
     "from_keras: CosineDecay.initial_learning_rate: must be a finite number, got '0.1'"),
    (lambda: {"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": "no"}},
     "from_keras: ExponentialDecay.staircase: must be true or false, got 'no'"),
    (lambda: K.ExponentialDecay(0.1, 7.3, 0.5, staircase=True), "from_keras: "
     "ExponentialDecay.decay_steps: must be a whole number of steps here, got 7.3"),
    (lambda: {"class_name": "CosineDecay", "config": {"decay_steps": 10}},
     "from_keras: CosineDecay.initial_learning_rate: is required"),
    (lambda: {"class_name": "SGD", "config": {"lr": {"class_name": "SGD", "config": {
        "lr": 0.1}}}}, "from_keras: SGD.lr: must be a number or a schedule, got an optimizer"),
    (lambda: {"config": {}}, "from_keras: a serialized schedule has 'class_name' and 'config'"),
    (lambda: 0.1, "from_keras: expected a Keras LearningRateSchedule"),
])
def test_what_cannot_be_read(obj, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.from_keras(obj())
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("seed", range(40))
def test_fractional_decay_steps(seed):
    # Keras divides by decay_steps in float32: a fractional length is a real one where the
    # value is continuous in the step (a staircase, a cycle or restarts need a whole one).
    rng = np.random.default_rng(seed)
    steps = float(rng.choice([0.5, 2.5, 7.3, 100 / 3, float(rng.uniform(0.1, 50))]))
    kind = rng.choice(["ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "CosineDecay"])
    ref = {"ExponentialDecay": lambda: K.ExponentialDecay(0.1, steps, 0.7),
           "InverseTimeDecay": lambda: K.InverseTimeDecay(0.1, steps, 0.5),
           "PolynomialDecay": lambda: K.PolynomialDecay(0.1, steps, 0.001, power=2.0),
           "CosineDecay": lambda: K.CosineDecay(0.1, steps, alpha=0.1)}[kind]()
    s = lrkit.from_keras(ref)
    k = np.arange(200)
    want = np.asarray(ref(k), dtype=np.float64)
    np.testing.assert_allclose(s.values(k), want, rtol=2e-6, atol=2e-7)


FLOAT32_BOUNDARIES = """
import random
import numpy as np, keras, lrkit
rng = random.Random(3)
cases = [0.29 * 100, 0.57 * 100, 16777217.5, 100.5, float(2**24 + 1)]
for _ in range(300):
    total = rng.randint(10, 3_000_000)
    cases.append(rng.choice([rng.randint(1, 99) / 100 * total, rng.uniform(0, total),
                             float(rng.randint(0, 2**26))]))
bad = []
for b in cases:
    ref = keras.optimizers.schedules.PiecewiseConstantDecay([b], [1.0, 2.0])
    s = lrkit.from_keras(ref)
    steps = np.arange(max(s.at[0] - 3, 0), s.at[0] + 2)
    if not np.array_equal(np.asarray(ref(steps), dtype=np.float64), s.values(steps)):
        bad.append(b)
print(bad)
"""


def test_fractional_boundaries_against_keras_in_its_default_float32():
    # Keras turns a Python float boundary into a float32 tensor and truncates it to the step's
    # integer dtype, so 0.29 * 100 = 28.999999999999996 switches after step 29. This session
    # runs JAX in float64 (conftest.py), where Keras keeps float64: run a fresh process.
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_ENABLE_X64": "0"}
    out = subprocess.run([sys.executable, "-c", FLOAT32_BOUNDARIES], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
