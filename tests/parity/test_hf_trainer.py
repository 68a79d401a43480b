"""from_hf_trainer against the installed transformers.Trainer (5.24, CPU).

Counts: for 300 seeded random argument sets (given as a TrainingArguments, a mapping or a
YAML file), the warmup and total the Trainer's own ``set_initial_training_values`` and
``get_warmup_steps`` give, on the dataloader its ``get_train_dataloader`` builds (or accelerate's
``prepare_data_loader`` shards for 2-4 processes), and the LR of every update of the scheduler
its ``create_scheduler`` builds, against the lrkit schedule. Runs: real ``Trainer.train()`` runs
of a one-parameter model, the LR each optimizer update used recorded by a callback (5 fixed,
30+ in the fuzz test). Real configs: TRL's and alignment-handbook's YAML recipes; axolotl's
refused. Then the fuzz test of the entry point and the error messages.
"""

import contextlib
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._hf_trainer import _counts, _fields, from_hf_trainer

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
yaml = pytest.importorskip("yaml")
from accelerate.data_loader import prepare_data_loader  # noqa: E402 (after the skips)
from torch.utils.data import DataLoader, RandomSampler  # noqa: E402
from transformers import Trainer, TrainerCallback, TrainingArguments  # noqa: E402

transformers.logging.set_verbosity_error()


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return {"loss": (self.p * x).sum()}


class Rows(torch.utils.data.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": torch.ones(1)}


class Record(TrainerCallback):
    """The LR of each optimizer update: after optimizer.step(), before lr_scheduler.step()."""

    def __init__(self):
        self.lrs = []

    def on_optimizer_step(self, args, state, control, optimizer=None, **kwargs):
        self.lrs.append(optimizer.param_groups[0]["lr"])


def training_args(out, fields, **more):
    f = dict(fields)
    if "warmup_ratio" in f:  # transformers 4.x's key: 5.x reads warmup_steps < 1 as the ratio
        f["warmup_steps"] = f.pop("warmup_ratio")
    return TrainingArguments(output_dir=str(out), report_to=[], use_cpu=True, disable_tqdm=True,
                             save_strategy="no", logging_strategy="no", **f, **more)


def engine(out, fields, n, procs=1, split=False):
    """(warmup, total, LR of each update) as the installed Trainer computes them, or the
    error it raises (ValueError for a dataloader without a batch)."""
    acc = {"split_batches": True} if split else None
    args = training_args(out, fields, accelerator_config=acc)
    trainer = Trainer(model=Tiny(), args=args, train_dataset=Rows(n))
    if procs == 1:
        loader = trainer.get_train_dataloader()
    else:  # what accelerator.prepare gives process 0 of `procs`
        rows = Rows(n)
        loader = prepare_data_loader(
            DataLoader(rows, batch_size=args.train_batch_size, sampler=RandomSampler(rows),
                       drop_last=args.dataloader_drop_last),
            num_processes=procs, process_index=0, split_batches=split, put_on_device=False)
    if len(loader) == 0:  # with max_steps > 0 the Trainer goes on, and makes no update
        raise ValueError("no batch")
    total = trainer.set_initial_training_values(args, loader)[-1]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    trainer.create_scheduler(total, optimizer=opt)
    lrs = []
    for _ in range(total + 5):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        trainer.lr_scheduler.step()
    return args.get_warmup_steps(total), total, lrs, args


TYPES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
         "constant_with_warmup", "inverse_sqrt", "cosine_with_min_lr"]


