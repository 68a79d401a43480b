"""The public surface: a light import, every public name documented and registered, every
registered kind reachable and named in the user docs, and the command line run as users run
it."""

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lrkit
from lrkit._schedule import REGISTRY, Schedule

ROOT = Path(__file__).parent.parent
# (typing and contextlib: 5 and 2 ms of the 15 ms import budget, benchmarks/bench_core.py)
HEAVY = {"numpy", "torch", "jax", "keras", "tensorflow", "matplotlib", "yaml", "optax", "typing",
         "contextlib"}


def test_import_is_light():
    code = ("import sys, lrkit; lrkit.cosine(0.1, 0.0, 10)(3); "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", lrkit.__all__)
def test_public_name_is_documented(name):
    obj = getattr(lrkit, name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc.splitlines()[0]) > 10, name
    if isinstance(obj, type) and issubclass(obj, Schedule) and obj is not Schedule:
        assert REGISTRY[obj.kind] is obj
        assert ">>>" in doc, f"{name} has no doctest"


# Transforms are reached through operators and Schedule's methods, shapes by their name.
OPERATORS = {"scale": "s * x", "product": "s1 * s2", "sum": "s + x", "difference": "s1 - s2",
             "quotient": "s / x"}


def spellings(kind):
    """The patterns a user writes a registered kind with (none: the kind is unreachable)."""
    if kind in OPERATORS:
        return [re.escape(OPERATORS[kind])]
    if getattr(lrkit, kind, None) is REGISTRY[kind] and kind in lrkit.__all__:
        return [rf"`{kind}`", rf"(?<![\w.]){kind}\("]
    if callable(getattr(Schedule, kind, None)):
        return [rf"\.{kind}\("]
    return []


def test_every_registered_kind_is_reachable():
    unreachable = [kind for kind in REGISTRY if not spellings(kind)]
    assert not unreachable, f"export them in lrkit.__all__ (or add a method): {unreachable}"


def test_every_registered_kind_is_documented():
    # The gallery is generated from the registry: it proves nothing, so it does not count.
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(p.read_text() for p in pages if p.name != "gallery.md")
    missing = [kind for kind in REGISTRY
               if not any(re.search(pattern, text) for pattern in spellings(kind))]
    assert not missing, f"name them in README.md's list of shapes: {missing}"


def _lrkit(*args):
    exe = Path(sys.executable).with_name("lrkit")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_show_prints_the_phase_table():
    out = _lrkit("show", "examples/tf_resnet_imagenet.json")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "== examples/tf_resnet_imagenet.json"
    table = [ln.split() for ln in lines if ln[:1].isdigit()]
    assert [row[1:3] for row in table] == [["linear", "0"]] + [["piecewise", f"[{i}]"]
                                                              for i in range(4)]
    # The article's warmup: 0.1 · step / 25022, so its last step gets 0.1 · 25021 / 25022.
    assert table[0][3:6] == ["25022", "0", f"{0.1 * 25021 / 25022:.6g}"]
    # The last decay (epoch 90, step 450411) lies past the 450,410-step run: not listed, and
    # the phase before it ends with the run.
    assert table[-1][4:] == ["450410", "0.0001", "0.0001", "0.0001", "0.0001"]
    assert "lr(25022)=0.1" in out.stdout


def test_cli_user_errors_exit_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "cosine", "start": 1.0, "end": 0.0, "over": 0}')
    out = _lrkit("show", str(bad))
    assert out.returncode == 2
    assert out.stderr == "lrkit: error: bad.json: schedule: cosine: 'over' must be > 0 steps, " \
                         "got 0\n"


def test_cli_schema_and_validate():
    out = _lrkit("schema")
    assert json.loads(out.stdout) == lrkit.json_schema()
    out = _lrkit("validate", "examples/yolov3.json")
    assert out.returncode == 0 and out.stdout.startswith("examples/yolov3.json: ok: warmup(")


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "lrkit", "validate", "examples/yolov3.json"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
