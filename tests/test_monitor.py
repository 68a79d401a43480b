"""The monitor records what each update used, writes TensorBoard/CSV/JSONL, and notices when
the applied values leave the plan: numbered by the scheduler's count (a resumed run logs its own
steps), with a tolerance that follows the applied value's dtype (float32 in optax and Keras)."""

import csv
import json
import os
import subprocess
import sys
import textwrap
import warnings

import pytest

import lrkit
from lrkit.monitor import CSVWriter, JSONLWriter, Monitor, TensorBoardWriter

torch = pytest.importorskip("torch")
from lrkit.torch import LRScheduler  # noqa: E402

PLAN = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 40), 10)


def train(opt, n, after=None):
    p = opt.param_groups[0]["params"][0]
    for k in range(n):
        p.grad = torch.ones_like(p)
        opt.step()
        if after:
            after(k)


def opt_():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)


def test_tensorboard_csv_and_jsonl(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    opt = opt_()
    LRScheduler(opt, PLAN)
    writers = [TensorBoardWriter(tmp_path / "tb"), CSVWriter(tmp_path / "lr.csv"),
               JSONLWriter(tmp_path / "lr.jsonl")]
    mon = Monitor(writers, plan=PLAN, total_steps=50).attach(opt, ("lr", "momentum"))
    train(opt, 50)
    mon.close()
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    applied = [(e.step, e.value) for e in acc.Scalars("lr/0")]
    assert [k for k, _ in applied] == list(range(50))
    assert all(v == pytest.approx(PLAN(k), rel=1e-6) for k, v in applied)   # float32 events
    plan = acc.Scalars("plan/lr/0")
    assert plan[0].step == 0 and len(plan) == 50
    assert all(e.value == pytest.approx(0.9) for e in acc.Scalars("momentum/0"))
    rows = list(csv.DictReader((tmp_path / "lr.csv").open()))
    assert [float(r["lr/0"]) for r in rows] == [PLAN(k) for k in range(50)]
    lines = [json.loads(x) for x in (tmp_path / "lr.jsonl").read_text().splitlines()]
    records = [x for x in lines if "lr/0" in x]
    assert records[3] == {"step": 3, "epoch": None, "lr/0": PLAN(3), "momentum/0": 0.9}
    assert sum(1 for x in lines if x.get("plan") == "plan/lr/0") == 50
    assert not mon.departures


def test_a_scheduler_stepped_per_epoch_departs_from_a_per_update_plan():
    opt = opt_()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    plan = lrkit.step(0.1, 0.5, 1)         # the plan: halve at every update
    mon = Monitor(plan=plan).attach(opt)
    with pytest.warns(RuntimeWarning, match=r"^lrkit.monitor: update 1 used lr/0=0.1, the plan "
                      r"says 0.05 \(relative error 1, 1e-06 allowed for a float64 value\); the "
                      r"value is still the plan's first one: is the scheduler stepped at all, "
                      r"or only once per epoch\?$"):
        train(opt, 10, after=lambda k: sched.step() if k % 5 == 4 else None)
    assert len(mon.departures) > 1          # warned once, every departure kept
    assert "lags the plan" in mon.departures[-1]


def test_a_scheduler_never_stepped():
    opt = opt_()
    mon = Monitor(plan=lrkit.linear(0.1, 0.0, 10)).attach(opt)
    with pytest.warns(RuntimeWarning, match="still the plan's first one: is the scheduler "
                      "stepped at all"):
        train(opt, 3)
    assert mon.count == 3


def test_another_writer():
    opt = opt_()
    LRScheduler(opt, PLAN)
    mon = Monitor(plan=PLAN).attach(opt)
    train(opt, 3)
    opt.param_groups[0]["lr"] = 0.5
    with pytest.warns(RuntimeWarning):      # lrkit's own owner check also speaks
        train(opt, 1)
    assert "another writer may own this value" in mon.departures[0]


# --- resume: the update index is the scheduler's count ------------------------------------------

RESUMED = lrkit.warmup(lrkit.cosine(0.1, 1e-3, "90%"), "10%").bind(total_steps=112)


def _events(log_dir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _train_and_save(path, n=30):
    opt = opt_()
    sched = LRScheduler(opt, RESUMED)
    train(opt, n)
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, path)


RESUME = textwrap.dedent("""
    import sys, torch, lrkit
    from lrkit.torch import LRScheduler
    from lrkit.monitor import Monitor, TensorBoardWriter

    plan = lrkit.warmup(lrkit.cosine(0.1, 1e-3, "90%"), "10%").bind(total_steps=112)
    ck = torch.load(sys.argv[1], weights_only=True)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    opt.load_state_dict(ck["optimizer"])
    sched = LRScheduler(opt, plan)
    sched.load_state_dict(ck["scheduler"])
    mon = Monitor([TensorBoardWriter(sys.argv[2])], plan=plan, total_steps=112).attach(opt)
    p = opt.param_groups[0]["params"][0]
    for _ in range(82):
        p.grad = torch.ones_like(p)
        opt.step()
    mon.close()
    print(mon.count, len(mon.departures))
""")


def test_a_run_resumed_in_a_fresh_process_logs_the_checkpoint_steps(tmp_path):
    # The measurement: lr/0 at steps 0..81 and a false "another writer" warning.
    _train_and_save(tmp_path / "ck.pt")
    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", RESUME,
                          str(tmp_path / "ck.pt"), str(tmp_path / "tb")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["112", "0"]
    applied = _events(tmp_path / "tb", "lr/0")
    assert [k for k, _ in applied] == list(range(30, 112))
    assert all(v == pytest.approx(RESUMED(k), rel=1e-6) for k, v in applied)  # float32 events
    assert [e[0] for e in _events(tmp_path / "tb", "plan/lr/0")] == list(range(112))


@pytest.mark.parametrize("target", ["optimizer", "scheduler"])
def test_a_fresh_monitor_on_a_loaded_scheduler_continues_at_its_count(tmp_path, target):
    _train_and_save(tmp_path / "ck.pt")
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    opt = opt_()
    sched = LRScheduler(opt, RESUMED)
    sched.load_state_dict(ck["scheduler"])
    mon = Monitor(plan=RESUMED).attach(opt if target == "optimizer" else sched)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(opt, 5)
    assert [r["step"] for r in mon.records] == [30, 31, 32, 33, 34]
    assert [r["lr/0"] for r in mon.records] == [RESUMED(k) for k in range(30, 35)]
    assert mon.count == 35 and not mon.departures


def test_a_scheduler_built_or_loaded_after_attach_is_found():
    opt = opt_()
    mon = Monitor(plan=RESUMED).attach(opt)
    sched = LRScheduler(opt, RESUMED)
    sched.load_state_dict({**sched.state_dict(), "count": 50})
    train(opt, 2)
    assert [r["step"] for r in mon.records] == [50, 51] and not mon.departures


def test_without_an_lrkit_scheduler_the_monitor_counts_itself():
    opt = opt_()
    mon = Monitor(plan=lrkit.constant(0.1)).attach(opt)
    mon.count = 7                       # e.g. restored by the caller
    train(opt, 2)
    assert [r["step"] for r in mon.records] == [7, 8] and not mon.departures


# --- the tolerance follows the applied dtype ----------------------------------------------------

def test_float32_values_get_the_float32_bound_float64_values_do_not():
    import numpy as np

    s = lrkit.step(1.0, 0.3, 7)
    k = 105                             # the value fell by e^-18: x·2e-7 = 3.6e-6 relative
    want = s(k)
    f32 = np.float32(want * (1 + 2.5e-6))
    mon = Monitor(plan=s)
    mon.record({"lr/0": f32}, step=k)                    # dtype read from the value
    mon.record({"lr/0": float(f32)}, step=k)             # a Python float float32 represents
    assert not mon.departures
    with pytest.warns(RuntimeWarning, match=r"^lrkit.monitor: update 105 used lr/0=1\.43\d+e-08, "
                      r"the plan says 1\.43\d+e-08 \(relative error 2\.5e-06, 1e-06 allowed "
                      r"for a float64 value\); another writer may own this value$"):
        mon.record({"lr/0": want * (1 + 2.5e-6)}, step=k)  # float64: 1e-6
    wide = np.float32(want * (1 + 1e-5))
    mon.record({"lr/0": wide}, step=k)                  # beyond the float32 bound too
    assert len(mon.departures) == 2
    assert "4.7e-06 allowed for a float32 value" in mon.departures[1]
    assert Monitor(plan=s, tolerance=1e-6)._allowed(s, want, "float32") == 1e-6 * want


def test_bfloat16_tensor_values_are_read_with_their_dtype():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))],
                          lr=torch.tensor(0.1, dtype=torch.bfloat16))
    mon = Monitor(plan=lrkit.constant(0.1)).attach(opt)
    train(opt, 2)                       # bfloat16(0.1) = 0.10009765625
    assert [r["lr/0"] for r in mon.records] == [0.10009765625] * 2 and not mon.departures


