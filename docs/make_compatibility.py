"""Regenerate docs/compatibility.md from the parity checks (tests/parity): every class or type
per library, how many random configurations were compared, and the largest error.

Run: ``python docs/make_compatibility.py`` (needs torch, keras, transformers, timm).
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")
# As in the test suite: with 32-bit integers JAX computes Keras' k / decay_steps in float32,
# whose ceil/floor can land one cycle off at exact multiples (Keras' own artifact).
os.environ.setdefault("JAX_ENABLE_X64", "1")
HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "tests" / "parity"), str(HERE.parent / "tests")]

import numpy as np  # noqa: E402

import lrkit  # noqa: E402

CONVENTIONS = {
    "StepLR": "decay at t = k·step_size", "MultiStepLR": "repeated milestones count twice",
    "ConstantLR": "total_iters=0 keeps the factor (as step() does)",
    "LinearLR": "closed form of the chainable recursion; total_iters=0 keeps start_factor",
    "ExponentialLR": "b·γ^t",
    "PolynomialLR": "0 at total_iters, held", "CosineAnnealingLR": "periodic past T_max",
    "CosineAnnealingWarmRestarts": "int T_mult, T_cur restarts",
    "CyclicLR": "all modes; momentum too", "OneCycleLR": "phase ends one step early; one "
    "extrapolated value (floored at 0); momentum too", "SequentialLR": "local clock per child",
    "ChainedScheduler": "multiplicative children, and a cosine with eta_min=0",
    "ReduceLROnPlateau": "PyTorch patience; eps",
    "ExponentialDecay": "staircase; fractional decay_steps",
    "PiecewiseConstantDecay": "switches at boundary + 1",
    "PolynomialDecay": "default end 1e-4; cycle grows the horizon",
    "InverseTimeDecay": "staircase; fractional decay_steps",
    "CosineDecay": "warmup_target / warmup_steps",
    "CosineDecayRestarts": "float t_mul; alpha not scaled by m_mul",
    "linear": "LR 0 on the first update", "cosine": "rises after the end; num_cycles",
    "cosine_with_restarts": "any num_cycles", "polynomial": "lr_end held after the end",
    "constant": "", "constant_with_warmup": "LR 0 on the first update",
    "inverse_sqrt": "timescale defaults to the warmup", "cosine_with_min_lr": "min_lr or rate",
    "cosine_warmup_with_min_lr": "peak at W - 1", "warmup_stable_decay": "linear/cosine "
    "warmup; linear/cosine/1-sqrt decay",
}

TIMM_CONVENTIONS = {
    "cosine": "warmup prefix or overlapping; cycle_mul/decay/limit, peak decay, timm's "
    "floating-point cycle index; k_decay",
    "tanh": "overlapping warmup ramps to the value at W; first step keeps the optimizer's LR",
    "poly": "power = decay_rate; cycles; k_decay", "step": "t // decay_t",
    "constant": "warmup, then the base LR", "multistep": "milestone m applies at m - 1",
    "wsd": "warmup always a prefix; linear/1-sqrt/cosine/power decay",
    "rsqrt": "timescale defaults to the warmup; min_lr = 0", "plateau": "PyTorch patience and eps; "
    "metric ignored during warmup", "none": "the optimizer's LR",
}


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    scale = max(float(np.abs(got).max()), 1e-300)
    return float(np.max(np.abs(got - want)) / scale)


def torch_rows() -> dict[str, list[float]]:
    import test_torch_parity as t

    out = defaultdict(list)
    for i, kind, lr, n in t.CONFIGS:
        rng = np.random.default_rng(i)
        groups = int(rng.integers(1, 3))
        opt = t.opt_(lr, groups)
        sched = t.build(kind, opt, rng, n)
        already = int(rng.integers(0, 5))
        t.advance(sched, opt, already)
        ss = [lrkit.from_torch(sched, group=g) for g in range(groups)]
        total = getattr(sched, "total_steps", None)
        steps = (total + 1 - already) if total else 80
        got = t.run(sched, opt, steps)
        for g, s in enumerate(ss):
            want = s.values(np.arange(already, already + steps))
            out[kind].append(rel_err(np.maximum(got[:, g], 0), want))
    return out


def keras_rows() -> dict[str, list[float]]:
    import jax
    import test_keras_parity as t

    out = defaultdict(list)
    for seed in t.CONFIGS:
        ref = t.random_schedule(np.random.default_rng(seed))
        steps = np.arange(400)
        try:
            want = np.asarray(ref(steps), dtype=np.float64)
        except (TypeError, ValueError):
            want = np.asarray(jax.vmap(ref)(steps), dtype=np.float64)
        out[type(ref).__name__].append(rel_err(want, lrkit.from_keras(ref).values(steps)))
    return out


def hf_rows() -> dict[str, list[float]]:
    import test_hf_parity as t
    import torch
    import transformers

    out = defaultdict(list)
    for name, lr, w, total, kw in t.CONFIGS:
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
        ref = transformers.get_scheduler(name, opt, num_warmup_steps=w,
                                         num_training_steps=total,
                                         scheduler_specific_kwargs=dict(kw))
        got = []
        for _ in range(total + 30):
            got.append(opt.param_groups[0]["lr"])
            opt.step()
            ref.step()
        s = lrkit.from_hf(name, w, total, base_lr=lr, **kw)
        out[name].append(rel_err(np.array(got), s.values(np.arange(len(got)))))
    return out


def timm_rows() -> dict[str, list[float]]:
    import test_timm_parity as t

    out = defaultdict(list)
    metrics = np.random.default_rng(1).uniform(0, 1, size=10_000).tolist()
    for lr, kw in t.CONFIGS:
        try:
            want = t.timm_applied(lr, kw, metrics)
        except ValueError:  # refused by timm, and by lrkit (checked in the test)
            continue
        out[kw["sched"]].append(rel_err(want, t.lrkit_applied(lr, kw, metrics, len(want))))
    return out


def timm_recipes_line() -> str:
    import test_timm_recipes as t
    from timm_harness import lrkit_applied, timm_applied

    errs = []
    for case in t.CASES:
        lr, kw = t.create_scheduler_v2_kwargs(case.values[0], t.UPDATES_PER_EPOCH)
        want = timm_applied(lr, kw, [None] * (kw["num_epochs"] + 10))
        errs.append(rel_err(want, lrkit_applied(lr, kw, None, len(want))))
    return (f"Every training recipe in timm's docs ({len(t.RECIPES)} `train.py` command lines "
            f"in pytorch-image-models' `{t.DOC}`: step schedules with `--decay-epochs 2.4`, "
            "one with `--lr-noise`, and cosine schedules) is imported exactly: each translated "
            "as train.py translates it (its defaults, then `scheduler_kwargs`), per epoch and "
            f"with `--sched-on-updates` at {t.UPDATES_PER_EPOCH} updates per epoch, full "
            f"length: {len(errs)} runs, largest error {max(errs):.1e} "
            "(`tests/parity/test_timm_recipes.py`). Over a cosine's last updates, where the LR "
            "is a tiny fraction of its peak, timm's `1 + cos(π·t/T)` is off by up to 6e-7 of "
            "the LR itself; lrkit computes those values exactly.")


def peer_lines() -> list[str]:
    """The peers' own test suites, as rows in tests/parity/test_peer_cases.py."""
    import test_peer_cases as t

    def count(rows: list[Any], at: int) -> tuple[int, int, int]:
        kinds = [type(r[at]).__name__ for r in rows]
        return (kinds.count("NoneType"), kinds.count("Refused"), kinds.count("Warned"))

    torch_ok, torch_no, torch_warn = count(t.TORCH, 2)
    keras_ok, keras_no, _ = count(t.KERAS, 4)
    return ["## The peers' own test suites", "",
            "Every scheduler configuration in the peers' tests, written as a data row naming "
            "its test (`tests/parity/test_peer_cases.py`) and run against the real library:",
            "",
            "| suite | rows | imported exactly | refused with the reason |",
            "|---|---|---|---|",
            f"| PyTorch `test/optim/test_lrscheduler.py` | {len(t.TORCH) + len(t.PLATEAU)} | "
            f"{torch_ok + len(t.PLATEAU)} (+{torch_warn} warned: a resumed group whose value "
            f"disagrees) | {torch_no}: `LambdaLR`/`MultiplicativeLR` with arbitrary functions, "
            "a custom `scale_fn`, `ChainedScheduler` with a recursive cosine (`eta_min > 0`, or "
            "factors still changing after `T_max`) |",
            f"| Keras `learning_rate_schedule_test.py` | {len(t.KERAS)} | {keras_ok} | "
            f"{keras_no}: `CosineDecayRestarts` whose peaks grow (`m_mul > 1`) |",
            f"| transformers `tests/optimization/` (`test_optimization.py`, `test_greedy_lr.py`) | "
            f"{len(t.HF) + 1} | "
            f"{len(t.HF)} (each through `from_hf` and through `from_torch` on the `LambdaLR`) "
            "| 1: `greedy`, which follows the loss |",
            f"| timm `tests/test_scheduler.py` | {len(t.TIMM)} | {len(t.TIMM)} "
            "(`from_timm(scheduler)`) | 0 |", ""]


