"""The lrkit console script, run in a subprocess as users run it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXE = str(Path(sys.executable).with_name("lrkit"))


def run(*args, stdin=None):
    return subprocess.run([EXE, *args], capture_output=True, text=True, cwd=ROOT, input=stdin)


def test_explain_formats():
    text = "warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)"
    out = run("explain", text, "--steps-per-epoch", "390", "--total", "39000", "--format",
              "json")
    data = json.loads(out.stdout)
    assert [p["kind"] for p in data["phases"]] == ["warmup (linear)", "cosine"]
    assert data["phases"][1]["start"] == 1950 and data["peak"] == {"step": 1950, "value": 0.1}
    md = run("explain", text, "--steps-per-epoch", "390", "--total", "39000", "--format",
             "markdown").stdout
    assert md.startswith("| # | phase | start |") and "| 1 | cosine | 1950 (5 ep) |" in md


def test_lint_strict_exit_codes():
    flat = run("lint", "examples/tf_object_detection.json", "--strict")
    assert flat.returncode == 1 and flat.stdout.startswith("LR001 flat: the value is 0.004")
    ok = run("lint", "warmup(5) >> cosine(0.1 -> 0, 95)", "--strict")
    assert ok.returncode == 0 and ok.stdout == "no warnings\n"
    data = json.loads(run("lint", "cosine(0.1 -> 0, 50)", "--total", "100",
                          "--format", "json").stdout)
    assert [w["code"] for w in data] == ["LR003"]


def test_values_csv_json_and_stdin():
    out = run("values", "linear(1 -> 0, 4)", "--at", "0,2,9")
    assert out.stdout == "step,value\n0,1.0\n2,0.5\n9,0.0\n"
    data = json.loads(run("values", "-", "--format", "json", stdin="linear(1 -> 0, 2)").stdout)
    assert data == [{"step": 0, "value": 1.0}, {"step": 1, "value": 0.5}]


def test_plot_file_and_terminal(tmp_path):
    png = tmp_path / "s.png"
    out = run("plot", "one_cycle(0.1, 100)", "-o", str(png))
    assert out.returncode == 0 and png.read_bytes()[:4] == b"\x89PNG"
    term = run("plot", "cosine(1 -> 0, 50)")
    assert term.returncode == 0 and term.stdout.splitlines()[0].strip().startswith("1 ┤")


@pytest.mark.parametrize("args,message", [
    (("explain", "cosine(1 -> 0, 5ep)"),
     "lrkit: error: cosine: 'over' = '5ep' needs steps_per_epoch; pass --steps-per-epoch\n"),
    (("validate", "nope.yaml"), "lrkit: error: nope.yaml: cannot read the file"),
    (("explain", "cosine(1 -> 0, 4"), "lrkit: error: expression, column 17: expected ',' or ')'"
     "\n  cosine(1 -> 0, 4\n                  ^\n"),
    (("frobnicate", "x"), "lrkit: error: argument command: invalid choice: 'frobnicate'"),
    (("lint", "constant(0.1)"), "lrkit: error: lint: the schedule is infinite; pass --total"),
    (("values", "constant(0.1)", "--at", "1,x"),
     "lrkit: error: values: --at takes comma-separated steps, got '1,x'\n"),
])
def test_user_errors_exit_2_with_one_message(args, message, tmp_path):
    out = run(*args)
    assert out.returncode == 2 and out.stderr.startswith(message)
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_unknown_key_in_a_file(tmp_path):
    p = tmp_path / "run.json"
    p.write_text('{"kind": "cosine", "start": 0.1, "end": 0, "ovr": 10}')
    out = run("validate", str(p))
    assert out.stderr == ("lrkit: error: run.json: schedule: unknown key 'ovr'; did you mean "
                          "'over'?\n")


def test_help_shows_examples():
    out = run("--help")
    assert "examples:" in out.stdout and "lrkit lint" in out.stdout


def test_import_pipeline_config_keras_json_and_hf(tmp_path):
    out = run("import", "examples/pipeline.config")
    assert out.stdout == "exponential(0.004, 0.95, 800720, staircase=True)\n"
    keras_json = tmp_path / "k.json"
    keras_json.write_text('{"class_name": "PiecewiseConstantDecay", "config": {"boundaries": '
                          '[10, 20], "values": [1.0, 0.5, 0.1]}}')
    assert run("import", str(keras_json)).stdout == "piecewise([1.0, 0.5, 0.1], [11, 21])\n"
    out = run("import", "hf:cosine", "--warmup", "0.05", "--total", "1000", "--lr", "3e-4")
    assert out.stdout == ("linear(0.0 -> 0.0003, 50) >> cosine(0.0003 -> 0.0, 950)"
                          ".past_end(continue)\n")
    bad = run("import", "hf:cosine", "--warmup", "10")
    assert bad.returncode == 2 and bad.stderr.startswith("lrkit: error: import: a Hugging Face "
                                                         "scheduler needs --lr")
