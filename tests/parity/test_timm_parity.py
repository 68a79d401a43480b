"""from_timm against timm.scheduler.create_scheduler_v2: 300 seeded random configurations over
every scheduler it builds, driven as timm's train.py drives it (``step_update(num_updates)``
after each update, ``step(epoch + 1, metric)`` after each epoch), the LR of every update up to
five epochs past the end, 1e-12 relative to the largest value.
"""

import re

import numpy as np
import pytest
from timm_harness import lrkit_applied, timm_applied, timm_scheduler, torch

import lrkit

SCHEDS = ["cosine", "cosine", "tanh", "poly", "step", "constant", "multistep", "wsd", "rsqrt",
          "plateau", "none"]


def random_config(rng):
    sched = str(rng.choice(SCHEDS))
    pick = lambda *xs: xs[int(rng.integers(0, len(xs)))]  # noqa: E731
    epochs = int(rng.integers(1, 25))
    kw = dict(sched=sched, num_epochs=epochs,
              warmup_epochs=pick(0, 0, int(rng.integers(1, epochs + 1)), epochs),
              warmup_prefix=bool(rng.integers(0, 2)),
              warmup_lr=pick(1e-5, 0.0, float(rng.uniform(0, 0.05))),
              min_lr=pick(0.0, 1e-5, float(rng.uniform(0, 0.01))),
              decay_rate=pick(0.1, 0.5, float(rng.uniform(0.05, 0.95))),
              step_on_epochs=bool(rng.integers(0, 2)),
              updates_per_epoch=pick(0, 1, int(rng.integers(2, 5))),
              cooldown_epochs=pick(0, int(rng.integers(0, 4))))
    if not kw["step_on_epochs"]:
        kw["updates_per_epoch"] = max(kw["updates_per_epoch"], 1)
    if sched in ("cosine", "tanh", "poly"):
        kw.update(cycle_limit=pick(1, 1, 2, int(rng.integers(2, 6))),
                  cycle_mul=pick(1.0, 1.0, 1.5, 2.0, 3.0, float(rng.uniform(1.0, 2.5))),
                  cycle_decay=pick(0.1, 1.0, 0.5, float(rng.uniform(0.2, 1.0))),
                  k_decay=pick(1.0, 1.0, 2.0, 0.5) if sched != "tanh" else 1.0)
    if sched == "step":
        # 2.4: timm's documented EfficientNet/MixNet/MobileNetV3 recipes (--decay-epochs 2.4)
        kw["decay_epochs"] = pick(None, int(rng.integers(1, 10)), 2.0, 2.4,
                                  float(rng.uniform(0.3, 5.0)))
    if sched == "multistep":
        ms = sorted(int(m) for m in rng.integers(0, epochs + 2, size=int(rng.integers(0, 4))))
        kw["decay_milestones"] = pick(ms, [0, 1, epochs], [1, 1, 3], ms)
    if sched in ("wsd", "rsqrt"):
        room = epochs if kw["warmup_prefix"] else epochs - kw["warmup_epochs"]
        if room <= 0:
            kw["warmup_epochs"], room = 0, epochs
        kw["decay_epochs"] = pick(None, float(rng.uniform(0.05, 0.95)),
                                  int(rng.integers(1, room + 1)))
        kw["decay_fn"] = pick(None, "linear", "1-sqrt", "cosine", "power")
        if sched == "rsqrt":
            kw["min_lr"] = 0.0
            kw["stable_timescale"] = pick(None, int(rng.integers(1, 6)))
            if kw["stable_timescale"] is None and kw["warmup_epochs"] == 0:
                kw["stable_timescale"] = 3
    if sched == "plateau":
        kw.update(step_on_epochs=True, patience_epochs=int(rng.integers(0, 4)),
                  plateau_mode=pick("min", "max"))
    if rng.integers(0, 3) == 0 and sched != "none":
        kw.update(noise=pick(0.5, [0.2, 0.8], [0.3], [0.0, 1.0], 0.0),
                  noise_pct=pick(0.67, 0.3), noise_std=pick(1.0, 0.5),
                  noise_seed=int(rng.integers(0, 1000)))
        if sched == "plateau":
            kw["min_lr"] = 0.0
    lr = pick(0.1, 1.0, float(rng.uniform(1e-3, 1.0)))
    return lr, kw


