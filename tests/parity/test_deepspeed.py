"""from_deepspeed against deepspeed.runtime.lr_schedules (the installed DeepSpeed): each class
built from the config's params and stepped as DeepSpeed's engine does (constructed before the
first update, ``lr_scheduler.step()`` after each ``optimizer.step()``), the LR every update
applies read from the parameter it moved; 180 seeded random configurations over every type,
OneCycle's beta1 cycle, scheduler blocks from DeepSpeed's, DeepSpeedExamples' and Hugging
Face's repositories, the engine itself (``deepspeed.initialize`` on CPU), odd input, messages.
"""

import json
import logging
import math
import os
import socket

import numpy as np
import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._deepspeed import from_deepspeed

torch = pytest.importorskip("torch")
deepspeed = pytest.importorskip("deepspeed")
from deepspeed.runtime import lr_schedules  # noqa: E402

# The schedulers warn "Attempting to get learning rate from scheduler before it has started"
# at every construction: that is the convention under test, not news.
logging.getLogger("DeepSpeed").setLevel(logging.ERROR)


# -- the reference: DeepSpeed's own classes, driven as its engine drives them ------------------

def engine_values(config, n, total_steps=None, hyperparam="lr"):
    """What each of ``n`` updates applies: the class DeepSpeed's engine picks
    (``_scheduler_from_config``: ``getattr(lr_schedules, type)(optimizer, **params)``), built
    before the first update, ``step()`` after each optimizer step (``_take_model_step``). The
    LR is read from the update itself: SGD moves a float64 zero by ``-lr`` for a gradient 1."""
    block = config["scheduler"]
    params = dict(block["params"])
    if params.get("total_num_steps") == "auto":  # what Hugging Face's Trainer writes there
        params["total_num_steps"] = total_steps
    lr = config.get("optimizer", {}).get("params", {}).get("lr", 0.01)
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = (torch.optim.SGD if hyperparam == "lr" else torch.optim.Adam)([p], lr=lr)
    sched = getattr(lr_schedules, block["type"])(opt, **params)
    out = []
    for _ in range(n):
        with torch.no_grad():
            p.zero_()
        p.grad = torch.ones_like(p)
        beta1 = opt.param_groups[0].get("betas", (None,))[0]
        opt.step()
        out.append(-p.item() if hyperparam == "lr" else beta1)
        sched.step()
    return np.array(out, dtype=np.float64)


def assert_parity(got, s):
    want = s.values(np.arange(len(got)))
    err = np.abs(want - got)
    peak = max(float(np.abs(got).max()), 1e-300)
    k = int(err.argmax())
    assert err[k] <= 1e-12 * peak, f"update {k}: lrkit {want[k]!r}, DeepSpeed {got[k]!r}"


def check(config, n, total_steps=None, hyperparam="lr"):
    s = from_deepspeed(config, total_steps=total_steps, hyperparam=hyperparam)
    assert_parity(engine_values(config, n, total_steps, hyperparam), s)
    return s


# -- seeded random configurations ---------------------------------------------------------------