def random_fields(rng, small=False):
    """Random TrainingArguments fields of the scheduler arithmetic, and a dataset size."""
    name = str(rng.choice(TYPES))
    lr = float(rng.choice([0.1, 3e-4, float(rng.uniform(1e-5, 1))]))
    kw = {}
    if name == "cosine" and rng.integers(0, 2):
        kw["num_cycles"] = float(rng.choice([0.5, 1.0, 0.25]))
    if name == "cosine_with_restarts":
        kw["num_cycles"] = int(rng.integers(1, 4))
    if name == "polynomial":
        kw.update(lr_end=lr / 10, power=float(rng.choice([1.0, 2.0])))
    if name == "cosine_with_min_lr":
        kw["min_lr_rate"] = float(rng.uniform(0, 0.5))
    f = {"lr_scheduler_type": name, "learning_rate": lr,
         "per_device_train_batch_size": int(rng.integers(1, 9)),
         "gradient_accumulation_steps": int(rng.integers(1, 5)),
         "dataloader_drop_last": bool(rng.integers(0, 2))}
    if kw:
        f["lr_scheduler_kwargs"] = kw
    warm = int(rng.integers(0, 5))
    if warm == 1:
        f["warmup_steps"] = int(rng.integers(1, 9))
    elif warm == 2:
        f["warmup_steps"] = round(float(rng.uniform(0.01, 0.6)), 3)   # a ratio
    elif warm == 3:
        f["warmup_steps"] = round(float(rng.uniform(1, 8)), 2)        # 3.7 -> 3 steps
    elif warm == 4:
        f["warmup_ratio"] = round(float(rng.uniform(0.01, 0.6)), 3)   # transformers 4.x
    f["num_train_epochs"] = (int(rng.integers(1, 4)) if rng.integers(0, 2)
                             else round(float(rng.uniform(0.2, 3.0)), 2))
    if rng.uniform() < 0.3:
        f["max_steps"] = int(rng.integers(1, 40))
    n = int(rng.integers(1, 25 if small else 80))
    return f, n


def ours(fields, n, procs, form, out, split=False):
    if split:
        fields = {**fields, "accelerator_config": {"split_batches": True}}
    if form == "yaml":
        path = os.path.join(str(out), "args.yaml")
        with open(path, "w") as fh:
            yaml.safe_dump(fields, fh)
        fields = path
    kw = {"num_examples": n}
    if procs > 1:
        kw["world_size"] = procs
    return from_hf_trainer(fields, **kw)


def compare(schedule, lrs, total=None, warmup=0):
    """The schedule against the LRs from update 0, up to the run's ``total`` updates when it
    ends inside its warmup (what would follow it is never applied)."""
    want = np.array(lrs if total is None or total > warmup else lrs[:total])
    got = schedule.values(np.arange(len(want)))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * max(want.max(), 1e-300))


def check_counts(seed, out):
    rng = np.random.default_rng(seed)
    fields, n = random_fields(rng)
    procs = int(rng.choice([1, 1, 1, 2, 3, 4]))
    split = procs > 1 and rng.uniform() < 0.25
    if split:
        fields["per_device_train_batch_size"] = procs * int(rng.integers(1, 3))
    form = str(rng.choice(["mapping", "yaml", "object"]))
    if form == "object" and "warmup_ratio" in fields:
        form = "mapping"
    try:
        warm, total, lrs, args = engine(out, fields, n, procs, split)
    except (ValueError, ZeroDivisionError):  # the Trainer fails: so must lrkit
        with pytest.raises(lrkit.ConfigError):
            ours(fields, n, procs, "mapping", out, split)
        return
    if form == "object":
        s = from_hf_trainer(args, num_examples=n, **({"world_size": procs} if procs > 1 else {}))
        a = _fields(args)
    else:
        s = ours(fields, n, procs, form, out, split)
        a = {**fields, "accelerator_config": {"split_batches": split}}
    assert _counts(a, fields["lr_scheduler_type"], n, None, procs) == (warm, total)
    compare(s, lrs, total, warm)


@pytest.mark.parametrize("seed", range(300))
def test_counts_and_values_match_the_trainer(seed, tmp_path):
    check_counts(7000 + seed, tmp_path)


@pytest.mark.fuzz
@budget(200)
@given(st.integers(0, 2**32 - 1))
def test_counts_fuzz(seed):
    with tempfile.TemporaryDirectory() as out:
        check_counts(seed, out)


