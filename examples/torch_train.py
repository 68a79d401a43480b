"""Train a small MLP on scikit-learn's bundled digits with an lrkit schedule, in plain PyTorch.

    python examples/torch_train.py                                  # warmup + cosine, 5 epochs
    python examples/torch_train.py --schedule my_schedule.yaml --accumulate 4
    python examples/torch_train.py --epochs 2 --checkpoint run.pt   # stop after 2 epochs …
    python examples/torch_train.py --epochs 5 --checkpoint run.pt --resume   # … and go on

``--schedule`` takes a config file (JSON, TOML or YAML) or an inline JSON mapping; units such
as ``"5ep"`` and ``"10%"`` are bound to this run's steps per epoch and total length.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import torch
from sklearn.datasets import load_digits

import lrkit
from lrkit.torch import LRScheduler

DEFAULT = {"kind": "warmup", "over": "1ep",
           "schedule": {"kind": "cosine", "start": 0.2, "end": 1e-3, "over": "100% - 1ep"}}


def load_schedule(text: str | None) -> lrkit.Schedule:
    if text is None:
        return lrkit.from_config(DEFAULT)
    if Path(text).exists():
        return lrkit.from_config(text)
    return lrkit.from_config(json.loads(text))


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schedule", help="config file or inline JSON (default: warmup + cosine)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--total-epochs", type=int, default=None,
                   help="the planned run length the schedule is bound to (default: --epochs)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--accumulate", type=int, default=1, help="micro-batches per update")
    p.add_argument("--checkpoint", help="save model, optimizer and scheduler here")
    p.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    torch.manual_seed(args.seed)
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target)
    train_x, train_y, test_x, test_y = x[:1500], y[:1500], x[1500:], y[1500:]
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    batches = math.ceil(len(train_x) / args.batch_size)
    updates_per_epoch = batches // args.accumulate
    total = (args.total_epochs or args.epochs) * updates_per_epoch
    sched = LRScheduler(opt, load_schedule(args.schedule), steps_per_epoch=updates_per_epoch,
                        total_steps=total)

    start_epoch = 0
    if args.resume:
        ckpt = torch.load(args.checkpoint, weights_only=True)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start_epoch = ckpt["epoch"]
        torch.set_rng_state(ckpt["rng"])

    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(start_epoch, args.epochs):
        order = torch.randperm(len(train_x))
        for b in range(updates_per_epoch * args.accumulate):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            (loss_fn(model(train_x[idx]), train_y[idx]) / args.accumulate).backward()
            if (b + 1) % args.accumulate == 0:
                opt.step()
                opt.zero_grad()
        with torch.no_grad():
            acc = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}: updates {sched.count}, last lr {sched.get_last_lr()[0]:.5f}, "
              f"next lr {sched.current():.5f}, test accuracy {acc:.3f}")
        if args.checkpoint:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(), "epoch": epoch + 1,
                        "rng": torch.get_rng_state()}, args.checkpoint)
    return {"accuracy": acc, "updates": sched.count, "next_lr": sched.current()}


if __name__ == "__main__":
    main()