def random_config(rng, big=1):
    """A config of a random type; ``big`` scales the lengths (the fuzz runs use longer ones)."""
    def pick(*xs):
        return xs[int(rng.integers(0, len(xs)))]

    def maybe(p, key, *xs):  # absent (DeepSpeed's default) or one of xs
        v = pick(None, *xs)
        if v is not None:
            p[key] = v

    name = pick("WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle", "LRRangeTest")
    lr = pick(1e-3, 0.1, float(rng.uniform(1e-5, 1.0)))
    p, n, total = {}, 0, None
    if name in ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR"):
        w = pick(1, 2, 3, int(rng.integers(1, 60 * big)))
        p["warmup_num_steps"] = w
        maybe(p, "warmup_type", "log", "linear", "linear")
        n = max(w, 2) + 20
    if name in ("WarmupLR", "WarmupDecayLR"):
        maybe(p, "warmup_min_lr", 0, 0.0, float(rng.uniform(0, 0.01)), float(rng.uniform(0, 2)))
        if name == "WarmupDecayLR" or rng.integers(0, 3):
            maybe(p, "warmup_max_lr", 0.001, float(rng.uniform(1e-4, 1)))
    if name in ("WarmupDecayLR", "WarmupCosineLR"):
        total = pick(int(rng.integers(0, p["warmup_num_steps"] + 80 * big)),
                     p["warmup_num_steps"] + int(rng.integers(1, 100 * big)))
        p["total_num_steps"] = pick(total, total, "auto" if total else 0)
        n = max(n, total + 20)
        total = total if p["total_num_steps"] == "auto" else None  # total_steps= fills "auto"
    if name == "WarmupCosineLR":
        maybe(p, "warmup_min_ratio", 0.0, float(rng.uniform(0, 1)), 1.5)
        maybe(p, "cos_min_ratio", 0.0, float(rng.uniform(0, 0.5)), 1.2,
              float(rng.uniform(-0.3, 0)))
    if name == "OneCycle":
        first = int(rng.integers(1, 40 * big))
        p.update(cycle_min_lr=pick(0, float(rng.uniform(0, 0.01))),
                 cycle_max_lr=float(rng.uniform(0, 1)), cycle_first_step_size=first)
        maybe(p, "cycle_second_step_size", 0, first, int(rng.integers(1, 40 * big)))
        maybe(p, "cycle_first_stair_count", 0, -1, int(rng.integers(1, 12)),
              int(rng.integers(1, 60)))
        maybe(p, "cycle_second_stair_count", 0, int(rng.integers(1, 12)),
              int(rng.integers(1, 60)))
        maybe(p, "decay_step_size", 0, int(rng.integers(1, 20)), float(rng.uniform(0.5, 20)))
        maybe(p, "decay_lr_rate", 0.0, float(rng.uniform(0, 0.5)), float(rng.uniform(0, 5)))
        n = first + p.get("cycle_second_step_size", first) + 40
    if name == "LRRangeTest":
        maybe(p, "lr_range_test_min_lr", 1e-4, float(rng.uniform(0, 0.01)))
        p["lr_range_test_step_size"] = int(rng.integers(1, 30))
        maybe(p, "lr_range_test_step_rate", 0.0, 5, float(rng.uniform(0, 10)))
        maybe(p, "lr_range_test_staircase", False, True)
        total = int(rng.integers(1, 200 * big))
        n = total + 1  # the test's updates 0..total; lrkit holds the last value after it
    return {"optimizer": {"type": "SGD", "params": {"lr": lr}},
            "scheduler": {"type": name, "params": p}}, n, total


CONFIGS = [random_config(np.random.default_rng(7000 + i)) for i in range(180)]


@pytest.mark.parametrize("config,n,total", CONFIGS,
                         ids=[f"{c[0]['scheduler']['type']}-{i}" for i, c in enumerate(CONFIGS)])
def test_parity(config, n, total):
    check(config, n, total)


def random_momentum(rng, big=1):
    first = int(rng.integers(1, 30 * big))
    p = {"cycle_min_lr": 1e-3, "cycle_max_lr": 1e-2, "cycle_first_step_size": first,
         "cycle_min_mom": float(rng.uniform(0.5, 0.9)), "cycle_max_mom": float(rng.uniform(0.85,
                                                                                          0.99))}
    if rng.integers(0, 2):
        p["cycle_second_step_size"] = int(rng.integers(0, 30 * big))
    if rng.integers(0, 2):
        p["cycle_first_stair_count"] = int(rng.integers(0, 10))
    if rng.integers(0, 2):
        p["cycle_second_stair_count"] = int(rng.integers(0, 10))
    if rng.integers(0, 2):  # a decay of the LR; DeepSpeed's momentum decay is off (rate 0)
        p.update(decay_step_size=int(rng.integers(1, 10)), decay_lr_rate=0.1, decay_mom_rate=0.0)
    n = first + p.get("cycle_second_step_size", first) + 20
    return {"scheduler": {"type": "OneCycle", "params": p}}, n


MOMENTUM = [random_momentum(np.random.default_rng(9000 + i)) for i in range(30)]


@pytest.mark.parametrize("config,n", MOMENTUM)
def test_one_cycle_momentum_parity(config, n):
    """beta1 of an Adam-style optimizer (DeepSpeed cycles momentum only where there are betas),
    cycle_min_mom for update 0 as the constructor writes it."""
    check(config, n, hyperparam="momentum")