CONFIGS = [random_config(np.random.default_rng(7000 + i)) for i in range(300)]


@pytest.mark.parametrize("lr,kw", CONFIGS, ids=[f"{c[1]['sched']}-{i}" for i, c in
                                                 enumerate(CONFIGS)])
@pytest.mark.filterwarnings("ignore:PlateauLRScheduler is deprecated")
def test_parity(lr, kw):
    metrics = np.random.default_rng(1).uniform(0, 1, size=10_000).tolist()
    try:
        want = timm_applied(lr, kw, metrics)
    except ValueError as e:  # timm refuses the configuration: so must lrkit, for its reason
        with pytest.raises(lrkit.ScheduleError, match="decay_epochs"):
            lrkit.from_timm(lr, **kw)
        assert "decay_epochs" in str(e)
        return
    got = lrkit_applied(lr, kw, metrics, len(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(want.max(), 1e-300))


def test_the_generator_reaches_every_option():
    seen = {(kw["sched"], kw["warmup_prefix"], kw["warmup_epochs"] > 0) for _, kw in CONFIGS}
    for sched in ("cosine", "tanh", "poly", "step", "multistep"):
        assert {(sched, p, True) for p in (True, False)} <= seen, sched
    assert any(kw.get("noise") is not None for _, kw in CONFIGS)
    assert any(kw.get("cycle_mul", 1.0) not in (1.0, 2.0) and kw.get("cycle_limit", 1) > 2
               for _, kw in CONFIGS)
    assert any(kw["step_on_epochs"] and kw["updates_per_epoch"] > 1 for _, kw in CONFIGS)
    assert any(kw.get("k_decay", 1.0) != 1.0 for _, kw in CONFIGS)


def test_a_cycle_start_that_timms_logarithm_misses():
    # cycles of 1, 3, 9, 27, 81 epochs: cycle 5 starts at epoch 121, where
    # log(243)/log(3) lands below 5, so timm gives that epoch min_lr, not the next peak
    kw = dict(sched="cosine", num_epochs=1, cycle_mul=3.0, cycle_limit=6, cycle_decay=1.0,
              min_lr=0.01)
    want = timm_applied(1.0, {**kw, "updates_per_epoch": 0, "step_on_epochs": True}, [0] * 500)
    s = lrkit.from_timm(1.0, **kw)
    assert want[121] == 0.01 and want[122] > 0.9
    assert s(121) == pytest.approx(0.01, abs=1e-15) and s(122) == pytest.approx(want[122])


@pytest.mark.parametrize("kw,message", [
    (dict(sched="cosinus"), "from_timm: unknown sched 'cosinus'; timm's schedulers are 'cosine', "
     "'tanh', 'step', 'constant', 'multistep', 'plateau', 'poly', 'wsd', 'rsqrt', 'none'"),
    (dict(epochs=10), "from_timm: unknown argument(s) epochs; create_scheduler_v2 takes sched, "
     "num_epochs,"),
    (dict(step_on_epochs=False), "from_timm: step_on_epochs=False requires updates_per_epoch > 0"),
    (dict(sched="wsd", decay_fn="exp"), "from_timm: decay_fn 'exp' is not reproduced"),
    (dict(sched="rsqrt", min_lr=1e-5, warmup_epochs=5), "from_timm: rsqrt with min_lr > 0"),
    (dict(noise=0.5, noise_pct=1.5), "from_timm: noise_pct=1.5 lets the noise reach -100%"),
    (dict(sched="multistep", decay_milestones=[30, 10]), "from_timm: decay_milestones [30, 10] "
     "must be sorted"),
])
def test_what_cannot_be_read_says_why(kw, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.from_timm(0.1, **kw)
    assert str(info.value).startswith(message)


# -- from_timm(<a timm scheduler instance>): the instance itself, stepped as train.py steps it
#    (its value from construction, then step(t) or step_update(t) from t = 1) --

def random_instance(rng, opt):
    pick = lambda *xs: xs[int(rng.integers(0, len(xs)))]  # noqa: E731
    cls = pick("CosineLRScheduler", "TanhLRScheduler", "PolyLRScheduler", "StepLRScheduler",
               "MultiStepLRScheduler", "PlateauLRScheduler")
    t = int(rng.integers(1, 30))
    kw = dict(warmup_t=pick(0, int(rng.integers(1, 6))), warmup_lr_init=pick(0.0, 1e-3))
    if cls in ("CosineLRScheduler", "TanhLRScheduler", "PolyLRScheduler"):
        kw.update(t_initial=t, lr_min=pick(0.0, 1e-4), cycle_limit=pick(1, 3),
                  cycle_mul=pick(1.0, 2.0), cycle_decay=pick(1.0, 0.5),
                  warmup_prefix=bool(rng.integers(0, 2)))
        if cls != "TanhLRScheduler":
            kw["k_decay"] = pick(1.0, 2.0)
        else:
            kw.update(lb=pick(-7.0, -5.0), ub=pick(3.0, 4.0))
        if cls == "PolyLRScheduler":
            kw["power"] = pick(0.5, 1.0, 2.0)
    elif cls == "StepLRScheduler":
        kw.update(decay_t=pick(t, 2.4), decay_rate=pick(0.5, 0.1))
    elif cls == "MultiStepLRScheduler":
        kw.update(decay_t=sorted(int(m) for m in rng.integers(1, 40, size=3)), decay_rate=0.5)
    else:
        kw.update(patience_t=int(rng.integers(0, 4)), decay_rate=0.5, mode=pick("min", "max"),
                  cooldown_t=pick(0, 2), threshold=pick(1e-4, 0.1), lr_min=pick(0.0, 1e-3))
    if cls != "PlateauLRScheduler":
        kw["t_in_epochs"] = bool(rng.integers(0, 2))
    if rng.integers(0, 3) == 0 and cls != "PlateauLRScheduler":
        kw.update(noise_range_t=(int(rng.integers(0, 10)), int(rng.integers(10, 40))),
                  noise_pct=0.3, noise_seed=int(rng.integers(0, 100)))
    return cls, getattr(timm_scheduler, cls)(opt, **kw), kw


@pytest.mark.parametrize("seed", range(80))
@pytest.mark.filterwarnings("ignore:PlateauLRScheduler is deprecated")
def test_scheduler_instance(seed):
    rng = np.random.default_rng(9000 + seed)
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * (i + 1)}
              for i in range(2)]
    if rng.integers(0, 2):
        groups[1]["lr_scale"] = 0.5
    opt = torch.optim.SGD(groups, lr=0.1)
    cls, sched, kw = random_instance(rng, opt)
    imports = [lrkit.from_timm(sched, group=g) for g in range(2)]
    states = [s.init() if cls == "PlateauLRScheduler" else None for s in imports]
    metrics = rng.uniform(0, 1, size=120)
    got, want = [], []
    for t in range(120):
        if t:
            if kw.get("t_in_epochs", True):
                sched.step(t, metrics[t])
            else:
                sched.step_update(t)
            if cls == "PlateauLRScheduler" and t > kw["warmup_t"]:
                states = [s.observe(st, metrics[t]) for s, st in zip(imports, states)]
        got.append([g["lr"] for g in opt.param_groups])
        want.append([s.value(t, st) if st is not None else s(t)
                     for s, st in zip(imports, states)])
    got, want = np.array(got), np.array(want)
    np.testing.assert_allclose(want, got, rtol=1e-12, atol=1e-12 * got.max())


