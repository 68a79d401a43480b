"""param_groups against the real code it follows: timm's ``param_groups_weight_decay``,
``param_groups_layer_decay`` and ``create_optimizer_v2`` (timm 1.0.31, timm/optim/), mmengine's
``DefaultOptimWrapperConstructor`` with ``paramwise_cfg.custom_keys`` (mmengine 0.10.7), and one
``lrkit.torch.LRScheduler(relative=True)`` driving the groups, each compared per parameter.

timm's ``__init__`` imports torchvision, which has no wheel beside this CPU torch; its
``optim/_param_groups.py`` needs only ``timm.models._manipulate.group_parameters`` and that only
``timm.layers.config``, so where ``import timm`` fails they are loaded from the installed
package under bare parent packages (the real files, not copies). timm's model classes do not
load that way: the models here are plain torch modules with the parameter names of timm's
models and their ``group_matcher()``/``no_weight_decay()``, copied from timm 1.0.31 (a test
checks each copy against the installed source).
"""

import importlib
import importlib.util
import logging
import math
import pathlib
import re
import sys
import types
import warnings

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit import ConfigError, ScheduleError

torch = pytest.importorskip("torch")
from lrkit._groups import param_groups  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402

nn = torch.nn


def _timm(*names):
    """timm's modules ``names``, loaded without timm's ``__init__`` where that fails."""
    try:
        return [importlib.import_module(n) for n in names]
    except ImportError:
        pass
    loaded = sys.modules.get("timm")  # (tests/parity/timm_harness.py may have loaded it so)
    spec = None if loaded else importlib.util.find_spec("timm")
    if not loaded and spec is None:
        pytest.skip("timm is not installed", allow_module_level=True)
    root = pathlib.Path(list(loaded.__path__ if loaded else spec.submodule_search_locations)[0])
    for name in ("timm", "timm.layers", "timm.models", "timm.optim"):
        if name not in sys.modules:  # a bare package: its files import, not its __init__
            pkg = types.ModuleType(name)
            pkg.__path__ = [str(root.joinpath(*name.split(".")[1:]))]
            sys.modules[name] = pkg
    layers, models = sys.modules["timm.layers"], sys.modules["timm.models"]
    if not hasattr(layers, "use_reentrant_ckpt"):
        layers.use_reentrant_ckpt = importlib.import_module("timm.layers.config").use_reentrant_ckpt
    if not hasattr(models, "group_parameters"):
        models.group_parameters = importlib.import_module(
            "timm.models._manipulate").group_parameters
    return [importlib.import_module(n) for n in names]


timm_groups, timm_factory, timm_scheduler = _timm(
    "timm.optim._param_groups", "timm.optim._optim_factory", "timm.scheduler")
TIMM_MODELS = pathlib.Path(timm_groups.__file__).parent.parent / "models"


# --- timm-style models --------------------------------------------------------------------------
# Each family: the parameter names and shapes of the timm model, and its group_matcher(coarse=
# False) and no_weight_decay() as written in timm 1.0.31 (the file named; checked below).

MATCHERS = {
    "vision_transformer.py": dict(
        stem=r'^cls_token|reg_token|pos_embed|patch_embed|norm_pre',
        blocks=[(r'^blocks\.(\d+)', None), (r'^norm', (99999,))]),
    "convnext.py": dict(
        stem=r'^stem',
        blocks=[(r'^stages\.(\d+)\.downsample', (0,)), (r'^stages\.(\d+)\.blocks\.(\d+)', None),
                (r'^norm_pre', (99999,))]),
    "resnet.py": dict(stem=r'^conv1|bn1|maxpool', blocks=r'^layer(\d+)\.(\d+)'),
    "swin_transformer.py": dict(
        stem=r'^patch_embed',
        blocks=[(r'^layers\.(\d+).downsample', (0,)), (r'^layers\.(\d+)\.\w+\.(\d+)', None),
                (r'^norm', (99999,))]),
    "efficientnet.py": dict(
        stem=r'^conv_stem|bn1',
        blocks=[(r'^blocks\.(\d+)\.(\d+)', None), (r'conv_head|bn2', (99999,))]),
}
NO_WEIGHT_DECAY = {"vision_transformer.py": {'pos_embed', 'cls_token', 'reg_token', 'dist_token'}}


