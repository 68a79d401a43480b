"""from_mmengine against mmengine's own scheduler classes (mmengine.optim.scheduler, 0.10.7),
built by mmengine's registry as its Runner builds them (``end`` defaulting to the train loop's
length, ``convert_to_iter_based``) and stepped as its ParamSchedulerHook steps them: after every
update the iteration-based ones, after every epoch the epoch-based ones, in list order. The
value each optimizer update uses is compared at every update, 1e-12 relative to the largest.

mmdetection's QuadraticWarmupLR is not installable here (mmdet is not installed): it is
transcribed below from open-mmlab/mmdetection, mmdet/engine/schedulers/quadratic_warmup.py
(mmdet 3.x, the version mmyolo's and mmdet's YOLOX configs use), and registered in mmengine's
PARAM_SCHEDULERS registry so the same build path drives it.
"""

import warnings

import numpy as np
import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._mmengine import INF, from_mmengine

mmengine = pytest.importorskip("mmengine")
torch = pytest.importorskip("torch")
from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin  # noqa: E402
from mmengine.optim.scheduler.momentum_scheduler import MomentumSchedulerMixin  # noqa: E402
from mmengine.optim.scheduler.param_scheduler import _ParamScheduler  # noqa: E402
from mmengine.registry import PARAM_SCHEDULERS  # noqa: E402


# --- transcribed: mmdet/engine/schedulers/quadratic_warmup.py (mmdetection 3.x) ---------------
class QuadraticWarmupParamScheduler(_ParamScheduler):
    def __init__(self, optimizer, param_name, begin=0, end=INF, last_step=-1, by_epoch=True,
                 verbose=False):
        if end >= INF:
            raise ValueError("``end`` must be less than infinity")
        self.total_iters = end - begin
        super().__init__(optimizer=optimizer, param_name=param_name, begin=begin, end=end,
                         last_step=last_step, by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, by_epoch=True, epoch_length=None,
                              **kwargs):
        assert by_epoch
        assert epoch_length is not None and epoch_length > 0
        by_epoch = False
        begin = begin * epoch_length
        if end != INF:
            end = end * epoch_length
        return cls(*args, begin=begin, end=end, by_epoch=by_epoch, **kwargs)

    def _get_value(self):
        if self.last_step == 0:
            return [base_value * (2 * self.last_step + 1) / self.total_iters**2
                    for base_value in self.base_values]
        return [group[self.param_name] + base_value * (2 * self.last_step + 1)
                / self.total_iters**2
                for base_value, group in zip(self.base_values, self.optimizer.param_groups)]


class QuadraticWarmupLR(LRSchedulerMixin, QuadraticWarmupParamScheduler):
    pass


class QuadraticWarmupMomentum(MomentumSchedulerMixin, QuadraticWarmupParamScheduler):
    pass


for _cls in (QuadraticWarmupParamScheduler, QuadraticWarmupLR, QuadraticWarmupMomentum):
    PARAM_SCHEDULERS.register_module(module=_cls, force=True)
# ------------------------------------------------------------------------------------------------


def mmengine_values(cfgs, base, *, epoch_length=1, epochs=None, iters=None, hyperparam="lr",
                    updates=None, optimizer="SGD"):
    """The value of ``hyperparam`` each update uses, mmengine driving the schedulers.

    ``epochs``/``iters``: the train loop (EpochBasedTrainLoop / IterBasedTrainLoop), which
    sets the default ``end`` as mmengine's Runner._build_param_scheduler does; ``updates``:
    how many updates to run (default: the loop's length)."""
    p = torch.nn.Parameter(torch.zeros(1))
    if optimizer == "Adam":
        opt = torch.optim.Adam([p], lr=base if hyperparam == "lr" else 0.1,
                               betas=(base if hyperparam == "momentum" else 0.9, 0.999))
    else:
        kw = {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}
        kw[hyperparam] = base
        opt = torch.optim.SGD([p], **kw)
    if isinstance(cfgs, dict):
        cfgs = [cfgs]
    loop_epochs = epochs if epochs is not None else (1 if iters is not None else None)
    loop_iters = iters if iters is not None else (
        epochs * epoch_length if epochs is not None else None)
    schedulers = []
    for c in cfgs:  # mmengine/runner/runner.py, Runner._build_param_scheduler
        c = dict(c)
        c["type"] = c["type"].split(".")[-1]
        if loop_epochs is not None:
            c.setdefault("end", loop_epochs if c.get("by_epoch", True) else loop_iters)
        schedulers.append(PARAM_SCHEDULERS.build(
            c, default_args=dict(optimizer=opt, epoch_length=epoch_length)))
    n = updates if updates is not None else loop_iters
    key = hyperparam
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(n):
            g = opt.param_groups[0]
            out.append(g["betas"][0] if key == "momentum" and "betas" in g else g[key])
            if k < 2:  # (later updates skip SGD's own step: it never writes the group's values)
                opt.step()
            # mmengine/hooks/param_scheduler_hook.py: after_train_iter, then after_train_epoch
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
            if iters is None and (k + 1) % epoch_length == 0:
                for s in schedulers:
                    if s.by_epoch:
                        s.step()
    return np.array(out, dtype=np.float64)


