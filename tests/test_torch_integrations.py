"""lrkit.torch.LRScheduler inside real training frameworks (CPU, tiny models): Lightning,
Hugging Face Trainer, Accelerate and torch.distributed (2 processes, gloo)."""

import csv
import os

import pytest

import lrkit

torch = pytest.importorskip("torch")
from lrkit.torch import LRScheduler  # noqa: E402

SCHED = lrkit.warmup(lrkit.cosine(0.1, 1e-3, 30), 6)
PLAN = [SCHED(k) for k in range(60)]


def probe(opt):
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
    return seen


def data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return x, x.sum(1, keepdim=True)


# --- Lightning ----------------------------------------------------------------------------------

def _lightning_module(interval, seen, scheduler=lambda module, opt: LRScheduler(opt, SCHED)):
    L = pytest.importorskip("lightning")

    class Tiny(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            sched = scheduler(self, opt)
            opt.register_step_pre_hook(
                lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": interval}}

    return L, Tiny()


def _loader():
    x, y = data()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)


@pytest.mark.parametrize("interval", ["step", "epoch"])
def test_lightning_runs_the_planned_sequence_and_the_monitor_logs_it(tmp_path, interval):
    seen = []
    L, module = _lightning_module(interval, seen)
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger

    trainer = L.Trainer(max_steps=20, accelerator="cpu", logger=CSVLogger(tmp_path),
                        callbacks=[LearningRateMonitor(logging_interval="step")],
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, log_every_n_steps=1)
    trainer.fit(module, _loader())
    assert seen == PLAN[:20]
    with open(os.path.join(trainer.logger.log_dir, "metrics.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r.get("lr-SGD")]
    logged = {int(r["step"]): float(r["lr-SGD"]) for r in rows}
    assert logged and all(v == PLAN[step] for step, v in logged.items())


def test_lightning_total_steps_from_estimated_stepping_batches():
    # docs/torch.md: a schedule in '%' of the run, bound in configure_optimizers with the
    # trainer's own count of optimizer steps (epochs, accumulation and limits included)
    plan = lrkit.parse("warmup(10%) >> cosine(0.1 -> 0, 90%)")
    seen = []
    L, module = _lightning_module("step", seen, lambda m, opt: LRScheduler(
        opt, plan, total_steps=m.trainer.estimated_stepping_batches))
    trainer = L.Trainer(max_epochs=3, accumulate_grad_batches=2, accelerator="cpu",
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(module, _loader())  # 8 batches an epoch: 4 updates, 12 in the run
    total = trainer.estimated_stepping_batches
    assert total == len(seen) == 12
    bound = plan.bind(total_steps=total)
    assert seen == [bound(k) for k in range(total)]


def test_lightning_resume_continues_the_sequence(tmp_path):
    seen = []
    L, module = _lightning_module("step", seen)
    kw = dict(accelerator="cpu", logger=False, enable_progress_bar=False,
              enable_model_summary=False, default_root_dir=tmp_path)
    trainer = L.Trainer(max_steps=13, **kw)
    trainer.fit(module, _loader())
    ckpt = tmp_path / "mid.ckpt"
    trainer.save_checkpoint(ckpt)
    seen2 = []
    L, module2 = _lightning_module("step", seen2)
    L.Trainer(max_steps=25, **kw).fit(module2, _loader(), ckpt_path=str(ckpt))
    assert seen == PLAN[:13] and seen2 == PLAN[13:25]


# --- Hugging Face Trainer ------------------------------------------------------------------------

class _HFModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(4, 1)

    def forward(self, x, labels=None):
        out = self.net(x)
        return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}


def test_hugging_face_trainer_logs_the_update_it_describes(tmp_path):
    transformers = pytest.importorskip("transformers")
    x, y = data(n=4 * 4 * 12)
    ds = [{"x": a, "labels": b} for a, b in zip(x, y)]
    model = _HFModel()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = LRScheduler(opt, SCHED)
    seen = probe(opt)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=12, per_device_train_batch_size=4,
        gradient_accumulation_steps=4, logging_steps=1, report_to=[], use_cpu=True,
        save_strategy="no", disable_tqdm=True)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=ds,
                                   optimizers=(opt, sched))
    trainer.train()
    assert sched.count == 12 and seen == PLAN[:12]
    logged = {e["step"]: e["learning_rate"] for e in trainer.state.log_history
              if "learning_rate" in e}
    # The entry for global step g describes update g - 1, the one just applied.
    assert logged and all(v == PLAN[g - 1] for g, v in logged.items())


# --- a batch-size ramp, in Lightning and the HF Trainer ----------------------------------------

RAMP = lrkit.batch_size(2, 8, 60, multiple_of=2)  # samples, as Megatron's
IN_SAMPLES = lrkit.warmup(lrkit.cosine(0.1, 0.0, "400 samples"), "30 samples")


def _ramp_expected(updates):
    """(batch size, LR) of each update: the ramp at the samples consumed so far, the plan at
    them, counted here by hand."""
    out, c = [], 0
    bound = IN_SAMPLES.bind(samples_per_step=1)
    for _ in range(updates):
        out.append((int(RAMP(c)), bound(c)))
        c += int(RAMP(c))
    return out


def test_lightning_with_a_batch_size_ramp(tmp_path):
    L = pytest.importorskip("lightning")
    seen, sizes = [], []

    class Ramped(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            sizes.append(len(x))
            return torch.nn.functional.mse_loss(self.net(x), y)

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            opt.register_step_pre_hook(
                lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
            sched = LRScheduler(opt, IN_SAMPLES, clock="samples", per_update=RAMP)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

        def train_dataloader(self):
            x, y = data(n=400)
            ds = torch.utils.data.TensorDataset(x, y)
            return torch.utils.data.DataLoader(ds, batch_sampler=lrkit.torch.RampBatchSampler(
                torch.utils.data.SequentialSampler(ds), RAMP))

    L.Trainer(max_steps=40, accelerator="cpu", logger=False, enable_checkpointing=False,
              enable_progress_bar=False, enable_model_summary=False,
              use_distributed_sampler=False).fit(Ramped())
    assert list(zip(sizes, seen)) == _ramp_expected(40)


def _hf_ramp_run(tmp_path, max_steps, save_steps=None, resume=None):
    """An HF Trainer run on RampBatchSampler batches with a scheduler in samples: each
    update's (batch size, LR), and the scheduler's count at the end."""
    transformers = pytest.importorskip("transformers")
    x, y = data(n=400)
    ds = [{"x": a, "labels": b} for a, b in zip(x, y)]
    sizes = []

    class Model(_HFModel):
        def forward(self, x, labels=None):
            sizes.append(len(x))
            return super().forward(x, labels)

    class RampTrainer(transformers.Trainer):
        def get_train_dataloader(self):
            return torch.utils.data.DataLoader(
                ds, collate_fn=transformers.default_data_collator,
                batch_sampler=lrkit.torch.RampBatchSampler(
                    torch.utils.data.SequentialSampler(ds), RAMP))

    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = LRScheduler(opt, IN_SAMPLES, clock="samples", per_update=RAMP)
    seen = probe(opt)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path), max_steps=max_steps, report_to=[], use_cpu=True,
        save_strategy="no" if save_steps is None else "steps", save_steps=save_steps or 500,
        disable_tqdm=True, logging_steps=1)
    RampTrainer(model=model, args=args, train_dataset=ds, optimizers=(opt, sched)).train(
        resume_from_checkpoint=resume)
    return list(zip(sizes, seen)), sched.count


def test_hugging_face_trainer_with_a_batch_size_ramp(tmp_path):
    assert _hf_ramp_run(tmp_path, 40) == (_ramp_expected(40), 40)


def test_hugging_face_trainer_resumes_mid_epoch_under_a_batch_size_ramp(tmp_path):
    """Saved at update 20 of an epoch of 61 and resumed: the Trainer skips the epoch's
    first 20 batches of a new sampler (which follows the ramp from the epoch's start again),
    the scheduler's count comes back from the checkpoint, and updates 20-39 get the uninterrupted
    run's batch sizes and LRs."""
    assert _hf_ramp_run(tmp_path, 20, save_steps=20) == (_ramp_expected(20), 20)
    resumed = _hf_ramp_run(tmp_path, 40, save_steps=20, resume=str(tmp_path / "checkpoint-20"))
    assert resumed == (_ramp_expected(40)[20:], 40)


# --- Accelerate ---------------------------------------------------------------------------------

def test_accelerate_with_gradient_accumulation():
    accelerate = pytest.importorskip("accelerate")
    acc = accelerate.Accelerator(gradient_accumulation_steps=4, cpu=True)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = LRScheduler(opt, SCHED)
    seen = probe(opt)
    x, y = data(n=8 * 40)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    model, opt, loader, sched = acc.prepare(model, opt, loader, sched)
    for xb, yb in loader:
        with acc.accumulate(model):
            acc.backward(torch.nn.functional.mse_loss(model(xb), yb))
            opt.step()
            sched.step()
            opt.zero_grad()
    assert seen == PLAN[:10]


# --- torch.distributed --------------------------------------------------------------------------

def _ddp_worker(rank, world, rendezvous, out, ckpt, resume):
    import torch.distributed as dist

    # A file rendezvous (no port to race for) and the loopback interface for gloo's traffic.
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank,
                            world_size=world)
    torch.manual_seed(0)
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 1))
    per_rank = 16
    peak = lrkit.scale_lr(0.1, world * per_rank, 16)
    s = lrkit.warmup(lrkit.cosine(peak, 0.0, "3200 samples"), "320 samples")
    opt = torch.optim.SGD(model.parameters(), lr=peak)
    sched = LRScheduler(opt, s, samples_per_step=world * per_rank, on_change="rescale")
    if resume:
        sched.load_state_dict(torch.load(ckpt, weights_only=True))
    seen = probe(opt)
    g = torch.Generator().manual_seed(rank)
    for _ in range(10):
        x = torch.randn(per_rank, 4, generator=g)
        torch.nn.functional.mse_loss(model(x), x.sum(1, keepdim=True)).backward()
        opt.step()
        opt.zero_grad()
    if rank == 0 and not resume:
        torch.save(sched.state_dict(), ckpt)
    torch.save({"seen": seen, "count": sched.count, "peak": peak}, f"{out}.{rank}")
    dist.destroy_process_group()


