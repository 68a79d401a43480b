"""from_timm on every training recipe in timm's docs, against the real timm scheduler.

The recipes are the ``train.py`` command lines of ``hfdocs/source/training_script.mdx`` in
huggingface/pytorch-image-models (the same commands as the older ``docs/scripts.md`` and
``docs/training_hparam_examples.md``). Each row keeps the recipe's scheduler arguments as
documented; its other arguments (model, optimizer, augmentation) never reach the scheduler.
They are translated as train.py translates them: its argument defaults (``--warmup-epochs 5``,
``--warmup-lr 1e-5``, ``--lr-cycle-decay 0.5``, ``--seed 42``, …), then
``timm.scheduler.scheduler_kwargs(args, decreasing_metric=...)`` and ``updates_per_epoch``.
Each recipe runs per epoch and with ``--sched-on-updates``, full length, every applied LR
compared (five epochs past the end included) at 1e-12 relative to the largest LR, as in
test_timm_parity: over a cosine's last updates timm's ``1 + cos(pi * t / T)`` is off by up to
6e-7 of the tiny LR itself, where lrkit's value is exact.
"""

import argparse
import shlex

import numpy as np
import pytest
from timm_harness import lrkit_applied, timm_applied, timm_scheduler

DOC = "hfdocs/source/training_script.mdx"

# ImageNet-1k at a global batch of 1024 (the documented batch of the SE-ResNet34,
# EfficientNet-ES and MobileNetV3 recipes): len(loader_train) = ceil(1281167 / 4) // 256.
# --decay-epochs 2.4 per update is then a period of 3002.4 updates.
UPDATES_PER_EPOCH = 1251

# (heading in DOC, the recipe's scheduler arguments in its documented order)
RECIPES = [
    ("Training Script (SE-ResNet34)",
     "--sched cosine --epochs 150 --warmup-epochs 5 --lr 0.4"),
    ("EfficientNet-B2 with RandAugment",
     "--sched step --epochs 450 --decay-epochs 2.4 --decay-rate .97 --warmup-lr 1e-6 --lr .016"),
    ("MixNet-XL with RandAugment",
     "--sched step --epochs 450 --decay-epochs 2.4 --decay-rate .969 --warmup-lr 1e-6 "
     "--lr .016"),
    ("SE-ResNeXt-26-D and SE-ResNeXt-26-T",
     "--lr 0.1 --warmup-epochs 5 --epochs 160 --sched cosine"),
    # "EfficientNet-B3 with RandAugment" has no command line: the B2 one, resumed with tweaks
    ("EfficientNet-B0 with RandAugment",
     "--sched step --epochs 450 --decay-epochs 2.4 --decay-rate .97 --warmup-lr 1e-6 --lr .048"),
    ("ResNet50 with JSD loss and RandAugment",
     "--sched cosine --epochs 200 --lr 0.05"),
    ("EfficientNet-ES (EdgeTPU-Small) with RandAugment",
     "--sched step --epochs 450 --decay-epochs 2.4 --decay-rate .97 --warmup-lr 1e-6 --lr .064"),
    ("MobileNetV3-Large-100",
     "--sched step --epochs 600 --decay-epochs 2.4 --decay-rate .973 --warmup-lr 1e-6 "
     "--lr .064 --lr-noise 0.42 0.9"),
    ("ResNeXt-50 32x4d w/ RandAugment",
     "--lr 0.6 --warmup-epochs 5 --epochs 240 --sched cosine"),
]


def train_py_parser():
    """train.py's 'Learning rate schedule parameters' (and --seed, --eval-metric): the names,
    types and defaults that reach scheduler_kwargs."""
    p = argparse.ArgumentParser(allow_abbrev=False)
    add = p.add_argument
    add("--sched", type=str, default="cosine")
    add("--sched-on-updates", action="store_true", default=False)
    add("--lr", type=float, default=None)
    add("--lr-noise", type=float, nargs="+", default=None)
    add("--lr-noise-pct", type=float, default=0.67)
    add("--lr-noise-std", type=float, default=1.0)
    add("--lr-cycle-mul", type=float, default=1.0)
    add("--lr-cycle-decay", type=float, default=0.5)
    add("--lr-cycle-limit", type=int, default=1)
    add("--lr-k-decay", type=float, default=1.0)
    add("--warmup-lr", type=float, default=1e-5)
    add("--min-lr", type=float, default=0)
    add("--epochs", type=int, default=300)
    add("--decay-milestones", type=int, nargs="+", default=[90, 180, 270])
    add("--decay-epochs", type=float, default=90)
    add("--warmup-epochs", type=int, default=5)
    add("--warmup-prefix", action="store_true", default=False)
    add("--cooldown-epochs", type=int, default=0)
    add("--patience-epochs", type=int, default=10)
    add("--decay-rate", "--dr", type=float, default=0.1)
    add("--seed", type=int, default=42)
    add("--eval-metric", type=str, default="top1")
    return p


def create_scheduler_v2_kwargs(argv, updates_per_epoch):
    """The LR and create_scheduler_v2's keyword arguments train.py derives from ``argv``."""
    args = train_py_parser().parse_args(shlex.split(argv))
    assert args.lr is not None  # every documented recipe sets --lr (else lr_base scaling)
    kw = timm_scheduler.scheduler_kwargs(args, decreasing_metric=args.eval_metric == "loss")
    return args.lr, {**kw, "updates_per_epoch": updates_per_epoch}


CASES = [pytest.param(argv + flag, id=f"{DOC.split('/')[-1]}: {heading}: {mode}")
         for heading, argv in RECIPES
         for mode, flag in (("per epoch", ""), ("per update", " --sched-on-updates"))]


@pytest.mark.parametrize("argv", CASES)
def test_documented_recipe(argv):
    lr, kw = create_scheduler_v2_kwargs(argv, UPDATES_PER_EPOCH)
    metrics = [None] * (kw["num_epochs"] + 10)  # no recipe steps on a metric
    want = timm_applied(lr, kw, metrics)
    got = lrkit_applied(lr, kw, metrics, len(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * want.max())


def test_the_translation_follows_train_py():
    lr, kw = create_scheduler_v2_kwargs(RECIPES[7][1] + " --sched-on-updates", 1251)
    want = {"sched": "step", "num_epochs": 600, "decay_epochs": 2.4, "decay_rate": 0.973,
            "warmup_epochs": 5, "warmup_lr": 1e-6, "min_lr": 0, "cooldown_epochs": 0,
            "noise": [0.42, 0.9], "noise_pct": 0.67, "noise_seed": 42, "cycle_decay": 0.5,
            "step_on_epochs": False, "updates_per_epoch": 1251}
    assert lr == 0.064 and {k: kw[k] for k in want} == want
