"""lrkit.optax: jit-traced schedules with one trace, inject_hyperparams logging, plateau as a
gradient transformation (against PyTorch's ReduceLROnPlateau), the int32 counter."""

import numpy as np
import pytest

import lrkit
from lrkit import ScheduleError

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
import jax.numpy as jnp  # noqa: E402

from lrkit.optax import reduce_on_plateau, schedule  # noqa: E402

PLAN = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 90), 10)


def test_jitted_training_traces_once_and_follows_the_plan():
    traces = []
    tx = optax.sgd(schedule(PLAN))
    params = jnp.zeros(3)
    state = tx.init(params)

    @jax.jit
    def train_step(params, state):
        traces.append(1)
        updates, state = tx.update(jnp.ones(3), state, params)
        return optax.apply_updates(params, updates), state, -updates[0]

    applied = []
    for _ in range(120):
        params, state, lr = train_step(params, state)
        applied.append(float(lr))
    assert len(traces) == 1
    np.testing.assert_allclose(applied, [PLAN(k) for k in range(120)], rtol=1e-6)


def test_inject_hyperparams_logs_the_applied_value():
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule(PLAN))
    state = tx.init(jnp.zeros(1))
    logged = []
    for _ in range(20):
        updates, state = tx.update(jnp.ones(1), state)
        logged.append(float(state.hyperparams["learning_rate"]))   # what this update used
        assert -float(updates[0]) == pytest.approx(logged[-1], rel=1e-6)
    np.testing.assert_allclose(logged, [PLAN(k) for k in range(20)], rtol=1e-6)


def test_units_and_bad_input():
    f = schedule(lrkit.cosine(0.1, 0.0, "10ep"), steps_per_epoch=5)
    assert float(f(25)) == pytest.approx(0.05, rel=1e-6)
    with pytest.raises(ScheduleError, match=r"^lrkit.optax.schedule: cosine: 'over' = '10ep' "
                       r"needs steps_per_epoch; pass steps_per_epoch=... or bind the schedule "
                       r"first$"):
        schedule(lrkit.cosine(0.1, 0.0, "10ep"))
    with pytest.raises(ScheduleError, match="expected an lrkit schedule, got function"):
        schedule(optax.cosine_decay_schedule(0.1, 100))
    with pytest.raises(ScheduleError, match=r"expected lrkit.plateau\(...\), got cosine"):
        reduce_on_plateau(lrkit.cosine(0.1, 0.0, 10))


def test_int32_counter_saturates_and_the_schedule_holds():
    s = lrkit.step(1.0, 0.5, 2**30)
    f = jax.jit(schedule(s))
    assert float(f(jnp.int32(2**31 - 1))) == pytest.approx(s(2**31 - 1), rel=1e-6)
    assert float(optax.safe_increment(jnp.int32(2**31 - 1))) == 2**31 - 1


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for trial in range(30):
        kw = dict(factor=float(rng.choice([0.1, 0.5])), patience=int(rng.integers(0, 3)),
                  mode=str(rng.choice(["min", "max"])),
                  threshold=float(rng.choice([0.0, 0.1])),
                  threshold_mode=str(rng.choice(["rel", "abs"])),
                  cooldown=int(rng.integers(0, 3)))
        metrics = rng.integers(0, 4, size=25).astype(float)
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, eps=0.0, **kw)
        s = lrkit.plateau(lrkit.constant(1.0), **kw)
        tx = optax.chain(optax.sgd(schedule(s)), reduce_on_plateau(s))
        state = tx.init(jnp.zeros(1))
        update = jax.jit(tx.update)
        for m in metrics:
            ref.step(m)
            # the step that observes m: its update is scaled by the new state
            u, state = update(jnp.ones(1), state, value=jnp.float32(m))
            assert -float(u[0]) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-6), trial
        u, state2 = update(jnp.ones(1), state, value=jnp.float32(0.0), observe=False)
        before, after = state[1], state2[1]   # observe=False: the plateau state is unchanged
        assert all(jax.tree.leaves(jax.tree.map(lambda a, b: bool((a == b).all()),
                                                after.plateau, before.plateau)))
        assert int(after.count) == int(before.count) + 1 == len(metrics) + 1