class Net(nn.Module):
    """A module with the given parameters (names and shapes) and timm's model methods."""

    def __init__(self, params, family=None, trainable=None):
        super().__init__()
        self.family = family
        for i, (name, shape) in enumerate(params):
            *path, leaf = name.split(".")
            m = self
            for part in path:
                if part not in m._modules:
                    m.add_module(part, nn.Module())
                m = m._modules[part]
            p = nn.Parameter(torch.randn(shape))
            p.requires_grad_(True if trainable is None else bool(trainable[i]))
            m.register_parameter(leaf, p)
        if family in NO_WEIGHT_DECAY:
            self.no_weight_decay = lambda: set(NO_WEIGHT_DECAY[family])
        if family in MATCHERS:
            self.group_matcher = lambda coarse=False: MATCHERS[family]


def _linear(name, i, o, bias=True):
    return [(f"{name}.weight", (o, i))] + ([(f"{name}.bias", (o,))] if bias else [])


def _norm(name, d=8):
    return [(f"{name}.weight", (d,)), (f"{name}.bias", (d,))]


def vit(depth=3, reg=False):
    ps = [("cls_token", (1, 1, 8))] + ([("reg_token", (1, 2, 8))] if reg else []) + \
        [("pos_embed", (1, 5, 8)), ("patch_embed.proj.weight", (8, 3, 2, 2)),
         ("patch_embed.proj.bias", (8,))]
    for i in range(depth):
        b = f"blocks.{i}"
        ps += _norm(f"{b}.norm1") + _linear(f"{b}.attn.qkv", 8, 24) + \
            _linear(f"{b}.attn.proj", 8, 8) + _norm(f"{b}.norm2") + \
            _linear(f"{b}.mlp.fc1", 8, 16) + _linear(f"{b}.mlp.fc2", 16, 8)
    return ps + _norm("norm") + _linear("head", 8, 10)


def convnext(depths=(1, 2)):
    ps = [("stem.0.weight", (8, 3, 2, 2)), ("stem.0.bias", (8,))] + _norm("stem.1")
    for i, n in enumerate(depths):
        if i:
            ps += _norm(f"stages.{i}.downsample.0") + [
                (f"stages.{i}.downsample.1.weight", (8, 8, 2, 2)),
                (f"stages.{i}.downsample.1.bias", (8,))]
        for j in range(n):
            b = f"stages.{i}.blocks.{j}"
            ps += [(f"{b}.gamma", (8,)), (f"{b}.conv_dw.weight", (8, 1, 3, 3)),
                   (f"{b}.conv_dw.bias", (8,))] + _norm(f"{b}.norm") + \
                _linear(f"{b}.mlp.fc1", 8, 16) + _linear(f"{b}.mlp.fc2", 16, 8)
    return ps + _norm("head.norm") + _linear("head.fc", 8, 10)


def resnet(layers=(1, 2)):
    ps = [("conv1.weight", (8, 3, 3, 3))] + _norm("bn1")
    for i, n in enumerate(layers, 1):
        for j in range(n):
            b = f"layer{i}.{j}"
            ps += [(f"{b}.conv1.weight", (8, 8, 3, 3))] + _norm(f"{b}.bn1") + \
                [(f"{b}.conv2.weight", (8, 8, 3, 3))] + _norm(f"{b}.bn2")
            if j == 0 and i > 1:
                ps += [(f"{b}.downsample.0.weight", (8, 8, 1, 1))] + _norm(f"{b}.downsample.1")
    return ps + _linear("fc", 8, 10)


def swin(depths=(1, 2)):
    ps = [("patch_embed.proj.weight", (8, 3, 2, 2)), ("patch_embed.proj.bias", (8,))] + \
        _norm("patch_embed.norm")
    for i, n in enumerate(depths):
        if i:
            ps += _norm(f"layers.{i}.downsample.norm") + \
                _linear(f"layers.{i}.downsample.reduction", 8, 8, bias=False)
        for j in range(n):
            b = f"layers.{i}.blocks.{j}"
            ps += _norm(f"{b}.norm1") + [(f"{b}.attn.relative_position_bias_table", (9, 2))] + \
                _linear(f"{b}.attn.qkv", 8, 24) + _norm(f"{b}.norm2") + \
                _linear(f"{b}.mlp.fc1", 8, 16)
    return ps + _norm("norm") + _linear("head.fc", 8, 10)


def efficientnet(stages=(1, 2)):
    ps = [("conv_stem.weight", (8, 3, 3, 3))] + _norm("bn1")
    for i, n in enumerate(stages):
        for j in range(n):
            b = f"blocks.{i}.{j}"
            ps += [(f"{b}.conv_dw.weight", (8, 1, 3, 3))] + _norm(f"{b}.bn1") + \
                [(f"{b}.se.conv_reduce.weight", (2, 8, 1, 1)), (f"{b}.se.conv_reduce.bias", (2,))]
    return ps + [("conv_head.weight", (8, 8, 1, 1))] + _norm("bn2") + _linear("classifier", 8, 10)


