"""from_ultralytics against Ultralytics' YOLO trainer, transcribed.

ultralytics cannot be imported here (``ultralytics.utils.torch_utils`` needs opencv), so the
scheduler, warmup and update cadence of ``BaseTrainer`` are transcribed below from the released
ultralytics 8.4.190 (PyPI wheel): ``ultralytics/engine/trainer.py`` (``_setup_scheduler``,
``_get_warmup_iterations``, ``_build_train_pipeline``'s accumulate, ``build_optimizer``'s
three param groups, and the epoch/batch loop of ``_do_train``) and
``ultralytics/utils/torch_utils.py`` (``one_cycle``). The transcription drives a real torch
optimizer (SGD, Adam, … with build_optimizer's arguments) and a real ``torch.optim.LambdaLR``
with numpy's ``np.interp``, and records each group's LR and the momentum at every
``optimizer.step()``; lrkit must agree within 1e-12 of the peak at every update.
"""

import math
import random

import numpy as np
import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._ultralytics import from_ultralytics

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")

# ultralytics/cfg/default.yaml (8.4.190): the keys the trainer's schedule reads
UL_DEFAULTS = dict(epochs=100, time=None, batch=16, optimizer="auto", cos_lr=False, lr0=0.01,
                   lrf=0.01, momentum=0.937, warmup_epochs=3.0, warmup_momentum=0.8,
                   warmup_bias_lr=0.1, nbs=64)


def one_cycle(y1=0.0, y2=1.0, steps=100):  # ultralytics/utils/torch_utils.py
    return lambda x: max((1 - math.cos(x * math.pi / steps)) / 2, 0) * (y2 - y1) + y1


def build_optimizer(name, lr, momentum):
    """BaseTrainer.build_optimizer's groups for three parameters: g[0] weights (decay),
    g[1] normalization weights, g[2] biases, each tagged with "param_group"."""
    g = [[torch.nn.Parameter(torch.zeros(2))] for _ in range(3)]
    optimizers = {"Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSprop", "SGD", "MuSGD", "auto"}
    name = {x.lower(): x for x in optimizers}.get(str(name).lower(), str(name))
    if name in {"Adam", "Adamax", "AdamW", "NAdam", "RAdam"}:
        optim_args = {"lr": lr, "betas": (momentum, 0.999), "weight_decay": 0.0}
    elif name == "RMSprop":
        optim_args = {"lr": lr, "momentum": momentum}
    elif name == "SGD":
        optim_args = {"lr": lr, "momentum": momentum, "nesterov": True}
    g[2] = {"params": g[2], **optim_args, "param_group": "bias"}
    g[0] = {"params": g[0], **optim_args, "weight_decay": 5e-4, "param_group": "weight"}
    g[1] = {"params": g[1], **optim_args, "weight_decay": 0.0, "param_group": "bn"}
    return getattr(torch.optim, name)(params=g)


def ul_run(hyp, nb, epochs=None, accumulate=None):
    """What each optimizer.step() of BaseTrainer._do_train uses: (lrs of groups 0-2, momentum
    or beta1) per update. The loop, warmup and step condition are 8.4.190's, verbatim where
    they touch the schedule; forward/backward are a constant gradient."""
    args = {**UL_DEFAULTS, **hyp}
    if epochs is not None:
        args["epochs"] = epochs
    self_epochs = args["epochs"] or 100
    # _build_train_pipeline
    acc = max(round(args["nbs"] / args["batch"]), 1) if accumulate is None else accumulate
    acc = min(acc, nb * self_epochs)  # not args.time
    optimizer = build_optimizer(args["optimizer"], args["lr0"], args["momentum"])
    # _setup_scheduler
    if args["cos_lr"]:
        lf = one_cycle(1, args["lrf"], self_epochs)
    else:
        lf = lambda x: max(1 - x / self_epochs, 0) * (1.0 - args["lrf"]) + args["lrf"]  # noqa
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lf)
    scheduler.last_epoch = 0 - 1  # _setup_train: start_epoch - 1
    # _do_train
    warmup_epochs = min(args["warmup_epochs"], max(self_epochs - 1, 0))
    nw = round(warmup_epochs * nb) if warmup_epochs > 0 else 0
    last_opt_step = -1
    acc0 = accumulate_now = acc
    params = [p for g in optimizer.param_groups for p in g["params"]]
    out = []
    for epoch in range(self_epochs):
        scheduler.step()
        for i in range(nb):
            ni = i + nb * epoch
            if nw and ni <= nw:
                xi = [0, nw]
                accumulate_now = max(1, int(np.interp(ni, xi, [1, acc0]).round()))
                for x in optimizer.param_groups:
                    x["lr"] = float(np.interp(ni, xi, [
                        args["warmup_bias_lr"] if x.get("param_group") == "bias" else 0.0,
                        x["initial_lr"] * lf(epoch)]))
                    if "momentum" in x:
                        x["momentum"] = float(np.interp(ni, xi, [args["warmup_momentum"],
                                                                 args["momentum"]]))
            for p in params:
                p.grad = torch.ones_like(p)
            if ni - last_opt_step >= accumulate_now:
                groups = optimizer.param_groups
                out.append([g["lr"] for g in groups] +
                           [groups[0].get("momentum", groups[0].get("betas", (None,))[0])])
                optimizer.step()
                optimizer.zero_grad()
                last_opt_step = ni
    return np.array(out)