def test_range_test_leaves_the_inputs_and_suggests():
    from sklearn.datasets import load_digits

    from lrkit.optax import range_test

    d = load_digits()
    x = jnp.asarray(d.data / 16.0, dtype=jnp.float32)
    y = jnp.asarray(d.target)
    batches = [(x[i:i + 64], y[i:i + 64]) for i in range(0, 1536, 64)]
    params = {"w": jnp.zeros((64, 10)), "b": jnp.zeros(10)}

    def loss_fn(p, batch):
        xb, yb = batch
        return optax.softmax_cross_entropy_with_integer_labels(xb @ p["w"] + p["b"], yb).mean()

    opt = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=0.9)
    before = jax.tree.map(lambda a: a.copy(), params)
    r = range_test(loss_fn, params, opt, batches, start_lr=1e-5, end_lr=10.0)
    assert all(jax.tree.leaves(jax.tree.map(lambda a, b: bool((a == b).all()), params, before)))
    assert 1e-4 < r.lr < 10 and r.suggest()["valley"].valid
    with pytest.raises(ScheduleError, match="build the optimizer with optax.inject_hyperparams"):
        range_test(loss_fn, params, optax.sgd(0.1), batches)


def test_check_state_refuses_a_tampered_plateau_state():
    from lrkit import ConfigError
    from lrkit.optax import check_state

    s = lrkit.plateau(lrkit.constant(0.1), patience=1)
    tx = optax.chain(optax.sgd(schedule(s)), reduce_on_plateau(s))
    state = tx.init(jnp.zeros(1))
    assert check_state(state) is state                    # the initial best is inf: fine
    _, state = tx.update(jnp.ones(1), state, value=1.0)
    assert check_state(state) is state
    where = "lrkit.optax.check_state: state[1]"
    good = state[1]
    for tampered, message in [
        (good._replace(count=jnp.int32(-5)), ".count: must be an int >= 0, got -5"),
        (good._replace(count=jnp.float32(2.5)), ".count: must be an int >= 0, got 2.5"),
        (good._replace(count=jnp.zeros(3, jnp.int32)), ".count: must be a scalar, got "),
        (good._replace(plateau=good.plateau._replace(best=jnp.nan)),
         ".plateau.best: must be a number (inf or -inf before the first observation), got nan"),
        (good._replace(plateau=good.plateau._replace(bad=jnp.int32(-1))),
         ".plateau.bad: must be an int >= 0, got -1"),
        (good._replace(plateau=good.plateau._replace(reductions=None)),
         ".plateau.reductions: must be an int >= 0, got None"),
        (good._replace(plateau=(1.0, 0)), ".plateau: must be a State(best, bad, cooldown, "
                                          "reductions), got (1.0, 0)"),
        (good._replace(learning_rate=jnp.float32(-1.0)),
         ".learning_rate: must be a finite number >= 0, got -1.0"),
    ]:
        with pytest.raises(ConfigError) as info:
            check_state((state[0], tampered))
        assert str(info.value).startswith(where + message), str(info.value)
    with pytest.raises(ConfigError, match="holds no lrkit.optax.reduce_on_plateau state"):
        check_state(optax.sgd(0.1).init(jnp.zeros(1)))
    with pytest.raises(ScheduleError, match="call it outside jit"):
        jax.jit(check_state)(state)


PLATEAU_RUN = """
import json
import jax, jax.numpy as jnp, numpy as np, optax, lrkit
from lrkit.optax import observe, reduce_on_plateau, schedule
p = lrkit.plateau(lrkit.cosine(0.1, 0.0, 100), factor=0.5, patience=0)
tx = optax.chain(optax.sgd(schedule(p)), reduce_on_plateau(p))
params = jnp.zeros(2)
state = tx.init(params)
traces = []

@jax.jit
def step(params, state, loss, seen):
    traces.append(1)
    updates, state = tx.update(jnp.ones(2), state, params, value=loss, observe=seen)
    return optax.apply_updates(params, updates), state, -updates[0]

used, logged = [], []
for i, (loss, seen) in enumerate([(1.0, True), (2.0, True), (3.0, False), (0.5, True),
                                  (4.0, True)]):
    loss = (jnp.float32 if i % 2 else np.float32)(loss)  # a loss as a jitted loss_fn returns
    params, state, lr = step(params, state, loss, jnp.asarray(seen))
    used.append(float(lr))
    logged.append(float(state[1].learning_rate))
# a validation metric at an epoch's end, without an update: the next update is reduced
before = int(state[1].plateau.reductions)
state = jax.jit(lambda st, v: observe(p, st, v))(state, jnp.float32(9.0))
params, state, lr = step(params, state, jnp.float32(9.0), jnp.asarray(False))
print(json.dumps({"traces": len(traces), "used": used, "logged": logged, "before": before,
                  "after": int(state[1].plateau.reductions), "next": float(lr),
                  "plan": [p.schedule(k) for k in range(6)]}))
"""