FAMILIES = {"vision_transformer.py": lambda r: vit(int(r.integers(1, 13)), bool(r.integers(2))),
            "convnext.py": lambda r: convnext(tuple(r.integers(1, 4, r.integers(1, 5)))),
            "resnet.py": lambda r: resnet(tuple(r.integers(1, 4, r.integers(1, 5)))),
            "swin_transformer.py": lambda r: swin(tuple(r.integers(1, 4, r.integers(1, 5)))),
            "efficientnet.py": lambda r: efficientnet(tuple(r.integers(1, 4, r.integers(1, 5))))}


def random_model(rng, family=None):
    family = family or str(rng.choice(sorted(FAMILIES)))
    params = FAMILIES[family](rng)
    frozen = rng.random(len(params)) < (0.0 if rng.random() < 0.5 else 0.3)
    return Net(params, family, trainable=~frozen)


def per_param(groups):
    """{id(param): group} over the groups; each parameter in exactly one group."""
    out = {}
    for g in groups:
        for p in g["params"]:
            assert id(p) not in out, "a parameter in two groups"
            out[id(p)] = g
    return out


def trainable(model):
    return {id(p) for p in model.parameters() if p.requires_grad}


def partition(groups):
    return sorted(sorted(map(id, g["params"])) for g in groups)


# --- the copies of timm's model methods are timm's ----------------------------------------------

@pytest.mark.parametrize("family", sorted(MATCHERS))
def test_matchers_are_timms(family):
    source = (TIMM_MODELS / family).read_text()
    for spec in MATCHERS[family].values():
        for pattern in [s[0] for s in spec] if isinstance(spec, list) else [spec]:
            assert f"r'{pattern}'" in source, pattern
    for name in NO_WEIGHT_DECAY.get(family, ()):
        assert f"'{name}'" in source


# --- timm: weight decay -------------------------------------------------------------------------

def check_weight_decay(model, lr, wd):
    ours = param_groups(model, lr=lr, weight_decay=wd)
    theirs = timm_groups.param_groups_weight_decay(
        model, weight_decay=wd, no_weight_decay_list=getattr(model, "no_weight_decay",
                                                              lambda: set())())
    a, b = per_param(ours), per_param(theirs)
    assert set(a) == set(b) == trainable(model)
    for i in a:
        assert a[i]["weight_decay"] == b[i]["weight_decay"]
        assert a[i]["lr"] == lr
    assert partition(ours) == partition(theirs)


@pytest.mark.parametrize("seed", range(60))
def test_weight_decay_as_timm(seed):
    rng = np.random.default_rng(seed)
    check_weight_decay(random_model(rng), float(rng.uniform(1e-5, 1)),
                       [0.0, 0.05, float(rng.uniform(0, 0.3))][seed % 3])


def test_weight_decay_of_real_torch_modules_as_timm():
    m = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.GroupNorm(2, 8),
                      nn.Flatten(), nn.Linear(8, 4),
                      nn.LayerNorm(4), nn.Embedding(5, 4))
    check_weight_decay(m, 0.1, 0.05)
    groups = param_groups(m, lr=0.1, weight_decay=0.05)
    assert [(g["name"], len(g["params"])) for g in groups] == [("decay", 3), ("no_decay", 8)]


# --- timm: layer decay --------------------------------------------------------------------------

def check_layer_decay(model, lr, wd, decay):
    nwd = getattr(model, "no_weight_decay", lambda: set())()
    theirs = timm_groups.param_groups_layer_decay(model, weight_decay=wd, layer_decay=decay,
                                                  no_weight_decay_list=nwd)
    ours = param_groups(model, lr=lr, weight_decay=wd, layer_decay=decay)
    timm_style = param_groups(model, lr=lr, weight_decay=wd, layer_decay=decay, lr_scale=True)
    a, b, c = per_param(ours), per_param(theirs), per_param(timm_style)
    assert set(a) == set(b) == set(c) == trainable(model)
    for i in a:
        assert a[i]["lr"] == lr * b[i]["lr_scale"]
        assert (c[i]["lr"], c[i]["lr_scale"]) == (lr, b[i]["lr_scale"])
        assert a[i]["weight_decay"] == b[i]["weight_decay"] == c[i]["weight_decay"]
        assert "lr_scale" not in a[i]
    if wd:  # (timm keeps 1-D and other parameters apart also at weight decay 0)
        assert partition(ours) == partition(theirs) == partition(timm_style)
    return ours


