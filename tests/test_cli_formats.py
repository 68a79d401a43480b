"""One way in for files: every command detects the format of what it is given (lrkit config,
pipeline.config, Keras JSON, Model Garden YAML, timm args.yaml, hf:NAME) and says which it
read; `lrkit show` works on every file of both real-world corpora (../shared/corpora)."""

import json
from pathlib import Path

import pytest

import lrkit
from lrkit.cli import main

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name, text, detected, want", [
    ("run.json", json.dumps({"kind": "cosine", "start": 0.1, "end": 0, "over": 10}), "", None),
    ("keras.json", json.dumps({"class_name": "CosineDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 10}}), "a Keras schedule",
     lrkit.cosine(0.1, 0.0, 10)),
    ("exp.yaml", "trainer:\n  optimizer_config:\n    learning_rate:\n      type: constant\n"
     "      constant:\n        learning_rate: 0.5\n", "a TF Model Garden experiment",
     lrkit.constant(0.5)),
    ("args.yaml", "sched: step\nlr: 0.1\nepochs: 10\ndecay_epochs: 3\nwarmup_epochs: 0\n"
     "decay_rate: 0.5\n", "timm train.py arguments", None),
    ("pipeline.config", "train_config { optimizer { adam_optimizer { learning_rate { "
     "constant_learning_rate { learning_rate: 0.25 } } } } }\nmodel { ssd { "
     "aspect_ratios: [1.0, 2.0] } }", "a TF Object Detection pipeline.config",
     lrkit.constant(0.25)),
])
def test_each_format_is_detected_and_said(tmp_path, capsys, name, text, detected, want):
    path = tmp_path / name
    path.write_text(text)
    for command in ("show", "lint", "values", "validate", "import"):
        extra = ["--total", "20"] if command in ("lint", "values") else []
        code, out, err = run(capsys, command, path, *extra)
        assert code == 0, err
        assert err == (f"lrkit: read {path} as {detected}\n" if detected else "")
    code, out, _ = run(capsys, "import", path, "--format", "json")
    if want is not None:
        assert lrkit.from_config(json.loads(out)) == want


def test_timm_args_need_the_lr_timm_derived(tmp_path, capsys):
    path = tmp_path / "args.yaml"
    path.write_text("sched: cosine\nlr: null\nepochs: 10\n")
    code, _, err = run(capsys, "show", path)
    assert (code, err) == (2, f"lrkit: read {path} as timm train.py arguments\n"
                              "lrkit: error: args.yaml: lr: is null: timm's train.py derives it "
                              "from lr_base and the global batch size (batch_size x GPUs x "
                              "grad_accum_steps / lr_base_size); give the LR the run used "
                              "(lrkit: --lr)\n")
    code, out, _ = run(capsys, "import", path, "--lr", "0.5")
    assert code == 0 and out.startswith("linear(1e-05 -> 0.5, 5) >> ")  # 5 warmup epochs


def test_hf_names_work_in_every_command(capsys):
    code, out, err = run(capsys, "values", "hf:linear", "--lr", "1", "--warmup", "2",
                         "--total", "4")
    assert (code, out, err) == (0, "step,value\n0,0.0\n1,0.5\n2,1.0\n3,0.5\n", "")


def test_an_unknown_document_lists_the_formats(tmp_path, capsys):
    path = tmp_path / "what.yaml"
    path.write_text("optimizer: sgd\n")
    code, _, err = run(capsys, "show", path)
    assert code == 2 and err.startswith("lrkit: error: what.yaml: not a format lrkit reads; it "
                                        "reads an lrkit config (JSON/TOML/YAML with 'kind'")


def corpus(name, pattern):
    root = CORPORA / name
    return sorted(root.rglob(pattern)) if root.is_dir() else []


TFOD = corpus("tfod", "*.config")
GARDEN = corpus("tf_model_garden", "*.yaml") + corpus("tf_model_garden_current", "*.yaml")


@pytest.mark.skipif(not TFOD, reason=f"the TF OD corpus is not at {CORPORA / 'tfod'}")
def test_show_works_on_every_tf_object_detection_config(capsys):
    shown = refused = 0
    for path in TFOD:
        code, out, err = run(capsys, "show", path)
        if "learning_rate" in path.read_text():
            assert code == 0 and out.startswith(f"== {path}"), (path, err)
            shown += 1
        else:
            assert code == 2 and "no learning rate" in err, (path, err)
            refused += 1
    assert (shown, refused) == (107, 2)


@pytest.mark.skipif(not GARDEN, reason=f"the Model Garden corpus is not at {CORPORA}")
def test_show_works_on_every_model_garden_experiment(capsys):
    pytest.importorskip("yaml")
    codes = {0: 0, 2: 0}
    for path in GARDEN:
        code, out, err = run(capsys, "show", path)
        assert code in codes, (path, err)
        assert err.startswith(f"lrkit: read {path} as a TF Model Garden experiment\n"), err
        if code == 2:  # a value the experiment's Python code supplies: named, one line
            assert err.count("\n") == 2 and "\nlrkit: error: " in err, err
        codes[code] += 1
    assert codes == {0: 69, 2: 39}


DS = {"train_batch_size": 32, "optimizer": {"type": "AdamW", "params": {"lr": 3e-4}},
      "scheduler": {"type": "WarmupLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 3e-4,
                                                   "warmup_num_steps": 10,
                                                   "warmup_type": "linear"}}}
