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