def train_run(fields, n, out):
    """The LR each optimizer update of a real Trainer.train() used."""
    record = Record()
    args = training_args(out, fields, optim="sgd", remove_unused_columns=False)
    Trainer(model=Tiny(), args=args, train_dataset=Rows(n), callbacks=[record]).train()
    return record.lrs


def check_run(seed, out):
    fields, n = random_fields(np.random.default_rng(seed), small=True)
    try:
        s = from_hf_trainer(fields, num_examples=n)
    except lrkit.ConfigError:  # the Trainer fails too, or makes no update
        with contextlib.suppress(ValueError, ZeroDivisionError):
            assert train_run(fields, n, out) == []
        return
    lrs = train_run(fields, n, out)
    warm, total = _counts(fields, fields["lr_scheduler_type"], n, None, None)
    assert len(lrs) == total
    compare(s, lrs)


# seeds: cosine_with_min_lr; polynomial; inverse_sqrt ending inside its warmup; constant with
# a ratio warmup and max_steps; polynomial with max_steps
RUNS = [3, 11, 25, 40, 58]


@pytest.mark.parametrize("seed", RUNS)
def test_real_training_runs(seed, tmp_path):
    check_run(9000 + seed, tmp_path)


@pytest.mark.fuzz
@budget(30)
@given(st.integers(0, 2**32 - 1))
def test_real_training_runs_fuzz(seed):
    with tempfile.TemporaryDirectory() as out:
        check_run(seed, out)


def test_fractional_epochs_and_accumulation_remainder(tmp_path):
    # 17 rows in batches of 3: 6 batches, 3 updates an epoch (the last of 2 batches);
    # 2.5 epochs: ceil(7.5) = 8 updates; 0.2 of them warm up: ceil(1.6) = 2
    f = {"learning_rate": 0.1, "lr_scheduler_type": "linear", "warmup_steps": 0.2,
         "num_train_epochs": 2.5, "per_device_train_batch_size": 3,
         "gradient_accumulation_steps": 2}
    assert _counts(f, "linear", 17, None, None) == (2, 8)
    lrs = train_run(f, 17, tmp_path)
    assert len(lrs) == 8 and lrs[:3] == [0.0, 0.05, 0.1]
    compare(from_hf_trainer(f, num_examples=17), lrs)


def test_sharding_over_processes():
    # 17 rows, batches of 3: 6 batches; over 4 processes process 0 gets 2 (even_batches), over
    # 4 with drop_last (5 batches) 1; split_batches keeps all 6
    f = {"learning_rate": 0.1, "num_train_epochs": 1, "per_device_train_batch_size": 3}
    assert _counts(f, "linear", 17, None, 4)[1] == 2
    assert _counts({**f, "dataloader_drop_last": True}, "linear", 17, None, 4)[1] == 1
    assert _counts({**f, "accelerator_config": {"split_batches": True},
                    "per_device_train_batch_size": 4}, "linear", 17, None, 4)[1] == 5
    assert _counts(f, "linear", None, 7, None)[1] == 7   # steps_per_epoch: batches, one process


def test_defaults_are_the_installed_training_arguments():
    import dataclasses

    from lrkit.interop._hf_trainer import _DEFAULTS

    installed = {f.name: f.default for f in dataclasses.fields(TrainingArguments)}
    assert {k: installed[k] for k in _DEFAULTS} == _DEFAULTS


def test_a_training_arguments_object_and_its_json_string_kwargs(tmp_path):
    args = training_args(tmp_path, {"lr_scheduler_type": "cosine_with_min_lr",
                                    "lr_scheduler_kwargs": '{"min_lr_rate": "0.1"}',
                                    "learning_rate": 2e-5, "max_steps": 50, "warmup_steps": 5})
    s = from_hf_trainer(args)
    ref = from_hf_trainer({"lr_scheduler_type": "cosine_with_min_lr", "learning_rate": 2e-5,
                           "lr_scheduler_kwargs": '{"min_lr_rate": "0.1"}', "max_steps": 50,
                           "warmup_steps": 5})
    assert s == ref and s(50) == pytest.approx(2e-6, rel=1e-12)