@pytest.mark.fuzz
@budget(100)
@given(st.integers(0, 2**32 - 1))
def test_parity_fuzz(seed):
    config, n, total = random_config(np.random.default_rng(seed), big=5)
    check(config, n, total)


@pytest.mark.fuzz
@budget(30)
@given(st.integers(0, 2**32 - 1))
def test_momentum_parity_fuzz(seed):
    config, n = random_momentum(np.random.default_rng(seed), big=4)
    check(config, n, hyperparam="momentum")


def test_long_log_warmup_and_stairs():
    """A 1000-step log warmup (DeepSpeed's default) and 500 stairs, at every update."""
    check({"scheduler": {"type": "WarmupDecayLR", "params": {"total_num_steps": 3000}}}, 3100)
    check({"scheduler": {"type": "OneCycle", "params": {
        "cycle_min_lr": 1e-4, "cycle_max_lr": 1e-3, "cycle_first_step_size": 1000,
        "cycle_first_stair_count": 500, "cycle_second_stair_count": 333,
        "decay_step_size": 1000, "decay_lr_rate": 0.001}}}, 2500)


def test_conventions_by_hand():
    warm = {"scheduler": {"type": "WarmupLR", "params": {
        "warmup_min_lr": 0.1, "warmup_max_lr": 0.2, "warmup_num_steps": 4,
        "warmup_type": "linear"}}}
    s = check(warm, 10)
    # updates 0 and 1 both get the minimum; the peak is reached at update W + 1
    assert [round(s(k), 12) for k in range(7)] == [0.1, 0.1, 0.125, 0.15, 0.175, 0.2, 0.2]
    cos = {"optimizer": {"params": {"lr": 1.0}}, "scheduler": {"type": "WarmupCosineLR",
           "params": {"total_num_steps": 6, "warmup_num_steps": 2, "warmup_type": "linear",
                      "warmup_min_ratio": 0.5, "cos_min_ratio": 0.0}}}
    s = check(cos, 10)
    # update 0 gets 0; the cosine's own start (progress 0) is never applied
    assert [round(s(k), 12) for k in range(8)] == [0.0, 0.5, 0.75, 0.853553390593, 0.5,
                                                   0.146446609407, 0.0, 0.0]
    one = {"scheduler": {"type": "OneCycle", "params": {
        "cycle_min_lr": 0.0, "cycle_max_lr": 1.0, "cycle_first_step_size": 4,
        "cycle_first_stair_count": 2}}}
    s = check(one, 12)
    # stairs rise at 2 and 4 and fall one stair right after the peak
    assert [s(k) for k in range(10)] == [0.0, 0.0, 0.5, 0.5, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0]


def test_range_test_holds_after_total_steps():
    cfg = {"scheduler": {"type": "LRRangeTest", "params": {
        "lr_range_test_min_lr": 1e-3, "lr_range_test_step_size": 10,
        "lr_range_test_step_rate": 2.0, "lr_range_test_staircase": True}}}
    s = check(cfg, 96, total_steps=95)
    assert s(95) == s(10**9) == pytest.approx(1e-3 * (1 + 2.0 * 9))


# -- scheduler blocks shipped in the engine's repositories --------------------------------------
# (repository, file, optimizer lr in that config or None, its scheduler block, total_steps)