@pytest.mark.parametrize("seed", range(100))
def test_layer_decay_as_timm(seed):
    rng = np.random.default_rng(seed)
    check_layer_decay(random_model(rng), float(rng.uniform(1e-5, 1)),
                      [0.0, 0.05, float(rng.uniform(0, 0.3))][seed % 3],
                      [0.75, 0.65, 1.0, float(rng.uniform(0.05, 1))][seed % 4])


@pytest.mark.fuzz
@budget(150)
@given(st.integers(0, 2**32 - 1), st.sampled_from(sorted(FAMILIES)),
       st.floats(1e-8, 10), st.floats(0, 1), st.floats(1e-3, 1))
def test_layer_decay_as_timm_fuzz(seed, family, lr, wd, decay):
    check_layer_decay(random_model(np.random.default_rng(seed), family), lr, wd, decay)


def test_vit_layers_as_beit():
    """ViT-Base-like depth 12: stem 0, blocks 1..12, the final norm with block 11, head 13."""
    model = Net(vit(12), "vision_transformer.py")
    groups = param_groups(model, lr=1.0, weight_decay=0.05, layer_decay=0.75)
    layer = {g["name"]: g["layer"] for g in groups}
    assert layer["layer_0/no_decay"] == 0 and layer["layer_13/decay"] == 13
    by_layer = {g["layer"]: g["lr"] for g in groups}
    assert by_layer == {n: 0.75 ** (13 - n) for n in range(14)}
    assert groups[0]["name"] == "layer_0/no_decay"  # cls_token: no_weight_decay(), though 3-D
    assert groups[0]["params"][0] is model.cls_token


def test_depth_function_and_group_matcher_agree():
    model = Net(vit(4), "vision_transformer.py")
    matcher = {id(p): g["lr"] for g in param_groups(model, lr=1.0, layer_decay=0.5)
               for p in g["params"]}

    def depth(name):  # BEiT's get_layer_id_for_vit (beit/optim_factory.py), the norm with L-1
        if name.startswith(("cls_token", "pos_embed", "patch_embed", "reg_token")):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return 4 if name.startswith("norm.") else 5
    ours = {id(p): g["lr"] for g in param_groups(model, lr=1.0, layer_decay=0.5, depth=depth)
            for p in g["params"]}
    assert ours == matcher


# --- timm: through create_optimizer_v2 and timm's scheduler -------------------------------------

def applied_lrs(opt, steps, after_step):
    """The LR each parameter's update used, for ``steps`` updates (a step pre-hook)."""
    seen = []
    h = opt.register_step_pre_hook(lambda o, a, k: seen.append(
        {id(p): float(g["lr"]) for g in o.param_groups for p in g["params"]}))
    for k in range(steps):
        for g in opt.param_groups:
            for p in g["params"]:
                p.grad = torch.ones_like(p)
        opt.step()
        after_step(k)
    h.remove()
    return seen


def named_run(family, make_opt, make_sched, steps=15):
    """The LR of each named parameter at every update of a model of ``family``."""
    model = random_model(np.random.default_rng(3), family)
    opt = make_opt(model)
    step = make_sched(opt)
    names = {id(p): n for n, p in model.named_parameters()}
    return [{names[i]: v for i, v in lrs.items()} for lrs in applied_lrs(opt, steps, step)]


def timm_cosine(**kw):
    def make(opt):
        sched = timm_scheduler.CosineLRScheduler(opt, t_initial=12, t_in_epochs=False, **kw)
        return lambda k: sched.step_update(k + 1)  # as timm's train.py, after each update
    return make


def lrkit_cosine(opt):
    LRScheduler(opt, lrkit.cosine(1.0, 0.0, 12), relative=True)  # it stays on the step hook
    return lambda k: None  # (its counter follows the optimizer)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_timm_optimizer_and_scheduler_see_the_same_lrs(family):
    """timm's create_optimizer_v2(layer_decay=) and param_groups(lr_scale=True), each driven by
    timm's CosineLRScheduler (warmup from warmup_lr, min_lr): the same LR per parameter at every
    update. And param_groups() driven by one lrkit scheduler (relative=True), against timm's
    optimizer and cosine at min_lr 0 without warmup, within 1e-12 of the peak."""
    kw = dict(weight_decay=0.05, layer_decay=0.7)
    timm_opt = lambda m: timm_factory.create_optimizer_v2(m, "adamw", lr=0.1, **kw)  # noqa: E731
    warm = timm_cosine(warmup_t=3, warmup_lr_init=1e-4, lr_min=1e-5)
    theirs = named_run(family, timm_opt, warm)
    ours = named_run(family, lambda m: torch.optim.AdamW(
        param_groups(m, lr=0.1, lr_scale=True, **kw)), warm)
    assert ours == theirs
    assert len(set(theirs[5].values())) > 2

    theirs = named_run(family, timm_opt, timm_cosine())
    ours = named_run(family, lambda m: torch.optim.AdamW(param_groups(m, lr=0.1, **kw)),
                     lrkit_cosine)
    for a, b in zip(ours, theirs, strict=True):
        assert a.keys() == b.keys()
        assert all(abs(a[n] - b[n]) <= 1e-12 * 0.1 for n in a), (a, b)