def test_scheduler_instance_refusals_say_why():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    cases = [
        (timm_scheduler.CosineLRScheduler(opt, t_initial=10, noise_range_t=5),
         {}, "from_timm: CosineLRScheduler with noise_range_t=5 draws noise for ever; give it "
         "an end: noise_range_t=(start, end)"),
        (timm_scheduler.CosineLRScheduler(opt, t_initial=10), {"num_epochs": 10},
         "from_timm: with a scheduler instance, only 'group' is taken, got num_epochs"),
        (timm_scheduler.StepLRScheduler(opt, decay_t=3), {"group": 1},
         "from_timm: no param group 1; the optimizer has groups 0..0"),
    ]
    if hasattr(timm_scheduler, "WSDLRScheduler"):
        import inspect
        wsd = timm_scheduler.WSDLRScheduler
        args = {p: 10 for p, v in inspect.signature(wsd).parameters.items()
                if p != "optimizer" and v.default is inspect.Parameter.empty}
        cases.append((wsd(opt, **args), {}, "from_timm: WSDLRScheduler is not a timm scheduler "
                      "lrkit reads; known: CosineLRScheduler, TanhLRScheduler"))
    for sched, kw, message in cases:
        with pytest.raises(lrkit.ScheduleError) as info:
            lrkit.from_timm(sched, **kw)
        assert str(info.value).startswith(message)