def corpus_lines() -> list[str]:
    """The real configs of ../shared/corpora: every file tried, by outcome."""
    from collections import Counter

    from lrkit.config import load_file

    root = HERE.parent.parent / "shared" / "corpora"
    if not root.is_dir():
        return ["## Real configs", "", f"(the corpora are not at {root})", ""]
    tfod = sorted((root / "tfod").rglob("*.config"))
    kinds: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for f in tfod:
        try:
            kinds[lrkit.from_tf_object_detection(f).kind] += 1
        except lrkit.ConfigError as e:
            refused[e.message.split(":")[0]] += 1
    garden = sorted([*(root / "tf_model_garden").rglob("*.yaml"),
                     *(root / "tf_model_garden_current").rglob("*.yaml")])
    ok, why = 0, Counter[str]()
    for f in garden:
        try:
            lrkit.from_tf_model_garden(load_file(f))
            ok += 1
        except lrkit.ConfigError as e:
            why[e.where.split(": ")[-1] + " " + e.message.split(":")[0]] += 1
    return ["## Real configs", "",
            f"TF Object Detection (`../shared/corpora/tfod`, every `*.config` under "
            f"`research/object_detection` of tensorflow/models): {len(tfod)} files, "
            f"{sum(kinds.values())} imported and equal to the API's functions at every step "
            f"tested (`tests/parity/test_tfod_corpus.py`), {sum(refused.values())} refused ("
            + ", ".join(f"{n}: {m}" for m, n in refused.items()) + ").", "",
            f"TF Model Garden (`../shared/corpora/tf_model_garden*`, experiment YAMLs with an "
            f"`optimizer_config`): {len(garden)} files, {ok} imported and equal to "
            "tf-models-official's own schedules (`tests/parity/test_tf_model_garden.py`), "
            f"{sum(why.values())} refused because a value is left to the experiment's Python "
            "code (" + ", ".join(f"{n}: `{m}`" for m, n in why.most_common()) + ").", "",
            "`lrkit show FILE` works on every file of both (`tests/test_cli_formats.py`).", ""]