def test_no_count_needed_for_constant_schedules():
    s = from_hf_trainer({"learning_rate": 0.1, "lr_scheduler_type": "constant_with_warmup",
                         "warmup_steps": 10})
    assert s(0) == 0.0 and s(10) == 0.1 and s(10**6) == 0.1


# --- Real configs: the scheduler fields of recipes that ship with TRL and the alignment-handbook
# (TRL's CLI reads them), at commit f2cd577 (huggingface/trl) and 925acdf
# (huggingface/alignment-handbook); each with an example dataset size and world size.
RECIPES = [
    ("huggingface/trl", "examples/cli_configs/example_config.yaml",
     {"learning_rate": 0.0001, "lr_scheduler_type": "cosine"}, 1000, 1),
    ("huggingface/trl", "examples/cli_configs/mtp_config.yaml",  # YAML reads 5e-5 as a string
     {"num_train_epochs": 3, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 4,
      "learning_rate": "5e-5", "warmup_steps": 100}, 10000, 1),
    ("huggingface/alignment-handbook", "recipes/zephyr-7b-beta/sft/config_full.yaml",
     {"gradient_accumulation_steps": 1, "learning_rate": 2.0e-05, "lr_scheduler_type": "cosine",
      "max_steps": -1, "num_train_epochs": 1, "per_device_train_batch_size": 16,
      "warmup_ratio": 0.1}, 2000, 8),
    ("huggingface/alignment-handbook", "recipes/zephyr-7b-beta/sft/config_qlora.yaml",
     {"gradient_accumulation_steps": 2, "learning_rate": 2.0e-04, "lr_scheduler_type": "cosine",
      "max_steps": -1, "num_train_epochs": 1, "per_device_train_batch_size": 4,
      "warmup_ratio": 0.1}, 1500, 1),
    ("huggingface/alignment-handbook", "recipes/zephyr-7b-beta/dpo/config_full.yaml",
     {"gradient_accumulation_steps": 2, "learning_rate": 5.0e-7, "lr_scheduler_type": "cosine",
      "num_train_epochs": 1, "per_device_train_batch_size": 8, "warmup_ratio": 0.1}, 3000, 8),
    ("huggingface/alignment-handbook", "recipes/constitutional-ai/dpo/config_anthropic.yaml",
     {"gradient_accumulation_steps": 1, "learning_rate": 5.0e-7, "lr_scheduler_type": "linear",
      "num_train_epochs": 3, "per_device_train_batch_size": 2, "warmup_ratio": 0.1}, 500, 8),
    ("huggingface/alignment-handbook", "recipes/constitutional-ai/sft/config_anthropic.yaml",
     {"gradient_accumulation_steps": 4, "learning_rate": 2.0e-05, "lr_scheduler_type": "cosine",
      "max_steps": -1, "num_train_epochs": 1, "per_device_train_batch_size": 8,
      "warmup_ratio": 0.1}, 5000, 4),
    ("huggingface/alignment-handbook", "recipes/smollm2/sft/config.yaml",
     {"gradient_accumulation_steps": 4, "learning_rate": 3.0e-04, "lr_scheduler_type": "cosine",
      "max_steps": -1, "num_train_epochs": 2, "per_device_train_batch_size": 4,
      "warmup_ratio": 0.1}, 3000, 8),
    ("huggingface/alignment-handbook", "recipes/smollm2/dpo/config_smol.yaml",
     {"gradient_accumulation_steps": 8, "learning_rate": 1.0e-6, "lr_scheduler_type": "cosine",
      "num_train_epochs": 2, "per_device_train_batch_size": 2, "warmup_ratio": 0.1}, 1200, 8),
    ("huggingface/alignment-handbook", "recipes/smollm3/sft/sft.yaml",
     {"gradient_accumulation_steps": 2, "learning_rate": 2.0e-05,
      "lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
      "max_steps": -1, "num_train_epochs": 5, "per_device_train_batch_size": 1,
      "warmup_ratio": 0.03}, 800, 8),
    ("huggingface/alignment-handbook", "recipes/smollm3/dpo/apo.yaml",
     {"gradient_accumulation_steps": 2, "learning_rate": 1.0e-06,
      "lr_scheduler_type": "cosine_with_min_lr", "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
      "num_train_epochs": 1, "per_device_train_batch_size": 1, "warmup_ratio": 0.1}, 2500, 8),
    ("huggingface/alignment-handbook", "recipes/starchat2-15b/sft/config_v0.1.yaml",
     {"gradient_accumulation_steps": 2, "learning_rate": 2.0e-05, "lr_scheduler_type": "cosine",
      "max_steps": -1, "num_train_epochs": 3, "per_device_train_batch_size": 8,
      "warmup_ratio": 0.1}, 4000, 8),
    ("huggingface/alignment-handbook", "recipes/zephyr-141b-A35b/orpo/config_full.yaml",
     {"gradient_accumulation_steps": 1, "learning_rate": 5.0e-6,
      "lr_scheduler_type": "inverse_sqrt", "num_train_epochs": 3,
      "per_device_train_batch_size": 1, "warmup_steps": 100}, 700, 4),
]