def close(ours, theirs, what):
    peak = max(float(np.max(np.abs(theirs))), 1e-300)
    diff = np.abs(np.asarray(ours, dtype=float) - theirs)
    bad = np.nonzero(diff > 1e-12 * peak)[0]
    assert not len(bad), f"{what}: first mismatch at update {bad[0]}: ours {ours[bad[0]]!r}, " \
        f"ultralytics {theirs[bad[0]]!r}"


def check(hyp, nb, epochs=None, accumulate=None):
    theirs = ul_run(hyp, nb, epochs, accumulate)
    ours = from_ultralytics(hyp, epochs=epochs, batches_per_epoch=nb, accumulate=accumulate)
    ks = np.arange(len(theirs))
    for col, name in enumerate(["weights", "batchnorm", "biases", "momentum"]):
        close(ours[name].values(ks), theirs[:, col], name)
        # the LR schedules last the run: as many updates as the trainer makes
        assert name == "momentum" or ours[name].duration == len(theirs) or not len(theirs), name
    return ours


def random_hyp(rng):
    pick = rng.choice
    hyp = dict(optimizer=pick(["SGD", "SGD", "sgd", "AdamW", "Adam", "RMSprop", "NAdam"]),
               lr0=pick([0.01, 0.001, rng.uniform(1e-4, 0.1)]),
               lrf=pick([0.01, 0.1, 1.0, rng.uniform(0, 1)]),
               cos_lr=pick([False, True]),
               momentum=pick([0.937, 0.9, rng.uniform(0.5, 0.99)]),
               warmup_epochs=pick([3.0, 0.0, 1, 0.5, 1.33, rng.uniform(0, 6), -1.0]),
               warmup_momentum=pick([0.8, 0.0, rng.uniform(0, 0.95)]),
               warmup_bias_lr=pick([0.1, 0.0, rng.uniform(0, 0.2)]),
               epochs=pick([1, 2, 3, rng.randint(1, 12)]),
               batch=pick([16, 64, 8, 1, rng.randint(1, 100)]),
               nbs=pick([64, 64, 1, rng.randint(1, 256)]))
    for key in rng.sample(sorted(hyp), rng.randint(0, 3)):
        if key != "optimizer":
            del hyp[key]
    if hyp["optimizer"] == "RMSprop" and hyp.get("warmup_momentum") == 0.0:
        # torch's RMSprop makes no momentum buffer at a first step with momentum 0, then fails
        # with KeyError once the warmup raises it: a crash of the optimizer, not the schedule
        hyp["warmup_momentum"] = 0.5
    return hyp


def test_random_hyps_match_the_trainer_at_every_update():
    rng = random.Random(8_4_190)
    for _ in range(150):
        hyp = random_hyp(rng)
        nb = rng.choice([1, 2, 3, 7, rng.randint(1, 60)])
        epochs = rng.choice([None, None, rng.randint(1, 8)])
        accumulate = rng.choice([None, None, None, rng.randint(1, 12)])
        check(hyp, nb, epochs, accumulate)


