"""from_detectron2 against detectron2's build_lr_scheduler, run on fvcore's real ParamScheduler
classes and yacs' real config merge.

detectron2 is not on PyPI, so the few lines that compose fvcore's schedulers are transcribed
below from facebookresearch/detectron2 at commit 02b5c4e295e990042a714712c21dc79b731e8833:
``detectron2/solver/build.py`` (``build_lr_scheduler``), ``detectron2/solver/lr_scheduler.py``
(``WarmupParamScheduler``, ``LRMultiplier``) and the SOLVER defaults of
``detectron2/config/defaults.py``. The LR of every iteration is read from a torch optimizer
driven as detectron2's ``LRScheduler`` hook drives it (``scheduler.step()`` after each
iteration), and compared within 1e-12 of the peak.
"""

import logging
import random

import numpy as np
import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._detectron2 import from_detectron2

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step")
pytest.importorskip("fvcore")
from fvcore.common.config import CfgNode  # noqa: E402
from fvcore.common.param_scheduler import (  # noqa: E402
    CompositeParamScheduler,
    ConstantParamScheduler,
    CosineParamScheduler,
    LinearParamScheduler,
    MultiStepParamScheduler,
    ParamScheduler,
    StepWithFixedGammaParamScheduler,
)

# -- detectron2, transcribed (commit 02b5c4e295e990042a714712c21dc79b731e8833) -----------------

# detectron2/config/defaults.py: the _C.SOLVER keys the LR schedule reads
D2_SOLVER = dict(LR_SCHEDULER_NAME="WarmupMultiStepLR", MAX_ITER=40000, BASE_LR=0.001,
                 BASE_LR_END=0.0, MOMENTUM=0.9, GAMMA=0.1, STEPS=(30000,), NUM_DECAYS=3,
                 WARMUP_FACTOR=1.0 / 1000, WARMUP_ITERS=1000, WARMUP_METHOD="linear",
                 RESCALE_INTERVAL=False, REFERENCE_WORLD_SIZE=0)


class WarmupParamScheduler(CompositeParamScheduler):  # detectron2/solver/lr_scheduler.py
    def __init__(self, scheduler, warmup_factor, warmup_length, warmup_method="linear",
                 rescale_interval=False):
        end_value = scheduler(0.0) if rescale_interval else scheduler(warmup_length)
        start_value = warmup_factor * scheduler(0.0)
        if warmup_method == "constant":
            warmup = ConstantParamScheduler(start_value)
        elif warmup_method == "linear":
            warmup = LinearParamScheduler(start_value, end_value)
        else:
            raise ValueError("Unknown warmup method: {}".format(warmup_method))  # noqa: UP032
        super().__init__(
            [warmup, scheduler],
            interval_scaling=["rescaled", "rescaled" if rescale_interval else "fixed"],
            lengths=[warmup_length, 1 - warmup_length],
        )


class LRMultiplier(torch.optim.lr_scheduler.LRScheduler):  # detectron2/solver/lr_scheduler.py
    def __init__(self, optimizer, multiplier, max_iter, last_iter=-1):
        if not isinstance(multiplier, ParamScheduler):
            raise ValueError("multiplier must be an fvcore ParamScheduler")
        self._multiplier = multiplier
        self._max_iter = max_iter
        super().__init__(optimizer, last_epoch=last_iter)

    def get_lr(self):
        multiplier = self._multiplier(self.last_epoch / self._max_iter)
        return [base_lr * multiplier for base_lr in self.base_lrs]