def test_plateau_traces_once_shows_its_learning_rate_and_observes_without_an_update():
    # in a fresh interpreter with JAX's default (x64 off): the state keeps its types through
    # updates, so a training step traces once; state.learning_rate is what the update used
    # (inject_hyperparams' value is before reductions); observe() needs no update
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", PLATEAU_RUN], capture_output=True, text=True,
                         env=env, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["traces"] == 1
    np.testing.assert_allclose(r["logged"], r["used"], rtol=1e-6)
    plan = r["plan"]  # losses 1, 2 (bad: halve), 3 unobserved, 0.5 (best), 4 (bad: halve)
    np.testing.assert_allclose(r["used"], [plan[0], plan[1] / 2, plan[2] / 2, plan[3] / 2,
                                           plan[4] / 4], rtol=1e-6)
    assert (r["before"], r["after"]) == (2, 3)
    np.testing.assert_allclose(r["next"], plan[5] / 8, rtol=1e-6)


def test_observe_needs_a_plateau_and_a_state():
    from lrkit.optax import observe

    s = lrkit.plateau(lrkit.constant(0.1))
    with pytest.raises(ScheduleError, match="lrkit.optax.observe: expected the lrkit.plateau"):
        observe(lrkit.constant(0.1), {}, 1.0)
    with pytest.raises(ScheduleError, match="the state holds no reduce_on_plateau state"):
        observe(s, optax.sgd(0.1).init(jnp.zeros(1)), 1.0)


@pytest.mark.parametrize("make_new", [
    lambda old: lrkit.extend(old, 300, at=60),
    lambda old: lrkit.cooldown(old, at=60, over=40),
])
def test_a_run_resumed_with_a_changed_plan_applies_the_branched_schedule(make_new):
    # optax's state carries the count: resuming with schedule(new) where new is the old plan
    # branched at the saved count (lrkit.extend / lrkit.cooldown) continues it exactly
    old = lrkit.warmup(lrkit.cosine(0.1, 0.0, 190), 10)
    params = {"w": jnp.zeros(())}
    grads = {"w": jnp.ones(())}

    def run(tx, state, n):
        step = jax.jit(lambda st: tx.update(grads, st, params))
        applied = []
        for _ in range(n):
            updates, state = step(state)
            applied.append(-float(updates["w"]))  # sgd: -lr · grad
        return applied, state

    tx = optax.sgd(schedule(old))
    before, state = run(tx, tx.init(params), 60)
    new = make_new(old)
    after, _ = run(optax.sgd(schedule(new)), state, 100)  # the saved state, a new plan
    want = [new(k) for k in range(160)]
    assert [old(k) for k in range(60)] == want[:60]
    np.testing.assert_allclose(before + after, want, rtol=2e-7, atol=1e-9)  # float32


def test_momentum_and_other_hyperparameters_through_inject_hyperparams():
    # any numeric hyperparameter of an optax optimizer takes an lrkit schedule through
    # optax.inject_hyperparams: here adam's b1 falls from 0.95 to 0.85 while the LR decays
    lr, b1 = lrkit.cosine(1e-2, 0.0, 50), lrkit.linear(0.95, 0.85, 50)
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=schedule(lr), b1=schedule(b1))
    params = {"w": jnp.zeros(())}
    state = tx.init(params)
    step = jax.jit(lambda st: tx.update({"w": jnp.ones(())}, st, params))
    seen = []
    for _ in range(60):
        _, state = step(state)
        h = state.hyperparams
        seen.append((float(h["learning_rate"]), float(h["b1"])))
    # the hyperparameters recorded after update k are the ones update k used
    np.testing.assert_allclose(seen, [(lr(k), b1(k)) for k in range(60)], rtol=2e-7, atol=1e-9)


def test_a_schedule_in_samples_follows_the_consumed_count_given_to_the_step():
    # issue 18's clock in optax: the jitted step takes the samples consumed so far as an input
    # and sets the injected LR from it (one trace, whatever the batch size does)
    s = lrkit.warmup(lrkit.cosine(0.1, 0.0, 900), 100)           # lengths in samples
    ramp = lrkit.batch_size(4, 32, 400, multiple_of=4)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.0)
    params = {"w": jnp.zeros(())}
    traces = []

    @jax.jit
    def step(state, consumed):
        traces.append(1)
        state.hyperparams["learning_rate"] = s.evaluate(consumed, jnp)
        return tx.update({"w": jnp.ones(())}, state, params)

    state, consumed, applied, want = tx.init(params), 0, [], []
    for _ in range(80):
        updates, state = step(state, jnp.asarray(consumed, jnp.int32))
        applied.append(-float(updates["w"]))
        want.append(s(consumed))
        consumed += int(ramp(consumed))
    assert len(traces) == 1 and consumed > 1000
    np.testing.assert_allclose(applied, want, rtol=2e-7, atol=1e-9)
