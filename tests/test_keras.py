"""lrkit.keras with model.fit on the JAX backend: accumulation, serialization, the applied LR in
logs, plateau, and per-epoch schedules as Keras' LearningRateScheduler applies them."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit import ScheduleError

keras = pytest.importorskip("keras")
from seed_code import StepDecay  # noqa: E402

from lrkit.keras import LearningRateSchedule, LRLogger, Plateau  # noqa: E402

PLAN = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 30), 5)


def model(lr):
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer=lr if isinstance(lr, keras.optimizers.Optimizer) else
              keras.optimizers.SGD(learning_rate=lr), loss="mse")
    return m


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_fit_applies_the_plan_and_logs_it():
    logger = LRLogger(every_n_batches=1)
    m = model(LearningRateSchedule(PLAN))
    hist = m.fit(*data(), batch_size=8, epochs=3, verbose=0, callbacks=[logger])
    assert [k for k, _ in logger.history] == list(range(24))
    np.testing.assert_allclose([v for _, v in logger.history], [PLAN(k) for k in range(24)],
                               rtol=1e-6)
    # The epoch's value is what its last update used: updates 7, 15, 23.
    np.testing.assert_allclose(hist.history["lrkit_lr"], [PLAN(7), PLAN(15), PLAN(23)],
                               rtol=1e-6)


def test_gradient_accumulation_counts_updates():
    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(PLAN,
                                                                  gradient_accumulation_steps=4),
                               gradient_accumulation_steps=4)
    logger = LRLogger()
    model(opt).fit(*data(n=8 * 40), batch_size=8, epochs=1, verbose=0, callbacks=[logger])
    assert [k for k, _ in logger.history] == list(range(10))
    np.testing.assert_allclose([v for _, v in logger.history], [PLAN(k) for k in range(10)],
                               rtol=1e-6)


def test_accumulation_mismatch_is_an_error():
    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(lrkit.plateau(PLAN)),
                               gradient_accumulation_steps=4)
    with pytest.raises(ScheduleError, match=r"the optimizer accumulates 4 micro-batches per "
                       r"update but the schedule was built with gradient_accumulation_steps=1"):
        model(opt).fit(*data(), batch_size=8, epochs=1, verbose=0, callbacks=[Plateau("loss")])


def test_serialize_and_model_save_load_in_a_fresh_process(tmp_path):
    sched = LearningRateSchedule(PLAN)
    back = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(sched))
    assert isinstance(back, LearningRateSchedule) and back.schedule == PLAN
    m = model(sched)
    m.fit(*data(), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    m.save(path)
    code = (f"import keras, lrkit, lrkit.keras; m = keras.models.load_model({str(path)!r}); "
            f"lr = m.optimizer._learning_rate; print(type(lr).__name__, lr.schedule == {PLAN!r})")
    out = subprocess.run([sys.executable, "-c", f"from lrkit import *; {code}"],
                         capture_output=True, text=True, env={**os.environ},
                         cwd=Path(__file__).parent.parent)
    assert out.stdout.strip().splitlines()[-1] == "LearningRateSchedule True", out.stderr[-2000:]


def test_warmup_then_plateau():
    # Only a 90% drop of the loss counts as an improvement: reductions come quickly.
    s = lrkit.plateau(lrkit.warmup(lrkit.constant(0.05), 4), factor=0.5, patience=0,
                      threshold=0.9)
    logger = LRLogger()
    x, y = data()
    m = model(LearningRateSchedule(s))
    m.fit(x, y, batch_size=8, epochs=6, verbose=0,
          callbacks=[logger, Plateau(monitor="loss")])
    lr = m.optimizer._learning_rate
    assert lr.plateau_state["reductions"] >= 1
    values = [v for _, v in logger.history]
    np.testing.assert_allclose(values[:4], [s(k) for k in range(4)], rtol=1e-6)
    assert values[-1] == pytest.approx(lr.value(47), rel=1e-6) and values[-1] < 0.05


def test_plateau_without_its_callback_is_an_error():
    m = model(LearningRateSchedule(lrkit.plateau(PLAN)))
    with pytest.raises(ScheduleError, match=r"a plateau schedule needs the lrkit.keras.Plateau "
                       r"callback in model.fit\(callbacks=\[...\]\)"):
        m.fit(*data(), batch_size=8, epochs=1, verbose=0)


def test_per_epoch_schedule_equals_keras_learning_rate_scheduler():
    per_epoch = 8
    article = StepDecay(initAlpha=0.1, factor=0.25, dropEvery=3)
    ref_logger, ours_logger = LRLogger(), LRLogger()
    model(0.1).fit(*data(), batch_size=8, epochs=7, verbose=0,
                   callbacks=[keras.callbacks.LearningRateScheduler(article), ref_logger])
    ours = lrkit.parse("constant(0.1, over=2ep) >> step(0.025, 0.25, 3ep)")
    model(LearningRateSchedule(ours, steps_per_epoch=per_epoch)).fit(
        *data(), batch_size=8, epochs=7, verbose=0, callbacks=[ours_logger])
    np.testing.assert_allclose([v for _, v in ours_logger.history],
                               [v for _, v in ref_logger.history], rtol=1e-6)


def test_lr_logger_refuses_an_accumulation_mismatch():
    # ran silently with the schedule 4x too fast, though the docs said the callbacks check it
    opt = keras.optimizers.SGD(learning_rate=LearningRateSchedule(PLAN),
                               gradient_accumulation_steps=4)
    with pytest.raises(ScheduleError, match=r"lrkit.keras.LRLogger: the optimizer accumulates 4 "
                       r"micro-batches per update but the schedule was built with "
                       r"gradient_accumulation_steps=1; give it 4"):
        model(opt).fit(*data(), batch_size=8, epochs=1, verbose=0, callbacks=[LRLogger()])


def test_per_epoch_with_keras_learning_rate_scheduler():
    # the source article's way: Keras' own callback sets the LR at each epoch's start
    s = lrkit.multistep(0.1, 0.5, [2, 4])
    logger = LRLogger()
    model(0.1).fit(*data(), batch_size=8, epochs=6, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lrkit.keras.per_epoch(s)), logger])
    np.testing.assert_allclose([v for _, v in logger.history],
                               [s(k // 8) for k in range(48)], rtol=1e-6)
    with pytest.raises(ScheduleError, match="per_epoch: a plateau schedule needs its metric"):
        lrkit.keras.per_epoch(lrkit.plateau(s))


@pytest.mark.parametrize("build,message", [
    (lambda: LearningRateSchedule(lrkit.cosine(0.1, 0.0, "5ep")),
     "lrkit.keras.LearningRateSchedule: cosine: 'over' = '5ep' needs steps_per_epoch; pass "
     "LearningRateSchedule(..., steps_per_epoch=...) or bind the schedule first"),
    (lambda: LearningRateSchedule(keras.optimizers.schedules.CosineDecay(0.1, 100)),
     "lrkit.keras.LearningRateSchedule: 'schedule' must be an lrkit schedule, its config or its "
     "text, got CosineDecay"),
])
def test_bad_input(build, message):
    with pytest.raises(ScheduleError) as info:
        build()
    assert str(info.value) == message


def test_lr_logger_feeds_the_monitor(tmp_path):
    from lrkit.monitor import JSONLWriter, Monitor

    mon = Monitor([JSONLWriter(tmp_path / "lr.jsonl")], plan=PLAN, total_steps=16)
    model(LearningRateSchedule(PLAN)).fit(*data(), batch_size=8, epochs=2, verbose=0,
                                          callbacks=[LRLogger(monitor=mon)])
    mon.close()
    assert [r["step"] for r in mon.records] == list(range(16))
    assert [r["epoch"] for r in mon.records] == [0] * 8 + [1] * 8
    assert not mon.departures                     # float32 values within the tolerance


def test_optax_values_into_the_monitor():
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    from lrkit.monitor import Monitor
    from lrkit.optax import schedule

    mon = Monitor(plan=PLAN, tolerance=1e-6)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule(PLAN))
    state = tx.init(jnp.zeros(1))
    for _ in range(12):
        _, state = tx.update(jnp.ones(1), state)
        mon.record({"lr/0": float(state.hyperparams["learning_rate"])})
    assert mon.count == 12 and not mon.departures


def test_range_test_restores_and_suggests():
    from sklearn.datasets import load_digits

    from lrkit.keras import range_test

    d = load_digits()
    x, y = (d.data / 16).astype("float32"), d.target
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(10)])
    sched = LearningRateSchedule(PLAN)
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=sched, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x[:256], y[:256], batch_size=32, epochs=1, verbose=0)
    weights = [w.copy() for w in m.get_weights()]
    opt_vars = [v.numpy().copy() for v in m.optimizer.variables]
    data = [(x[i:i + 32], y[i:i + 32]) for i in range(0, 1024, 32)]
    r = range_test(m, data, start_lr=1e-5, end_lr=10.0, num_steps=100)
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), weights))
    assert all(np.array_equal(v.numpy(), b) for v, b in zip(m.optimizer.variables, opt_vars))
    assert m.optimizer._learning_rate is sched
    assert 1e-4 < r.lr < 5 and r.suggest()["valley"].valid
    with pytest.raises(ScheduleError, match="'num_steps' must be a whole number >= 10, got 3"):
        range_test(m, data, num_steps=3)


def test_plateau_state_survives_backup_and_restore(tmp_path):
    s = lrkit.plateau(lrkit.warmup(lrkit.constant(0.05), 4), factor=0.5, patience=0,
                      threshold=0.9)
    x, y = data()

    def fresh():
        m = model(LearningRateSchedule(s))
        m.build((None, 4))
        return m

    straight = LRLogger()
    m = fresh()
    m.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[straight, Plateau("loss")])
    want = m.optimizer._learning_rate.plateau_state

    class Crash(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("interrupted")

    backup = str(tmp_path / "backup")
    first = fresh()
    with pytest.raises(RuntimeError, match="interrupted"):
        first.fit(x, y, batch_size=8, epochs=6, verbose=0,
                  callbacks=[Plateau("loss"), keras.callbacks.BackupAndRestore(backup), Crash()])
    resumed_log = LRLogger()
    second = fresh()
    second.fit(x, y, batch_size=8, epochs=6, verbose=0,
               callbacks=[resumed_log, Plateau("loss"), keras.callbacks.BackupAndRestore(backup)])
    got = second.optimizer._learning_rate.plateau_state
    assert got["reductions"] == want["reductions"] and got["bad"] == want["bad"]
    np.testing.assert_allclose([v for _, v in resumed_log.history],
                               [v for _, v in straight.history][-len(resumed_log.history):],
                               rtol=1e-6)


@pytest.mark.parametrize("name, value, message", [
    ("bad", -3, "['bad']: must be an int >= 0, got -3"),
    ("cooldown", -1, "['cooldown']: must be an int >= 0, got -1"),
    ("reductions", -2, "['reductions']: must be an int >= 0, got -2"),
    ("reductions", 2.5, "['reductions']: must be an int >= 0, got 2.5"),
])
def test_a_tampered_plateau_checkpoint_is_refused(tmp_path, name, value, message):
    import h5py

    s = lrkit.plateau(lrkit.constant(0.05), factor=0.5, patience=0)
    m = model(LearningRateSchedule(s))
    m.fit(*data(), batch_size=8, epochs=1, verbose=0, callbacks=[Plateau("loss")])
    path = str(tmp_path / "run.weights.h5")
    m.save_weights(path)
    with h5py.File(path, "r+") as f:  # as a tampered checkpoint holds it
        del f[f"optimizer/_lrkit_plateau/vars/{name}"]
        f[f"optimizer/_lrkit_plateau/vars/{name}"] = value
    with pytest.raises(ValueError) as info:  # Keras' loader wraps what a saved object raises
        m.load_weights(path)
    assert "\n\nlrkit.keras.Plateau: the checkpoint's plateau state" + message + "\n\n" \
        in str(info.value)
    assert m.optimizer._learning_rate.plateau_state[name] != value  # nothing was taken
    with pytest.raises(lrkit.ConfigError) as info:  # and as a tampered model config holds it
        LearningRateSchedule.from_config({**m.optimizer._learning_rate.get_config(),
                                          "plateau_state": {**lrkit.plateau(
                                              lrkit.constant(1.0)).init(), name: value}})
    assert str(info.value) == ("lrkit.keras.LearningRateSchedule: config['plateau_state']"
                               + message)


@pytest.mark.parametrize("schedule, message", [
    ("/etc/hostname", "must be a schedule config {'kind': ...}, got '/etc/hostname'"),
    (None, "must be a schedule config {'kind': ...}, got None"),
    ({"kind": []}, "unknown kind []; known kinds: batch_size, branch, clip, constant, cosine, "
                   "cyclic, "
                   "difference, "
                   "exponential, geometric, interpolate, inverse_sqrt, inverse_time, linear, "
                   "multistep, one_cycle, one_minus_sqrt, past_end, piecewise, plateau, "
                   "polynomial, product, quotient, restarts, scale, sequence, skip, step, "
                   "stepped, stretch, sum, tanh, warmup"),
    ({"kind": "cosine", "start": 0.1, "end": 0.0, "over": -1},
     "cosine: 'over' must be > 0 steps, got -1"),
])
def test_a_saved_config_is_data_never_a_path(schedule, message, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a file was opened: {args[:1]}")

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(lrkit.ConfigError) as info:
        LearningRateSchedule.from_config({"schedule": schedule})
    assert str(info.value) == "lrkit.keras.LearningRateSchedule: config['schedule']: " + message


def test_a_run_resumed_with_a_changed_plan_applies_the_branched_schedule():
    # Keras restores optimizer.iterations from the checkpoint; an optimizer built with the old
    # plan branched at that count (lrkit.extend) continues it exactly
    old = lrkit.warmup(lrkit.cosine(0.1, 0.0, 50), 5)
    new = lrkit.extend(old, 100, at=20)
    x = np.ones((8, 2), "float32")
    y = np.zeros((8, 1), "float32")
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            opt = self.model.optimizer
            seen.append((int(opt.iterations), float(opt.learning_rate)))

    def model(plan):
        m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(LearningRateSchedule(plan)), loss="mse")
        return m

    first = model(old)
    first.fit(x, y, batch_size=1, epochs=20, steps_per_epoch=1, verbose=0, callbacks=[Probe()])
    second = model(new)
    second.optimizer.build(second.trainable_variables)
    second.set_weights(first.get_weights())
    second.optimizer.iterations.assign(int(first.optimizer.iterations))  # as a restore does
    second.fit(x, y, batch_size=1, epochs=30, steps_per_epoch=1, verbose=0, callbacks=[Probe()])
    assert [k for k, _ in seen] == list(range(50))
    np.testing.assert_allclose([v for _, v in seen], [new(k) for k in range(50)], rtol=2e-7)
    assert [old(k) for k in range(20)] == [new(k) for k in range(20)]


class _Applied(keras.callbacks.Callback):
    """(update, the LR the optimizer applies at it), read before each update."""

    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def on_train_batch_begin(self, batch, logs=None):
        opt = self.model.optimizer
        self.seen.append((int(opt.iterations), float(opt.learning_rate)))


@pytest.mark.parametrize("how", ["extend", "new plan", "cooldown", "use_new"])
def test_a_saved_model_resumed_with_change_plan_applies_one_branched_schedule(tmp_path, how):
    # The flow Keras users have: fit, model.save, keras.models.load_model (which restores the
    # old plan and the update count), then a different plan from there on
    old = lrkit.warmup(lrkit.cosine(0.1, 0.0, 50), 5)
    new = {"extend": lrkit.extend(old, 100, at=20),
           "cooldown": lrkit.cooldown(old, at=20, over=10),
           "new plan": lrkit.warmup(lrkit.cosine(0.05, 0.0, 95), 5),
           "use_new": lrkit.constant(0.02)}[how]
    want = {"extend": new, "cooldown": new, "use_new": new,
            "new plan": old.branch(20, new.skip(20))}[how]
    seen = []
    x, y = data(8)
    first = model(LearningRateSchedule(old))
    first.fit(x, y, batch_size=8, epochs=20, verbose=0, callbacks=[_Applied(seen)])
    first.save(tmp_path / "run.keras")
    resumed = keras.models.load_model(tmp_path / "run.keras")
    plan = lrkit.keras.change_plan(resumed, new, on_change="use_new" if how == "use_new"
                                   else "branch")
    assert plan == want
    resumed.fit(x, y, batch_size=8, epochs=30, verbose=0, callbacks=[_Applied(seen)])
    assert [k for k, _ in seen] == list(range(50))
    applied = np.array([v for _, v in seen])
    np.testing.assert_allclose(applied[:20], [old(k) for k in range(20)], rtol=2e-7)
    np.testing.assert_allclose(applied[20:], [want(k) for k in range(20, 50)], rtol=2e-7)
    resumed.save(tmp_path / "again.keras")  # the next resume sees the one branched plan
    again = keras.models.load_model(tmp_path / "again.keras")
    assert again.optimizer._learning_rate.schedule == want


def test_change_plan_after_fit_in_the_same_process_retraces():
    m = model(LearningRateSchedule(lrkit.constant(0.1)))
    x, y = data(8)
    m.fit(x, y, batch_size=8, epochs=3, verbose=0)
    lrkit.keras.change_plan(m, lrkit.constant(0.01))
    seen = []
    m.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[_Applied(seen)])
    assert [round(v, 6) for _, v in seen] == [0.01, 0.01]
    assert m.optimizer._learning_rate.schedule == lrkit.constant(0.1).branch(3, lrkit.constant(
        0.01).skip(3))


@pytest.mark.parametrize("lr, plan, kwargs, message", [
    (0.1, lrkit.constant(0.1), {}, "lrkit.keras.change_plan: the optimizer's learning_rate is "
     "not an lrkit.keras.LearningRateSchedule; pass learning_rate=lrkit.keras."
     "LearningRateSchedule(schedule) to the optimizer"),
    (LearningRateSchedule(PLAN), lrkit.constant(0.1), {"on_change": "rescale"},
     "lrkit.keras.change_plan: on_change must be 'branch' or 'use_new', got 'rescale'"),
    (LearningRateSchedule(PLAN), 0.1, {}, "lrkit.keras.change_plan: 'schedule' must be an "
     "lrkit schedule, its config or its text, got float"),
    (LearningRateSchedule(lrkit.plateau(PLAN)), lrkit.constant(0.1), {},
     "lrkit.keras.change_plan: the restored schedule is a plateau schedule, whose reductions "
     "were measured against the old plan; build the optimizer with the new plan"),
])
def test_change_plan_refuses_with_the_reason(lr, plan, kwargs, message):
    with pytest.raises(ScheduleError) as info:
        lrkit.keras.change_plan(model(lr), plan, **kwargs)
    assert str(info.value) == message


class _Ramp(keras.utils.PyDataset):
    """Batches whose size is ``ramp(consumed)``, as a batch-size ramp feeds them."""

    def __init__(self, ramp, updates, start=0):
        super().__init__()
        self.sizes, c = [], start
        for _ in range(updates):
            self.sizes.append(int(ramp(c)))
            c += self.sizes[-1]

    def __len__(self):
        return len(self.sizes)

    def __getitem__(self, i):
        x = np.ones((self.sizes[i], 4), "float32")
        return x, x.sum(1, keepdims=True)


def test_a_schedule_in_samples_follows_what_a_batch_size_ramp_consumed(tmp_path):
    ramp = lrkit.batch_size(2, 8, 60, multiple_of=2)  # in samples, as Megatron's
    plan = lrkit.warmup(lrkit.cosine(0.1, 0.0, "300 samples"), "40 samples")
    seen = []
    m = model(LearningRateSchedule(plan, clock="samples", per_update=ramp))
    m.fit(_Ramp(ramp, 30), epochs=1, verbose=0, callbacks=[_Applied(seen)])
    m.save(tmp_path / "run.keras")
    again = keras.models.load_model(tmp_path / "run.keras")  # iterations give the count
    consumed = sum(_Ramp(ramp, 30).sizes)
    again.fit(_Ramp(ramp, 25, start=consumed), epochs=1, verbose=0, callbacks=[_Applied(seen)])
    positions, c = [], 0  # what the run consumed before each update, counted here
    for _ in range(55):
        positions.append(c)
        c += int(ramp(c))
    bound = plan.bind(samples_per_step=1)
    assert len(set(np.diff(positions))) == 4  # the ramp really changed the batch size
    assert [k for k, _ in seen] == list(range(55))
    np.testing.assert_allclose([v for _, v in seen], [bound(p) for p in positions], rtol=2e-7)
    lr = again.optimizer._learning_rate
    assert lr.per_update == ramp and [lr.value(k) for k in range(55)] == [
        bound(p) for p in positions]


def test_a_fixed_amount_per_update_under_accumulation():
    seen = []
    opt = keras.optimizers.SGD(LearningRateSchedule(lrkit.linear(1.0, 0.0, "100 tokens"), 2,
                                                    clock="tokens", per_update=8),
                               gradient_accumulation_steps=2)
    model(opt).fit(*data(48), batch_size=8, epochs=6, steps_per_epoch=1, verbose=0,
                   callbacks=[_Applied(seen)])
    # 6 micro-batches, 3 updates of 8 tokens each: positions 0, 0, 8, 8, 16, 16
    np.testing.assert_allclose([v for _, v in seen], [1.0, 1.0, 0.92, 0.92, 0.84, 0.84],
                               rtol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(clock="epochs"), "lrkit.keras.LearningRateSchedule: clock must be one of 'updates', "
     "'samples', 'tokens', got 'epochs'"),
    (dict(clock="tokens", tokens_per_step=512, per_update=512), "lrkit.keras.LearningRate"
     "Schedule: with clock='tokens' the schedule's steps are tokens; leave tokens_per_step out"),
    (dict(per_update=8), "lrkit.keras.LearningRateSchedule: per_update=8 is for clock='samples' "
     "or 'tokens'; pass one of them with it, or leave it out"),
    (dict(clock="samples"), "lrkit.keras.LearningRateSchedule: clock='samples' needs "
     "per_update=, what one update consumes: an int, or a batch-size ramp such as "
     "lrkit.batch_size(32, 1536, 6_000_000, multiple_of=16)"),
    (dict(clock="samples", per_update=-4), "lrkit.keras.LearningRateSchedule: per_update must "
     "be a whole number >= 1 or an lrkit schedule of the samples consumed (a batch-size ramp), "
     "got -4"),
    (dict(clock="samples", per_update=lrkit.constant(8.0)), "lrkit.keras.LearningRateSchedule: "
     "per_update must end (hold its last value) to give the count at any update, got "
     "constant(8.0); e.g. lrkit.batch_size(32, 1536, 6_000_000, multiple_of=16)"),
    (dict(clock="samples", per_update=lrkit.linear(1.0, 2.0, 4)), "lrkit.keras.LearningRate"
     "Schedule: per_update gives 1.25 at a count of 1; it must give whole numbers >= 1"),
])
def test_the_consumed_clock_says_what_is_wrong(kwargs, message):
    with pytest.raises(ScheduleError) as info:
        LearningRateSchedule(PLAN, **kwargs)
    assert str(info.value) == message


def _reference_run(make_opt, plans, steps):
    """The same training, eager, setting each hyperparameter to plan(k) before update k."""
    import jax

    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    opt = make_opt()
    opt.build(m.trainable_variables)
    x, y = data(8)

    def loss(w):
        kernel, bias = w
        return keras.ops.mean((x @ kernel + bias - y) ** 2)

    for k in range(steps):
        grads = jax.grad(loss)([v.value for v in m.trainable_variables])
        for name, s in plans.items():
            setattr(opt, name, float(s(k)))
        opt.apply(grads, m.trainable_variables)
    return [np.asarray(v) for v in m.trainable_variables]


@pytest.mark.parametrize("make_opt, plans", [
    (lambda: keras.optimizers.Adam(0.05), {"beta_1": lrkit.linear(0.5, 0.95, 6)}),
    (lambda: keras.optimizers.AdamW(0.05, weight_decay=0.1),
     {"beta_1": lrkit.cosine(0.9, 0.6, 8), "weight_decay": lrkit.linear(0.1, 0.0, 5)}),
    (lambda: keras.optimizers.Lion(0.01), {"beta_2": lrkit.linear(0.99, 0.9, 4)}),
])
def test_scheduled_hyperparameters_in_fit_match_an_eager_run_that_sets_them(make_opt, plans):
    steps = 10
    want = _reference_run(make_opt, plans, steps)
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer=lrkit.keras.schedule_hyperparameters(make_opt(), **plans), loss="mse")
    m.fit(*data(8), batch_size=8, epochs=steps, verbose=0)
    for got, ref in zip(m.trainable_variables, want):
        np.testing.assert_allclose(np.asarray(got), ref, rtol=2e-6, atol=1e-7)
    config = m.optimizer.get_config()  # Keras' config keeps the numbers it was built with
    assert all(isinstance(config[name], float) for name in plans)


def test_the_reference_run_depends_on_the_scheduled_hyperparameter():
    plans = {"beta_1": lrkit.linear(0.5, 0.95, 6)}
    changed = _reference_run(lambda: keras.optimizers.Adam(0.05), plans, 10)
    same = _reference_run(lambda: keras.optimizers.Adam(0.05), {}, 10)
    assert not np.allclose(changed[0], same[0])  # the reference run does depend on beta_1


@pytest.mark.parametrize("opt, kwargs, message", [
    (keras.optimizers.SGD(0.1, momentum=0.9), {"momentum": lrkit.constant(0.9)},
     "lrkit.keras.schedule_hyperparameters: SGD compares 'momentum' in Python (if momentum != "
     "0), so it cannot be scheduled by update; use Adam's or AdamW's beta_1, or lrkit.torch / "
     "lrkit.optax"),
    (keras.optimizers.Adam(0.1), {"learning_rate": lrkit.constant(0.1)},
     "lrkit.keras.schedule_hyperparameters: the learning rate is scheduled by passing "
     "learning_rate=lrkit.keras.LearningRateSchedule(schedule) to the optimizer"),
    (keras.optimizers.Adam(0.1), {"beta_3": lrkit.constant(0.9)},
     "lrkit.keras.schedule_hyperparameters: Adam has no numeric hyperparameter 'beta_3' (it "
     "holds None)"),
    (keras.optimizers.Adam(0.1), {"beta_1": 0.9}, "lrkit.keras.schedule_hyperparameters: "
     "beta_1= must be an lrkit schedule, got float"),
    (keras.optimizers.Adam(0.1), {"momentum": lrkit.constant(0.9)},
     "lrkit.keras.schedule_hyperparameters: Adam has no numeric hyperparameter 'momentum' (it "
     "holds None)"),
])
def test_schedule_hyperparameters_refuses_with_the_reason(opt, kwargs, message):
    with pytest.raises(ScheduleError) as info:
        lrkit.keras.schedule_hyperparameters(opt, **kwargs)
    assert str(info.value) == message


def test_change_plan_keeps_a_samples_clock_and_branches_at_what_was_consumed(tmp_path):
    ramp = lrkit.batch_size(2, 8, 60, multiple_of=2)
    old = lrkit.cosine(0.1, 0.0, "300 samples")
    m = model(LearningRateSchedule(old, clock="samples", per_update=ramp))
    m.fit(_Ramp(ramp, 20), epochs=1, verbose=0)
    m.save(tmp_path / "run.keras")
    again = keras.models.load_model(tmp_path / "run.keras")
    consumed = sum(_Ramp(ramp, 20).sizes)
    plan = lrkit.keras.change_plan(again, lrkit.linear(0.05, 0.0, "500 samples"))
    bound_old = old.bind(samples_per_step=1)
    assert plan == bound_old.branch(consumed, lrkit.linear(0.05, 0.0, 500).skip(consumed))
    seen = []
    again.fit(_Ramp(ramp, 10, start=consumed), epochs=1, verbose=0, callbacks=[_Applied(seen)])
    positions, c = [], consumed  # what the run had consumed before each of the 10 updates
    for _ in range(10):
        positions.append(c)
        c += int(ramp(c))
    np.testing.assert_allclose([v for _, v in seen], [plan(p) for p in positions], rtol=2e-7)
    lr = again.optimizer._learning_rate
    assert (lr.clock, lr.per_update) == ("samples", ramp)


def test_a_saved_config_that_is_not_a_mapping_is_refused():
    with pytest.raises(lrkit.ConfigError, match=r"lrkit.keras.LearningRateSchedule: "
                       r"config\['schedule'\]"):
        LearningRateSchedule.from_config(["not", "a", "mapping"])


_junk = (st.none() | st.booleans() | st.text(max_size=6) | st.floats(allow_nan=True)
         | st.integers(-5, 10**6) | st.just(lrkit.constant(4.0))
         | st.just(lrkit.batch_size(2, 8, 40, multiple_of=2)) | st.just({"kind": "nope"}))


@pytest.mark.fuzz
@budget(100)
@given(_junk, st.sampled_from(["updates", "samples", "tokens", "epochs"]), _junk)
def test_the_keras_schedule_refuses_or_evaluates(per_update, clock, accumulation):
    try:
        lr = LearningRateSchedule(PLAN, accumulation, clock=clock, per_update=per_update)
    except ScheduleError:
        return
    for k in (0, 1, 7, 10**6):
        v = lr.value(k)
        assert math.isfinite(v) and v >= 0
    assert LearningRateSchedule.from_config(lr.get_config()).get_config() == lr.get_config()


_state_values = _junk | st.floats(allow_nan=False) | st.integers(-3, 3)


@pytest.mark.fuzz
@budget(100)
@given(_junk | st.dictionaries(st.sampled_from(["best", "bad", "cooldown", "reductions", "x"]),
                               _state_values, max_size=5))
def test_a_saved_plateau_state_is_refused_or_restored(state):
    """A model file's config is user data: its plateau_state is refused with a ConfigError,
    or restored as a well-formed state that saves back as it is."""
    config = {**LearningRateSchedule(lrkit.plateau(PLAN)).get_config(), "plateau_state": state}
    try:
        lr = LearningRateSchedule.from_config(config)
    except lrkit.ConfigError as e:
        assert str(e).startswith("lrkit.keras.LearningRateSchedule: config['plateau_state']")
        return
    got = lr.plateau_state
    assert state is None and got == lrkit.plateau(PLAN).init() or (
        set(got) == {"best", "bad", "cooldown", "reductions"} and min(
            got["bad"], got["cooldown"], got["reductions"]) >= 0)
    assert LearningRateSchedule.from_config(lr.get_config()).plateau_state == got


@pytest.mark.fuzz
@budget(100)
@given(st.text(max_size=10) | st.sampled_from(["beta_1", "beta_2", "epsilon", "momentum",
                                               "weight_decay", "amsgrad", "learning_rate"]),
       _junk)
def test_schedule_hyperparameters_refuses_or_wraps(name, schedule):
    opt = keras.optimizers.AdamW(0.1)
    try:
        out = lrkit.keras.schedule_hyperparameters(opt, **{name: schedule})
    except ScheduleError:
        return
    assert out is opt and isinstance(schedule, lrkit.Schedule)


def test_load_model_resumes_a_plateau_run_whole(tmp_path):
    """model.save, keras.models.load_model, fit on: every update of the resumed run gets the
    value the uninterrupted run used, and the optimizer's own state (iterations, Adam's
    moments) and the plateau state all come back."""
    s = lrkit.plateau(lrkit.warmup(lrkit.constant(0.05), 4), factor=0.5, patience=0,
                      threshold=0.9)
    x, y = data()
    straight = LRLogger()
    m = model(keras.optimizers.Adam(learning_rate=LearningRateSchedule(s)))
    m.fit(x, y, batch_size=8, epochs=6, verbose=0, shuffle=False,
          callbacks=[straight, Plateau("loss")])
    first = model(keras.optimizers.Adam(learning_rate=LearningRateSchedule(s)))
    first.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False, callbacks=[Plateau("loss")])
    first.save(tmp_path / "run.keras")
    again = keras.models.load_model(tmp_path / "run.keras")
    lr = again.optimizer._learning_rate
    assert lr.plateau_state == first.optimizer._learning_rate.plateau_state
    assert lr.plateau_state["reductions"] >= 1            # a reduction to carry over
    assert int(again.optimizer.iterations) == int(first.optimizer.iterations) > 0
    for a, b in zip(again.optimizer.variables, first.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    resumed = LRLogger()
    again.fit(x, y, batch_size=8, epochs=6, initial_epoch=3, verbose=0, shuffle=False,
              callbacks=[resumed, Plateau("loss")])
    assert [k for k, _ in resumed.history] == [k for k, _ in straight.history][-len(
        resumed.history):]
    np.testing.assert_allclose([v for _, v in resumed.history],
                               [v for _, v in straight.history][-len(resumed.history):],
                               rtol=1e-6)
    assert lr.plateau_state == m.optimizer._learning_rate.plateau_state  # (no shuffling:
    for a, b in zip(again.get_weights(), m.get_weights()):                # the same batches)
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_reduction_traces_the_train_step_again():
    """The reductions are a constant of the compiled step: a change traces it again before the
    next update, and nothing else does (a second fit reuses the step)."""
    s = lrkit.plateau(lrkit.constant(0.05), factor=0.5, patience=1, threshold=0.999)
    x, y = data(64)
    m = model(LearningRateSchedule(s))
    lr = m.optimizer._learning_rate
    traces, call = [], LearningRateSchedule.__call__

    def counting(self, step):
        if lrkit.keras._traced(step):
            traces.append(self.plateau_state["reductions"])
        return call(self, step)

    logger = LRLogger()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LearningRateSchedule, "__call__", counting)
        m.fit(x, y, batch_size=8, epochs=6, verbose=0, callbacks=[logger, Plateau("loss")])
        m.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[logger, Plateau("loss")])
    n = lr.plateau_state["reductions"]
    assert n >= 2 and traces == list(range(n))  # the last one has had no update since
    used = [v for _, v in logger.history]
    assert sorted(set(used), reverse=True) == [float(np.float32(0.05 * 0.5 ** j)) for j in range(n)]


def plateau_fit_by_epoch():
    """Fit 6 epochs of 8 updates with a plateau fed a flat metric; per update the LR it
    applied, read from the weights (the kernel's gradient is 1: each update subtracts the LR),
    and per epoch the plateau state's reductions after it."""
    s = lrkit.plateau(lrkit.constant(0.05), factor=0.5, patience=1)
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False,
                                                                kernel_initializer="zeros")])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=LearningRateSchedule(s)),
              loss=lambda y, p: keras.ops.mean(p))
    kernel = m.layers[0].kernel
    used, counts = [], []

    def weight():
        if hasattr(m, "jax_state_sync"):  # JAX keeps the state out of the variables in fit
            m.jax_state_sync()
        return float(np.asarray(kernel.numpy(), dtype=np.float64).item())

    class Applied(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.w = weight()

        def on_train_batch_end(self, batch, logs=None):
            used.append(self.w - weight())

        def on_epoch_end(self, epoch, logs=None):
            logs["flat"] = 1.0  # never improves: a reduction every patience + 1 epochs

    class After(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            counts.append(m.optimizer._learning_rate.plateau_state["reductions"])

    m.fit(np.ones((64, 1), "float32"), np.zeros((64, 1), "float32"), batch_size=8, epochs=6,
          shuffle=False, verbose=0, callbacks=[Applied(), Plateau("flat"), After()])
    return used, counts


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_each_epoch_applies_the_state_after_the_one_before_on_every_backend(backend):
    """The reductions are a constant of the traced step on JAX and TensorFlow (traced again
    when they change), read at each update on torch: on all three each epoch's updates apply
    the state the epoch before left."""
    # each in a fresh interpreter, as users run it (JAX with its default float32: the test
    # session turns x64 on)
    pytest.importorskip(backend, reason=f"{backend} is not in the test environment")
    code = ("import json, sys; sys.path.insert(0, 'tests'); import test_keras as t; "
            "import keras; assert keras.config.floatx() == 'float32'; "
            "print(json.dumps(t.plateau_fit_by_epoch()))")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "KERAS_BACKEND": backend}, cwd=Path(__file__).parent.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    used, counts = json.loads(out.stdout.strip().splitlines()[-1])
    # PyTorch's patience rule, patience=1: the 2nd epoch after the best is the reduction's
    assert counts == [0, 0, 1, 1, 2, 2]
    for epoch in range(6):
        want = 0.05 * 0.5 ** ([0] + counts)[epoch]
        np.testing.assert_allclose(used[epoch * 8:(epoch + 1) * 8], [want] * 8, rtol=1e-5,
                                   err_msg=f"epoch {epoch}")


def test_a_weights_file_resumes_the_plateau_once_the_callback_is_set_up(tmp_path):
    """Keras loads a weights file into the objects that exist: load_weights before the
    callback is set up keeps the optimizer's count but not the plateau state (and fit says
    so); set up first, the resumed run uses the uninterrupted run's values."""
    s = lrkit.plateau(lrkit.constant(0.05), factor=0.5, patience=0, threshold=0.999)
    x, y = data()
    straight = LRLogger()
    model(LearningRateSchedule(s)).fit(x, y, batch_size=8, epochs=5, verbose=0, shuffle=False,
                                       callbacks=[straight, Plateau("loss")])
    first = model(LearningRateSchedule(s))
    first.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False,
              callbacks=[Plateau("loss")])
    path = str(tmp_path / "run.weights.h5")
    first.save_weights(path)
    want = first.optimizer._learning_rate.plateau_state
    assert want["reductions"] >= 1

    late = model(LearningRateSchedule(s))
    late.load_weights(path)
    with pytest.warns(UserWarning, match=r"lrkit.keras.Plateau: the optimizer has made 24 "
                      r"updates but the plateau state is the initial one.*call "
                      r"Plateau\(\.\.\.\)\.set_model\(model\) before model.load_weights"):
        late.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Plateau("loss")])

    again = model(LearningRateSchedule(s))
    plateau = Plateau("loss")
    plateau.set_model(again)
    again.load_weights(path)
    assert again.optimizer._learning_rate.plateau_state == want
    resumed = LRLogger()
    again.fit(x, y, batch_size=8, epochs=5, initial_epoch=3, verbose=0, shuffle=False,
              callbacks=[resumed, plateau])
    np.testing.assert_allclose([v for _, v in resumed.history],
                               [v for _, v in straight.history][-len(resumed.history):],
                               rtol=1e-6)


def test_plateau_and_its_resume_under_mixed_precision(tmp_path):
    # The model's optimizer is then a LossScaleOptimizer around the one with the schedule.
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        s = lrkit.plateau(lrkit.constant(0.05), factor=0.5, patience=0, threshold=0.999)
        m = model(LearningRateSchedule(s))
        assert isinstance(m.optimizer, keras.optimizers.LossScaleOptimizer)
        log = LRLogger()
        m.fit(*data(), batch_size=8, epochs=3, verbose=0, callbacks=[log, Plateau("loss")])
        state = m.optimizer.inner_optimizer._learning_rate.plateau_state
        assert state["reductions"] == 2  # a reduction after each epoch but the first
        assert sorted({v for _, v in log.history}) == [float(np.float32(0.025)),
                                                       float(np.float32(0.05))]
        m.save(tmp_path / "run.keras")
        again = keras.models.load_model(tmp_path / "run.keras")
        assert again.optimizer.inner_optimizer._learning_rate.plateau_state == state
        assert int(again.optimizer.iterations) == int(m.optimizer.iterations) > 0
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
