"""examples/keras_train.py runs one short epoch and logs the applied LR."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("keras")
pytest.importorskip("sklearn")


def test_runs_and_logs():
    spec = importlib.util.spec_from_file_location(
        "keras_train", Path(__file__).parent.parent / "examples" / "keras_train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--epochs", "2", "--schedule", "warmup(1ep) >> constant(0.05)"])
    assert out["lrkit_lr"] == pytest.approx(0.05) and out["val_accuracy"] > 0.5


def test_tensorboard_records_the_applied_lr(tmp_path):
    pytest.importorskip("tensorflow", reason="Keras' TensorBoard callback needs TensorFlow, "
                        "which the test environment does not carry")
    import glob

    import keras
    import numpy as np
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    import lrkit
    from lrkit.keras import LearningRateSchedule, LRLogger

    plan = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 30), 5)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=LearningRateSchedule(plan)),
              loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    m.fit(x, x.sum(1), batch_size=8, epochs=3, verbose=0,
          callbacks=[LRLogger(), keras.callbacks.TensorBoard(str(tmp_path))])
    (train,) = [d for d in glob.glob(str(tmp_path / "*")) if d.endswith("train")]
    import tensorflow as tf

    acc = EventAccumulator(train)
    acc.Reload()
    events = acc.Tensors("epoch_lrkit_lr")
    logged = {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events}
    # Epoch e's value is what its last update (8 updates per epoch) used.
    assert logged == {e: pytest.approx(plan(8 * e + 7), rel=1e-6) for e in range(3)}
