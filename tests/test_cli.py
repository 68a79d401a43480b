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
    assert bad.returncode == 2 and bad.stderr.startswith("lrkit: error: hf:cosine: a Hugging Face "
                                                         "scheduler needs --lr")


# Bad input of every kind gets one lrkit line and exit 2; no traceback ever reaches the user.

LONG = "warmup(5) >> cosine(0.1 -> 0, 95)" + " >> linear(0.01 -> 0.001, 10)" * 12


def run_blocking_matplotlib(*args):
    """The CLI as it runs where matplotlib is not installed."""
    code = ("import sys; sys.modules['matplotlib'] = None; from lrkit.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT)


def test_an_inline_expression_of_any_length():
    assert len(LONG.encode()) > 255  # longer than a file name may be
    out = run("values", LONG, "--at", "0,5,220")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "step,value\n0,0.016666666666666666\n5,0.1\n220,0.001\n"
    assert run("show", LONG).returncode == 0


ONE_T = ("lrkit: error: values: the run has 1000000000000 steps, more than the 10000000 printed "
         "without --at; choose steps with --at, e.g. --at 0,500000000000,999999999999\n")
KWARGS = "; e.g. --kwargs '{\"num_cycles\": 0.5}'\n"
HF = ("import", "hf:linear", "--total", "100", "--lr", "0.1")


@pytest.mark.parametrize("args,stdin,message", [
    (("show", "-"), "", "lrkit: error: stdin: empty; pipe in a one-line expression or a JSON "
     "config\n"),
    (("show", "-"), "  \n", "lrkit: error: stdin: empty; pipe in a one-line expression or a "
     "JSON config\n"),
    (("show", "-"), b"\xff\xfe", "lrkit: error: stdin: not UTF-8 text (byte 0xff at offset 0)\n"),
    (("show", "-"), "{bad", "lrkit: error: stdin: neither a one-line expression (no '(') nor "
     "valid JSON: Expecting property name enclosed in double quotes at line 1, column 2\n"),
    ((*HF, "--warmup", "abc"), None,
     "lrkit: error: argument --warmup: must be a finite number, got 'abc' (see lrkit --help)\n"),
    ((*HF, "--warmup", "nan"), None,
     "lrkit: error: argument --warmup: must be a finite number, got 'nan' (see lrkit --help)\n"),
    ((*HF, "--warmup", "inf"), None,
     "lrkit: error: argument --warmup: must be a finite number, got 'inf' (see lrkit --help)\n"),
    ((*HF, "--warmup", "2.5"), None,
     "lrkit: error: argument --warmup: must be a whole number of steps >= 0 or a share of "
     "--total below 1, got '2.5' (see lrkit --help)\n"),
    (("import", "hf:linear", "--warmup", "1", "--total", "10", "--lr", "nan"), None,
     "lrkit: error: argument --lr: must be a finite number, got 'nan' (see lrkit --help)\n"),
    (("explain", "cosine(1 -> 0, 2ep)", "--steps-per-epoch", "inf"), None,
     "lrkit: error: argument --steps-per-epoch: must be a finite number, got 'inf' "
     "(see lrkit --help)\n"),
    ((*HF, "--warmup", "1", "--kwargs", "{bad"), None,
     "lrkit: error: import: --kwargs must be a JSON object, got '{bad' (Expecting property "
     "name enclosed in double quotes at column 2)" + KWARGS),
    ((*HF, "--warmup", "1", "--kwargs", "[1]"), None,
     "lrkit: error: import: --kwargs must be a JSON object, got '[1]'" + KWARGS),
    ((*HF, "--warmup", "1", "--kwargs", "null"), None,
     "lrkit: error: import: --kwargs must be a JSON object, got 'null'" + KWARGS),
    (("plot", "cosine(1 -> 0, 10)", "-o", "x.foo"), None,
     "lrkit: error: plot: -o 'x.foo' must end in one of .avif, .eps"),
    (("plot", "cosine(1 -> 0, 10)", "-o", "nodir/x.png"), None,
     "lrkit: error: plot: cannot write nodir/x.png: the directory 'nodir' does not exist\n"),
    (("values", "cosine(0.1 -> 0, 1T)"), None, ONE_T),
    (("values", "constant(1)", "--at", "0,99999999999999999999"), None,
     "lrkit: error: values: --at steps must be < 2**63, got '0,99999999999999999999'\n"),
])
def test_bad_input_exits_2_with_one_line(args, stdin, message):
    if isinstance(stdin, bytes):
        p = subprocess.run([EXE, *args], capture_output=True, cwd=ROOT, input=stdin)
        out = subprocess.CompletedProcess(p.args, p.returncode, p.stdout.decode(),
                                          p.stderr.decode())
    else:
        out = run(*args, stdin=stdin)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr.startswith(message) and out.stderr.count("\n") == 1, out.stderr


def test_a_file_that_is_not_json_for_import(tmp_path):
    p = tmp_path / "k.json"
    p.write_text("{bad")
    out = run("import", str(p))
    assert (out.returncode, out.stderr) == (2, "lrkit: error: k.json: not valid JSON: Expecting "
                                           "property name enclosed in double quotes: line 1 "
                                           "column 2 (char 1)\n")


def test_plot_without_matplotlib_says_what_to_install(tmp_path):
    out = run_blocking_matplotlib("plot", "cosine(1 -> 0, 10)", "-o", str(tmp_path / "s.png"))
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (f"lrkit: error: plot: writing {tmp_path / 's.png'} needs matplotlib: "
                          "pip install 'lrkit[plot]' (without -o, lrkit plots in the "
                          "terminal)\n")
    term = run_blocking_matplotlib("plot", "cosine(1 -> 0, 10)")
    assert term.returncode == 0 and term.stdout.splitlines()[0].strip().startswith("1 ┤")


def test_plot_writes_pdf_and_svg(tmp_path):
    for name, magic in (("s.pdf", b"%PDF"), ("s.svg", b"<?xm")):
        out = run("plot", "cosine(1 -> 0, 10)", "-o", str(tmp_path / name))
        assert out.returncode == 0 and (tmp_path / name).read_bytes()[:4] == magic


@pytest.mark.parametrize("shell", [
    "{exe} values 'linear(1 -> 0, 1M)' | head -1",
    "{exe} values 'linear(1 -> 0, 1M)' --format json | head -c 10",
    "{exe} show 'cosine(0.1 -> 0, 10)' | head -1",
])
def test_a_closed_pipe_exits_quietly(shell):
    out = subprocess.run(["bash", "-c", shell.format(exe=EXE) + "; exit ${PIPESTATUS[0]}"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode in (0, 141) and out.stderr == ""


def test_a_pipe_closed_before_any_output():
    p = subprocess.Popen([EXE, "values", "linear(1 -> 0, 1M)"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=ROOT)
    p.stdout.close()
    assert p.wait(timeout=60) == 141 and p.stderr.read() == b""


def test_values_streams_a_long_run():
    out = run("values", "linear(1 -> 0, 200000)", "--format", "json")
    data = json.loads(out.stdout)
    assert len(data) == 200_000 and data[100_000] == {"step": 100000, "value": 0.5}
    csv = run("values", "linear(1 -> 0, 200000)").stdout.splitlines()
    assert len(csv) == 200_001 and csv[100_001] == "100000,0.5"
    assert run("values", "constant(1)", "--at", ",", "--format", "json").stdout == "[]\n"


def test_an_unexpected_exception_is_reported_as_a_bug():
    code = ("import sys, lrkit.cli as c\n"
            "def boom(args): raise RuntimeError('went\\nwrong')\n"
            "c._cmd_show = boom\n"
            "sys.exit(c.main(sys.argv[1:]))")
    out = subprocess.run([sys.executable, "-c", code, "show", "constant(1)"],
                         capture_output=True, text=True, cwd=ROOT)
    from lrkit import __version__

    assert (out.returncode, out.stdout) == (3, "")
    assert out.stderr == (f"lrkit: internal error (this is a bug in lrkit {__version__}): "
                          "RuntimeError: went wrong\n")


def test_help_documents_exit_codes():
    out = run("--help").stdout
    assert "exit codes:" in out and "141 the output pipe was closed" in out


# --- issue 15, item 4: a command line you can trust --------------------------------------------


def test_lint_sees_the_schedule_as_written():
    # the CLI bound before linting, so a rounded epoch (LR009) was never reported
    out = run("lint", "cosine(0.1 -> 0, 95ep)", "--steps-per-epoch", "10.5", "--total", "1000")
    assert out.returncode == 0 and out.stdout.startswith("LR009 drifting-epochs: ")


@pytest.mark.parametrize("args, advice", [
    (["show", "cosine(0.1 -> 0, 95 tokens)"], "needs tokens_per_step; pass --tokens-per-step"),
    (["values", "cosine(0.1 -> 0, 10%)"], "needs total_steps; pass --total"),
    # the library's own advice ("call .bind(steps_per_epoch=...) first") in the CLI's terms
    (["show", 'cosine(0.1 -> 0, "100% - 5ep")', "--total", "1000"],
     "needs steps_per_epoch; pass --steps-per-epoch"),
])
def test_advice_names_flags_that_exist(args, advice):
    out = run(*args)
    assert out.returncode == 2 and out.stderr.rstrip().endswith(advice), out.stderr
    assert "call .bind" not in out.stderr
    assert run("show", "cosine(0.1 -> 0, 95 tokens)", "--tokens-per-step", "4").returncode == 0


def test_validate_json_says_why_on_stdout():
    out = run("validate", "cosine(0.1 -> 0, 0)", "--format", "json")
    assert out.returncode == 2
    assert json.loads(out.stdout) == {"ok": False, "error": (
        "expression, column 18: cosine: 'over' must be > 0 steps, got 0\n"
        "  cosine(0.1 -> 0, 0)\n                   ^")}
    good = run("validate", "cosine(0.1 -> 0, 10)", "--format", "json")
    assert json.loads(good.stdout)["ok"] is True


def test_yaml_errors_and_empty_files_are_one_clear_line(tmp_path):
    bad = tmp_path / "run.yaml"
    bad.write_text("schedule:\n  kind: cosine\n  start: 0.1\n   end: 0\n")
    out = run("show", str(bad))
    assert out.stderr == ("lrkit: error: run.yaml: not valid YAML: mapping values are not "
                          "allowed in this context at line 4, column 7\n")
    empty = tmp_path / "empty.yaml"
    empty.write_text("\n")
    out = run("show", str(empty))
    assert out.stderr.startswith("lrkit: error: empty.yaml: the file is empty; write a schedule")


def test_each_command_help_shows_its_own_examples():
    out = run("lint", "--help")
    examples = out.stdout.split("examples:")[1]
    assert "lrkit lint hf:cosine" in examples and "lrkit plot" not in examples
    assert "lrkit plot" in run("--help").stdout


def test_lint_binds_samples_and_tokens_from_their_flags():
    out = run("lint", "cosine(0.1 -> 0, 1M samples)", "--batch-size", "1000", "--total", "1000")
    assert out.returncode == 0, out.stderr
    out = run("lint", "cosine(0.1 -> 0, 4M tokens)", "--tokens-per-step", "4000", "--total",
              "1000")
    assert out.returncode == 0, out.stderr