REAL = [
    ("deepspeedai/DeepSpeed", "docs/_pages/config-json.md", None,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
                                     "warmup_num_steps": 1000}}, None),
    ("deepspeedai/DeepSpeed", "docs/_tutorials/lrrt.md", None,
     {"type": "LRRangeTest", "params": {"lr_range_test_min_lr": 0.0001,
                                        "lr_range_test_step_size": 200,
                                        "lr_range_test_step_rate": 5,
                                        "lr_range_test_staircase": False}}, 2000),
    ("deepspeedai/DeepSpeed", "docs/_tutorials/one-cycle.md", None,
     {"type": "OneCycle", "params": {"cycle_first_step_size": 1000,
                                     "cycle_first_stair_count": 500,
                                     "cycle_second_step_size": 1000,
                                     "cycle_second_stair_count": 500, "decay_step_size": 1000,
                                     "cycle_min_lr": 0.0001, "cycle_max_lr": 0.0010,
                                     "decay_lr_rate": 0.001, "cycle_min_mom": 0.85,
                                     "cycle_max_mom": 0.99, "decay_mom_rate": 0.0}}, None),
    ("deepspeedai/DeepSpeed", "examples/sdma_allgather/ds_config_zero3.json", None,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 1e-5,
                                     "warmup_num_steps": 10}}, None),
    ("deepspeedai/DeepSpeed", "tests/model/Megatron_GPT2/ds_config_func_scheduler.json", None,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
                                     "warmup_num_steps": 10}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestGetLrBeforeTrain)",
     0.00015, {"type": "WarmupLR", "params": {}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestGetLrBeforeTrain)",
     0.00015, {"type": "WarmupDecayLR", "params": {"warmup_num_steps": 10,
                                                    "total_num_steps": 20}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestGetLrBeforeTrain)",
     0.00015, {"type": "OneCycle", "params": {"cycle_min_lr": 0, "cycle_max_lr": 0.1}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestGetLrBeforeTrain)",
     0.00015, {"type": "LRRangeTest", "params": {}}, 5000),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestLrSchedule)",
     0.00015, {"type": "WarmupDecayLR", "params": {"warmup_min_lr": 0.1, "warmup_max_lr": 0.2,
                                                    "warmup_num_steps": 33,
                                                    "total_num_steps": 66,
                                                    "warmup_type": "log"}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestWarmupCosineLR)",
     0.0015, {"type": "WarmupCosineLR", "params": {"total_num_steps": 100,
                                                    "warmup_min_ratio": 0.2,
                                                    "warmup_num_steps": 10,
                                                    "cos_min_ratio": 0.1}}, None),
    ("deepspeedai/DeepSpeed", "tests/unit/runtime/test_lr_schedulers.py (TestWarmupCosineLR)",
     0.0015, {"type": "WarmupCosineLR", "params": {"total_num_steps": 600,
                                                    "warmup_min_ratio": 0.0,
                                                    "warmup_num_steps": 550,
                                                    "cos_min_ratio": 0.0}}, None),
    ("microsoft/DeepSpeedExamples", "QANet-Pytorch/ds_bsz512_1cycle.json", 0.001,
     {"type": "OneCycle", "params": {"cycle_min_lr": 0.004, "cycle_max_lr": 0.015,
                                     "cycle_first_step_size": 1000,
                                     "cycle_second_step_size": 100,
                                     "cycle_first_stair_count": 100,
                                     "cycle_second_stair_count": 100, "decay_step_size": 1000,
                                     "decay_lr_rate": 0.01}}, None),
    ("microsoft/DeepSpeedExamples", "QANet-Pytorch/ds_bsz512_warmup.json", 0.001,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
                                     "warmup_num_steps": 1000}}, None),
    ("microsoft/DeepSpeedExamples", "training/cifar/cifar10_deepspeed.py", 0.001,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
                                     "warmup_num_steps": 1000}}, None),
    ("huggingface/transformers", "tests/deepspeed/ds_config_zero3.json", 3e-5,
     {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 3e-5,
                                     "warmup_num_steps": 500}}, None),
    # docs/source/en/deepspeed.md's WarmupDecayLR block once the Trainer has filled its "auto"
    # values other than total_num_steps (min 0, max --learning_rate, --warmup_steps)
    ("huggingface/transformers", "docs/source/en/deepspeed.md (filled)", 5e-5,
     {"type": "WarmupDecayLR", "params": {"total_num_steps": "auto", "warmup_min_lr": 0,
                                          "warmup_max_lr": 5e-5, "warmup_num_steps": 100}},
     1000),
]


def _length(block, total):
    p = block["params"]
    if block["type"] == "LRRangeTest":
        return total + 1
    if block["type"] == "OneCycle":
        first = p.get("cycle_first_step_size", 2000)
        return first + p.get("cycle_second_step_size", first) + 3 * p.get("decay_step_size", 1)
    return max(p.get("warmup_num_steps", 1000), p.get("total_num_steps", 0)
               if p.get("total_num_steps") != "auto" else total) + 50


