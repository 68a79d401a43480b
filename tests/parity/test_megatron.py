"""from_megatron against megatron-core's OptimizerParamScheduler, driven as Megatron-LM trains.

The reference is the installed ``megatron.core.optimizer_param_scheduler.OptimizerParamScheduler``
(megatron-core 0.16.1), built on a torch SGD over one tiny parameter. The arithmetic from the
arguments to its constructor lives in Megatron-LM's ``megatron/training/training.py``
(``get_optimizer_param_scheduler``), which megatron-core does not install: it is transcribed
below from NVIDIA/Megatron-LM at commit d98e8a64ddf34856e74b24714e3bedb2f5a39553, with
``train_step``'s ``opt_param_scheduler.step(increment=get_num_microbatches() *
micro_batch_size * data_parallel_size)`` (= the global batch size without a batch-size ramp)
after each successful optimizer update. The LR each update uses is the optimizer's
``param_groups[0]["lr"]`` just before ``optimizer.step()``. Values are compared in float64 at
``1e-12 * peak``.

Covered: 160 seeded random argument sets over every decay style and WSD anneal style, both
iteration- and sample-based runs, warmup by iterations, samples or fraction, batch sizes that do
(not) divide the sample counts, each passed as a dict, a dashed dict, a Namespace or a command
line with foreign flags (more under ``-m fuzz``); 13 launch scripts from NVIDIA/Megatron-LM and
other public repositories; the input boundary under Hypothesis; the error messages.
"""

import argparse
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._megatron import _arguments, from_megatron, script_arguments

torch = pytest.importorskip("torch")
with warnings.catch_warnings():  # "Transformer Engine and Apex are not installed"
    warnings.simplefilter("ignore")
    ops = pytest.importorskip("megatron.core.optimizer_param_scheduler")

MEGATRON_LM = "NVIDIA/Megatron-LM@d98e8a64"
DEFAULTS = dict(min_lr=0.0, lr_warmup_init=0.0, lr_decay_style="linear",
                lr_wsd_decay_style="exponential", lr_warmup_iters=0, lr_warmup_samples=0,
                lr_warmup_fraction=None, lr_decay_iters=None, lr_decay_samples=None,
                lr_wsd_decay_iters=None, lr_wsd_decay_samples=None, train_iters=None,
                train_samples=None)


def scheduler_lengths(args):
    """Transcribed from get_optimizer_param_scheduler (megatron/training/training.py,
    NVIDIA/Megatron-LM d98e8a64): (lr_warmup_steps, lr_decay_steps, wsd_decay_steps)."""
    args = argparse.Namespace(**{**DEFAULTS, **vars(args)})
    if args.train_iters:
        if args.lr_decay_iters is None:
            args.lr_decay_iters = args.train_iters
        lr_decay_steps = args.lr_decay_iters * args.global_batch_size
        wsd_decay_steps = None
        if args.lr_wsd_decay_iters is not None:
            wsd_decay_steps = args.lr_wsd_decay_iters * args.global_batch_size
        if args.lr_warmup_fraction is not None:
            lr_warmup_steps = args.lr_warmup_fraction * lr_decay_steps
        else:
            lr_warmup_steps = args.lr_warmup_iters * args.global_batch_size
    elif args.train_samples:
        if args.lr_decay_samples is None:
            args.lr_decay_samples = args.train_samples
        lr_decay_steps = args.lr_decay_samples
        wsd_decay_steps = args.lr_wsd_decay_samples
        if args.lr_warmup_fraction is not None:
            lr_warmup_steps = args.lr_warmup_fraction * lr_decay_steps
        else:
            lr_warmup_steps = args.lr_warmup_samples
    else:
        raise Exception('either train-iters or train-samples should be provided.')
    return lr_warmup_steps, lr_decay_steps, wsd_decay_steps