def check(cfgs, base, *, epoch_length=1, epochs=None, iters=None, hyperparam="lr",
          updates=None, optimizer="SGD", **kw):
    theirs = mmengine_values(cfgs, base, epoch_length=epoch_length, epochs=epochs, iters=iters,
                             hyperparam=hyperparam, updates=updates, optimizer=optimizer)
    s = from_mmengine(cfgs, base_lr=base, epoch_length=epoch_length, max_epochs=epochs,
                      max_iters=iters, hyperparam=hyperparam, **kw)
    ours = np.asarray(s.values(np.arange(len(theirs))), dtype=np.float64)
    peak = max(float(np.max(np.abs(theirs))), 1e-300)
    err = np.abs(ours - theirs)
    bad = np.flatnonzero(err > 1e-12 * peak)
    assert not bad.size, (f"first mismatch at update {bad[0]}: lrkit {ours[bad[0]]!r}, "
                          f"mmengine {theirs[bad[0]]!r}; {s!r}")
    return s


# --- random configurations -------------------------------------------------------------------

KINDS = ["LinearLR", "ConstantLR", "CosineAnnealingLR", "PolyLR", "MultiStepLR", "StepLR",
         "ExponentialLR", "OneCycleLR", "CosineRestartLR", "QuadraticWarmupLR"]