def build_lr_scheduler(cfg, optimizer):  # detectron2/solver/build.py
    name = cfg.SOLVER.LR_SCHEDULER_NAME
    if name == "WarmupMultiStepLR":
        steps = [x for x in cfg.SOLVER.STEPS if x <= cfg.SOLVER.MAX_ITER]
        if len(steps) != len(cfg.SOLVER.STEPS):
            logging.getLogger(__name__).warning(
                "SOLVER.STEPS contains values larger than SOLVER.MAX_ITER. "
                "These values will be ignored.")
        sched = MultiStepParamScheduler(
            values=[cfg.SOLVER.GAMMA**k for k in range(len(steps) + 1)],
            milestones=steps,
            num_updates=cfg.SOLVER.MAX_ITER,
        )
    elif name == "WarmupCosineLR":
        end_value = cfg.SOLVER.BASE_LR_END / cfg.SOLVER.BASE_LR
        assert end_value >= 0.0 and end_value <= 1.0, end_value
        sched = CosineParamScheduler(1, end_value)
    elif name == "WarmupStepWithFixedGammaLR":
        sched = StepWithFixedGammaParamScheduler(
            base_value=1.0,
            gamma=cfg.SOLVER.GAMMA,
            num_decays=cfg.SOLVER.NUM_DECAYS,
            num_updates=cfg.SOLVER.MAX_ITER,
        )
    else:
        raise ValueError("Unknown LR scheduler: {}".format(name))  # noqa: UP032

    sched = WarmupParamScheduler(
        sched,
        cfg.SOLVER.WARMUP_FACTOR,
        min(cfg.SOLVER.WARMUP_ITERS / cfg.SOLVER.MAX_ITER, 1.0),
        cfg.SOLVER.WARMUP_METHOD,
        cfg.SOLVER.RESCALE_INTERVAL,
    )
    return LRMultiplier(optimizer, multiplier=sched, max_iter=cfg.SOLVER.MAX_ITER)


# -- the harness ---------------------------------------------------------------------------------

def d2_cfg(solver):
    """detectron2's get_cfg() (its SOLVER part) merged with ``solver`` by yacs, which checks
    the types and decodes strings such as "(60000, 80000)"."""
    cfg = CfgNode({"SOLVER": dict(D2_SOLVER)})
    cfg.merge_from_other_cfg(CfgNode({"SOLVER": dict(solver)}))
    return cfg


def d2_scheduler(solver):
    param = torch.nn.Parameter(torch.zeros(1))
    cfg = d2_cfg(solver)
    opt = torch.optim.SGD([param], lr=cfg.SOLVER.BASE_LR, momentum=0.9)
    return opt, build_lr_scheduler(cfg, opt), cfg.SOLVER.MAX_ITER


def d2_lrs(solver):
    """The LR of each iteration 0 … MAX_ITER-1, as detectron2's training loop applies it:
    iteration k runs with the optimizer's LR, then the LRScheduler hook calls step(). (The
    hook's step after the last iteration is not taken: no update uses its LR, and for
    WarmupStepWithFixedGammaLR fvcore raises IndexError there, at where = 1.)"""
    opt, sched, m = d2_scheduler(solver)
    out = []
    for k in range(m):
        out.append(opt.param_groups[0]["lr"])
        if k < m - 1:
            sched.step()
    return np.array(out)


def d2_lrs_at(solver, ks):
    """The LR of iterations ``ks`` for a long run: LRMultiplier is stateless (its LR is a
    function of last_epoch alone), so last_epoch is set to each k and get_lr() read."""
    _, sched, _ = d2_scheduler(solver)
    out = []
    for k in ks:
        sched.last_epoch = int(k)
        out.append(sched.get_lr()[0])
    return np.array(out)


def close(ours, theirs):
    peak = max(float(np.max(np.abs(theirs))), 1e-300)
    diff = np.abs(np.asarray(ours, dtype=float) - theirs)
    bad = np.nonzero(diff > 1e-12 * peak)[0]
    assert not len(bad), f"first mismatch at step {bad[0]}: ours {ours[bad[0]]!r}, " \
        f"detectron2 {theirs[bad[0]]!r}"