def test_warmup_accumulation_clock():
    """nbs 64 at batch 16: the warmup ramps accumulate 1 → 4, so the updates come every 1, 2,
    3, then 4 batches; epochs restart neither the count nor the ramp."""
    s = check({"optimizer": "SGD", "epochs": 4, "warmup_epochs": 2}, nb=10)
    ks = np.arange(20)
    assert np.all(np.diff(s["momentum"].values(ks)[:10]) > 0)  # ramping toward 0.937
    assert s["momentum"](10**6) == 0.937


# -- real hyperparameter files -------------------------------------------------------------------

# ultralytics/ultralytics ultralytics/cfg/default.yaml (8.4.190) and ultralytics/yolov5
# data/hyps/*.yaml: the keys the schedule reads. default.yaml's optimizer is 'auto', which is
# refused (test_auto_is_refused); each row names the optimizer the run is read with.
REAL = [
    ("ultralytics/cfg/default.yaml",
     dict(epochs=100, batch=16, nbs=64, cos_lr=False, lr0=0.01, lrf=0.01, momentum=0.937,
          warmup_epochs=3.0, warmup_momentum=0.8, warmup_bias_lr=0.1, time=None)),
    ("yolov5 data/hyps/hyp.scratch-low.yaml",
     dict(lr0=0.01, lrf=0.01, momentum=0.937, warmup_epochs=3.0, warmup_momentum=0.8,
          warmup_bias_lr=0.1)),
    ("yolov5 data/hyps/hyp.scratch-high.yaml",
     dict(lr0=0.01, lrf=0.1, momentum=0.937, warmup_epochs=3.0, warmup_momentum=0.8,
          warmup_bias_lr=0.1)),
    ("yolov5 data/hyps/hyp.VOC.yaml",
     dict(lr0=0.00334, lrf=0.15135, momentum=0.74832, warmup_epochs=3.3835,
          warmup_momentum=0.59462, warmup_bias_lr=0.18657)),
    ("yolov5 data/hyps/hyp.Objects365.yaml",
     dict(lr0=0.00258, lrf=0.17, momentum=0.779, warmup_epochs=1.33, warmup_momentum=0.86,
          warmup_bias_lr=0.0711)),
]


@pytest.mark.parametrize("optimizer", ["SGD", "AdamW"])
@pytest.mark.parametrize("cos_lr", [False, True])
@pytest.mark.parametrize("hyp", [r[1] for r in REAL], ids=[r[0] for r in REAL])
def test_real_hyps(hyp, cos_lr, optimizer):
    # a short run: 12 epochs of 37 batches (COCO has ~7,300 at batch 16)
    check({**hyp, "optimizer": optimizer, "cos_lr": cos_lr}, nb=37, epochs=12)


@pytest.mark.fuzz
def test_default_yaml_full_length():
    """default.yaml's 100 epochs over 200 batches, SGD at batch 16 (accumulate 4)."""
    check({**REAL[0][1], "optimizer": "SGD"}, nb=200)


