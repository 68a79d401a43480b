"""plateau's state machine against PyTorch's and Keras' ReduceLROnPlateau on random metric
sequences: in the core, its eps closed form, and through the torch, Keras and optax adapters,
which run the same machine and must reduce at the same observations to the same values."""

import functools
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import _plateau
from lrkit._xp import SCALAR, namespace_for

torch = pytest.importorskip("torch")


@settings(max_examples=200, deadline=None)
@given(metrics=st.lists(st.integers(0, 6).map(float), min_size=1, max_size=40),
       factor=st.sampled_from([0.1, 0.5, 0.9]), patience=st.integers(0, 4),
       mode=st.sampled_from(["min", "max"]), threshold=st.sampled_from([0.0, 1e-4, 0.2, 1.0]),
       threshold_mode=st.sampled_from(["rel", "abs"]), cooldown=st.integers(0, 3),
       min_value=st.sampled_from([0.0, 0.05]), eps=st.sampled_from([0.0, 1e-8, 0.05]))
def test_matches_torch_reduce_lr_on_plateau(metrics, factor, patience, mode, threshold,
                                            threshold_mode, cooldown, min_value, eps):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=factor, patience=patience, threshold=threshold,
        threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_value, eps=eps)
    s = lrkit.plateau(lrkit.constant(1.0), factor=factor, patience=patience, mode=mode,
                      threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                      min_value=min_value, eps=eps)
    state = s.init()
    for m in metrics:
        ref.step(m)
        state = s.observe(state, m)
        assert s.value(0, state) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
    assert json.loads(json.dumps(state, allow_nan=False)) == state      # plain, strict JSON


def test_eps_stops_reductions_that_small():
    # PyTorch: a reduction by eps or less is skipped (1.0 -> 0.1 -> 0.01, then 0.009 <= 0.01)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=0, eps=0.01)
    s = lrkit.from_torch(ref)
    state = s.init()
    for m in [1.0] * 6:
        ref.step(m)
        state = s.observe(state, m)
    assert s.value(0, state) == opt.param_groups[0]["lr"] == pytest.approx(0.01)
    assert state["reductions"] == 5                       # counted, but the last three skipped


def test_patience_two_reduces_on_the_third_bad_observation():
    # The anchors' test sequence: PyTorch reduces at the 3rd bad epoch with patience=2.
    s = lrkit.plateau(lrkit.constant(1.0), factor=0.5, patience=2, threshold=0.0)
    state, lrs = s.init(), []
    for m in [1, 1, 1, 1, 1, 0.5, 0.5, 0.5]:
        state = s.observe(state, m)
        lrs.append(s.value(0, state))
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]


def test_reduction_multiplies_the_schedule_and_respects_the_floor():
    s = lrkit.plateau(lrkit.linear(1.0, 0.0, 10), factor=0.5, patience=0, min_value=0.2)
    state = s.observe(s.observe(s.init(), 1.0), 1.0)      # one bad observation: reduced
    assert state["reductions"] == 1
    assert s.value(0, state) == 0.5 and s.value(2, state) == 0.4 and s.value(9, state) == 0.2
    assert s(9) == pytest.approx(0.1)                      # the schedule itself is unchanged


def test_states_saved_before_load_and_continue():
    # The plain-data state is what lrkit.torch saves; a relative threshold of 1 keeps "no best"
    # (PyTorch: inf·0 is NaN, nothing beats it), which must stay None, not inf, in the JSON.
    s = lrkit.plateau(lrkit.constant(1.0), factor=0.5, patience=1, threshold=1.0)
    state = s.init()
    for _ in range(4):
        state = s.observe(state, 1.0)
    assert state == {"best": None, "bad": 0, "cooldown": 0, "reductions": 2}
    json.dumps(state, allow_nan=False)
    s = lrkit.plateau(lrkit.constant(1.0), factor=0.5, patience=1)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = lrkit.torch.LRScheduler(opt, s)
    sched.load_state_dict({"lrkit": 1, "count": 5, "hyperparam": "lr", "relative": False,
                           "base_values": [1.0], "schedules": {"0": s.to_config()},
                           "plateau": {"0": {"best": 0.75, "bad": 1, "cooldown": 0,
                                             "reductions": 2}}})
    assert opt.param_groups[0]["lr"] == 0.25
    sched.observe(0.75)                                   # the second bad one: reduce
    assert opt.param_groups[0]["lr"] == 0.125


# --- the reduced value: eps in closed form, against PyTorch's one-at-a-time reductions -------