def _spawn(n, args, tmp_path):
    """Start the gloo workers; once more if one was killed by a signal (gloo under load)."""
    import torch.multiprocessing as mp

    for attempt in range(2):
        try:
            return mp.spawn(_ddp_worker, args=(n, str(tmp_path / f"rdv{n}-{attempt}"), *args),
                            nprocs=n, join=True)
        except mp.ProcessExitedException as e:
            if attempt or e.signal_name is None:
                raise


def test_ddp_ranks_agree_and_resume_at_another_world_size_in_sample_space(tmp_path):
    out, ckpt = str(tmp_path / "seen"), str(tmp_path / "sched.pt")
    _spawn(2, (out, ckpt, False), tmp_path)
    r0, r1 = (torch.load(f"{out}.{r}") for r in (0, 1))
    assert r0["seen"] == r1["seen"] and r0["peak"] == lrkit.scale_lr(0.1, 32, 16) == 0.2
    two = lrkit.warmup(lrkit.cosine(0.2, 0.0, 100), 10)          # 3200 / 32 samples per step
    assert r0["seen"] == [two(k) for k in range(10)]
    _spawn(1, (out, ckpt, True), tmp_path)
    r = torch.load(f"{out}.0")
    one = lrkit.warmup(lrkit.cosine(0.1, 0.0, 200), 20)           # 3200 / 16 samples per step
    # 10 updates of 32 samples = 320 samples = update 20 at 16 samples per step.
    assert r["seen"] == [one(k) for k in range(20, 30)] and r["count"] == 30