@pytest.mark.parametrize("repo,path,lr,block,total", REAL,
                         ids=[f"{r[1]}-{r[3]['type']}" for r in REAL])
def test_real_configs(repo, path, lr, block, total):
    config = {"scheduler": block}
    if lr is not None:
        config["optimizer"] = {"type": "Adam", "params": {"lr": lr}}
    check(config, _length(block, total), total)
    if block["type"] == "OneCycle" and "cycle_min_mom" in block["params"]:
        check(config, _length(block, total), total, hyperparam="momentum")


@pytest.mark.parametrize("path,block,field,says", [
    # huggingface/transformers tests/deepspeed/ds_config_zero2.json: every value "auto"
    ("tests/deepspeed/ds_config_zero2.json",
     {"type": "WarmupLR", "params": {"warmup_min_lr": "auto", "warmup_max_lr": "auto",
                                     "warmup_num_steps": "auto"}},
     "warmup_min_lr", "0"),
    # huggingface/transformers docs/source/en/deepspeed.md
    ("docs/source/en/deepspeed.md",
     {"type": "WarmupDecayLR", "params": {"total_num_steps": "auto", "warmup_min_lr": 0,
                                          "warmup_max_lr": "auto", "warmup_num_steps": 100}},
     "warmup_max_lr", "learning_rate"),
])
def test_hugging_face_auto_is_refused_with_what_the_trainer_fills(path, block, field, says):
    with pytest.raises(lrkit.ConfigError, match=rf"scheduler\.params\.{field}: is 'auto', "
                       rf"which Hugging Face's Trainer replaces with .*{says}"):
        from_deepspeed({"optimizer": {"params": {"lr": "auto"}}, "scheduler": block},
                       total_steps=1000)


def test_a_file_path(tmp_path):
    f = tmp_path / "ds_config.json"
    block = {"type": "WarmupDecayLR", "params": {"warmup_num_steps": 5, "total_num_steps": 40,
                                                 "warmup_type": "linear"}}
    f.write_text(json.dumps({"train_batch_size": 8, "scheduler": block}))
    s = from_deepspeed(f)
    assert s == from_deepspeed(str(f)) == from_deepspeed({"scheduler": block})
    assert_parity(engine_values({"scheduler": block}, 60), s)
    f.write_text(json.dumps({"scheduler": {"type": "WarmupLR", "params": {
        "warmup_num_steps": 0}}}))
    with pytest.raises(lrkit.ConfigError, match=r"^ds_config\.json: scheduler\.params\."
                       r"warmup_num_steps: must be a whole number > 0"):
        from_deepspeed(f)