def test_timm_scheduler_reads_the_default_groups_lr_as_is():
    """Without lr_scale=True no group has "lr_scale": the layer factor, already in "lr", is
    not applied twice by timm's schedulers."""
    groups = param_groups(Net(vit(2), "vision_transformer.py"), lr=0.1, layer_decay=0.5)
    assert all("lr_scale" not in g for g in groups)
    opt = torch.optim.SGD(groups)
    timm_scheduler.CosineLRScheduler(opt, t_initial=10)  # reads "lr" from each group as is
    assert sorted({g["lr"] for g in opt.param_groups}) == [0.1 * 0.5 ** n for n in (3, 2, 1, 0)]


# --- one lrkit scheduler over every group -------------------------------------------------------

def test_one_relative_schedule_drives_every_group():
    model = Net(vit(3), "vision_transformer.py")
    groups = param_groups(model, lr=1e-3, weight_decay=0.05, layer_decay=0.75,
                          rules={"head.*": {"lr_mult": 10.0}, "patch_embed.*": {"lr": 2e-4}})
    opt = torch.optim.AdamW(groups)
    initial = [g["lr"] for g in opt.param_groups]
    s = lrkit.warmup(lrkit.cosine(1.0, 0.01, 20), 5)
    sched = LRScheduler(opt, s, relative=True)
    seen = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append([g["lr"] for g in o.param_groups]))
    for _ in range(30):
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
    for k, lrs in enumerate(seen):
        assert lrs == [base * s(k) for base in initial], k
    assert [g["initial_lr"] for g in opt.param_groups] == initial
    head = next(g for g in opt.param_groups if g["name"] == "layer_4/head.*/decay")
    assert head["initial_lr"] == 1e-3 * 10.0


# --- mmengine: custom_keys ----------------------------------------------------------------------

mmengine_optim = pytest.importorskip("mmengine.optim")
logging.getLogger("mmengine").setLevel(logging.WARNING)


def mmengine_groups(model, lr, wd, custom_keys):
    ctor = mmengine_optim.DefaultOptimWrapperConstructor(
        dict(optimizer=dict(type="SGD", lr=lr, weight_decay=wd)),
        paramwise_cfg=dict(custom_keys=custom_keys))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ctor(model).optimizer.param_groups


def random_keys(rng, names):
    """mmengine custom_keys: substrings of the model's names (parts and prefixes)."""
    parts = sorted({".".join(n.split(".")[i:j]) for n in names
                    for i in range(len(n.split("."))) for j in range(i + 1, i + 3)})
    keys = {}
    for key in rng.choice(parts, size=min(len(parts), int(rng.integers(1, 7))), replace=False):
        s = {}
        for k in rng.permutation(["lr_mult", "decay_mult", "lr", "weight_decay"])[:rng.integers(
                0, 3)]:
            if k == "lr" and "lr_mult" in s or k == "weight_decay" and "decay_mult" in s or \
                    k == "lr_mult" and "lr" in s or k == "decay_mult" and "weight_decay" in s:
                continue
            s[str(k)] = float(rng.choice([0.0, 0.1, 0.5, 2.0, float(rng.uniform(0, 3))]))
        keys[str(key)] = s
    return keys


def check_mmengine(model, lr, wd, keys):
    rules = {f"*{k}*": s for k, s in keys.items()}
    ours = per_param(param_groups(model, lr=lr, weight_decay=wd, rules=rules, no_decay=None))
    theirs = per_param(mmengine_groups(model, lr, wd, keys))
    assert set(ours) == set(theirs) == trainable(model)
    for i in ours:
        assert (ours[i]["lr"], ours[i]["weight_decay"]) == \
            (theirs[i]["lr"], theirs[i]["weight_decay"])


@pytest.mark.parametrize("seed", range(100))
def test_rules_as_mmengine_custom_keys(seed):
    rng = np.random.default_rng(seed)
    model = random_model(rng)
    names = [n for n, _ in model.named_parameters()]
    check_mmengine(model, float(rng.uniform(1e-4, 1)), float(rng.choice([0.0, 0.05, 1e-4])),
                   random_keys(rng, names))


