"""One sequence everywhere: for every registered kind, the learning rate applied at each of the
first 60 updates (boundaries and past the end included) is the same through lrkit.torch,
lrkit.keras (JAX backend here; the torch backend in a subprocess) and lrkit.optax — measured
by real optimizer steps (SGD on a gradient of 1 from a zero weight: the update is -lr), never
by calling the schedule."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrkit._schedule import REGISTRY, examples

BY_KIND = examples()  # each class's own instances: "kind" and "kind:variant"
KINDS = sorted(BY_KIND)
N = 60


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_registered_kind_defines_its_own_examples(kind):
    cls = REGISTRY[kind]
    assert "_examples" in vars(cls), f"{cls.__name__} inherits _examples: define its own"
    mine = cls._examples()
    assert "" in mine, f"{kind}: _examples needs a plain instance under the key ''"
    for variant, s in mine.items():
        assert type(s) is cls, (kind, variant, s)


def plan(kind):
    s = BY_KIND[kind]
    return np.array([s(k) for k in range(N)])


def torch_applied(kind):
    torch = pytest.importorskip("torch")
    from lrkit.torch import LRScheduler

    w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=0.1)
    LRScheduler(opt, BY_KIND[kind])
    out = []
    for _ in range(N):
        with torch.no_grad():
            w.zero_()
        w.grad = torch.ones_like(w)
        opt.step()
        out.append(-w.item())
    return np.array(out)


def keras_applied(kind):
    keras = pytest.importorskip("keras")
    from lrkit.keras import LearningRateSchedule

    w = keras.Variable(np.zeros(1, dtype="float32"))
    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(BY_KIND[kind]))
    if kind == "plateau":  # what lrkit.keras.Plateau sets up at the start of fit()
        opt._learning_rate._watched = True
    out = []
    for _ in range(N):
        w.assign(keras.ops.zeros(1))
        opt.apply([keras.ops.ones(1)], [w])
        out.append(-float(w.numpy()[0]))
    return np.array(out)


def optax_applied(kind):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    import optax

    from lrkit.optax import schedule

    tx = optax.sgd(schedule(BY_KIND[kind]))
    state = tx.init(jnp.zeros(1))
    step = jax.jit(tx.update)
    out = []
    for _ in range(N):
        u, state = step(jnp.ones(1), state)
        out.append(-float(u[0]))
    return np.array(out)


def close(got, want):
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * max(1.0, want.max()))


@pytest.mark.parametrize("kind", KINDS)
def test_torch_keras_and_optax_apply_the_plan(kind):
    want = plan(kind)
    close(torch_applied(kind), want)
    close(keras_applied(kind), want)
    close(optax_applied(kind), want)


@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_keras_other_backends_apply_the_plan(backend):
    pytest.importorskip(backend, reason=f"{backend} is not in the test environment")
    code = ("import json, sys; sys.path.insert(0, 'tests'); import test_contract as t; "
            "print(json.dumps({k: t.keras_applied(k).tolist() for k in t.KINDS}))")
    env = {**os.environ, "KERAS_BACKEND": backend}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=Path(__file__).parent.parent, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    for kind in KINDS:
        close(np.array(got[kind]), plan(kind))