def check(solver):
    """Both build or both refuse; when both build, every iteration's LR agrees."""
    try:
        theirs = d2_lrs(solver)
    except (ValueError, AssertionError, ZeroDivisionError, IndexError, RuntimeError):
        with pytest.raises(lrkit.ConfigError):
            from_detectron2({"SOLVER": solver})
        return None
    s = from_detectron2({"SOLVER": solver})
    close(s.values(np.arange(len(theirs))), theirs)
    return s


def random_solver(rng, max_iter):
    m = max_iter
    pick = rng.choice
    name = pick(["WarmupMultiStepLR", "WarmupMultiStepLR", "WarmupCosineLR",
                 "WarmupStepWithFixedGammaLR"])
    b = pick([0.02, 0.01, 0.001, rng.uniform(1e-4, 1.0)])
    steps = sorted(rng.sample(range(1, m + 5), rng.randint(0, min(4, m + 3))))
    warm = pick([0, 1, 100, 1000, rng.randint(0, m), m, m + rng.randint(1, 50),
                 rng.randint(0, max(m // 10, 1))])
    solver = dict(LR_SCHEDULER_NAME=name, BASE_LR=b, MAX_ITER=m, STEPS=tuple(steps),
                  GAMMA=pick([0.1, 0.5, 1.0, rng.uniform(0.01, 0.99)]),
                  NUM_DECAYS=pick([1, 3, rng.randint(1, 12)]),
                  WARMUP_FACTOR=pick([0.001, 1.0 / 3, 0.0, 1.0, rng.uniform(0, 1)]),
                  WARMUP_ITERS=warm, WARMUP_METHOD=pick(["linear", "linear", "constant"]),
                  RESCALE_INTERVAL=pick([False, True]),
                  BASE_LR_END=pick([0.0, b * rng.uniform(0, 1), b]))
    for key in rng.sample(sorted(solver), rng.randint(0, 4)):  # some left at the defaults
        if key not in ("MAX_ITER", "LR_SCHEDULER_NAME"):
            del solver[key]
    return solver


def test_random_configs_match_detectron2_at_every_iteration():
    rng = random.Random(2024)
    built = 0
    for _ in range(160):
        m = rng.choice([1, 2, 3, 7, 40, rng.randint(1, 400), rng.randint(400, 1500)])
        built += check(random_solver(rng, m)) is not None
    assert built > 110  # most build; the rest are refused by both


@pytest.mark.parametrize("solver", [
    # fvcore's WHERE_EPSILON moves boundaries once MAX_ITER * 1e-6 reaches 1
    dict(MAX_ITER=3_000_000, STEPS=(1_000_000, 2_999_999), WARMUP_ITERS=2_000_000, BASE_LR=0.1),
    dict(MAX_ITER=2_500_001, STEPS=(7, 1_250_000), WARMUP_ITERS=5, GAMMA=0.5),
    dict(MAX_ITER=1_999_999, STEPS=(1_000_000,), WARMUP_ITERS=999_999, RESCALE_INTERVAL=True),
    dict(LR_SCHEDULER_NAME="WarmupCosineLR", MAX_ITER=4_000_000, WARMUP_ITERS=1_000_000,
         RESCALE_INTERVAL=True, BASE_LR_END=1e-4, BASE_LR=0.1),
    dict(LR_SCHEDULER_NAME="WarmupCosineLR", MAX_ITER=1_500_000, WARMUP_ITERS=3,
         WARMUP_METHOD="constant"),
    dict(LR_SCHEDULER_NAME="WarmupStepWithFixedGammaLR", MAX_ITER=999_999, NUM_DECAYS=7,
         WARMUP_ITERS=333_333, RESCALE_INTERVAL=True),
    dict(MAX_ITER=10**7, STEPS=(5 * 10**6, 9_999_990), WARMUP_ITERS=10**6,
         RESCALE_INTERVAL=True),
])
def test_long_runs_where_the_epsilon_moves_boundaries(solver):
    s = from_detectron2({"SOLVER": solver})
    m = solver["MAX_ITER"]
    edges = [0, m, solver.get("WARMUP_ITERS", 1000), *solver.get("STEPS", ())]
    edges += [round(m * i / solver.get("NUM_DECAYS", 3)) for i in range(1, 8)]
    near = {k for e in edges for k in range(e - 40, e + 40) if 0 <= k < m}
    ks = np.array(sorted(near | set(random.Random(m).sample(range(m), 300))))
    close(s.values(ks), d2_lrs_at(solver, ks))


def test_fixed_gamma_past_a_million_iterations_is_refused():
    # fvcore's StepParamScheduler indexes past its last stair once where + 1e-6 reaches 1
    solver = dict(LR_SCHEDULER_NAME="WarmupStepWithFixedGammaLR", MAX_ITER=2_000_000)
    with pytest.raises(IndexError):
        d2_lrs_at(solver, [1_999_999])
    with pytest.raises(lrkit.ConfigError, match=r"SOLVER.NUM_DECAYS: 3 with MAX_ITER 2000000 "
                       r"and WARMUP_ITERS 1000: fvcore's StepParamScheduler indexes past"):
        from_detectron2({"SOLVER": solver})


# -- detectron2's own configs --------------------------------------------------------------------

# facebookresearch/detectron2 configs/ (commit 02b5c4e295e990042a714712c21dc79b731e8833): each
# file's SOLVER keys after its _BASE_ chain is merged (as fvcore's load_yaml_with_base merges
# it); keys not listed take the defaults. STEPS are the strings the YAML holds.
REAL = [
    ("configs/Base-RCNN-FPN.yaml",
     {"BASE_LR": 0.02, "STEPS": "(60000, 80000)", "MAX_ITER": 90000}),
    ("configs/COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml",
     {"BASE_LR": 0.02, "STEPS": "(210000, 250000)", "MAX_ITER": 270000}),
    ("configs/COCO-Detection/retinanet_R_50_FPN_1x.yaml",  # Base-RetinaNet.yaml, STEPS as 1x
     {"BASE_LR": 0.01, "STEPS": "(60000, 80000)", "MAX_ITER": 90000}),
    ("configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml",
     {"BASE_LR": 0.02, "STEPS": "(210000, 250000)", "MAX_ITER": 270000}),
    ("configs/COCO-InstanceSegmentation/mask_rcnn_X_101_32x8d_FPN_3x.yaml",
     {"BASE_LR": 0.02, "STEPS": "(210000, 250000)", "MAX_ITER": 270000}),
    ("configs/LVISv1-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml",
     {"BASE_LR": 0.02, "STEPS": "(120000, 160000)", "MAX_ITER": 180000}),
    ("configs/LVISv0.5-InstanceSegmentation/mask_rcnn_R_50_FPN_1x.yaml",
     {"BASE_LR": 0.02, "STEPS": "(60000, 80000)", "MAX_ITER": 90000}),
    ("configs/Cityscapes/mask_rcnn_R_50_FPN.yaml",
     {"BASE_LR": 0.01, "STEPS": "(18000,)", "MAX_ITER": 24000}),
    ("configs/PascalVOC-Detection/faster_rcnn_R_50_FPN.yaml",
     {"BASE_LR": 0.02, "STEPS": "(12000, 16000)", "MAX_ITER": 18000, "WARMUP_ITERS": 100}),
    ("configs/Misc/cascade_mask_rcnn_X_152_32x8d_FPN_IN5k_gn_dconv.yaml",
     {"BASE_LR": 0.16, "STEPS": "(35000, 45000)", "MAX_ITER": 50000}),
    ("configs/Misc/scratch_mask_rcnn_R_50_FPN_9x_gn.yaml",
     {"BASE_LR": 0.08, "STEPS": "(187500, 197500)", "MAX_ITER": 202500}),
    ("configs/Misc/panoptic_fpn_R_101_dconv_cascade_gn_3x.yaml",
     {"BASE_LR": 0.04, "STEPS": "(105000, 125000)", "MAX_ITER": 135000}),
    ("configs/quick_schedules/mask_rcnn_R_50_FPN_instant_test.yaml",
     {"BASE_LR": 0.005, "STEPS": "(30,)", "MAX_ITER": 40}),
    ("configs/quick_schedules/mask_rcnn_R_50_C4_training_acc_test.yaml",
     {"BASE_LR": 0.02, "STEPS": "(11000, 11600)", "MAX_ITER": 12000, "WARMUP_FACTOR": 0.33333,
      "WARMUP_ITERS": 100}),
    ("configs/quick_schedules/keypoint_rcnn_R_50_FPN_training_acc_test.yaml",
     {"BASE_LR": 0.02, "STEPS": "(5500, 5800)", "MAX_ITER": 6000, "WARMUP_FACTOR": 0.33333333,
      "WARMUP_ITERS": 100}),
    ("configs/quick_schedules/semantic_R_50_FPN_training_acc_test.yaml",
     {"BASE_LR": 0.01, "STEPS": "(5500,)", "MAX_ITER": 7000, "WARMUP_FACTOR": 0.001,
      "WARMUP_ITERS": 300}),
]


@pytest.mark.parametrize("solver", [r[1] for r in REAL], ids=[r[0] for r in REAL])
def test_detectron2_configs(solver):
    s = from_detectron2({"SOLVER": solver})
    m = solver["MAX_ITER"]
    if m <= 12000:  # the short ones, step by step
        close(s.values(np.arange(m)), d2_lrs(solver))
        return
    edges = [0, solver.get("WARMUP_ITERS", 1000), *d2_cfg(solver).SOLVER.STEPS, m]
    ks = sorted({k for e in edges for k in range(e - 50, e + 50) if 0 <= k < m}
                | set(range(0, m, 97)))
    close(s.values(np.array(ks)), d2_lrs_at(solver, ks))


@pytest.mark.fuzz
@pytest.mark.parametrize("solver", [r[1] for r in REAL if r[1]["MAX_ITER"] > 12000],
                         ids=[r[0] for r in REAL if r[1]["MAX_ITER"] > 12000])
def test_detectron2_configs_every_iteration(solver):
    s = from_detectron2({"SOLVER": solver})
    close(s.values(np.arange(solver["MAX_ITER"])), d2_lrs(solver))


def test_yaml_files_with_base_chain(tmp_path):
    """A chain shaped like detectron2's configs/: a child names its base relative to itself;
    the result is the one fvcore's loader gives (and a !!python tag outside SOLVER, as in
    Base-RetinaNet.yaml, is left unevaluated)."""
    (tmp_path / "COCO").mkdir()
    (tmp_path / "Base-RCNN-FPN.yaml").write_text(
        "MODEL:\n  META_ARCHITECTURE: GeneralizedRCNN\nSOLVER:\n  IMS_PER_BATCH: 16\n"
        "  BASE_LR: 0.02\n  STEPS: (60000, 80000)\n  MAX_ITER: 90000\n")
    (tmp_path / "COCO" / "faster_rcnn_R_50_FPN_3x.yaml").write_text(
        '_BASE_: "../Base-RCNN-FPN.yaml"\nSOLVER:\n  STEPS: (210000, 250000)\n'
        "  MAX_ITER: 270000\n")
    child = tmp_path / "COCO" / "faster_rcnn_R_50_FPN_3x.yaml"
    merged = CfgNode.load_yaml_with_base(str(child))
    s = from_detectron2(child)
    assert s == from_detectron2({"SOLVER": merged["SOLVER"]})
    assert s == from_detectron2({"SOLVER": REAL[1][1]})
    (tmp_path / "Base-RetinaNet.yaml").write_text(
        "MODEL:\n  ANCHOR_GENERATOR:\n    SIZES: !!python/object/apply:eval "
        '["[[x, x * 2**(1.0/3)] for x in [32, 64]]"]\nSOLVER:\n  BASE_LR: 0.01\n'
        "  STEPS: (60000, 80000)\n  MAX_ITER: 90000\n")
    (tmp_path / "COCO" / "retinanet.yaml").write_text(
        '_BASE_: "../Base-RetinaNet.yaml"\n')
    assert from_detectron2(str(tmp_path / "COCO" / "retinanet.yaml")) == \
        from_detectron2({"SOLVER": REAL[2][1]})


def test_base_chain_loop_and_depth(tmp_path):
    (tmp_path / "a.yaml").write_text('_BASE_: "b.yaml"\n')
    (tmp_path / "b.yaml").write_text('_BASE_: ["a.yaml"]\n')
    with pytest.raises(lrkit.ConfigError, match=r"_BASE_ chain loops back to it"):
        from_detectron2(tmp_path / "a.yaml")
    for i in range(12):
        (tmp_path / f"c{i}.yaml").write_text(f'_BASE_: "c{i + 1}.yaml"\n')
    (tmp_path / "c12.yaml").write_text("SOLVER:\n  BASE_LR: 0.1\n")
    with pytest.raises(lrkit.ConfigError, match=r"_BASE_ chain deeper than 10 files"):
        from_detectron2(tmp_path / "c0.yaml")
    (tmp_path / "u.yaml").write_text('_BASE_: "https://example.com/x.yaml"\n')
    with pytest.raises(lrkit.ConfigError, match=r"_BASE_: must name YAML files by path, got "
                       r"'https://example.com/x.yaml'"):
        from_detectron2(tmp_path / "u.yaml")
    (tmp_path / "t.yaml").write_text("SOLVER:\n  BASE_LR: !!python/object/apply:eval ['1']\n")
    with pytest.raises(lrkit.ConfigError, match=r"t.yaml: SOLVER.BASE_LR: must be a finite "
                       r"number, got <unevaluated object/apply:eval>"):
        from_detectron2(tmp_path / "t.yaml")
    with pytest.raises(lrkit.ConfigError, match=r"cannot read the file"):
        from_detectron2(tmp_path / "missing.yaml")


# -- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("solver, message", [
    ({"LR_SCHEDULER_NAME": "WarmupPolyLR"},
     r"^SOLVER.LR_SCHEDULER_NAME: unknown scheduler 'WarmupPolyLR'; detectron2's "
     r"build_lr_scheduler builds WarmupMultiStepLR, WarmupCosineLR, WarmupStepWithFixedGammaLR"),
    ({"WARMUP_METHOD": "exp"}, r"^SOLVER.WARMUP_METHOD: unknown method 'exp'; detectron2's "
     r"WarmupParamScheduler takes 'linear' or 'constant'$"),
    ({"STEPS": (100, 50), "MAX_ITER": 200}, r"^SOLVER.STEPS: must increase strictly from > 0 "
     r"to < MAX_ITER \(200\), got \[100, 50\]"),
    ({"STEPS": (200,), "MAX_ITER": 200}, r"^SOLVER.STEPS: must increase strictly"),
    ({"MAX_ITER": 0}, r"^SOLVER.MAX_ITER: must be > 0 iterations, got 0$"),
    ({"MAX_ITER": 10.5}, r"^SOLVER.MAX_ITER: must be a whole number of steps >= 0, got 10.5$"),
    ({"BASE_LR": "fast"}, r"^SOLVER.BASE_LR: must be a finite number, got 'fast'$"),
    ({"BASE_LR": None}, r"^SOLVER.BASE_LR: is null; detectron2 needs a value here \(its "
     r"default is 0.001\)$"),
    ({"BASE_LR": -0.1}, r"^SOLVER.BASE_LR: must be >= 0, got -0.1$"),
    ({"LR_SCHEDULER_NAME": "WarmupCosineLR", "BASE_LR_END": 0.5, "BASE_LR": 0.1},
     r"^SOLVER.BASE_LR_END: must be within \[0, BASE_LR\] \(detectron2 asserts it\), got 0.5 "
     r"with BASE_LR 0.1$"),
    ({"LR_SCHEDULER_NAME": "WarmupCosineLR", "BASE_LR": 0.0},
     r"^SOLVER.BASE_LR: is 0; WarmupCosineLR divides BASE_LR_END by it$"),
    ({"LR_SCHEDULER_NAME": "WarmupStepWithFixedGammaLR", "GAMMA": 0.0},
     r"^SOLVER.GAMMA: must be > 0 for WarmupStepWithFixedGammaLR \(fvcore\), got 0.0$"),
    ({"GAMMA": -0.5}, r"^SOLVER.GAMMA: gives LR multipliers outside \[0, 1e300\]"),
    ({"REFERENCE_WORLD_SIZE": 8}, r"^SOLVER.REFERENCE_WORLD_SIZE: is 8: "
     r"DefaultTrainer.auto_scale_workers then rescales"),
    ({"RESCALE_INTERVAL": "yes"}, r"^SOLVER.RESCALE_INTERVAL: must be true or false, got 'yes'$"),
    ({"WARMUP_ITERS": 5000, "MAX_ITER": 2_000_000, "RESCALE_INTERVAL": True,
      "LR_SCHEDULER_NAME": "WarmupCosineLR"}, None),
])
def test_error_messages(solver, message):
    if message is None:  # the control: this one builds
        from_detectron2({"SOLVER": solver})
        return
    with pytest.raises(lrkit.ConfigError, match=message):
        from_detectron2({"SOLVER": solver})


def test_whole_config_expected():
    with pytest.raises(lrkit.ConfigError, match=r"^SOLVER: is missing, but BASE_LR is at the "
                       r"top level; pass the whole config"):
        from_detectron2({"BASE_LR": 0.1})
    with pytest.raises(lrkit.ScheduleError, match=r"^from_detectron2: 'cfg' must be a "
                       r"detectron2 CfgNode, a mapping with a SOLVER node or a YAML file path, "
                       r"got 12"):
        from_detectron2(12)
    with pytest.raises(lrkit.ConfigError, match=r"^SOLVER: is missing: not a detectron2 "
                       r"config with a schedule; for detectron2's defaults pass \{'SOLVER': "
                       r"\{\}\}"):
        from_detectron2({"lr0": 0.01})


def test_defaults_match_detectron2():
    close(from_detectron2({"SOLVER": {}}).values(np.arange(0, 40000, 7)),
          d2_lrs_at({}, range(0, 40000, 7)))


# -- fuzz ------------------------------------------------------------------------------------------

ODD = [None, "abc", "", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 1e9, 10**30, float("nan"),
       float("inf"), True, False, [1], [], {"a": 1}, "(10, 20)", "[5]", "linear", "constant",
       "WarmupCosineLR", "WarmupStepWithFixedGammaLR", (3, 2), (0,), 1e-7]
KEYS = ["LR_SCHEDULER_NAME", "MAX_ITER", "BASE_LR", "BASE_LR_END", "GAMMA", "STEPS",
        "NUM_DECAYS", "WARMUP_FACTOR", "WARMUP_ITERS", "WARMUP_METHOD", "RESCALE_INTERVAL",
        "REFERENCE_WORLD_SIZE"]


@pytest.mark.fuzz
@budget(400)
@given(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ODD), max_size=6))
def test_odd_values_raise_only_lrkit_errors(solver):
    safe_if_accepted(lambda: from_detectron2({"SOLVER": solver}),
                     (0, 1, 5, 999, 1000, 10**6, 10**12))


@pytest.mark.fuzz
@budget(200)
@given(st.randoms(use_true_random=False))
def test_random_configs_fuzz(rng):
    check(random_solver(rng, rng.choice([1, 2, rng.randint(1, 3000)])))