def test_mmengine_docstring_example():
    """DefaultOptimWrapperConstructor's Example 2: backbone (0.01 * 0.1, 0.95 * 0.9), head as is."""
    model = nn.Module()
    model.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    model.cls_head = nn.Linear(4, 2)
    keys = {"backbone": dict(lr_mult=0.1, decay_mult=0.9)}
    check_mmengine(model, 0.01, 0.95, keys)
    groups = param_groups(model, lr=0.01, weight_decay=0.95, rules={"backbone.*": keys[
        "backbone"]}, no_decay=None)
    assert [(g["name"], g["lr"], g["weight_decay"]) for g in groups] == [
        ("backbone.*/decay", 0.01 * 0.1, 0.95 * 0.9), ("decay", 0.01, 0.95)]


def test_longest_pattern_wins_alone_and_ties_go_alphabetically():
    model = Net(vit(2), "vision_transformer.py")
    rules = {"blocks.*": {"lr_mult": 0.1}, "blocks.1.*": {"decay_mult": 0.0},
             "*.bias": {"weight_decay": 0.5}, "*.qkv*": {"lr": 7.0}, "*.fc1*": {"lr": 8.0}}
    lr = {n: g for g in param_groups(model, lr=1.0, weight_decay=0.1, rules=rules)
          for n, p in model.named_parameters() for q in g["params"] if p is q}
    assert (lr["blocks.0.mlp.fc2.weight"]["lr"], lr["blocks.0.mlp.fc2.weight"]["weight_decay"]
            ) == (0.1, 0.1)
    # 'blocks.1.*' (10) beats 'blocks.*' (8): its lr_mult is not inherited
    assert (lr["blocks.1.mlp.fc2.weight"]["lr"], lr["blocks.1.mlp.fc2.weight"]["weight_decay"]
            ) == (1.0, 0.0)
    # '*.bias' (6) loses to 'blocks.*' (8); no-decay default keeps the bias at 0
    assert lr["blocks.0.mlp.fc2.bias"]["weight_decay"] == 0.0
    assert lr["head.bias"]["weight_decay"] == 0.5 and lr["head.weight"]["weight_decay"] == 0.1
    # '*.fc1*' and '*.qkv*' have 6 characters: the alphabetically first wins where both match
    assert lr["blocks.0.attn.qkv.weight"]["lr"] == 0.1  # 'blocks.*' is longer than both
    m2 = Net([("x.qkv.fc1.w", (2, 2))])
    (g,) = param_groups(m2, lr=1.0, rules={"*.qkv*": {"lr": 7.0}, "*.fc1*": {"lr": 8.0}})
    assert (g["lr"], g["name"]) == (8.0, "*.fc1*/no_decay")  # (weight decay 0: all no_decay)


# --- groups: few, ordered, each trainable parameter once ----------------------------------------

def test_groups_are_few_ordered_and_deterministic():
    model = Net(vit(3), "vision_transformer.py", trainable=None)
    model.blocks._modules["0"].attn.qkv.weight.requires_grad_(False)
    a = param_groups(model, lr=0.1, weight_decay=0.05, layer_decay=0.8,
                     rules={"head.*": {"lr_mult": 10}})
    b = param_groups(model, lr=0.1, weight_decay=0.05, layer_decay=0.8,
                     rules={"head.*": {"lr_mult": 10}})
    assert [g["name"] for g in a] == [g["name"] for g in b] == [
        "layer_0/no_decay", "layer_0/decay", "layer_1/no_decay", "layer_1/decay",
        "layer_2/no_decay", "layer_2/decay", "layer_3/no_decay", "layer_3/decay",
        "layer_4/head.*/decay", "layer_4/head.*/no_decay"]
    assert set(per_param(a)) == trainable(model)
    assert len({(g["lr"], g["weight_decay"], g["layer"]) for g in a}) == len(a)
    opt = torch.optim.SGD(a)  # torch accepts them as they are
    assert len(opt.param_groups) == len(a)


def test_docs_example():
    model = nn.Module()
    model.backbone = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    model.head = nn.Linear(4, 2)
    groups = param_groups(model, lr=1e-3, weight_decay=0.05, rules={"backbone.*": {"lr_mult": 0.1}})
    assert [(g["name"], len(g["params"]), g["lr"], g["weight_decay"]) for g in groups] == [
        ("backbone.*/decay", 1, 1e-3 * 0.1, 0.05), ("backbone.*/no_decay", 3, 1e-3 * 0.1, 0.0),
        ("decay", 1, 1e-3, 0.05), ("no_decay", 1, 1e-3, 0.0)]


# --- errors -------------------------------------------------------------------------------------

def small():
    return Net(vit(1), "vision_transformer.py")