def random_scheduler(rng, horizon_epochs, length):
    pick = lambda *xs: xs[int(rng.integers(0, len(xs)))]  # noqa: E731
    kind = pick(*KINDS)
    by_epoch = bool(rng.integers(0, 2))
    convert = by_epoch and bool(rng.integers(0, 2))
    span = horizon_epochs if by_epoch else horizon_epochs * length
    begin = pick(0, 0, int(rng.integers(0, max(span // 2, 1))))
    end = begin + int(rng.integers(1, span + 2))
    c = dict(type=kind, by_epoch=by_epoch, begin=begin, end=end)
    if convert:
        c["convert_to_iter_based"] = True
    if rng.random() < 0.1 and kind not in ("QuadraticWarmupLR", "OneCycleLR"):
        del c["end"]  # the loop's length, or mmengine's INF
    n = c.get("end", span) - begin
    if kind == "LinearLR":
        c.update(start_factor=pick(0.001, 1 / 3, float(rng.uniform(0.01, 1))),
                 end_factor=pick(1.0, 1.0, float(rng.uniform(0, 1))))
    elif kind == "ConstantLR":
        c.update(factor=pick(1 / 3, 0.5, 1.0, float(rng.uniform(0.01, 1))))
    elif kind == "CosineAnnealingLR":
        c.update(eta_min=pick(None, 0.0, float(rng.uniform(0, 0.05))))
        if rng.random() < 0.4:
            c["T_max"] = int(rng.integers(1, max(n, 1) + 3))
        if rng.random() < 0.2:
            c.pop("eta_min")
            c["eta_min_ratio"] = pick(0.0, float(rng.uniform(0, 0.5)))
    elif kind == "PolyLR":
        c.update(eta_min=pick(0.0, 0.0, float(rng.uniform(0, 0.05))),
                 power=pick(1.0, 0.9, 2.0, float(rng.uniform(0.1, 3))))
    elif kind == "MultiStepLR":
        c.update(milestones=sorted(int(m) for m in rng.integers(0, n + 2, int(rng.integers(1, 4)))),
                 gamma=pick(0.1, 0.5, float(rng.uniform(0.05, 1.5))))
    elif kind == "StepLR":
        c.update(step_size=int(rng.integers(1, max(n // 2, 1) + 2)),
                 gamma=pick(0.1, 0.5, float(rng.uniform(0.05, 1.2))))
    elif kind == "ExponentialLR":
        c.update(gamma=pick(0.9, 0.99, float(rng.uniform(0.5, 1.05))))
    elif kind == "OneCycleLR":
        c.update(eta_max=float(rng.uniform(0.05, 1.0)), pct_start=pick(0.3, 0.25, 0.4),
                 anneal_strategy=pick("cos", "linear"), three_phase=bool(rng.integers(0, 2)),
                 div_factor=pick(25.0, 10.0), final_div_factor=pick(1e4, 100.0))
    elif kind == "CosineRestartLR":
        periods = [int(p) for p in rng.integers(1, max(n // 2, 1) + 2, int(rng.integers(1, 4)))]
        c.update(periods=periods, restart_weights=[pick(1.0, 0.5, float(rng.uniform(0, 1)))
                                                  for _ in periods],
                 eta_min=float(rng.uniform(0, 0.01)))
    return c


def random_case(seed):
    rng = np.random.default_rng(seed)
    length = int(rng.integers(1, 5))
    horizon = int(rng.integers(2, 12))
    cfgs = [random_scheduler(rng, horizon, length) for _ in range(int(rng.integers(1, 4)))]
    if rng.random() < 0.5:  # one after the other, as real configs chain a warmup and a decay
        at = 0
        for c in cfgs:
            unit = 1 if c["by_epoch"] else length
            size = c["end"] - c["begin"] if "end" in c else horizon
            c["begin"] = -(-at // unit)
            c["end"] = c["begin"] + size
            at = c["end"] * unit
    loop = int(rng.integers(0, 3))
    return dict(cfgs=cfgs, base=float(rng.choice([0.1, 0.02, float(rng.uniform(0.001, 2))])),
                epoch_length=length, epochs=horizon if loop == 1 else None,
                updates=(horizon + 2) * length)


def run_case(case):
    """Returns 'accepted' or 'refused'; fails where lrkit accepts something mmengine gives
    other values for, or raises other than ScheduleError."""
    try:
        theirs_ok = True
        mmengine_values(case["cfgs"], case["base"], epoch_length=case["epoch_length"],
                        epochs=case["epochs"], updates=case["updates"])
    except (ValueError, AssertionError, ZeroDivisionError, KeyError, TypeError):
        theirs_ok = False
    try:
        s = from_mmengine(case["cfgs"], base_lr=case["base"], epoch_length=case["epoch_length"],
                          max_epochs=case["epochs"])
    except lrkit.ScheduleError:
        return "refused"
    assert theirs_ok, f"lrkit accepted a configuration mmengine rejects: {case}"
    check(case["cfgs"], case["base"], epoch_length=case["epoch_length"], epochs=case["epochs"],
          updates=case["updates"])
    assert s is not None
    return "accepted"


def test_fixed_random_configurations():
    """150 seeded configurations of 1-3 schedulers: every one accepted matches mmengine at
    every update; most are accepted."""
    results = [run_case(random_case(seed)) for seed in range(150)]
    assert results.count("accepted") >= 100, results.count("accepted")


@pytest.mark.fuzz
@budget(300)
@given(st.integers(0, 2**32 - 1))
def test_random_configurations(seed):
    run_case(random_case(seed))


# --- hand-picked cases: every convention at its boundary ----------------------------------------

CASES = [
    # LinearLR reaches end_factor at end - 1; ConstantLR restores at end - 1 (not at end)
    ([dict(type="LinearLR", start_factor=0.25, by_epoch=False, begin=0, end=5)], {}),
    ([dict(type="ConstantLR", factor=0.5, by_epoch=False, begin=2, end=6)], {}),
    # end = begin + 1: a single step keeps its factor for good
    ([dict(type="LinearLR", start_factor=0.5, by_epoch=False, begin=0, end=1)], {}),
    ([dict(type="ConstantLR", factor=0.5, by_epoch=False, begin=3, end=4)], {}),
    # a milestone at 0 counts at step 0; a repeated one twice; one past end - 1 never
    ([dict(type="MultiStepLR", milestones=[0, 3, 3, 9], gamma=0.5, by_epoch=False, end=8)], {}),
    # epoch-based with an epoch length: the value changes once per epoch
    ([dict(type="StepLR", step_size=2, gamma=0.5, by_epoch=True)], dict(epoch_length=3)),
    ([dict(type="ExponentialLR", gamma=0.9, by_epoch=True, begin=1, end=5)],
     dict(epoch_length=4)),
    # a cosine past T_max rises again from eta_min to the base value
    ([dict(type="CosineAnnealingLR", T_max=4, eta_min=0.01, by_epoch=False, end=14)], {}),
    ([dict(type="CosineAnnealingLR", T_max=3, by_epoch=False, begin=0, end=11)], {}),
    # … also when a warmup left it another value before
    ([dict(type="LinearLR", start_factor=0.5, end_factor=0.8, by_epoch=False, end=4),
      dict(type="CosineAnnealingLR", T_max=3, eta_min=0.02, by_epoch=False, begin=4, end=15)],
     {}),
    # eta_min_ratio is of the base value, not of the value the cosine starts from
    ([dict(type="LinearLR", start_factor=0.1, end_factor=0.5, by_epoch=False, end=3),
      dict(type="CosineAnnealingLR", eta_min_ratio=0.3, by_epoch=False, begin=3, end=12)], {}),
    # PolyLR reaches eta_min at end - 1
    ([dict(type="PolyLR", eta_min=0.01, power=2.0, by_epoch=False, begin=2, end=9)], {}),
    # factors multiply where they overlap, epoch- and iteration-based together
    ([dict(type="LinearLR", start_factor=0.01, by_epoch=False, end=7),
      dict(type="MultiStepLR", milestones=[1, 2], gamma=0.1, by_epoch=True, end=4),
      dict(type="CosineAnnealingLR", by_epoch=True, begin=0, end=4)], dict(epoch_length=3)),
    # convert_to_iter_based: lengths in epochs, stepping per iteration, int(begin·length)
    ([dict(type="LinearLR", start_factor=0.1, by_epoch=True, end=1.5, convert_to_iter_based=True),
      dict(type="StepLR", step_size=1, gamma=0.5, by_epoch=True, begin=2, end=5,
           convert_to_iter_based=True)], dict(epoch_length=3)),
    # OneCycleLR: phase ends one step early, its base value for the schedulers after it
    ([dict(type="OneCycleLR", eta_max=1.0, total_steps=20, by_epoch=False, end=21)], {}),
    ([dict(type="OneCycleLR", eta_max=0.5, total_steps=10, three_phase=True,
           anneal_strategy="linear", by_epoch=False, end=10),
      dict(type="CosineAnnealingLR", eta_min_ratio=0.5, by_epoch=False, begin=10, end=16)], {}),
    # CosineRestartLR: restarts from base · weight, holds after the last period
    ([dict(type="CosineRestartLR", periods=[3, 4, 1], restart_weights=[1.0, 0.5, 0.25],
           eta_min=0.001, by_epoch=False)], {}),
    ([dict(type="QuadraticWarmupLR", by_epoch=True, end=2, convert_to_iter_based=True),
      dict(type="CosineAnnealingLR", eta_min=0.005, by_epoch=True, begin=2, end=6,
           convert_to_iter_based=True)], dict(epoch_length=3)),
    # the train loop's length is the default end
    ([dict(type="CosineAnnealingLR", eta_min=0.001, by_epoch=True)],
     dict(epoch_length=2, epochs=7)),
    ([dict(type="PolyLR", power=0.9, by_epoch=False)], dict(iters=30)),
    ([dict(type="LinearLR", start_factor=0.1, by_epoch=True, convert_to_iter_based=True)],
     dict(iters=12, epoch_length=4)),
    # schedulers of another hyperparameter are left out
    ([dict(type="CosineAnnealingMomentum", eta_min=0.8, by_epoch=False, end=9),
      dict(type="StepLR", step_size=3, by_epoch=False)], {}),
]


@pytest.mark.parametrize("cfgs, kw", CASES)
def test_conventions(cfgs, kw):
    check(cfgs, 0.1, updates=kw.pop("updates", 40), **kw)


def test_momentum_and_weight_decay():
    cyc = [dict(type="CosineAnnealingMomentum", eta_min=0.85, by_epoch=False, end=10),
           dict(type="StepLR", step_size=2, by_epoch=False),
           dict(type="LinearMomentum", start_factor=0.9, by_epoch=False, begin=10, end=14)]
    check(cyc, 0.95, hyperparam="momentum", updates=20)
    check(cyc, 0.95, hyperparam="momentum", updates=20, optimizer="Adam")  # beta1
    wd = [dict(type="CosineAnnealingParamScheduler", param_name="weight_decay", eta_min=0.1,
               by_epoch=False, end=12),
          dict(type="CosineAnnealingLR", by_epoch=False, end=5)]
    check(wd, 0.05, hyperparam="weight_decay", updates=20)


# --- real configs ------------------------------------------------------------------------------
# Each row: the repository and file, its param_scheduler (the numbers the file computes written
# out), the optimizer's lr, the train loop; epoch_length is ours (a dataloader's length).

def _rtmdet(base_lr, start):
    return [dict(type="LinearLR", start_factor=start, by_epoch=False, begin=0, end=1000),
            dict(type="CosineAnnealingLR", eta_min=base_lr * 0.05, begin=150, end=300,
                 T_max=150, by_epoch=True, convert_to_iter_based=True)]


def _yolox(base_lr, last):
    return [dict(type="mmdet.QuadraticWarmupLR", by_epoch=True, begin=0, end=5,
                 convert_to_iter_based=True),
            dict(type="CosineAnnealingLR", eta_min=base_lr * 0.05, begin=5, T_max=300 - last,
                 end=300 - last, by_epoch=True, convert_to_iter_based=True),
            dict(type="ConstantLR", by_epoch=True, factor=1, begin=300 - last, end=300)]


REAL = [
    ("open-mmlab/mmdetection configs/_base_/schedules/schedule_1x.py",
     [dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
      dict(type="MultiStepLR", begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)],
     0.02, dict(epochs=12, epoch_length=100)),
    ("open-mmlab/mmdetection configs/rtmdet/rtmdet_l_8xb32-300e_coco.py",
     _rtmdet(0.004, 1.0e-5), 0.004, dict(epochs=300, epoch_length=7)),
    ("open-mmlab/mmdetection configs/yolox/yolox_s_8xb8-300e_coco.py",
     _yolox(0.01, 15), 0.01, dict(epochs=300, epoch_length=4)),
    ("open-mmlab/mmdetection configs/mask2former/mask2former_r50_8xb2-lsj-50e_coco-panoptic.py",
     [dict(type="MultiStepLR", begin=0, end=368750, by_epoch=False,
           milestones=[327778, 355092], gamma=0.1)], 0.0001, dict(iters=368750)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs1024_adamw_swin.py",
     [dict(type="LinearLR", start_factor=1e-3, by_epoch=True, end=20,
           convert_to_iter_based=True),
      dict(type="CosineAnnealingLR", eta_min=1e-5, by_epoch=True, begin=20)],
     5e-4 * 1024 / 512, dict(epochs=300, epoch_length=5)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs256.py",
     dict(type="MultiStepLR", by_epoch=True, milestones=[30, 60, 90], gamma=0.1),
     0.1, dict(epochs=100, epoch_length=3)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs256_coslr.py",
     dict(type="CosineAnnealingLR", T_max=100, by_epoch=True, begin=0, end=100),
     0.1, dict(epochs=100, epoch_length=3)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs2048_rsb.py",
     [dict(type="LinearLR", start_factor=0.0001, by_epoch=True, begin=0, end=5,
           convert_to_iter_based=True),
      dict(type="CosineAnnealingLR", T_max=95, eta_min=1.0e-6, by_epoch=True, begin=5,
           end=100)], 0.005, dict(epochs=100, epoch_length=7)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/imagenet_bs4096_AdamW.py",
     [dict(type="LinearLR", start_factor=1e-4, by_epoch=True, begin=0, end=30,
           convert_to_iter_based=True),
      dict(type="CosineAnnealingLR", T_max=270, by_epoch=True, begin=30, end=300)],
     0.003, dict(epochs=300, epoch_length=3)),
    ("open-mmlab/mmpretrain configs/_base_/schedules/cifar10_bs128.py",
     dict(type="MultiStepLR", by_epoch=True, milestones=[100, 150], gamma=0.1),
     0.1, dict(epochs=200, epoch_length=2)),
    ("open-mmlab/mmsegmentation configs/_base_/schedules/schedule_160k.py",
     [dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=160000, by_epoch=False)],
     0.01, dict(iters=160000)),
    ("open-mmlab/mmsegmentation configs/_base_/schedules/schedule_20k.py",
     [dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=20000, by_epoch=False)],
     0.01, dict(iters=20000)),
    ("open-mmlab/mmsegmentation configs/segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py",
     [dict(type="LinearLR", start_factor=1e-6, by_epoch=False, begin=0, end=1500),
      dict(type="PolyLR", eta_min=0.0, power=1.0, begin=1500, end=160000, by_epoch=False)],
     0.00006, dict(iters=160000)),
    ("open-mmlab/mmyolo configs/rtmdet/rtmdet_l_syncbn_fast_8xb32-300e_coco.py",
     _rtmdet(0.004, 1.0e-5), 0.004, dict(epochs=300, epoch_length=20)),
    ("open-mmlab/mmyolo configs/yolox/yolox_s_fast_8xb8-300e_coco.py",
     _yolox(0.01, 15), 0.01, dict(epochs=300, epoch_length=3)),
    ("open-mmlab/mmdetection3d configs/_base_/schedules/cyclic-40e.py",
     [dict(type="CosineAnnealingLR", T_max=16, eta_min=0.0018 * 10, begin=0, end=16,
           by_epoch=True, convert_to_iter_based=True),
      dict(type="CosineAnnealingLR", T_max=24, eta_min=0.0018 * 1e-4, begin=16, end=40,
           by_epoch=True, convert_to_iter_based=True)], 0.0018, dict(epochs=40, epoch_length=9)),
]


@pytest.mark.parametrize("source, cfgs, base, kw", REAL, ids=[r[0].split()[1] for r in REAL])
def test_real_configs(source, cfgs, base, kw):
    check(cfgs, base, **kw)


def test_real_config_momentum():
    """open-mmlab/mmdetection3d configs/_base_/schedules/cyclic-40e.py: the momentum (AdamW's
    beta1, 0.95) cycle beside the LR cycle."""
    cfgs = [dict(type="CosineAnnealingMomentum", T_max=16, eta_min=0.85 / 0.95, begin=0,
                 end=16, by_epoch=True, convert_to_iter_based=True),
            dict(type="CosineAnnealingMomentum", T_max=24, eta_min=1, begin=16, end=40,
                 by_epoch=True, convert_to_iter_based=True)]
    check(cfgs, 0.95, epochs=40, epoch_length=9, hyperparam="momentum", optimizer="Adam")


def test_real_config_with_an_overlap_is_refused():
    """open-mmlab/mmdetection3d configs/_base_/schedules/cosine.py warms up per iteration while
    its epoch-based cosine (eta_min=1e-5) already moves: mmengine's recursion then has no
    closed form, and lrkit says so."""
    cfgs = [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=1000),
            dict(type="CosineAnnealingLR", begin=0, T_max=40, end=40, by_epoch=True,
                 eta_min=1e-5)]
    with pytest.raises(lrkit.ScheduleError, match=r"param_scheduler\[1\] \(CosineAnnealingLR\) "
                       r"and param_scheduler\[0\] \(LinearLR\) both change the value around "
                       r"update 100; CosineAnnealingLR moves the distance to eta_min"):
        from_mmengine(cfgs, base_lr=0.003, epoch_length=100, max_epochs=40)


# --- config files ----------------------------------------------------------------------------

def test_config_file(tmp_path):
    """A .py config with a _base_, read with mmengine's Config.fromfile: param_scheduler,
    train_cfg and optim_wrapper.optimizer.lr; also .json and .yaml."""
    (tmp_path / "base.py").write_text(
        "train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)\n"
        "param_scheduler = [\n"
        "    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),\n"
        "    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11],\n"
        "         gamma=0.1)]\n"
        "optim_wrapper = dict(type='OptimWrapper',\n"
        "    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=0.0001))\n")
    (tmp_path / "model.py").write_text(
        "_base_ = ['./base.py']\ntrain_cfg = dict(max_epochs=10)\n")
    cfg = mmengine.Config.fromfile(str(tmp_path / "model.py"))
    theirs = mmengine_values([dict(c) for c in cfg.param_scheduler], 0.02, epoch_length=10,
                             epochs=10)
    for path in (tmp_path / "model.py", tmp_path / "model.json", tmp_path / "model.yaml"):
        if path.suffix != ".py":
            cfg.dump(str(path))
        s = from_mmengine(str(path), epoch_length=10)
        np.testing.assert_allclose(s.values(np.arange(100)), theirs, rtol=0, atol=1e-14)
    # the arguments win over the file
    s = from_mmengine(tmp_path / "model.py", base_lr=0.01, epoch_length=10, max_epochs=12)
    assert s(99) == pytest.approx(0.001)
    s = from_mmengine(tmp_path / "model.py", epoch_length=10, hyperparam="momentum")
    assert s == lrkit.constant(0.9)


def test_config_file_errors(tmp_path):
    with pytest.raises(lrkit.ScheduleError, match="no config file at"):
        from_mmengine(str(tmp_path / "missing.py"))
    (tmp_path / "hook.py").write_text(
        "param_scheduler = None\n"
        "default_hooks = dict(param_scheduler=dict(type='YOLOv5ParamSchedulerHook'))\n")
    with pytest.raises(lrkit.ScheduleError, match="YOLOv5ParamSchedulerHook.*not mmengine's "
                       "ParamSchedulerHook"):
        from_mmengine(str(tmp_path / "hook.py"))
    (tmp_path / "bad.py").write_text("x = 1 / 0\n")
    with pytest.raises(lrkit.ScheduleError, match="mmengine could not read .*ZeroDivisionError"):
        from_mmengine(str(tmp_path / "bad.py"))
    (tmp_path / "none.py").write_text("optim_wrapper = dict(optimizer=dict(lr=0.1))\n")
    with pytest.raises(lrkit.ScheduleError, match="has no param_scheduler"):
        from_mmengine(str(tmp_path / "none.py"))


# --- errors ------------------------------------------------------------------------------------

ERRORS = [
    (dict(type="WarmupLR"), {}, r"param_scheduler\[0\]\.type: 'WarmupLR' is not an mmengine "
     r"scheduler lrkit reads"),
    (dict(type="StepLR", step_size=2, by_epoch=False), dict(base_lr=None),
     r"base_lr: is required"),
    (dict(type="StepLR", step_size=2), dict(epoch_length=None),
     r"param_scheduler\[0\]\.by_epoch: StepLR steps by epoch .* pass epoch_length="),
    (dict(type="LinearLR", start_factor=0.0, by_epoch=False, end=5), {},
     r"start_factor: 0 makes mmengine's LinearLR divide by zero"),
    (dict(type="LinearLR", start_factor=1.5, by_epoch=False), {},
     r"start_factor: must be in \[0, 1\] .*got 1.5"),
    (dict(type="ReduceOnPlateauLR"), {}, r"validation metrics.*lrkit\.plateau"),
    (dict(type="StepLR", step_size=2, by_epoch=False), dict(max_epochs=3, max_iters=9),
     r"give max_epochs .* or max_iters .*, not both"),
    (dict(type="StepLR", step_size=2, by_epoch=True), dict(max_iters=9),
     r"an IterBasedTrainLoop .* would never step it; set by_epoch=False"),
    (dict(type="OneCycleLR", eta_max=1.0, total_steps=10, by_epoch=False, end=20), {},
     r"step 20 times, past total_steps=10: mmengine raises ValueError"),
    (dict(type="OneCycleLR", eta_max=1.0, pct_start=1, by_epoch=False, end=20), {},
     r"pct_start: must be a float in \[0, 1\] .*got 1"),
    (dict(type="StepLR", step=2, by_epoch=False), {}, r"'step'|step: is not an argument of "
     r"StepLR"),
    (dict(type="QuadraticWarmupLR", by_epoch=False), {}, r"end: is required by "
     r"QuadraticWarmupLR"),
    (dict(type="StepLR", step_size=2, by_epoch=False, begin=5, end=5), {},
     r"end: must be larger than begin .*begin=5 and end=5"),
    (dict(type="CosineAnnealingLR", eta_min=0.1, eta_min_ratio=0.1, by_epoch=False), {},
     r"eta_min: and eta_min_ratio are both given"),
    (dict(type="ExponentialLR", gamma=1.5, by_epoch=False), {},
     r"gamma: 1.5 > 1 per step grows past the float range"),
    (dict(type="StepLR", step_size=2, by_epoch=False, last_step=3), {},
     r"last_step: must be -1"),
    (dict(type="OneCycleParamScheduler", param_name="momentum", by_epoch=False, end=9), {},
     r"param_name: OneCycleParamScheduler schedules 'lr' only"),
    (5, {}, r"param_scheduler: must be a dict or a list of dicts, got 5"),
    ("schedule.py", {}, r"no config file at 'schedule.py'"),
    ([dict(type="StepLR", step_size=2, by_epoch=False), 5], {},
     r"param_scheduler\[1\]: must be a dict with a 'type', got 5"),
    (dict(type="StepLR", step_size=2, by_epoch=False), dict(base_lr=-0.1),
     r"base_lr: must be >= 0, got -0.1"),
    (dict(type="StepLR", step_size=2, by_epoch=False), dict(hyperparam=3),
     r"'hyperparam' must be a parameter name"),
    ([dict(type="OneCycleLR", eta_max=1.0, by_epoch=False, end=30),
      dict(type="StepLR", step_size=2, by_epoch=False, begin=10)], {},
     r"param_scheduler\[0\] \(OneCycleLR\) and param_scheduler\[1\] \(StepLR\) both change the "
     r"value around update 12; OneCycleLR sets the value itself"),
]


@pytest.mark.parametrize("spec, kw, message", ERRORS)
def test_errors(spec, kw, message):
    kw = {"base_lr": 0.1, "epoch_length": 4, **kw}
    with pytest.raises(lrkit.ScheduleError, match=message):
        from_mmengine(spec, **kw)


def test_no_mmengine_import():
    import subprocess
    import sys
    code = ("import sys, lrkit.interop._mmengine as m; "
            "m.from_mmengine([dict(type='StepLR', step_size=3, by_epoch=False)], base_lr=0.1); "
            "print('mmengine' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "False"]


# --- fuzz: odd values in every field --------------------------------------------------------

ODD = [None, "abc", "", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 1e9, 10**30, float("nan"),
       float("inf"), True, [1], [0, 2, 2], {"a": 1}, 1e-7, "cos", "linear"]
FIELDS = ["begin", "end", "by_epoch", "convert_to_iter_based", "start_factor", "end_factor",
          "factor", "T_max", "eta_min", "eta_min_ratio", "power", "milestones", "gamma",
          "step_size", "eta_max", "total_steps", "pct_start", "anneal_strategy", "div_factor",
          "final_div_factor", "three_phase", "periods", "restart_weights", "param_name"]
TYPES = KINDS + ["CosineAnnealingMomentum", "StepParamScheduler", "ReduceOnPlateauLR", "Nope",
                 5, None]


@pytest.mark.fuzz
@budget(400)
@given(st.lists(st.tuples(st.sampled_from(TYPES),
                          st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(ODD),
                                          max_size=5)), min_size=1, max_size=3),
       st.sampled_from(ODD), st.sampled_from(ODD), st.sampled_from(ODD),
       st.sampled_from(ODD), st.sampled_from(["lr", "momentum", "weight_decay", 3]))
def test_fuzz_only_lrkit_errors(spec, base, length, epochs, iters, h):
    cfgs = [{"type": t, **kw} for t, kw in spec]
    safe_if_accepted(lambda: from_mmengine(cfgs, base_lr=base, epoch_length=length,
                                           max_epochs=epochs, max_iters=iters, hyperparam=h))