# timm's train.py arguments (its args.yaml): from_train_args must give what from_timm gives for
# the keyword arguments timm's own scheduler_kwargs derives from them (from_timm's values are
# checked against timm above).
TRAIN_ARGS = {"sched": ["cosine", "step", "multistep", "tanh", "poly", "plateau", "wsd"],
              "epochs": [10, 90], "decay_epochs": [2.4, 30], "decay_milestones": [[3, 6]],
              "warmup_epochs": [0, 3], "cooldown_epochs": [0, 2], "patience_epochs": [2],
              "decay_rate": [0.5, 0.973], "min_lr": [0.0, 1e-6], "warmup_lr": [1e-6],
              "warmup_prefix": [True, False], "lr_noise": [None, [0.4, 0.9]],
              "lr_noise_pct": [0.5], "seed": [0, 7], "lr_cycle_mul": [1.0, 2.0],
              "lr_cycle_limit": [1, 3], "lr_k_decay": [1.0, 0.5],
              "eval_metric": ["top1", "loss"], "sched_on_updates": [True, False],
              "model": ["resnet50"], "batch_size": [128]}


@pytest.mark.parametrize("seed", range(60))
def test_train_args_as_timm_reads_them(seed):
    import types

    from lrkit.interop._timm import from_train_args

    rng = np.random.default_rng(seed)
    keys = [k for k in TRAIN_ARGS if k == "sched" or rng.random() < 0.5]
    args = {k: TRAIN_ARGS[k][int(rng.integers(len(TRAIN_ARGS[k])))] for k in keys}
    args["lr"] = 0.1
    kw = timm_scheduler.scheduler_factory.scheduler_kwargs(types.SimpleNamespace(**args))
    try:
        want = lrkit.from_timm(0.1, **kw, updates_per_epoch=5)
    except lrkit.ScheduleError as e:  # a combination timm refuses too (wsd's decay too long)
        with pytest.raises(lrkit.ScheduleError, match=re.escape(str(e))):
            from_train_args(args, updates_per_epoch=5)
        return
    assert from_train_args(args, updates_per_epoch=5) == want


def test_train_args_without_an_lr():
    from lrkit.interop._timm import from_train_args

    with pytest.raises(lrkit.ConfigError, match="lr: is null: timm's train.py derives it"):
        from_train_args({"sched": "cosine", "lr": None})
    assert from_train_args({"sched": "cosine", "lr": None}, lr=0.5)(0) == 1e-5  # warmup_lr
