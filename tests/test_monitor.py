"""The monitor records what each update used, writes TensorBoard/CSV/JSONL, and notices when
the applied values leave the plan."""

import csv
import json

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
    with pytest.warns(RuntimeWarning, match=r"update 1 used lr/0=0.1, the plan says 0.05; the "
                      r"value is still the plan's first one: is the scheduler stepped at all, "
                      r"or only once per epoch\?"):
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