class Megatron:
    """The real scheduler on a torch SGD, stepped as train_step steps it."""

    def __init__(self, args):
        args = argparse.Namespace(**{**DEFAULTS, **vars(args)})
        warm, decay, wsd = scheduler_lengths(args)
        self.gbs = args.global_batch_size
        self.opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))],
                                   lr=0.0)
        self.sched = ops.OptimizerParamScheduler(
            self.opt, init_lr=args.lr_warmup_init, max_lr=args.lr, min_lr=args.min_lr,
            lr_warmup_steps=warm, lr_decay_steps=decay, lr_decay_style=args.lr_decay_style,
            start_wd=0.0, end_wd=0.0, wd_incr_steps=decay, wd_incr_style="constant",
            use_checkpoint_opt_param_scheduler=False, override_opt_param_scheduler=False,
            wsd_decay_steps=wsd, lr_wsd_decay_style=args.lr_wsd_decay_style)  # calls step(0)
        self.update = 0

    def lr_at(self, k):
        """The LR update k uses; updates before k are run one by one if close, else the
        counter is advanced in one step(j · gbs), the same int addition as j steps."""
        assert k >= self.update
        while self.update < k:
            if k - self.update > 64:
                self.sched.step(increment=(k - self.update - 1) * self.gbs)
                self.update = k - 1
            self._update()
        return self.opt.param_groups[0]["lr"]

    def _update(self):
        self.opt.param_groups[0]["params"][0].grad = torch.ones(1, dtype=torch.float64)
        self.opt.step()
        self.sched.step(increment=self.gbs)
        self.update += 1


def megatron_lrs(args, ks):
    m = Megatron(args)
    return np.array([m.lr_at(int(k)) for k in ks])


def assert_parity(args, ks, given=None):
    ks = sorted(set(ks))
    theirs = megatron_lrs(args, ks)
    ours = from_megatron(vars(args) if given is None else given).values(np.array(ks))
    tol = 1e-12 * max(theirs.max(), 1e-300)
    bad = np.abs(ours - theirs) > tol
    assert not bad.any(), (f"first mismatch at update {np.array(ks)[bad][0]}: lrkit "
                           f"{ours[bad][0]!r}, Megatron {theirs[bad][0]!r}")


# -- seeded random argument sets ------------------------------------------------------------

STYLES = ["constant", "linear", "cosine", "inverse-square-root", "WSD"]
WSD_STYLES = ["exponential", "linear", "cosine", "minus_sqrt"]


def random_args(rng):
    """A valid argument set (Megatron's asserts hold), as argparse would give it."""
    lr = float(rng.choice([1.0, 3e-4, rng.uniform(1e-5, 2.0)]))
    gbs = int(rng.choice([1, 2, 3, 8, 12, 32, 100, 256, 1000]))
    a = dict(lr=lr, global_batch_size=gbs, lr_decay_style=str(rng.choice(STYLES)))
    if rng.random() < 0.7:
        a["min_lr"] = float(rng.choice([0.0, lr / 10, lr * rng.uniform(0, 1), lr]))
    if rng.random() < 0.3:
        a["lr_warmup_init"] = float(rng.choice([0.0, lr * rng.uniform(0, 1)]))
    unit = "iters" if rng.random() < 0.5 else "samples"
    scale = 1 if unit == "iters" else gbs
    total = int(rng.integers(1, 120)) * scale + (int(rng.integers(0, gbs)) if scale > 1 else 0)
    a[f"train_{unit}"] = total
    if rng.random() < 0.6:
        a[f"lr_decay_{unit}"] = max(1, int(total * rng.uniform(0.3, 1.2)))
    decay = a.get(f"lr_decay_{unit}", total)
    roll = rng.random()
    if roll < 0.4:
        a["lr_warmup_fraction"] = float(rng.choice([0.0, 0.001, 0.01, 0.1, 0.5,
                                                    rng.uniform(0, 0.95)]))
    elif roll < 0.8:
        a[f"lr_warmup_{unit}"] = int(rng.integers(0, decay))
    if a["lr_decay_style"] == "WSD":
        a["lr_wsd_decay_style"] = str(rng.choice(WSD_STYLES))
        a[f"lr_wsd_decay_{unit}"] = int(rng.choice([0, 1, int(rng.integers(0, decay + 1)),
                                                    decay, decay + int(rng.integers(1, 20))]))
    return argparse.Namespace(**a)


def as_given(args, form, rng):
    """The same arguments as a dict, a dashed dict, a Namespace or a command line."""
    a = vars(args)
    if form == "dict":
        return dict(a)
    if form == "dashed":
        return {k.replace("_", "-"): v for k, v in a.items()}
    if form == "namespace":
        return argparse.Namespace(**{**DEFAULTS, **a, "micro_batch_size": 1, "bf16": True})
    tokens = ["--num-layers", "24", "--bf16", "--adam-beta1", "0.9", "--decoupled-lr", "5e-4"]
    for k, v in a.items():
        flag, text = "--" + k.replace("_", "-"), repr(v) if isinstance(v, float) else str(v)
        tokens += [f"{flag}={text}"] if rng.random() < 0.3 else [flag, text]
        if rng.random() < 0.3:
            tokens += ["--weight-decay", "0.1", "--seq-length", "4096"]
    return tokens