@functools.cache
def torch_lrs(base, n, factor, min_lr, eps):
    """PyTorch's ReduceLROnPlateau's lr from ``base`` after 0, 1, …, n reductions."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=factor, patience=0,
                                                     threshold=0.0, min_lr=min_lr, eps=eps)
    ref.step(1.0)                                         # sets the best; each later one is bad
    out = [opt.param_groups[0]["lr"]]
    for _ in range(n):
        ref.step(1.0)
        out.append(opt.param_groups[0]["lr"])
    return tuple(out)


def reduced(p, base, n, dtype=None):
    """``_plateau.reduce`` under jax.jit (float64, or float32 with x64 off) or on Python floats."""
    if dtype is None:
        return _plateau.reduce(p, base, n, SCALAR)
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    with jax.enable_x64(dtype == "float64"):
        f = jax.jit(lambda b, k: _plateau.reduce(p, b, k, namespace_for(b, jnp).using(b.dtype)))
        return np.asarray(f(jnp.asarray(base, dtype), jnp.asarray(n, dtype)), dtype=float)


@pytest.mark.parametrize("base,factor,min_value,eps,n,want", [
    (1.0, 0.1, 0.0, 0.01, 5, 0.01),    # 1 -> 0.1 -> 0.01, then 0.009 <= eps: skipped, and after
    (1.0, 0.5, 0.0, 0.125, 5, 0.25),   # 0.25 -> 0.125 lowers it by exactly eps: skipped
    (1.0, 0.1, 0.05, 0.05, 5, 0.1),    # 0.1 -> max(0.01, 0.05) lowers it by exactly eps
    (2.0, 0.5, 0.0, 0.25, 1, 1.0),     # n itself limits
    (0.5, 0.5, 0.25, 0.25, 3, 0.5),    # the first reduction is already too small
    (0.0, 0.5, 0.0, 1e-8, 3, 0.0),     # nothing to reduce
])
def test_reduced_value_table(base, factor, min_value, eps, n, want):
    p = lrkit.plateau(lrkit.constant(1.0), factor=factor, min_value=min_value, eps=eps)
    assert torch_lrs(base, n, factor, min_value, eps)[-1] == pytest.approx(want, rel=1e-15)
    assert reduced(p, base, n) == pytest.approx(want, rel=1e-15)
    assert float(reduced(p, base, float(n), "float64")) == pytest.approx(want, rel=1e-15)


@pytest.mark.parametrize("eps", [0.0, 1e-8])
def test_a_reduced_value_is_floored_at_min_value(eps):
    # lrkit's rule (documented on plateau): after n >= 1 reductions the value is at least
    # min_value, also where the schedule is below it; PyTorch would leave such a value alone.
    p = lrkit.plateau(lrkit.constant(1.0), factor=0.5, min_value=0.2, eps=eps)
    for dtype in (None, "float64", "float32"):
        assert float(reduced(p, 0.1, 0.0, dtype)) == pytest.approx(0.1, rel=1e-7)
        assert float(reduced(p, 0.1, 2.0, dtype)) == pytest.approx(0.2, rel=1e-7)


@pytest.mark.parametrize("factor,min_value,eps", list(itertools.product(
    [0.1, 0.5, 0.9, 0.99], [0.0, 1e-3, 0.05], [1e-8, 1e-3, 0.05, 0.3])))
def test_reduced_value_matches_torch(factor, min_value, eps):
    rng = np.random.default_rng(int(factor * 100 + min_value * 1e4 + eps * 1e5))
    bases = np.concatenate([[1.0, 0.1, 2.0], rng.uniform(min_value, 2.0, size=5)])
    ns = np.arange(41.0)
    want = np.array([torch_lrs(float(b), 40, factor, min_value, eps) for b in bases])
    p = lrkit.plateau(lrkit.constant(1.0), factor=factor, min_value=min_value, eps=eps)
    got = np.array([[reduced(p, float(b), int(n)) for n in ns] for b in bases])
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(reduced(p, bases[:, None], ns[None, :], "float64"), want,
                               rtol=1e-12)
    np.testing.assert_allclose(reduced(p, bases[3:, None], ns[None, :], "float32"), want[3:],
                               rtol=2e-6)


# --- one metric sequence through the three adapters and the reference libraries -------------

K = 3                                     # updates between observations
CASES = list(itertools.product(["torch", "keras"], [0.0, 1e-8, 0.03], range(3)))


def base_lr(k):                           # lrkit.linear(1.0, 0.25, 100), by hand
    return 1.0 - 0.75 * min(k, 100) / 100


def reference_counts(kw, metrics):
    """The reductions the real library makes after each observation (counted on lr = 1 with
    nothing to stop them: no floor, no eps)."""
    f = kw["factor"]
    if kw["rule"] == "torch":
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode=kw["mode"], factor=f, patience=kw["patience"], threshold=kw["threshold"],
            threshold_mode=kw["threshold_mode"], cooldown=kw["cooldown"], min_lr=0.0, eps=0.0)
        step, lr = ref.step, lambda: opt.param_groups[0]["lr"]
    else:
        keras = pytest.importorskip("keras")
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
        cb = keras.callbacks.ReduceLROnPlateau(
            monitor="loss", mode=kw["mode"], factor=f, patience=kw["patience"],
            min_delta=kw["threshold"], cooldown=kw["cooldown"], min_lr=0.0)
        cb.set_model(model)
        cb.on_train_begin()
        step = lambda m: cb.on_epoch_end(0, {"loss": m})  # noqa: E731
        lr = lambda: float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))  # noqa: E731
    out = []
    for m in metrics:
        step(m)
        out.append(round(math.log(lr()) / math.log(f)))
    return out


def run_torch(s, metrics):
    w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=1.0)
    sched = lrkit.torch.LRScheduler(opt, s)
    applied, counts = [], []

    def updates():
        for _ in range(K):
            with torch.no_grad():
                w.zero_()
            w.grad = torch.ones_like(w)
            opt.step()
            applied.append(-w.item())

    updates()
    for m in metrics:
        sched.observe(m)
        counts.append(sched.plateau_states[0]["reductions"])
        updates()
    return applied, counts


def run_keras(s, metrics):
    keras = pytest.importorskip("keras")
    from lrkit.keras import LearningRateSchedule, Plateau

    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(s))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    cb = Plateau("loss")
    cb.set_model(model)
    cb.on_train_begin()
    w = keras.Variable(np.zeros(1, dtype="float32"))
    applied, counts = [], []

    def updates():
        for _ in range(K):
            w.assign(keras.ops.zeros(1))
            opt.apply([keras.ops.ones(1)], [w])
            applied.append(-float(keras.ops.convert_to_numpy(w)[0]))

    updates()
    for epoch, m in enumerate(metrics):
        cb.on_epoch_end(epoch, {"loss": m})
        counts.append(cb.lr.plateau_state["reductions"])
        updates()
    return applied, counts


def run_optax(s, metrics, x64):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    from lrkit.optax import reduce_on_plateau, schedule

    applied, counts = [], []
    with jax.enable_x64(x64):
        tx = optax.chain(optax.sgd(schedule(s)), reduce_on_plateau(s))
        state = tx.init(jnp.zeros(1))
        step = jax.jit(tx.update)
        # The observation and the update after it are one call: the metric is the extra arg.
        for i in range(K * (len(metrics) + 1)):
            seen = i >= K and i % K == 0
            m = metrics[i // K - 1] if seen else 0.0
            u, state = step(jnp.ones(1), state, value=m, observe=jnp.asarray(seen))
            applied.append(-float(u[0]))
            if seen:
                counts.append(int(state[1].plateau.reductions))
    return applied, counts


@pytest.mark.parametrize("rule,eps,variant", CASES)
def test_adapters_reduce_alike_and_as_the_references(rule, eps, variant):
    rng = np.random.default_rng(CASES.index((rule, eps, variant)))
    mode = str(rng.choice(["min", "max"]))
    cooldown, min_value = [(2, 0.05), (0, 0.0), (1, 0.2)][variant]
    kw = dict(factor=float(rng.choice([0.3, 0.5, 0.8])), patience=int(rng.integers(0, 3)),
              mode=mode, threshold=float(rng.choice([0.0, 1e-4, 0.1])),
              threshold_mode="abs" if rule == "keras" else str(rng.choice(["rel", "abs"])),
              cooldown=cooldown, min_value=min_value, rule=rule, eps=eps)
    n = 30   # metrics on a grid of 1/8 (exact in float32), drifting better with noise
    drift = (np.arange(n) // 4) * (-1 if mode == "min" else 1)
    metrics = ((drift + rng.integers(0, 6, size=n)) / 8).tolist()
    s = lrkit.plateau(lrkit.linear(1.0, 0.25, 100), **kw)

    counts = reference_counts(kw, metrics)
    before = [0] * K + [c for c in counts for _ in range(K)]   # reductions before each update
    want = [torch_lrs(base_lr(k), c, kw["factor"], min_value, eps)[-1]
            for k, c in enumerate(before)]
    assert counts[-1] >= 2                                 # the sequence does reduce

    applied, got = run_torch(s, metrics)
    assert got == counts
    np.testing.assert_allclose(applied, want, rtol=1e-12)
    applied, got = run_keras(s, metrics)
    assert got == counts
    np.testing.assert_allclose(applied, want, rtol=1e-6)
    for x64, rtol in ((True, 1e-12), (False, 1e-6)):
        applied, got = run_optax(s, metrics, x64)
        assert got == counts
        np.testing.assert_allclose(applied, want, rtol=rtol)
