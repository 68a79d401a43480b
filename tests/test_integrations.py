"""lrkit.integrations in the real frameworks (CPU, tiny models, a few updates): the Lightning
callback logs applied and planned values to the trainer's loggers, resumes at the checkpoint's
update; the Hugging Face callback puts them into the Trainer's logs and its TensorBoard."""

import csv
import json
import subprocess
import sys

import pytest

import lrkit

torch = pytest.importorskip("torch")
from test_torch_integrations import _HFModel  # noqa: E402

from lrkit.torch import LRScheduler  # noqa: E402

SCHED = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 30), 6)


def data(n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    return x, x.sum(1, keepdim=True)


def test_importing_the_module_imports_no_framework():
    code = ("import sys, lrkit.integrations; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'lightning', 'pytorch_lightning', 'transformers', 'numpy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- Lightning ----------------------------------------------------------------------------------

def _fit(tmp_path, name, max_steps, ckpt=None, plan=SCHED):
    from test_torch_integrations import _lightning_module

    L, module = _lightning_module("step", [])  # a tiny module stepping lrkit's SCHED
    from lightning.pytorch.loggers import CSVLogger

    from lrkit.integrations import LightningMonitor

    mon = LightningMonitor(plan=plan)
    trainer = L.Trainer(max_steps=max_steps, accelerator="cpu", logger=CSVLogger(tmp_path, name),
                        callbacks=[mon], enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, log_every_n_steps=1,
                        default_root_dir=tmp_path)
    x, y = data()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    trainer.fit(module, loader, ckpt_path=ckpt)
    with open(f"{trainer.logger.log_dir}/metrics.csv") as f:
        rows = [r for r in csv.DictReader(f) if r.get("lr/0")]
    return trainer, mon, rows


def test_lightning_logs_applied_and_planned_values_and_resumes_at_the_checkpoint(tmp_path):
    trainer, mon, rows = _fit(tmp_path, "a", 13)
    assert [(int(r["step"]), float(r["lr/0"]), float(r["plan/lr/0"])) for r in rows] == \
        [(k, SCHED(k), SCHED(k)) for k in range(13)]
    trainer.save_checkpoint(tmp_path / "mid.ckpt")
    _, mon2, rows2 = _fit(tmp_path, "b", 25, ckpt=str(tmp_path / "mid.ckpt"))
    assert [int(r["step"]) for r in rows2] == list(range(13, 25))
    assert [float(r["lr/0"]) for r in rows2] == [SCHED(k) for k in range(13, 25)]
    assert not mon.monitor.departures and not mon2.monitor.departures
    assert mon2.monitor._hook is None                   # detached at the end of training


def test_lightning_warns_when_the_plan_is_not_what_runs(tmp_path):
    with pytest.warns(RuntimeWarning, match=r"^lrkit.monitor: update 0 used lr/0=0\.0142857\d+, "
                      r"the plan says 0\.2 \(relative error 0\.93, 1e-06 allowed for a float64 "
                      r"value\); another writer may own this value$"):
        _, mon, rows = _fit(tmp_path, "a", 3, plan=lrkit.constant(0.2))
    assert len(mon.monitor.departures) == 3 and [float(r["plan/lr/0"]) for r in rows] == [0.2] * 3


# --- Hugging Face Trainer ------------------------------------------------------------------------

def _hf_trainer(tmp_path, max_steps, callbacks=(), **kw):
    transformers = pytest.importorskip("transformers")
    x, y = data(n=2 * 4 * max_steps)
    model = _HFModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=max_steps, per_device_train_batch_size=4,
        gradient_accumulation_steps=2, logging_steps=1, use_cpu=True, disable_tqdm=True,
        **{"save_strategy": "no", **kw})
    return transformers.Trainer(model=model, args=args, callbacks=list(callbacks),
                                train_dataset=[{"x": a, "labels": b} for a, b in zip(x, y)],
                                optimizers=(opt, LRScheduler(opt, SCHED)))


def test_hugging_face_logs_reach_the_history_and_tensorboard(tmp_path, monkeypatch):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from lrkit.integrations import HFMonitor

    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", str(tmp_path / "tb"))
    trainer = _hf_trainer(tmp_path, 8, report_to=["tensorboard"])
    mon = HFMonitor(plan=SCHED).install(trainer)
    trainer.train()
    history = [h for h in trainer.state.log_history if "lr/0" in h]
    # The log at global step g describes update g - 1, as HF's own learning_rate does.
    assert [(h["step"], h["lr/0"], h["plan/lr/0"], h["learning_rate"]) for h in history] == \
        [(g, SCHED(g - 1), SCHED(g - 1), SCHED(g - 1)) for g in range(1, 9)]
    assert [r["step"] for r in mon.monitor.records] == list(range(8))
    assert not mon.monitor.departures
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    assert [e.step for e in acc.Scalars("train/lr/0")] == list(range(1, 9))
    assert [e.value for e in acc.Scalars("train/plan/lr/0")] == \
        pytest.approx([SCHED(k) for k in range(8)], rel=1e-6)


def test_hugging_face_callback_given_to_the_trainer_and_resumed(tmp_path):
    from lrkit.integrations import HFMonitor

    _hf_trainer(tmp_path, 6, report_to=[], save_strategy="steps", save_steps=6).train()
    mon = HFMonitor(plan=SCHED)
    trainer = _hf_trainer(tmp_path, 10, callbacks=[mon], report_to=[])
    trainer.train(resume_from_checkpoint=str(tmp_path / "checkpoint-6"))
    assert [r["step"] for r in mon.monitor.records] == [6, 7, 8, 9]
    assert [r["lr/0"] for r in mon.monitor.records] == [SCHED(k) for k in range(6, 10)]
    assert not mon.monitor.departures
    logged = [(h["step"], h["lr/0"]) for h in trainer.state.log_history if "lr/0" in h]
    assert logged == [(g, SCHED(g - 1)) for g in range(7, 11)]
    assert json.loads(json.dumps(trainer.state.log_history))   # plain data for trainer_state.json