#: The engine importers' parity (tests/parity/test_<engine>.py), as those tests count it.
ENGINES = [
    ("DeepSpeed 0.19.8 (`lrkit.from_deepspeed`)",
     "the real `deepspeed.runtime.lr_schedules` classes, built and stepped as `DeepSpeedEngine` "
     "does (constructor before update 0, `step()` after each optimizer step); "
     "`deepspeed.initialize` on CPU (gloo, one process) with the engine's own scheduler and "
     "with `lrkit.torch.LRScheduler`",
     "180 seeded configurations of the five types + 30 OneCycle momentum + 2 long runs, every "
     "update at 1e-12",
     "17 scheduler blocks (DeepSpeed docs and tests, DeepSpeedExamples, transformers' "
     "ds_config examples filled in); 2 all-`\"auto\"` blocks refused with what the Trainer "
     "fills in"),
    ("Megatron-LM (`lrkit.from_megatron`), megatron-core 0.16.1",
     "the real `megatron.core.optimizer_param_scheduler.OptimizerParamScheduler` on a torch "
     "SGD, stepped as `train_step` does (`step(0)`, then `step(increment=global_batch_size)`); "
     "`get_optimizer_param_scheduler` and the flag declarations transcribed from Megatron-LM's "
     "`megatron/training/` at d98e8a64 (not on PyPI)",
     "160 seeded argument sets (every decay style, iteration and sample runs, the 4 WSD "
     "anneals, warmups by iterations, samples and fraction, 4 input forms), every update to "
     "15 past the end at 1e-12",
     "12 launch scripts imported and checked (Megatron-LM examples: bert, t5, mixtral, llama3, "
     "mamba, gptoss, sc21, deepseek-v3, nvlm, mistral-clip; llm-jp, nnscaler); 2 refused "
     "with the reason (gpt3 175b's batch-size schedule, bigscience tr11-176B's ramp-up)"),
    ("mmengine 0.10.7 (`lrkit.from_mmengine`)",
     "the real `mmengine.optim.scheduler` classes built by `PARAM_SCHEDULERS.build`, stepped "
     "as `ParamSchedulerHook` does; mmdet's `QuadraticWarmupLR` transcribed (mmdetection 3.x "
     "`mmdet/engine/schedulers/quadratic_warmup.py`)",
     "150 seeded lists of 1-3 schedulers (111 accepted, the rest refused where mmengine's "
     "recursion has no closed form) + 22 boundary cases, every update at 1e-12",
     "16 configs (mmdetection, mmpretrain, mmsegmentation, mmyolo, mmdetection3d) compared "
     "with mmengine; mmdetection3d's `cosine.py` refused (a cosine with eta_min overlapping a "
     "warmup)"),
    ("detectron2 (`lrkit.from_detectron2`), commit 02b5c4e",
     "the real fvcore 0.1.5 `ParamScheduler`s and yacs merge, composed as detectron2's "
     "`build_lr_scheduler`, `WarmupParamScheduler` and `LRMultiplier` do (transcribed and "
     "cited: detectron2 is not on PyPI), a torch SGD stepped as its LRScheduler hook does",
     "160 seeded SOLVER configurations, every iteration; 7 runs of 1-10M iterations around "
     "every boundary",
     "16 resolved SOLVER blocks of detectron2's `configs/` and a `_BASE_` chain"),
    ("Ultralytics 8.4.190 (`lrkit.from_ultralytics`)",
     "the trainer's scheduler, warmup, accumulation and parameter groups transcribed (the "
     "package does not import without opencv), driving real torch optimizers, a real "
     "`LambdaLR` and `np.interp`",
     "150 seeded hyperparameter sets, every update, three groups and momentum",
     "`ultralytics/cfg/default.yaml` and yolov5's `data/hyps/` files"),
    ("Hugging Face Trainer, transformers 5.24 (`lrkit.from_hf_trainer`)",
     "the real `Trainer`: `get_train_dataloader`, `set_initial_training_values`, "
     "`get_warmup_steps` and `create_scheduler` (accelerate's sharding for 2-4 processes), "
     "and real `Trainer.train()` runs recording the LR of each optimizer update",
     "300 seeded count/LR configurations + 5 training runs (+ 30 more under `make fuzz`)",
     "13 TRL-format recipes (TRL `examples/cli_configs`, alignment-handbook `recipes/`); 3 "
     "axolotl examples refused by design (axolotl computes steps and warmup itself)"),
]