MEGATRON = {"lr_decay_style": "cosine", "lr": 3e-4, "min_lr": 3e-5, "train_iters": 100,
            "lr_warmup_iters": 10, "global_batch_size": 8}
ULTRALYTICS = ("task: detect\nepochs: 3\nbatch: 16\nnbs: 64\nlr0: 0.01\nlrf: 0.01\n"
               "momentum: 0.937\nwarmup_epochs: 1.0\nwarmup_momentum: 0.8\n"
               "warmup_bias_lr: 0.1\ncos_lr: false\noptimizer: SGD\n")


@pytest.mark.parametrize("name, text, detected, args, want", [
    ("ds_config.json", json.dumps(DS), "a DeepSpeed config", [],
     lambda p: lrkit.from_deepspeed(DS)),
    ("frcnn.yaml", "SOLVER:\n  BASE_LR: 0.02\n  STEPS: (60, 80)\n  MAX_ITER: 90\n"
     "  WARMUP_ITERS: 10\n", "a detectron2 config", [], lambda p: lrkit.from_detectron2(p)),
    ("args.yaml", ULTRALYTICS, "Ultralytics arguments", ["--steps-per-epoch", "20"],
     lambda p: lrkit.from_ultralytics(p, batches_per_epoch=20)["weights"]),
    ("run.json", json.dumps(MEGATRON), "Megatron-LM arguments", [],
     lambda p: lrkit.from_megatron(MEGATRON)),
    ("pretrain_gpt.sh", "#!/bin/bash\n# a launch script\ntorchrun pretrain_gpt.py \\\n"
     "  --num-layers 2 --lr 3e-4 --min-lr 3e-5 --global-batch-size 8 \\\n  --lr-decay-style "
     "linear --train-iters 100 \\\n  --lr-warmup-iters 10 $EXTRA_ARGS\n",
     "Megatron-LM arguments", [],
     lambda p: lrkit.from_megatron(["--lr", "3e-4", "--min-lr", "3e-5", "--lr-decay-style",
                                    "linear", "--train-iters", "100", "--lr-warmup-iters",
                                    "10", "--global-batch-size", "8"])),
    ("sft.yaml", "learning_rate: 2.0e-5\nlr_scheduler_type: cosine\nwarmup_ratio: 0.1\n"
     "max_steps: 50\n", "Hugging Face TrainingArguments as YAML/JSON", [],
     lambda p: lrkit.from_hf_trainer(p)),
])
def test_each_engine_format_is_detected_and_read_as_its_importer_reads_it(
        tmp_path, capsys, name, text, detected, args, want):
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(capsys, "import", path, "--format", "json", *args)
    assert code == 0, err
    assert err.startswith(f"lrkit: read {path} as {detected}\n")
    assert lrkit.from_config(json.loads(out)) == want(path)
    code, out, err = run(capsys, "lint", path, *args)
    assert code == 0, err


def test_mmengine_python_configs_are_read_with_mmengine(tmp_path, capsys):
    pytest.importorskip("mmengine")
    path = tmp_path / "schedule_1x.py"
    path.write_text("train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12)\n"
                    "param_scheduler = [dict(type='LinearLR', start_factor=0.001, "
                    "by_epoch=False, begin=0, end=500), dict(type='MultiStepLR', begin=0, "
                    "end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)]\n"
                    "optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.02))\n")
    code, out, err = run(capsys, "lint", path)
    assert code == 2
    assert err.endswith("MultiStepLR steps by epoch (by_epoch=True, mmengine's default); pass "
                        "--steps-per-epoch (iterations per epoch, len(train_dataloader))\n")
    code, out, err = run(capsys, "import", path, "--steps-per-epoch", "100", "--format", "json")
    assert code == 0, err
    assert lrkit.from_config(json.loads(out)) == lrkit.from_mmengine(path, epoch_length=100)


def test_the_format_can_be_forced_and_ultralytics_groups_chosen(tmp_path, capsys):
    path = tmp_path / "hyp.yaml"
    path.write_text(ULTRALYTICS)
    code, out, err = run(capsys, "import", path, "--steps-per-epoch", "20", "--group", "biases",
                         "--format", "json")
    assert code == 0, err
    assert lrkit.from_config(json.loads(out)) == \
        lrkit.from_ultralytics(path, batches_per_epoch=20)["biases"]
    code, _, err = run(capsys, "show", path, "--steps-per-epoch", "20", "--group", "bias")
    assert code == 2 and "--group: Ultralytics' schedules are weights, batchnorm, biases, " \
        "momentum, got 'bias'" in err
    code, _, err = run(capsys, "show", path, "--from", "detectron2")
    assert code == 2 and err.startswith(f"lrkit: read {path} as a detectron2 config\n")


def test_an_importers_advice_names_the_cli_flag(tmp_path, capsys):
    path = tmp_path / "ds_config.json"
    auto = {**DS, "scheduler": {"type": "WarmupDecayLR", "params": {
        **DS["scheduler"]["params"], "total_num_steps": "auto"}}}
    path.write_text(json.dumps(auto))
    code, _, err = run(capsys, "lint", path)
    assert code == 2 and err.endswith("(num_training_steps); pass --total <updates>\n"), err
    code, out, err = run(capsys, "lint", path, "--total", "100")
    assert code == 0, err