ERRORS = [
    (dict(rules=[("*.bias", {})]), ConfigError, r"param_groups: rules: must be a mapping from a "
     r"name pattern to its settings.*got \[\('\*\.bias', \{\}\)\]"),
    (dict(rules={"*.bias": {"lr_mul": 0.1}}), ConfigError,
     r"rules\['\*\.bias'\]: unknown setting 'lr_mul'; a rule sets lr, lr_mult, weight_decay or "
     r"decay_mult$"),
    (dict(rules={"head.*": {"lr_mult": -1}}), ConfigError,
     r"rules\['head\.\*'\]: 'lr_mult' must be a finite number >= 0, got -1"),
    (dict(rules={"head.*": {"weight_decay": float("nan")}}), ConfigError,
     r"rules\['head\.\*'\]: 'weight_decay' must be a finite number >= 0, got nan"),
    (dict(rules={"head.*": {"lr": True}}), ConfigError, r"'lr' must be a finite .*got True"),
    (dict(rules={"head.*": 0.1}), ConfigError,
     r"rules\['head\.\*'\]: must be a mapping of settings \(lr, lr_mult, weight_decay or "
     r"decay_mult\), got 0\.1"),
    (dict(rules={"head.*": {"lr": 1, "lr_mult": 2}}), ConfigError,
     r"rules\['head\.\*'\]: sets both 'lr' and 'lr_mult'; give one"),
    (dict(rules={"backbone.*": {"lr_mult": 0.1}}), ConfigError,
     r"rules\['backbone\.\*'\]: matches no parameter of the model \(its names: \['cls_token', "
     r"'pos_embed'.*fix the pattern"),
    (dict(rules={"": {}}), ConfigError, r"rules\[''\]: a pattern must be a non-empty string"),
    (dict(rules={3: {}}), ConfigError, r"rules\[3\]: a pattern must be a non-empty string"),
    (dict(rules={"head.*": {"lr_mult": 1e308}}, lr=10.0), ConfigError,
     r"rules\['head\.\*'\]: \{'lr_mult': 1e\+308\} makes the LR inf .* of 'head\.weight' "
     r"overflow"),
    (dict(lr=-0.1), ScheduleError, r"param_groups: 'lr' must be a finite number >= 0, got -0\.1"),
    (dict(lr="1e-3"), ScheduleError, r"'lr' must be a finite number >= 0, got '1e-3'"),
    (dict(weight_decay=float("inf")), ScheduleError, r"'weight_decay' must be .*got inf"),
    (dict(no_decay="auto"), ScheduleError, r"'no_decay' must be 'default' or None, got 'auto'"),
    (dict(layer_decay=1.5), ScheduleError,
     r"'layer_decay' must be a number in \(0, 1\], got 1\.5; BEiT and ELECTRA use 0\.65-0\.9"),
    (dict(layer_decay=0), ScheduleError, r"'layer_decay' must be a number in \(0, 1\], got 0"),
    (dict(depth=len), ScheduleError, r"'depth' is used only with layer_decay"),
    (dict(layer_decay=0.7, depth=3), ScheduleError, r"'depth' must be a function"),
    (dict(layer_decay=0.7, depth=lambda n: -1), ScheduleError,
     r"depth\('cls_token'\) must be a layer id \(an int >= 0\), got -1"),
    (dict(layer_decay=0.7, depth=lambda n: "3"), ScheduleError, r"got '3'"),
    (dict(layer_decay=0.7, depth=lambda n: 1 / 0), ScheduleError,
     r"depth\('cls_token'\) failed: ZeroDivisionError"),
    (dict(layer_decay=0.7, depth=lambda n: 0), ScheduleError,
     r"every parameter is in layer 0, so layer_decay has no effect"),
    (dict(lr_scale=1), ScheduleError, r"'lr_scale' must be True or False, got 1"),
]


@pytest.mark.parametrize(("kw", "error", "match"), ERRORS)
def test_error_messages(kw, error, match):
    with pytest.raises(error, match=match):
        param_groups(small(), **{"lr": 0.1, **kw})


def test_model_errors():
    with pytest.raises(ScheduleError, match=r"'model' must be a torch\.nn\.Module, got 'list'"):
        param_groups([nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ScheduleError, match=r"Sequential has no group_matcher\(\) \(timm's "
                       r"models do\); pass depth=, e\.g\. depth=lambda name:"):
        param_groups(nn.Sequential(nn.Linear(2, 2)), lr=0.1, layer_decay=0.7)
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ScheduleError, match="the model has no trainable parameters"):
        param_groups(frozen, lr=0.1)
    odd = Net(vit(1))
    odd.no_weight_decay = lambda: [1, 2]
    with pytest.raises(ScheduleError, match=r"no_weight_decay\(\) must give parameter names"):
        param_groups(odd, lr=0.1)
    odd.group_matcher = lambda coarse=False: dict(stem=r"^cls_token(", blocks=None)
    with pytest.raises(ScheduleError, match=r"model\.group_matcher\(\) failed: .*pass depth="):
        param_groups(odd, lr=0.1, layer_decay=0.7, no_decay=None)
    # frozen parameters still count for a pattern: a rule for them is no typo
    model = small()
    model.head.weight.requires_grad_(False)
    model.head.bias.requires_grad_(False)
    assert param_groups(model, lr=0.1, rules={"head.*": {"lr": 0.0}})