def engine_lines() -> list[str]:
    lines = ["## Training engines", "", "See `docs/engines.md`. Each importer's schedule "
             "against the engine's own scheduler, driven as the engine drives it:", "",
             "| engine | checked against | configurations | real configs |",
             "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in ENGINES]
    return lines + [""]


HF_SHORT = ("`tests/parity/test_hf_parity.py` also runs 152 configurations whose run ends "
            "near or inside its warmup (a smoke test with `max_steps` below `warmup_steps`): "
            "transformers divides the rest of the run by max(1, T - W), and `from_hf` does the "
            "same; `polynomial` with W = T divides by zero in transformers at update T and is "
            "refused.")


def table(title: str, rows: dict[str, list[float]], unsupported: dict[str, str],
          conventions: dict[str, str] = CONVENTIONS) -> list[str]:
    lines = [f"## {title}", "", "| class / type | supported | configurations | largest error "
             "| convention reproduced |", "|---|---|---|---|---|"]
    for name in sorted(rows):
        errs = rows[name]
        lines.append(f"| `{name}` | yes | {len(errs)} | {max(errs):.1e} | "
                     f"{conventions.get(name, '')} |")
    for name, why in unsupported.items():
        lines.append(f"| `{name}` | no | — | — | {why} |")
    total = sum(len(v) for v in rows.values())
    worst = max(max(v) for v in rows.values())
    return lines + ["", f"{total} configurations, largest error {worst:.1e} (relative to the "
                    "schedule's largest value).", ""]


def main() -> None:
    lines = ["# Compatibility", "",
             "Generated by `python docs/make_compatibility.py` from the parity checks in "
             "`tests/parity/`: each importer's schedule against the real library, stepped as "
             "it intends, update by update (past the end included).", ""]
    lines += table("PyTorch (`lrkit.from_torch`)", torch_rows(), {
        "LambdaLR": "a Python function cannot be read",
        "MultiplicativeLR": "a Python function cannot be read"})
    lines += table("Keras 3 (`lrkit.from_keras`), float32", keras_rows(), {})
    lines += table("Hugging Face (`lrkit.from_hf`)", hf_rows(), {
        "greedy": "raises the LR from the loss at every step: not a function of the step"})
    lines += [HF_SHORT, ""]
    lines += ["## TensorFlow Object Detection API (`lrkit.from_tf_object_detection`)", "",
              "`exponential_decay_learning_rate` (burn-in, min LR, staircase), "
              "`cosine_decay_learning_rate` (warmup, hold), `manual_step_learning_rate` "
              "(with warmup), `constant_learning_rate`, parsed by protobuf's text format: 211 "
              "random configurations against the API's functions transcribed in "
              "`tests/parity/test_tfod_parity.py` (the object_detection package is not on "
              "PyPI), at 1e-12; the source document's burn-in function also runs under "
              "TensorFlow itself.", ""]
    lines += table("timm (`lrkit.from_timm`, the arguments of `create_scheduler_v2`)",
                   timm_rows(), {
                       "wsd/rsqrt decay_fn='exp'": "timm's normalized exponential: no lrkit "
                       "shape yet",
                       "rsqrt with min_lr > 0": "the decay of a falling curve's distance from "
                       "min_lr: no lrkit composition yet",
                       "decay_fn=<callable>": "a Python function cannot be read"},
                   TIMM_CONVENTIONS)
    lines += [timm_recipes_line(), ""]
    lines += ["timm's `__init__` imports torchvision, which does not import beside the "
              "PyTorch 2.13.0 CPU build the test environment pins; `make test` installs timm "
              "with `--no-deps` and the parity test loads `timm.scheduler` (torch and numpy "
              "only) without it. Noise is drawn from `torch.Generator().manual_seed(noise_seed "
              "+ t)` as timm draws it; with an open range (`noise=<fraction>`) lrkit draws it "
              "up to the end of the run `create_scheduler_v2` reports, where timm would go on "
              "past it.", ""]
    lines += engine_lines() + peer_lines() + corpus_lines()
    (HERE / "compatibility.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
