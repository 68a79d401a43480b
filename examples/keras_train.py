"""Train a small classifier on scikit-learn's bundled digits with model.fit and an lrkit
schedule, in the shape of the source article (its ``--schedule step|linear|poly``).

    python examples/keras_train.py --schedule 'warmup(1ep) >> cosine(0.1 -> 1e-3, 9ep)'
    python examples/keras_train.py --schedule examples/keras_step_decay.yaml --epochs 20

``--schedule`` takes a one-line expression or a config file; epoch units are bound to this
run's batches per epoch. The LR each update used goes into the logs as ``lrkit_lr`` (and into
TensorBoard, under ``--logdir``, where TensorFlow is installed for Keras' callback).
"""

from __future__ import annotations

import argparse
import math
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import lrkit  # noqa: E402
from lrkit.keras import LearningRateSchedule, LRLogger  # noqa: E402


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schedule", default="warmup(1ep) >> cosine(0.1 -> 1e-3, '100% - 1ep')")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--logdir", help="write TensorBoard logs here (needs TensorFlow)")
    args = p.parse_args(argv)

    keras.utils.set_random_seed(0)
    digits = load_digits()
    x, y = digits.data.astype("float32") / 16.0, digits.target
    steps_per_epoch = math.ceil(1500 / args.batch_size)
    schedule = LearningRateSchedule(lrkit.from_config(args.schedule),
                                    steps_per_epoch=steps_per_epoch,
                                    total_steps=args.epochs * steps_per_epoch)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks: list[keras.callbacks.Callback] = [LRLogger()]
    if args.logdir:
        callbacks.append(keras.callbacks.TensorBoard(args.logdir))
    hist = model.fit(x[:1500], y[:1500], validation_data=(x[1500:], y[1500:]),
                     batch_size=args.batch_size, epochs=args.epochs, verbose=2,
                     callbacks=callbacks)
    return {"val_accuracy": hist.history["val_accuracy"][-1],
            "lrkit_lr": hist.history["lrkit_lr"][-1]}


if __name__ == "__main__":
    main()