ODD = [None, "abc", "", -1, -0.5, 0, 0.5, 1, 2.5, 1e308, float("nan"), float("inf"), True,
       [1], {"a": 1}, (), "default", np.float64(0.3), torch.tensor(0.1)]
PATTERNS = ["*", "*.bias", "head.*", "blocks.0.*", "nothing.*", "", 3, None, ("a",), "[", "*[*"]
SETTINGS = st.dictionaries(st.sampled_from(["lr", "lr_mult", "weight_decay", "decay_mult", "x",
                                            1]), st.sampled_from(ODD), max_size=3)
DEPTHS = [None, len, lambda n: n.count("."), lambda n: -1, lambda n: None, lambda n: 2**70,
          lambda n: np.int64(n.count(".")), lambda n: 1.0, lambda n: 1 / 0, 5]


@pytest.mark.fuzz
@budget(400)
@given(st.sampled_from(ODD), st.sampled_from(ODD),
       st.one_of(st.sampled_from(ODD), st.dictionaries(st.sampled_from(PATTERNS), st.one_of(
           SETTINGS, st.sampled_from(ODD)), max_size=4)),
       st.sampled_from(ODD + ["default"]), st.sampled_from(ODD + [0.75]),
       st.sampled_from(DEPTHS), st.sampled_from(ODD + [False]))
def test_bad_inputs_raise_only_lrkit_errors(lr, wd, rules, no_decay, layer_decay, depth, scale):
    model = small()
    try:
        groups = param_groups(model, lr=lr, weight_decay=wd, rules=rules, no_decay=no_decay,
                              layer_decay=layer_decay, depth=depth, lr_scale=scale)
    except ConfigError as e:
        assert "rules" in e.where
        return
    except ScheduleError:
        return
    assert set(per_param(groups)) == trainable(model)
    for g in groups:
        for key in ("lr", "weight_decay", "lr_scale"):
            v = g.get(key, 0.0)
            assert isinstance(v, float) and math.isfinite(v) and v >= 0, (key, v)
    torch.optim.SGD(groups)


@pytest.mark.fuzz
@budget(200)
@given(st.integers(0, 2**32 - 1))
def test_rules_as_mmengine_fuzz(seed):
    rng = np.random.default_rng(seed)
    model = random_model(rng)
    check_mmengine(model, float(rng.uniform(1e-4, 1)), float(rng.choice([0.0, 0.05])),
                   random_keys(rng, [n for n, _ in model.named_parameters()]))


def test_patterns_are_fnmatch_not_regex():
    model = Net([("a.b", (2, 2)), ("axb", (2, 2))])
    groups = param_groups(model, lr=1.0, rules={"a.b": {"lr": 0.5}})
    assert [(g["name"], g["lr"], len(g["params"])) for g in groups] == [
        ("no_decay", 1.0, 1), ("a.b/no_decay", 0.5, 1)]  # the '.' is a dot, not any character


def test_docs_bert_depth_example():
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=16, vocab_size=50)
    model = transformers.BertForSequenceClassification(config)

    def depth(name):  # ELECTRA/BERT: embeddings 0, encoder layer i -> i + 1, pooler and head top
        if "embeddings." in name:
            return 0
        layer = re.search(r"\.layer\.(\d+)\.", name)
        return int(layer.group(1)) + 1 if layer else config.num_hidden_layers + 1
    groups = param_groups(model, lr=1e-4, weight_decay=0.01, layer_decay=0.8, depth=depth)
    assert [(g["name"], len(g["params"])) for g in groups] == [
        ("layer_0/decay", 3), ("layer_0/no_decay", 2), ("layer_1/decay", 6),
        ("layer_1/no_decay", 10), ("layer_2/decay", 6), ("layer_2/no_decay", 10),
        ("layer_3/decay", 2), ("layer_3/no_decay", 2)]
    assert [g["lr"] for g in groups[::2]] == [1e-4 * 0.8 ** n for n in (3, 2, 1, 0)]
    assert set(per_param(groups)) == trainable(model)
