"""Every pipeline.config under research/object_detection of tensorflow/models (the corpus in
../shared/corpora/tfod, read in place): each one with a learning rate imports, and its values
equal the TF Object Detection API's schedule functions (transcribed in test_tfod_parity.py:
the object_detection package is not on PyPI) evaluated on the fields protobuf's text-format
parser reads from the file, at every step to past the end. The two tpu_exporters test files set
no learning rate and are refused saying so."""

import bisect
from pathlib import Path

import numpy as np
import pytest
from seed_code import article_burnin as exponential_decay_with_burnin
from test_tfod_parity import cosine_decay_with_warmup, manual_table

import lrkit
from lrkit.interop._tfod import _parse

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "tfod"
FILES = sorted(CORPUS.rglob("*.config")) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason=f"the TF OD corpus is not at {CORPUS}")


def reference(block):
    """The API's function of the step for a LearningRate message, and a horizon to test."""
    name = block.WhichOneof("learning_rate")
    c = getattr(block, name)
    if name == "constant_learning_rate":
        return (lambda k: c.learning_rate), 10
    if name == "exponential_decay_learning_rate":
        return (lambda k: exponential_decay_with_burnin(
            k, c.initial_learning_rate, c.decay_steps, c.decay_factor, c.burnin_learning_rate,
            c.burnin_steps, c.min_learning_rate, c.staircase)), 3 * c.decay_steps
    if name == "cosine_decay_learning_rate":
        return (lambda k: cosine_decay_with_warmup(
            k, c.learning_rate_base, c.total_steps, c.warmup_learning_rate, c.warmup_steps,
            c.hold_base_rate_steps)), c.total_steps + 10
    bounds = [x.step for x in c.schedule]
    rates = [c.initial_learning_rate] + [x.learning_rate for x in c.schedule]
    # manual_stepping's table, built once (a warmup of 400,000 steps is 400,000 entries); its
    # lookup, the last boundary <= k, by bisection
    table, values = manual_table(bounds, rates, c.warmup)
    return (lambda k: values[bisect.bisect_right(table, k) - 1]), bounds[-1] + 10


def steps_around(horizon, n=200):
    """A stride over the run plus every step near its start and end."""
    return np.unique(np.concatenate([np.arange(0, horizon, max(horizon // n, 1)),
                                     np.arange(min(horizon, n)),
                                     np.arange(max(horizon - n, 0), horizon + 1)]))


@pytest.mark.parametrize("path", FILES, ids=[str(f.relative_to(CORPUS)) for f in FILES])
def test_every_corpus_config(path):
    text = path.read_text()
    p = _parse(text, path.name)
    optimizer = p.train_config.optimizer
    which = optimizer.WhichOneof("optimizer")
    if which is None:
        with pytest.raises(lrkit.ConfigError, match="no learning rate"):
            lrkit.from_tf_object_detection(path)
        return
    s = lrkit.from_tf_object_detection(path)
    block = getattr(optimizer, which).learning_rate
    ref, horizon = reference(block)
    k = steps_around(horizon)
    if block.WhichOneof("learning_rate") == "manual_step_learning_rate":
        c = block.manual_step_learning_rate
        k = np.unique(np.concatenate([k, [x.step + d for x in c.schedule for d in (-1, 0, 1)]]))
    want = np.array([ref(int(i)) for i in k])
    np.testing.assert_allclose(s.values(k), want, rtol=1e-12, atol=1e-15)


def test_the_counts():
    have = [f for f in FILES if "learning_rate" in f.read_text()]
    assert (len(FILES), len(have)) == (109, 107)
    kinds = {}
    for f in have:
        block = _parse(f.read_text(), f.name).train_config.optimizer
        lr = getattr(block, block.WhichOneof("optimizer")).learning_rate
        kinds[lr.WhichOneof("learning_rate")] = kinds.get(lr.WhichOneof("learning_rate"), 0) + 1
    print(kinds)
    assert sum(kinds.values()) == 107