def test_args_yaml_file(tmp_path):
    p = tmp_path / "args.yaml"
    p.write_text("task: detect\nmode: train\nmodel: yolo11n.pt\nepochs: 5\ntime: null\n"
                 "batch: 32\noptimizer: SGD\ncos_lr: true\nlr0: 0.02\nlrf: 0.05\n"
                 "momentum: 0.9\nwarmup_epochs: 1.5\nwarmup_momentum: 0.8\n"
                 "warmup_bias_lr: 0.1\nnbs: 64\n")
    s = from_ultralytics(p, batches_per_epoch=9)
    hyp = dict(epochs=5, batch=32, optimizer="SGD", cos_lr=True, lr0=0.02, lrf=0.05,
               momentum=0.9, warmup_epochs=1.5, warmup_momentum=0.8, warmup_bias_lr=0.1)
    assert s == check(hyp, nb=9)
    assert from_ultralytics(str(p), batches_per_epoch=9) == s


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("hyp, kw, message", [
    ({}, {}, r"^optimizer: is 'auto': the trainer chooses MuSGD \(lr0=0.01, momentum=0.9\) or "
     r"AdamW \(lr0 from the number of classes\)"),
    ({"optimizer": "MuSGD"}, {}, r"^optimizer: MuSGD splits the groups further"),
    ({"optimizer": "Lion"}, {}, r"^optimizer: unknown optimizer 'Lion'; Ultralytics takes Adam, "
     r"Adamax, AdamW, NAdam, RAdam, RMSprop, SGD, MuSGD or auto$"),
    ({"optimizer": "SGD", "time": 2.5}, {}, r"^time: is 2.5: the trainer re-estimates the "
     r"epochs from the wall clock"),
    ({"optimizer": "SGD", "batch": -1}, {}, r"^batch: is -1: the trainer picks the batch size "
     r"at run time \(AutoBatch\); give accumulate="),
    ({"optimizer": "SGD", "batch": 0.7}, {}, r"^batch: is 0.7: the trainer picks"),
    ({"optimizer": "SGD", "lr0": "0.01"}, {}, r"^lr0: must be a finite number, got '0.01'$"),
    ({"optimizer": "SGD", "lrf": -0.1}, {}, r"^lrf: must be >= 0, got -0.1$"),
    ({"optimizer": "SGD", "cos_lr": "yes"}, {}, r"^cos_lr: must be true or false, got 'yes'$"),
    ({"optimizer": "SGD"}, {"batches_per_epoch": 0},
     r"^batches_per_epoch: must be a whole number >= 1 \(len\(train_loader\)\), got 0$"),
    ({"optimizer": "SGD"}, {"batches_per_epoch": 10, "accumulate": 0},
     r"^accumulate: must be >= 1, got 0$"),
    ({"optimizer": "SGD"}, {"batches_per_epoch": 10, "epochs": 2.5},
     r"^epochs: must be a whole number of steps >= 0, got 2.5$"),
    ({"optimizer": "SGD"}, {"batches_per_epoch": 10, "epochs": 10**6},
     r"^epochs: must be at most 50,000 \(one piece each\), got 1,000,000$"),
    ({"optimizer": "SGD", "warmup_epochs": 10**9, "epochs": 20000},
     {"batches_per_epoch": 1000}, r"^warmup_epochs: gives 19,999,000 warmup batches; lrkit "
     r"replays at most 2,000,000$"),
])
def test_error_messages(hyp, kw, message):
    kw = {"batches_per_epoch": 10, **kw}
    with pytest.raises(lrkit.ConfigError, match=message):
        from_ultralytics(hyp, **kw)


def test_auto_batch_with_accumulate_given():
    check({"optimizer": "SGD", "batch": -1, "epochs": 3}, nb=20, accumulate=4)


def test_not_a_mapping():
    with pytest.raises(lrkit.ScheduleError, match=r"^from_ultralytics: 'hyp' must be a mapping "
                       r"of the run's arguments or the path of its args.yaml, got \[1\]$"):
        from_ultralytics([1], batches_per_epoch=3)


# -- fuzz ------------------------------------------------------------------------------------------

ODD = [None, "abc", "", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 64, 1e9, 10**30, float("nan"),
       float("inf"), True, False, [1], {"a": 1}, "SGD", "adamw", "auto", 1e-7]
KEYS = list(UL_DEFAULTS)


@pytest.mark.fuzz
@budget(400)
@given(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ODD), max_size=6),
       st.sampled_from(ODD), st.sampled_from(ODD), st.sampled_from([None, *ODD]))
def test_odd_values_raise_only_lrkit_errors(hyp, nb, epochs, accumulate):
    hyp = {"optimizer": "SGD", **hyp}
    safe_if_accepted(lambda: from_ultralytics(hyp, epochs=epochs, batches_per_epoch=nb,
                                              accumulate=accumulate))


@pytest.mark.fuzz
@budget(150)
@given(st.randoms(use_true_random=False))
def test_random_hyps_fuzz(rng):
    check(random_hyp(rng), rng.choice([1, 2, rng.randint(1, 80)]),
          rng.choice([None, rng.randint(1, 10)]), rng.choice([None, rng.randint(1, 16)]))
