"""lrkit in optax and Keras against their own equivalent schedules, printed as a table.

Run: ``python benchmarks/bench_jax_keras.py``. A jitted optax train step with lrkit's
warmup + cosine vs ``optax.warmup_cosine_decay_schedule`` (step-time ratio, target <= 1.05, and
trace counts); Keras ``fit`` throughput with lrkit's schedule vs ``CosineDecay`` with warmup
(target <= 1.05). Interleaved repetitions, medians.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import lrkit  # noqa: E402
from lrkit.keras import LearningRateSchedule  # noqa: E402
from lrkit.optax import schedule  # noqa: E402

W, T, PEAK, END = 100, 900, 1e-2, 1e-4
OURS = lrkit.warmup(lrkit.cosine(PEAK, END, T), W, start=0.0)


def optax_run(lr: optax.Schedule, steps: int = 2000) -> tuple[float, int]:
    traces = []
    tx = optax.adam(lr)
    params = {"w": jnp.zeros((256, 256)), "b": jnp.zeros(256)}
    state = tx.init(params)
    x = jnp.ones((64, 256))

    @jax.jit
    def train_step(params, state):  # type: ignore[no-untyped-def]
        traces.append(1)
        grads = jax.grad(lambda p: jnp.mean((x @ p["w"] + p["b"]) ** 2))(params)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    params, state = train_step(params, state)
    jax.block_until_ready(params)
    t0 = time.perf_counter()
    for _ in range(steps):
        params, state = train_step(params, state)
    jax.block_until_ready(params)
    return (time.perf_counter() - t0) / steps, len(traces)


def keras_run(lr: object, epochs: int = 3) -> float:
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    x = np.random.default_rng(0).normal(size=(8192, 64)).astype("float32")
    y = x.sum(1, keepdims=True)
    m.fit(x[:512], y[:512], batch_size=64, epochs=1, verbose=0)  # compile
    t0 = time.perf_counter()
    m.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return (time.perf_counter() - t0) / (epochs * len(x))


def main() -> list[tuple[str, float, str, float, bool]]:
    ref = optax.warmup_cosine_decay_schedule(0.0, PEAK, W, W + T, END)
    assert np.allclose([float(ref(k)) for k in range(0, 1100, 37)],
                       [OURS(k) for k in range(0, 1100, 37)], rtol=1e-5)
    ours_t, theirs_t, traces = [], [], set()
    for _ in range(5):
        t, n = optax_run(schedule(OURS))
        ours_t.append(t)
        traces.add(n)
        theirs_t.append(optax_run(ref)[0])
    o, r = statistics.median(ours_t), statistics.median(theirs_t)
    print(f"optax adam step: lrkit {o * 1e6:.1f} us, optax {r * 1e6:.1f} us, traces {traces}")
    rows = [("jitted optax train step", o / r, "warmup_cosine_decay_schedule", 1.05,
             o / r <= 1.05),
            ("jit traces of the train step", float(max(traces)), "absolute", 1.0,
             max(traces) == 1)]
    kref = keras.optimizers.schedules.CosineDecay(0.0, T, alpha=END / PEAK, warmup_target=PEAK,
                                                  warmup_steps=W)
    ko, kr = [], []
    for _ in range(3):
        ko.append(keras_run(LearningRateSchedule(OURS)))
        kr.append(keras_run(kref))
    o, r = statistics.median(ko), statistics.median(kr)
    print(f"keras fit: lrkit {o * 1e6:.2f} us/sample, CosineDecay {r * 1e6:.2f} us/sample")
    rows.append(("Keras fit time per sample", o / r, "CosineDecay(warmup_...)", 1.05,
                 o / r <= 1.05))
    print("\n| figure | value | reference | target | pass |\n|---|---|---|---|---|")
    for name, value, refname, target, ok in rows:
        print(f"| {name} | {value:.3f} | {refname} | ≤ {target:g} | "
              f"{'pass' if ok else 'FAIL'} |")
    return rows


if __name__ == "__main__":
    main()