def updates_of(args):
    _, decay, _ = scheduler_lengths(args)
    total = args.train_iters if getattr(args, "train_iters", None) else \
        args.train_samples // args.global_batch_size
    return max(total, decay // args.global_batch_size) + 15


FORMS = ["dict", "dashed", "namespace", "cli"]
CASES = [(i, FORMS[i % 4]) for i in range(160)]


@pytest.mark.parametrize("seed,form", CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_parity_seeded(seed, form):
    rng = np.random.default_rng(9100 + seed)
    args = random_args(rng)
    assert_parity(args, range(updates_of(args)), as_given(args, form, rng))


def test_seeded_cases_cover_every_style_and_phase_shape():
    seen = set()
    for seed, _ in CASES:
        a = vars(random_args(np.random.default_rng(9100 + seed)))
        unit = "iters" if "train_iters" in a else "samples"
        seen.add((a["lr_decay_style"], unit))
        seen.add(a.get("lr_wsd_decay_style") if a["lr_decay_style"] == "WSD" else None)
        warm, decay, wsd = scheduler_lengths(argparse.Namespace(**a))
        seen.add("fraction" if "lr_warmup_fraction" in a else "counted")
        seen.add("warmup off the batch grid" if warm % a["global_batch_size"] else "on grid")
        if wsd is not None and decay - wsd < warm:
            seen.add("anneal inside warmup")
    assert {(s, u) for s in STYLES for u in ("iters", "samples")} <= seen
    assert set(WSD_STYLES) | {"fraction", "counted", "warmup off the batch grid",
                              "anneal inside warmup"} <= seen


@pytest.mark.fuzz
@budget(300)
@given(st.integers(0, 2**32 - 1), st.sampled_from(FORMS))
def test_parity_random(seed, form):
    rng = np.random.default_rng(seed)
    args = random_args(rng)
    assert_parity(args, range(updates_of(args)), as_given(args, form, rng))


@pytest.mark.fuzz
@budget(200)
@given(st.integers(1, 10**6), st.integers(1, 4096), st.floats(0, 0.999),
       st.sampled_from(STYLES), st.sampled_from(WSD_STYLES), st.integers(0, 10**6))
def test_parity_long_runs_at_the_boundaries(total, gbs, frac, style, wsd_style, wsd):
    """Sample-based runs up to 4e9 samples, checked around every phase boundary."""
    a = dict(lr=1e-3, min_lr=1e-5, global_batch_size=gbs, train_samples=total * gbs + gbs // 3,
             lr_warmup_fraction=frac, lr_decay_style=style, lr_wsd_decay_style=wsd_style,
             lr_wsd_decay_samples=wsd * gbs // 7)
    args = argparse.Namespace(**a)
    assert_parity(args, boundary_updates(args))


def boundary_updates(args, spread=3):
    """Updates around every point where Megatron's formula changes, plus a spread."""
    warm, decay, wsd = scheduler_lengths(args)
    gbs = args.global_batch_size
    points = [0, warm / gbs, decay / gbs, updates_of(args) - 15]
    if wsd is not None:
        points.append((decay - wsd) / gbs)
    ks = {int(p) + d for p in points for d in range(-spread, spread + 2)}
    ks |= {int(x) for x in np.linspace(0, updates_of(args), 40)}
    return sorted(k for k in ks if k >= 0)


# -- real launch scripts --------------------------------------------------------------------

# (repository and file, its learning-rate arguments with the script's variables resolved as the
# script sets them, None or the refusal expected)
REAL = [
    (f"{MEGATRON_LM} examples/bert/train_bert_340m_distributed.sh",
     "--micro-batch-size 4 --global-batch-size 32 --train-iters 1000000 --lr 0.0001 "
     "--lr-decay-iters 990000 --lr-decay-style linear --min-lr 1.0e-5 --lr-warmup-fraction .01",
     None),
    (f"{MEGATRON_LM} examples/t5/train_t5_220m_distributed.sh",
     "--micro-batch-size 64 --global-batch-size 512 --lr 0.0001 --train-iters 1000000 "
     "--lr-decay-iters 1000000 --lr-decay-style linear --min-lr 0.00001 "
     "--lr-warmup-fraction .01", None),
    (f"{MEGATRON_LM} examples/mixtral/train_mixtral_8x7b_distributed.sh",
     "--micro-batch-size 1 --global-batch-size 256 --lr 1e-4 --train-iters 500000 "
     "--lr-decay-iters 320000 --lr-decay-style cosine --min-lr 1.0e-5 --weight-decay 0.1 "
     "--lr-warmup-iters 500", None),
    (f"{MEGATRON_LM} examples/llama/train_llama3_8b_h100_fp8.sh",
     "--micro-batch-size 1 --global-batch-size 128 --train-samples 1953125000 "
     "--lr-decay-samples 1949218748 --lr-warmup-samples 3906252 --lr 0.00015 --min-lr 0.00001 "
     "--decoupled-lr 5.0e-4 --decoupled-min-lr 4.5e-5 --lr-decay-style cosine", None),
    (f"{MEGATRON_LM} examples/mamba/train.sh (MODEL_SCALE=800M)",
     "--train-samples 73242188 --lr-warmup-samples 50000 --lr-decay-samples 73192188 "
     "--micro-batch-size 4 --global-batch-size 32 --lr 2.5e-4 --min-lr 2.5e-5 "
     "--lr-decay-style cosine", None),
    (f"{MEGATRON_LM} examples/gptoss/02_train.sh",
     "--micro-batch-size 1 --global-batch-size 128 --lr 1.0e-5 --train-samples 1953125000 "
     "--lr-decay-samples 1949218748 --lr-decay-style cosine --min-lr 1.0e-6 "
     "--weight-decay 0.1 --lr-warmup-fraction 0.05", None),
    (f"{MEGATRON_LM} examples/academic_paper_scripts/sc21/CONFIG.sh (GBS=12, run_figure_12.sh)",
     "--micro-batch-size 1 --global-batch-size 12 --train-iters 500 --lr-decay-iters 320 "
     "--lr 0.0001 --min-lr 0.00001 --lr-decay-style cosine --lr-warmup-fraction 0.01", None),
    (f"{MEGATRON_LM} examples/megatron_fsdp/sbatch_mfsdp_deepseek_v3.sh",
     "--micro-batch-size 4 --global-batch-size 2048 --train-samples 585937500 "
     "--lr-decay-samples 584765624 --lr-warmup-samples 1536000 --lr-warmup-init 3.9e-7 "
     "--lr 3.9e-6 --min-lr 3.9e-7 --lr-decay-style cosine", None),
    (f"{MEGATRON_LM} examples/multimodal/nvlm/pretrain_yi_34b_internvit_6b.sh (BZ=2048)",
     "--micro-batch-size 1 --global-batch-size 2048 --train-samples 122880000 "
     "--lr-decay-samples 25600000 --lr-warmup-samples 83200 --lr 1e-4 --min-lr 2.5e-5 "
     "--lr-decay-style cosine", None),
    (f"{MEGATRON_LM} examples/multimodal/pretrain_mistral_clip.sh (BZ=256)",
     "--train-iters 20000 --micro-batch-size 1 --global-batch-size 256 --lr-decay-iters 20000 "
     "--lr-warmup-fraction .01 --lr 0.00015 --min-lr 1.0e-5 --lr-decay-style cosine", None),
    ("llm-jp/scripts pretrain/scripts/v4-32b-phase1/base/params.sh",
     "--optimizer adam --lr 2e-4 --min-lr 2e-5 --train-iters 12000000 --lr-warmup-iters 2000 "
     "--lr-decay-iters 12000000 --lr-decay-style WSD --lr-wsd-decay-style linear "
     "--lr-wsd-decay-iters 1 --micro-batch-size 2 --global-batch-size 512", None),
    ("msrasys/nnscaler benchmark/megatron/benchmark_gpt.sh",
     "--micro-batch-size 8 --global-batch-size 8 --lr 0.00015 --train-iters 500000 "
     "--lr-decay-iters 320000 --lr-decay-style cosine --lr-warmup-fraction .01 --fp16", None),
    (f"{MEGATRON_LM} examples/gpt3/train_gpt3_175b_distributed.sh",
     "--micro-batch-size 1 --global-batch-size 1536 --step-batch-size-schedule "
     "'0:16 2.4B:320 4.8B:624 7.2B:928 9.6B:1232 12B:1536' --train-iters 500000 --lr 6.0e-5 "
     "--lr-decay-style cosine --min-lr 6.0e-6 --lr-warmup-fraction .001 "
     "--lr-decay-iters 430000", "step-batch-size-schedule.*non-linear"),
    ("bigscience-workshop/bigscience train/tr11-176B-ml/tr11-176B-ml.slurm",
     "--lr 6e-5 --min-lr 6e-6 --lr-decay-style cosine --lr-decay-samples 200_000_000 "
     "--lr-warmup-samples 183_105 --micro-batch-size 2 --rampup-batch-size 192 16 9_765_625 "
     "--global-batch-size 2048 --train-samples 220_000_000", "rampup-batch-size.*non-linear"),
]


def megatron_parser():
    """Megatron-LM's declarations of the flags read (arguments.py, training_config.py at
    d98e8a64): names, types, choices, nargs; allow_abbrev=False as in parse_args."""
    p = argparse.ArgumentParser(allow_abbrev=False)
    for name in ("lr", "min-lr", "lr-warmup-init", "lr-warmup-fraction"):
        p.add_argument(f"--{name}", type=float)
    for name in ("lr-warmup-iters", "lr-warmup-samples", "lr-decay-iters", "lr-decay-samples",
                 "lr-wsd-decay-iters", "lr-wsd-decay-samples", "train-iters", "train-samples",
                 "global-batch-size"):
        p.add_argument(f"--{name}", type=int)
    p.add_argument("--lr-decay-style", choices=STYLES)
    p.add_argument("--lr-wsd-decay-style", choices=WSD_STYLES)
    p.add_argument("--rampup-batch-size", nargs=3, type=int)
    p.add_argument("--step-batch-size-schedule", type=str)
    return p


def split(line):
    import shlex
    return shlex.split(line)


@pytest.mark.parametrize("source,line,refused", REAL, ids=[r[0].split()[1] for r in REAL])
def test_real_launch_scripts(source, line, refused):
    tokens = split(line)
    known = vars(megatron_parser().parse_known_args(tokens)[0])
    ours = _arguments(tokens)  # our parser reads what Megatron's argparse reads
    for name, v in known.items():
        if name in ("rampup_batch_size", "step_batch_size_schedule"):
            assert (ours[name] is None) == (v is None)
        else:
            assert ours[name] == (DEFAULTS.get(name) if v is None else v), name
    if refused:
        with pytest.raises(lrkit.ConfigError, match=refused):
            from_megatron(tokens)
        return
    args = argparse.Namespace(**{k: v for k, v in known.items() if v is not None})
    assert_parity(args, boundary_updates(args, spread=50), tokens)


def test_real_launch_scripts_are_enough():
    imported = [r for r in REAL if r[2] is None]
    assert len(imported) >= 8 and len({r[0].split()[0] for r in imported}) >= 3


def test_a_whole_real_run_step_by_step():
    """sc21's CONFIG.sh: 500 iterations, every one of them (and 20 past the end)."""
    source, line, _ = REAL[6]
    tokens = split(line)
    args = argparse.Namespace(**{k: v for k, v in
                                 vars(megatron_parser().parse_known_args(tokens)[0]).items()
                                 if v is not None})
    assert_parity(args, range(520), tokens)


# -- conventions, by hand ------------------------------------------------------------------

def run(*extra, gbs=8):
    return from_megatron(["--lr", "1.0", "--global-batch-size", str(gbs), *extra])


def test_warmup_includes_its_last_update_and_the_fraction_is_of_the_decay():
    s = run("--train-iters", "1000", "--lr-decay-iters", "500", "--lr-warmup-fraction", "0.1")
    assert s(0) == 0.0 and s(25) == 0.5 and s(50) == 1.0 and s(49) < 1.0 and s(51) < 1.0
    assert s(500) == 0.0 == s(10**9)


def test_sample_counts_off_the_batch_grid():
    # warmup 100 samples at 64 a batch: update 1 (sample 64) warms, update 2 (128) decays
    s = run("--train-samples", "640", "--lr-warmup-samples", "100", "--lr-decay-style",
            "linear", gbs=64)
    assert s(1) == pytest.approx(0.64) and s(2) == pytest.approx(1 - 28 / 540)
    assert s(10) == pytest.approx(0.0) and s(11) == 0.0


def test_inverse_square_root_jumps_to_min_lr_after_the_decay():
    s = run("--train-iters", "100", "--lr-warmup-iters", "4", "--min-lr", "0.01",
            "--lr-decay-style", "inverse-square-root", gbs=1)
    assert s(4) == 1.0 and s(16) == pytest.approx(0.5) and s(100) == pytest.approx(0.2)
    assert s(101) == 0.01


def test_wsd_anneal_may_begin_inside_the_warmup():
    s = run("--train-iters", "10", "--lr-warmup-iters", "4", "--lr-decay-style", "WSD",
            "--lr-wsd-decay-style", "linear", "--lr-wsd-decay-iters", "8", gbs=2)
    assert s(4) == 1.0 and s(5) == pytest.approx(1 - 3 / 8) and s(10) == 0.0


def test_decoupled_lr_and_foreign_flags_leave_the_main_schedule_alone():
    base = ["--train-iters", "100", "--lr-decay-style", "cosine"]
    assert run(*base) == run(*base, "--decoupled-lr", "5e-4", "--num-layers", "2", "--bf16")


def test_flag_spellings():
    base = dict(lr=1.0, train_iters=10, global_batch_size=1)
    want = from_megatron(base)
    assert from_megatron({"--lr": 1.0, "train-iters": 10, "global_batch_size": 1}) == want
    assert from_megatron(argparse.Namespace(**base, rampup_batch_size=None)) == want
    assert from_megatron(["--lr=2", "--lr=1", "--train-iters=10", "--global-batch-size",
                          "1"]) == want  # the last occurrence wins, as in argparse
    # argparse's flags have dashes (--train_iters is someone else's); int("1_0") is 10
    assert from_megatron(("--lr", "1", "--train_iters", "99", "--train-iters", "10",
                          "--global-batch-size", "1_0")) == want
    assert from_megatron({"lr": "1.0", "train_iters": "10", "global_batch_size": 1.0}) == want


SCRIPT = """#!/bin/bash
#SBATCH --nodes=2
GBS=64  # global batch
export LR=3e-4
ARGS="--lr $LR \\
    --min-lr 3e-5"
TRAIN=(
    --train-iters ${ITERS:-1000}   # the default: ITERS is never set
    --global-batch-size ${GBS}
    --lr-decay-style 'cosine'
)
torchrun pretrain_gpt.py ${TRAIN[@]} $ARGS --lr-warmup-fraction .01 --save $1
"""


def test_script_arguments_read_a_launch_script_as_bash_would():
    words = script_arguments(SCRIPT)
    assert words[words.index("--lr"):][:4] == ["--lr", "3e-4", "--min-lr", "3e-5"]
    assert from_megatron(words) == from_megatron(dict(
        lr=3e-4, min_lr=3e-5, train_iters=1000, global_batch_size=64,
        lr_decay_style="cosine", lr_warmup_fraction=0.01))


def test_script_arguments_leave_what_bash_decides_at_run_time():
    branches = "if [ $BIG ]; then\n  GBS=8\nelse\n  GBS=16\nfi\n"
    with pytest.raises(lrkit.ConfigError, match=r"--global-batch-size: must be a whole number, "
                       r"got '\$GBS' \(expand shell variables first\)"):
        from_megatron(script_arguments(branches + "run --lr 1 --train-iters 9 "
                                                  "--global-batch-size $GBS"))
    with pytest.raises(lrkit.ConfigError, match="the launch script does not split into words"):
        script_arguments("run --lr '1")


def test_importing_the_module_imports_no_engine():
    code = ("import sys, lrkit.interop._megatron as m; m.from_megatron(['--lr', '1', "
            "'--train-iters', '5', '--global-batch-size', '2']); "
            "print(sorted(k for k in ('torch', 'megatron') if k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


# -- the input boundary ----------------------------------------------------------------------

FIELDS = ["lr", "min_lr", "lr_warmup_init", "lr_warmup_fraction", "lr_decay_style",
          "lr_wsd_decay_style", "lr_warmup_iters", "lr_warmup_samples", "lr_decay_iters",
          "lr_decay_samples", "lr_wsd_decay_iters", "lr_wsd_decay_samples", "train_iters",
          "train_samples", "global_batch_size", "rampup_batch_size",
          "step_batch_size_schedule", "foo"]
ODD = [None, "abc", "", "$LR", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 1e9, 2**60, 10**400,
       float("nan"), float("inf"), -float("inf"), True, False, [1], {"a": 1}, "linear",
       "cosine", "WSD", "wsd", "minus_sqrt", "1e3", "-1", "1_000", 1e-300, 1e300]
BASE = dict(lr=1e-3, train_iters=100, global_batch_size=8)


def check(given):
    try:
        s = from_megatron(given)
    except lrkit.ConfigError:
        return
    for k in (0, 1, 5, 50, 99, 100, 101, 10**6, 2**62):
        v = s(k)
        assert math.isfinite(v) and v >= 0


@pytest.mark.fuzz
@budget(500)
@given(st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(ODD), max_size=5),
       st.booleans())
def test_odd_values_raise_only_lrkit_errors(fields, on_base):
    a = {**BASE, **fields} if on_base else fields
    check(a)
    check([t for k, v in a.items() for t in ("--" + k.replace("_", "-"), str(v))])


@pytest.mark.fuzz
@budget(300)
@given(st.lists(st.one_of(st.sampled_from(["--lr", "--train-iters", "--global-batch-size",
                                           "--lr-decay-style", "--rampup-batch-size",
                                           "--lr-warmup-fraction", "--x", "-1", "--lr=",
                                           "--lr=1", "--train-samples=9"]),
                          st.sampled_from(ODD).map(str), st.sampled_from(ODD)), max_size=12))
def test_odd_command_lines_raise_only_lrkit_errors(tokens):
    check(tokens)


def test_odd_values_fixed_sample():
    for v in ODD:
        for name in FIELDS:
            check({**BASE, name: v})
        check(v)
        check(["--lr", str(v), "--train-iters", "100", "--global-batch-size", "8"])


# -- error messages ------------------------------------------------------------------------

GOOD = ["--lr", "1e-3", "--train-iters", "100", "--global-batch-size", "8"]

ERRORS = [
    (GOOD + ["--rampup-batch-size", "16", "16", "300000"],
     r"--rampup-batch-size: is not supported, got \['16', '16', '300000'\]: a batch size that "
     r"changes .* non-linear; lrkit will read it when its clock supports a batch-size ramp"),
    (GOOD + ["--step-batch-size-schedule", "0:16 1B:32"],
     r"--step-batch-size-schedule: is not supported, got '0:16 1B:32'"),
    (["--lr", "1e-3", "--train-iters", "100"],
     r"--global-batch-size: must be a whole number > 0, got None; .*--micro-batch-size"),
    (["--train-iters", "100", "--global-batch-size", "8"], r"--lr: is required"),
    (["--lr", "1", "--global-batch-size", "8"],
     r"--train-iters: is required, or --train-samples .*either train-iters or train-samples"),
    (GOOD + ["--lr-decay-style", "wsd"], r"--lr-decay-style: must be one of 'constant', "
     r"'linear', 'cosine', 'inverse-square-root', 'WSD', got 'wsd'; did you mean 'WSD'\?"),
    (GOOD + ["--lr-decay-style", "WSD", "--lr-wsd-decay-style", "1-sqrt",
             "--lr-wsd-decay-iters", "5"],
     r"--lr-wsd-decay-style: must be one of 'exponential', 'linear', 'cosine', 'minus_sqrt', "
     r"got '1-sqrt'"),
    (["--lr", "$LR", "--train-iters", "100", "--global-batch-size", "8"],
     r"--lr: must be a number, got '\$LR' \(expand shell variables first\)"),
    (GOOD + ["--train-iters", "1e3"], r"--train-iters: must be a whole number, got '1e3'"),
    (GOOD + ["--lr"], r"--lr: expects 1 value after it, got \[\]"),
    (GOOD + ["--lr", "--bf16"], r"--lr: expects 1 value after it, got \['--bf16'\]"),
    (GOOD + ["--lr-warmup-iters", "100"],
     r"--lr-warmup-iters: gives a warmup of 800 samples, not shorter than the decay \(800 "
     r"samples\); Megatron asserts warmup < decay"),
    (GOOD + ["--lr-warmup-fraction", "1.0"], r"--lr-warmup-fraction: gives a warmup of 800.0"),
    (GOOD + ["--lr-warmup-fraction", "0.1", "--lr-warmup-iters", "5"],
     r"--lr-warmup-fraction: and --lr-warmup-iters are both given; give one"),
    (GOOD + ["--lr-decay-samples", "5"],
     r"--lr-decay-samples: cannot be used with --train-iters \(Megatron asserts it is not "
     r"given\), got 5"),
    (["--lr", "1", "--train-samples", "100", "--lr-warmup-iters", "3", "--global-batch-size",
      "8"], r"--lr-warmup-iters: cannot be used with --train-samples \(Megatron asserts it is "
     r"0\), got 3"),
    (GOOD + ["--lr-decay-iters", "0"], r"--lr-decay-iters: must be > 0"),
    (GOOD + ["--min-lr", "0.01"], r"--min-lr: must be <= --lr \(0.001\), got 0.01"),
    (GOOD + ["--lr-warmup-init", "0.01"], r"--lr-warmup-init: must be <= --lr \(0.001\)"),
    (GOOD + ["--lr-decay-style", "WSD"], r"--lr-decay-style: 'WSD' needs --lr-wsd-decay-iters"),
    (["--lr", "1", "--train-samples", "100", "--global-batch-size", "8",
      "--lr-decay-style", "WSD", "--lr-wsd-decay-iters", "3"],
     r"'WSD' needs --lr-wsd-decay-samples"),
    (GOOD + ["--lr", "nan"], r"--lr: must be a finite number, got 'nan'"),
    (GOOD + ["--min-lr", "-1"], r"--min-lr: must be >= 0 and <= 1e300, got '-1'"),
    (GOOD + ["--global-batch-size", "-8"],
     r"--global-batch-size: must be a whole number >= 0 and <= 2\*\*53, got '-8'"),
    ({"lr": 1.0, "lr-decay-style": "cosine", "lr_decay_style": "linear"},
     r"--lr-decay-style: is given twice with different values, 'cosine' and 'linear'"),
    ({"lr": True, "train_iters": 10, "global_batch_size": 1}, r"--lr: must be a number, got "
     r"True"),
    ("--lr 1e-3 --train-iters 10", r"expected an argparse.Namespace, a mapping or a list of "
     r"command-line strings, got '--lr 1e-3 --train-iters 10'; read a launch script's text "
     r"with script_arguments first"),
    (["--lr", 1e-3], r"command-line item 1 must be a string, got 0.001"),
    (["--lr", "1", "--train-samples", str(2**40 + 1), "--lr-decay-style", "linear",
      "--lr-warmup-fraction", repr((2**40 - 1) / (2**40 + 1)), "--global-batch-size",
      str(2**40)],
     r"the decay phase lasts .* updates .*; lrkit's shortest phase is 2\*\*-20 updates"),
]


@pytest.mark.parametrize("given,message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_error_messages(given, message):
    with pytest.raises(lrkit.ConfigError, match=message) as e:
        from_megatron(given)
    assert str(e.value).startswith("from_megatron")


def test_megatron_driven_by_an_lrkit_schedule_through_a_subclass():
    # docs/engines.md: Megatron builds its own scheduler; a subclass returning the lrkit value
    # drives it (and keeps its checkpointing and weight decay).
    s = lrkit.cosine(3e-4, 3e-5, 100) >> lrkit.constant(3e-5)

    class LrkitScheduler(ops.OptimizerParamScheduler):
        def __init__(self, optimizer, schedule, global_batch_size, **kw):
            self.schedule, self.gbs = schedule, global_batch_size
            super().__init__(optimizer, **kw)

        def get_lr(self, param_group):
            return self.schedule(self.num_steps // self.gbs)

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], lr=0.0)
    sched = LrkitScheduler(opt, s, 8, init_lr=0.0, max_lr=3e-4, min_lr=3e-5,
                           lr_warmup_steps=0, lr_decay_steps=800, lr_decay_style="cosine",
                           start_wd=0.0, end_wd=0.0, wd_incr_steps=800,
                           wd_incr_style="constant", use_checkpoint_opt_param_scheduler=False,
                           override_opt_param_scheduler=False)
    applied = []
    for _ in range(120):
        applied.append(opt.param_groups[0]["lr"])
        opt.param_groups[0]["params"][0].grad = torch.ones(1, dtype=torch.float64)
        opt.step()
        sched.step(increment=8)
    assert applied == [s(k) for k in range(120)]