@pytest.mark.parametrize("repo,path,fields,n,procs", RECIPES,
                         ids=[r[1].rsplit("/", 3)[-3] + "/" + r[1].rsplit("/", 1)[-1]
                              for r in RECIPES])
def test_recipes(repo, path, fields, n, procs, tmp_path):
    file = tmp_path / os.path.basename(path)
    file.write_text(yaml.safe_dump(fields))
    s = from_hf_trainer(file, num_examples=n, world_size=procs)
    theirs = {**fields, "learning_rate": float(fields["learning_rate"])}  # as TRL's CLI reads it
    _, _, lrs, _ = engine(tmp_path, theirs, n, procs)
    compare(s, lrs)


# axolotl's examples (axolotl-ai-cloud/axolotl at 067b021): axolotl computes max_steps (with
# sample packing) and its default warmup itself, so lrkit refuses its configs by their keys.
AXOLOTL = [
    ("examples/llama-3/lora-1b.yml",
     {"sample_packing": True, "gradient_accumulation_steps": 2, "micro_batch_size": 2,
      "num_epochs": 1, "lr_scheduler": "cosine", "learning_rate": 0.0002, "warmup_ratio": 0.1}),
    ("examples/mistral/config.yml",
     {"sample_packing": True, "gradient_accumulation_steps": 4, "micro_batch_size": 2,
      "num_epochs": 4, "lr_scheduler": "cosine", "learning_rate": 0.000005,
      "warmup_ratio": 0.1}),
    ("examples/qwen2/qlora-fsdp.yaml",
     {"sample_packing": True, "gradient_accumulation_steps": 4, "micro_batch_size": 1,
      "num_epochs": 4, "lr_scheduler": "cosine", "learning_rate": 0.0002, "warmup_ratio": 0.1}),
]


@pytest.mark.parametrize("path,fields", AXOLOTL, ids=[a[0] for a in AXOLOTL])
def test_axolotl_configs_are_refused(path, fields, tmp_path):
    file = tmp_path / os.path.basename(path)
    file.write_text(yaml.safe_dump(fields))
    with pytest.raises(lrkit.ConfigError, match=r"^[\w.-]+: (lr_scheduler|micro_batch_size|"
                       r"num_epochs): is axolotl's key, and axolotl counts the steps itself"):
        from_hf_trainer(file, num_examples=1000)


# --- The entry point with odd values in every field: only lrkit errors; what it accepts
# evaluates to finite values >= 0.
ODD = [None, "abc", "", "5e-5", "true", "{", '{"num_cycles": 1}', -1, -1.5, 0, 0.5, 1, 2, 3.5,
       10, 1e9, 2**60, 10**400, float("nan"), float("inf"), True, False, [1], {"a": 1},
       {"num_cycles": 2}, {1: 2}, {"base_lr": 1}, "cosine", "linear", "batch_rebalance",
       {"scheduler": {}}, '{"scheduler": 1}', "{[", {"split_batches": True}]
