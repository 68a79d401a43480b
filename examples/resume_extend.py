"""A run that changes its plan mid-way, logged to TensorBoard and read back.

The schedule is written in samples (a warmup and a cosine over 30,000 samples) and the batch
size ramps from 8 to 64 (``lrkit.batch_size``), so the LR follows the samples consumed
(``clock="samples"``), not the updates. The run stops at a checkpoint, and resumes with the plan
extended to 60,000 samples (``lrkit.extend``, ``on_change="branch"``): one schedule, the old plan
before the branch point. The monitor writes the LR each update used to TensorBoard; the event
files are read back and compared with the branched schedule at the samples each update had seen.

Run: ``python examples/resume_extend.py [out_dir]`` (needs torch and tensorboard).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import lrkit
from lrkit.monitor import Monitor, TensorBoardWriter
from lrkit.torch import LRScheduler

PLAN = lrkit.warmup(lrkit.cosine(0.05, 0.0, 28_000), 2_000)  # lengths in samples
RAMP = lrkit.batch_size(8, 64, 10_000, multiple_of=8)         # sequences per batch


def train(sched: LRScheduler, opt: torch.optim.Optimizer, model: torch.nn.Module,
          until: int, seen: list[int]) -> None:
    """Train until ``until`` samples are consumed; ``seen`` gets the samples before each update."""
    gen = torch.Generator().manual_seed(sched.consumed)
    while sched.consumed < until:
        n = int(RAMP(sched.consumed))
        x = torch.randn(n, 8, generator=gen)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        loss.backward()
        seen.append(sched.consumed)
        opt.step()
        opt.zero_grad()
        sched.step(samples=n)


def main(out: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    sched = LRScheduler(opt, PLAN, clock="samples")
    mon = Monitor([TensorBoardWriter(str(out / "tb"))]).attach(opt)
    seen: list[int] = []
    train(sched, opt, model, 12_000, seen)
    checkpoint = {"scheduler": sched.state_dict(), "optimizer": opt.state_dict(),
                  "model": model.state_dict()}
    mon.close()
    sched.close()

    # Resume: the same run, its plan extended from the checkpoint on to 60,000 samples.
    model2 = torch.nn.Linear(8, 1)
    model2.load_state_dict(checkpoint["model"])
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.05)
    opt2.load_state_dict(checkpoint["optimizer"])
    at = checkpoint["scheduler"]["consumed"]
    longer = lrkit.extend(PLAN, 60_000, at=at)
    sched2 = LRScheduler(opt2, longer, clock="samples", on_change="branch")
    sched2.load_state_dict(checkpoint["scheduler"])
    mon2 = Monitor([TensorBoardWriter(str(out / "tb"))]).attach(opt2)
    train(sched2, opt2, model2, 60_000, seen)
    mon2.close()

    acc = EventAccumulator(str(out / "tb"))
    acc.Reload()
    logged = sorted((e.step, e.value) for e in acc.Scalars("lr/0"))
    plan = sched2.schedules[0]
    worst = max(abs(v - plan(seen[k])) / plan._top for k, v in logged)
    print(f"plan: {plan}")
    print(f"branch point: {at} samples, after {checkpoint['scheduler']['count']} updates; "
          f"run: {len(seen)} updates, {sched2.consumed} samples")
    print(f"read back from TensorBoard: {len(logged)} updates; largest difference from the "
          f"branched schedule at the samples each had seen: {worst:.1e} of its peak "
          "(float32 event values)")
    for k in (0, 100, checkpoint["scheduler"]["count"] - 1, checkpoint["scheduler"]["count"],
              len(seen) - 1):
        print(f"  update {k:5d}  samples {seen[k]:6d}  batch {int(RAMP(seen[k])):3d}  "
              f"logged {dict(logged)[k]:.6g}  planned {plan(seen[k]):.6g}")
    assert len(logged) == len(seen) and worst < 1e-6


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/resume_extend"))