FLOAT32 = textwrap.dedent("""
    import json, warnings
    import jax, jax.numpy as jnp, optax, lrkit
    from lrkit.optax import schedule
    from lrkit.monitor import Monitor

    assert not jax.config.jax_enable_x64

    def run(plan, applied, n, tolerance=None, state=None, mon=None):
        mon = mon or Monitor(plan=plan, tolerance=tolerance)
        tx = optax.inject_hyperparams(optax.sgd)(learning_rate=schedule(applied))
        state = state or tx.init(jnp.zeros(1))
        update = jax.jit(tx.update)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(n):
                _, state = update(jnp.ones(1), state)
                mon.record_optax(state)
        return mon, state, [str(w.message) for w in caught]

    cosine = lrkit.cosine(0.5, 0.001, 870)
    step = lrkit.step(1.0, 0.3, 7)
    out = {}
    mon, state, caught = run(cosine, cosine, 880)
    out["cosine"] = [len(mon.departures), len(caught), mon.records[-1]["step"]]
    out["step"] = len(run(step, step, 300)[0].departures)
    out["step-1e-6"] = len(run(step, step, 300, tolerance=1e-6)[0].departures)
    out["exponential"] = len(run(*[lrkit.exponential(0.1, 0.5, 10)] * 2, 300)[0].departures)
    mon, _, caught = run(cosine, cosine * 1.00002, 20)
    out["departure"] = [len(mon.departures), caught]
    _, state, _ = run(cosine, cosine, 30)
    mon, _, caught = run(cosine, cosine, 5, state=state, mon=Monitor(plan=cosine))
    out["resumed"] = [[r["step"] for r in mon.records], len(caught)]
    print(json.dumps(out))
""")


def test_optax_in_float32_has_no_false_departures_and_a_real_one_warns():
    pytest.importorskip("optax")
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", FLOAT32], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.splitlines()[-1])
    assert got["cosine"] == [0, 0, 879]     # the loop: 45-50 warnings at 1e-6
    assert got["step"] == got["exponential"] == 0
    assert got["step-1e-6"] > 50            # what the old fixed 1e-6 did to a geometric decay
    count, caught = got["departure"]
    assert count == 20 and len(caught) == 1
    assert caught[0].startswith("lrkit.monitor: update 0 used lr/0=0.50001")
    assert "(relative error 2e-05, 1.1e-06 allowed for a float32 value); " in caught[0]
    assert got["resumed"] == [[30, 31, 32, 33, 34], 0]   # the state's count numbers updates


def test_record_optax_needs_an_injected_state():
    from lrkit.errors import ScheduleError

    with pytest.raises(ScheduleError) as info:
        Monitor().record_optax(())
    assert str(info.value) == (
        "lrkit.monitor: record_optax() needs an optax.inject_hyperparams state (with 'count' and "
        "'hyperparams'), got tuple; build the optimizer as "
        "optax.inject_hyperparams(optax.sgd)(learning_rate=...)")