# -- the engine itself ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine_process():
    """A one-process gloo group, as a launcher would set it up, on CPU."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in dict(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                         MASTER_PORT=str(port)).items():
            mp.setenv(k, v)
        # DeepSpeed's CPU backend otherwise compiles its shared-memory all-reduce op (a minute
        # of C++ on a fresh machine); a one-process group never uses it.
        import deepspeed.ops
        mp.setitem(deepspeed.ops.__compatible_ops__, "deepspeed_shm_comm", False)
        try:
            deepspeed.init_distributed(dist_backend="gloo")
        except Exception as e:  # noqa: BLE001 - the reason goes into the skip
            pytest.skip(f"DeepSpeed's engine does not start here: {type(e).__name__}: {e}")
        yield
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _engine_run(config, scheduler, steps):
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    engine, optimizer, _, _ = deepspeed.initialize(
        model=model, optimizer=opt, lr_scheduler=scheduler(opt) if scheduler else None,
        config={"train_batch_size": 1, "train_micro_batch_size_per_gpu": 1, **config})
    lrs = []
    for _ in range(steps):
        loss = engine(torch.ones(1, 2)).sum()
        engine.backward(loss)
        lrs.append(optimizer.param_groups[0]["lr"])  # what this engine.step() applies
        engine.step()
    return np.array(lrs)


def test_engine_with_an_lrkit_scheduler(engine_process):
    cfg = {"scheduler": {"type": "WarmupDecayLR", "params": {
        "warmup_min_lr": 0.01, "warmup_max_lr": 0.2, "warmup_num_steps": 6,
        "total_num_steps": 20}}}
    s = from_deepspeed(cfg)
    got = _engine_run({}, lambda opt: lrkit.torch.LRScheduler(opt, s), 25)
    assert_parity(got, s)
    # and the engine's own scheduler from the same config applies the same values
    assert_parity(_engine_run(cfg, None, 25), s)


# -- odd input -------------------------------------------------------------------------------------

ODD = [None, "abc", "", "auto", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 1e9, 10**400, float("nan"),
       float("inf"), True, False, [1], {"a": 1}, "log", "linear", 1e-7, 1e308]
KEYS = sorted({k for keys in (
    ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type", "total_num_steps",
     "warmup_min_ratio", "cos_min_ratio", "cycle_min_lr", "cycle_max_lr", "decay_lr_rate",
     "cycle_first_step_size", "cycle_second_step_size", "cycle_first_stair_count",
     "cycle_second_stair_count", "decay_step_size", "cycle_momentum", "cycle_min_mom",
     "cycle_max_mom", "decay_mom_rate", "lr_range_test_min_lr", "lr_range_test_step_size",
     "lr_range_test_step_rate", "lr_range_test_staircase", "last_batch_iteration", "foo"),)
    for k in keys})
TYPES = ["WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle", "LRRangeTest", "StepLR",
         "nope", None, 3, ["WarmupLR"], {"a": 1}]


@pytest.mark.fuzz
@budget(400)
@given(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ODD),
                                               max_size=6),
       st.sampled_from(ODD), st.sampled_from(ODD), st.sampled_from(["lr", "momentum", "x"]),
       st.sampled_from(["config", "no params", "no scheduler", "not a mapping"]))
def test_odd_values_raise_only_lrkit_errors(name, params, lr, total, hyperparam, shape):
    config = {"optimizer": {"params": {"lr": lr}},
              "scheduler": {"type": name, "params": params}}
    if shape == "no params":
        del config["scheduler"]["params"]
    elif shape == "no scheduler":
        del config["scheduler"]
    elif shape == "not a mapping":
        config["scheduler"] = params or lr
    safe_if_accepted(lambda: from_deepspeed(config, total_steps=total, hyperparam=hyperparam),
                     (0, 1, 2, 5, 50, 10**6, 2**62))


@pytest.mark.fuzz
@budget(300)
@given(st.integers(0, 2**32 - 1), st.sampled_from(KEYS), st.sampled_from(ODD))
def test_one_odd_value_in_a_valid_config(seed, key, value):
    """One field of a valid configuration replaced by an odd value: refused with an lrkit error
    naming the field, or accepted and safe."""
    config, _, total = random_config(np.random.default_rng(seed))
    config["scheduler"]["params"][key] = value
    try:
        s = from_deepspeed(config, total_steps=total)
    except lrkit.ConfigError as e:
        # the field, or a value derived from several (lr x ratio past 1e300) in the leaf's words
        assert key in str(e) or "optimizer" in str(e) or "total_steps" in str(e) or \
            str(e).startswith("scheduler: "), str(e)
        return
    for k in (0, 1, 2, 5, 50, 10**6, 2**62):
        v = s(k)
        assert math.isfinite(v) and v >= 0


def test_the_module_does_not_import_deepspeed():
    import subprocess
    import sys

    code = ("import sys, lrkit.interop._deepspeed as m; "
            "m.from_deepspeed({'scheduler': {'type': 'WarmupLR', 'params': {'warmup_max_lr': 1}}})"
            "; print(sorted(n for n in ('deepspeed', 'torch') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert out.stdout.strip() == "[]"


# -- messages --------------------------------------------------------------------------------------

def _sched(name, **params):
    return {"scheduler": {"type": name, "params": params}}


@pytest.mark.parametrize("config,kw,message", [
    ({}, {}, r"^scheduler: is missing: without it DeepSpeed keeps the optimizer's LR, and "
             r"Hugging Face's Trainer builds its own scheduler \(read that with lrkit\.from_hf\)"),
    ({"scheduler": "WarmupLR"}, {}, r"^scheduler: must be a mapping .*got 'WarmupLR'"),
    (_sched("Warmup"), {}, r"^scheduler\.type: must be one of DeepSpeed's WarmupLR, "
                           r"WarmupDecayLR, WarmupCosineLR, OneCycle, LRRangeTest, got 'Warmup'"),
    (_sched("StepLR", step_size=10), {}, r"^scheduler\.type: 'StepLR' is PyTorch's: DeepSpeed "
                                         r"builds torch\.optim\.lr_scheduler\.StepLR.*"
                                         r"lrkit\.from_torch"),
    ({"scheduler": {"type": "WarmupLR"}}, {}, r"^scheduler\.params: must be a mapping of "
                                              r"WarmupLR's arguments .*got None"),
    (_sched("WarmupLR", warmup_steps=10), {}, r"^scheduler\.params\.'warmup_steps': is not an "
                                              r"argument of WarmupLR \(DeepSpeed raises "
                                              r"TypeError\); its arguments are warmup_min_lr, "),
    (_sched("WarmupLR", warmup_num_steps=0), {},
     r"warmup_num_steps: must be a whole number > 0 written as an integer \(DeepSpeed raises "
     r"ValueError otherwise\), at most 2\*\*53, got 0"),
    (_sched("WarmupLR", warmup_num_steps=100.0), {}, r"warmup_num_steps: .*got 100\.0"),
    (_sched("WarmupLR", warmup_max_lr=0.1, warmup_type="cos"), {},
     r"warmup_type: must be 'log' or 'linear' \(DeepSpeed falls back to 'log' with a "
     r"warning\), got 'cos'"),
    (_sched("WarmupLR", warmup_max_lr=0.1, warmup_num_steps=2_000_000), {},
     r"warmup_num_steps: with the 'log' warmup is at most 100,000 steps"),
    (_sched("WarmupLR", warmup_max_lr=-0.1), {}, r"warmup_max_lr: must be >= 0, got -0\.1"),
    (_sched("WarmupLR", warmup_max_lr=[0.1, 0.2]), {},
     r"warmup_max_lr: is a list \(one value per param group\)"),
    (_sched("WarmupLR", warmup_max_lr=0.1, last_batch_iteration=99), {},
     r"last_batch_iteration: must be -1 \(a run from the start; a resumed run restores it "
     r"from its checkpoint\), got 99"),
    (_sched("WarmupLR"), {}, r"^optimizer\.params\.lr: is required: WarmupLR without "
                             r"warmup_max_lr warms up to the optimizer's LR; .*warmup_max_lr"),
    (_sched("WarmupLR", warmup_max_lr="auto"), {},
     r"warmup_max_lr: is 'auto', which Hugging Face's Trainer replaces with "
     r"TrainingArguments\.learning_rate \(--learning_rate, 5e-5 by default\); write that number"),
    (_sched("WarmupLR", warmup_num_steps="auto", warmup_max_lr=1), {},
     r"warmup_num_steps: is 'auto', .*max\(1, warmup_steps\).*ceil\(--warmup_ratio"),
    (_sched("WarmupDecayLR", total_num_steps="auto"), {},
     r"total_num_steps: is 'auto', which Hugging Face's Trainer fills with the run's number of "
     r"updates \(num_training_steps\); pass total_steps=<updates>"),
    (_sched("WarmupDecayLR", total_num_steps=100), {"total_steps": 200},
     r"total_num_steps: is 100 but total_steps=200"),
    (_sched("WarmupDecayLR"), {}, r"total_num_steps: is required"),
    (_sched("WarmupDecayLR", total_num_steps=10, warmup_min_lr=None), {},
     r"warmup_min_lr: is null, which DeepSpeed passes on as None and fails on; remove it for "
     r"the default \(0\.0\)"),
    (_sched("WarmupCosineLR", total_num_steps=100), {},
     r"^optimizer\.params\.lr: is required: WarmupCosineLR scales the optimizer's LR by its "
     r"ratios; write the lr of the optimizer DeepSpeed steps$"),
    ({"optimizer": {"params": {"lr": "auto"}}, **_sched("WarmupCosineLR", total_num_steps=9)},
     {}, r"^optimizer\.params\.lr: is 'auto', which Hugging Face's Trainer replaces with "
         r"TrainingArguments\.learning_rate"),
    ({"optimizer": {"params": {"lr": 1.0}}, **_sched("WarmupCosineLR", total_num_steps=9,
                                                      warmup_min_ratio=-0.5)}, {},
     r"warmup_min_ratio: must be >= 0, got -0\.5"),
    (_sched("WarmupCosineLR", total_num_steps=9, cos_min_ratio="auto"), {},
     r"cos_min_ratio: is 'auto', which Hugging Face's Trainer replaces with nothing: the "
     r"Trainer does not fill it"),
    (_sched("OneCycle", cycle_max_lr=0.1), {}, r"cycle_min_lr: is required"),
    (_sched("OneCycle", cycle_max_lr=0.1), {"hyperparam": "momentum"},
     r"cycle_min_lr: is required"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, cycle_first_step_size=2**50,
            cycle_first_stair_count=100), {},
     r"cycle_first_stair_count: x its half cycle's steps must be at most 2\*\*53 \(DeepSpeed "
     r"places the stairs in floating point\), got 100 x 1125899906842624"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, cycle_first_step_size=0), {},
     r"cycle_first_step_size: must be > 0 \(DeepSpeed raises ValueError\)"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, cycle_first_step_size=10.5), {},
     r"cycle_first_step_size: must be a whole number of steps >= 0, got 10\.5"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, cycle_first_stair_count=2.5), {},
     r"cycle_first_stair_count: must be a whole number of stairs \(0 or less: none\), got 2\.5"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, decay_lr_rate=-1), {},
     r"decay_lr_rate: must be >= 0, got -1"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, cycle_momentum=False),
     {"hyperparam": "momentum"}, r"cycle_momentum: is False: OneCycle then leaves the momentum "
                                 r"alone"),
    (_sched("OneCycle", cycle_min_lr=0, cycle_max_lr=0.1, decay_step_size=10,
            decay_mom_rate=0.1), {"hyperparam": "momentum"},
     r"decay_mom_rate: multiplies beta1 by \(1 \+ rate · steps / decay_step_size\) after the "
     r"cycle, which leaves \[0, 1\) without end; lrkit reads it only as 0, got 0\.1"),
    (_sched("WarmupLR", warmup_max_lr=0.1), {"hyperparam": "momentum"},
     r"^scheduler: WarmupLR schedules only the LR; hyperparam='momentum' is OneCycle's"),
    (_sched("LRRangeTest"), {}, r"^scheduler: LRRangeTest raises the LR without end: "
                                r"lo · \(1 \+ step_rate · k / step_size\); pass "
                                r"total_steps=<updates of the test>"),
    (_sched("LRRangeTest", lr_range_test_step_size=0), {"total_steps": 10},
     r"lr_range_test_step_size: must be a whole number > 0"),
    (_sched("LRRangeTest", lr_range_test_staircase="yes"), {"total_steps": 10},
     r"lr_range_test_staircase: must be true or false, got 'yes'"),
    (_sched("LRRangeTest", lr_range_test_step_rate=1e300, lr_range_test_min_lr=1e10),
     {"total_steps": 10**6}, r"^scheduler: linear: "),
])
def test_messages(config, kw, message):
    with pytest.raises(lrkit.ConfigError, match=message):
        from_deepspeed(config, **kw)


@pytest.mark.parametrize("kw,message", [
    ({"total_steps": 0}, r"^from_deepspeed: 'total_steps' must be a whole number of updates > 0 "
                         r"\(at most 2\*\*53\), got 0"),
    ({"total_steps": 10.0}, r"got 10\.0"),
    ({"hyperparam": "betas[1]"}, r"^from_deepspeed: 'hyperparam' must be 'lr' or 'momentum', "
                                 r"got 'betas\[1\]'"),
])
def test_argument_messages(kw, message):
    with pytest.raises(lrkit.ScheduleError, match=message):
        from_deepspeed(_sched("WarmupLR", warmup_max_lr=0.1), **kw)


def test_file_errors(tmp_path):
    with pytest.raises(lrkit.ConfigError, match=r"cannot read the file"):
        from_deepspeed(tmp_path / "missing.json")
    bad = tmp_path / "ds.json"
    bad.write_text("[1, 2]")
    with pytest.raises(lrkit.ConfigError, match=r"^ds\.json: expected a DeepSpeed config "
                                                r"mapping, got \[1, 2\]"):
        from_deepspeed(bad)