KEYS = ["learning_rate", "lr_scheduler_type", "lr_scheduler_kwargs", "warmup_steps",
        "warmup_ratio", "num_train_epochs", "max_steps", "per_device_train_batch_size",
        "gradient_accumulation_steps", "dataloader_drop_last", "world_size",
        "accelerator_config", "auto_find_batch_size", "parallelism_config",
        "train_sampling_strategy", "num_generations", "micro_batch_size", "deepspeed", "foo"]


@pytest.mark.fuzz
@budget(500)
@given(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(ODD), max_size=6),
       st.sampled_from(ODD), st.sampled_from(ODD), st.sampled_from(ODD),
       st.sampled_from([None, 0.1, "1e-3"]))
def test_entry_point_raises_only_lrkit_errors(fields, n, spe, procs, lr):
    if lr is not None:
        fields = {**fields, "learning_rate": lr}
    safe_if_accepted(lambda: from_hf_trainer(fields, num_examples=n, steps_per_epoch=spe,
                                             world_size=procs))


def test_bad_files(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(lrkit.ConfigError, match=r"^list.yaml: must hold a mapping of "
                       r"TrainingArguments fields, got \[1, 2\]$"):
        from_hf_trainer(listed)
    with pytest.raises(lrkit.ConfigError, match=r"missing.json: cannot read the file"):
        from_hf_trainer(tmp_path / "missing.json")
    bad = tmp_path / "args.json"
    bad.write_text('{"learning_rate": 0.1, "max_steps": 2.5}')
    with pytest.raises(lrkit.ConfigError, match=r"^args.json: max_steps: must be a whole "
                       r"number \(-1 to train by epochs\), got 2.5$"):
        from_hf_trainer(bad)


@pytest.mark.parametrize("fields,kw,message", [
    ({"learning_rate": 0.1}, {},
     r"^max_steps: is -1 \(train for num_train_epochs=3\), so the number of updates depends on "
     r"the data: give num_examples= \(rows in the training set\) or steps_per_epoch= "
     r"\(len\(trainer.get_train_dataloader\(\)\)\), or set max_steps > 0$"),
    ({"lr_scheduler_type": "cosine"}, {"num_examples": 10},
     r"^learning_rate: is required: TrainingArguments' default is 5e-05 but TRL's configs "
     r"change it \(SFTConfig 2e-05, DPOConfig 1e-06, …\); write the value the run uses$"),
    ({"learning_rate": -0.1}, {}, r"^learning_rate: must be >= 0, got -0.1$"),
    ({"learning_rate": "fast"}, {}, r"^learning_rate: must be a finite number, got 'fast'$"),
    ({"learning_rate": 0.1, "warmup_steps": -5}, {},
     r"^warmup_steps: must be >= 0 \(transformers raises ValueError\), got -5$"),
    ({"learning_rate": 0.1, "warmup_ratio": 1.5}, {},
     r"^warmup_ratio: must lie in \[0, 1\] \(transformers 4.x\), got 1.5$"),
    ({"learning_rate": 0.1, "gradient_accumulation_steps": 0}, {"num_examples": 10},
     r"^gradient_accumulation_steps: must be >= 1, got 0$"),
    ({"learning_rate": 0.1, "per_device_train_batch_size": 2.5}, {"num_examples": 10},
     r"^per_device_train_batch_size: must be a whole number of steps >= 0, got 2.5$"),
    ({"learning_rate": 0.1, "dataloader_drop_last": "maybe"}, {"num_examples": 10},
     r"^dataloader_drop_last: must be true or false, got 'maybe'$"),
    ({"learning_rate": 0.1, "lr_scheduler_kwargs": "cycles=2"}, {"num_examples": 10},
     r"^lr_scheduler_kwargs: must be a mapping or a JSON object, got 'cycles=2'$"),
    ({"learning_rate": 0.1, "lr_scheduler_kwargs": {"base_lr": 1}}, {"num_examples": 10},
     r"^lr_scheduler_kwargs: cannot hold the key 'base_lr': the keys are the scheduler's own "),
    ({"learning_rate": 0.1, "lr_scheduler_type": 3}, {},
     r"^lr_scheduler_type: must be a scheduler name such as 'cosine', got 3$"),
    ({"learning_rate": 0.1}, {"num_examples": 10, "steps_per_epoch": 3},
     r"^steps_per_epoch: give num_examples or steps_per_epoch, not both$"),
    ({"learning_rate": 0.1}, {"num_examples": 0},
     r"^num_examples: must be a whole number >= 1, got 0$"),
    ({"learning_rate": 0.1}, {"num_examples": 10, "world_size": 0},
     r"^world_size: must be a whole number >= 1, got 0$"),
    ({"learning_rate": 0.1, "dataloader_drop_last": True, "max_steps": 10}, {"num_examples": 5},
     r"^num_examples: gives no batch: 5 examples in batches of 8 with dataloader_drop_last; "
     r"the Trainer would make no update$"),
    ({"learning_rate": 0.1, "lr_scheduler_type": "polynomial", "warmup_steps": 10,
      "max_steps": 10}, {}, r"^warmup_steps: gives 10 warmup steps out of 10: transformers' "
     r"polynomial schedule then divides by zero at the end of the run"),
    ({"learning_rate": 0.1, "auto_find_batch_size": True}, {"num_examples": 10},
     r"^auto_find_batch_size: is true: the Trainer halves the batch size at run time"),
    ({"learning_rate": 0.1, "num_generations": 8}, {"num_examples": 10},
     r"^num_generations: is set: TRL's GRPO and RLOO trainers build their own dataloader; "
     r"give steps_per_epoch=len\(trainer.get_train_dataloader\(\)\) or max_steps$"),
    ({"learning_rate": 0.1, "accelerator_config": {"even_batches": False}},
     {"num_examples": 10, "world_size": 3},
     r"^accelerator_config: has even_batches: false, so the processes get different numbers "
     r"of batches \(2 over 3\); give steps_per_epoch$"),
    ({"learning_rate": 0.1, "accelerator_config": "acc.json"},
     {"num_examples": 100, "world_size": 3},
     r"^accelerator_config: is a file, 'acc.json', which lrkit does not open"),
    ({"learning_rate": 0.1, "parallelism_config": {"sp_size": 2}}, {"steps_per_epoch": 10},
     r"^parallelism_config: is set: sequence and context parallelism change the Trainer's "),
    ({"learning_rate": 0.1, "num_train_epochs": 1e300}, {"num_examples": 10},
     r"^num_train_epochs: 1e\+300 x 2 updates an epoch gives 2e\+300 updates; lrkit "
     r"counts up to 2\*\*53 steps$"),
    ({"learning_rate": 0.1, "deepspeed": {"scheduler": {"type": "WarmupLR"}}}, {},
     r"^deepspeed: has a 'scheduler' section: DeepSpeed's scheduler then replaces the "
     r"Trainer's; import that section instead$"),
    ({"learning_rate": 0.1, "lr_scheduler_type": "cosine_hard"}, {"num_examples": 10},
     r"^from_hf: unknown scheduler type 'cosine_hard'; Hugging Face's types are linear, "),
])
def test_errors(fields, kw, message):
    with pytest.raises(lrkit.ScheduleError, match=message):
        from_hf_trainer(fields, **kw)


def test_not_arguments():
    with pytest.raises(lrkit.ConfigError, match=r"^args: must be a transformers."
                       r"TrainingArguments, a mapping of its fields or a path to a YAML or "
                       r"JSON file of them, got 3$"):
        from_hf_trainer(3)


def test_importing_the_module_does_not_import_transformers():
    code = ("import sys, lrkit.interop._hf_trainer; "
            "assert 'transformers' not in sys.modules and 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
