"""examples/torch_train.py runs, accumulates, and resumes to the same result."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

PATH = Path(__file__).parent.parent / "examples" / "torch_train.py"


def example():
    spec = importlib.util.spec_from_file_location("torch_train", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_trains_and_learns(capsys):
    out = example().main(["--epochs", "3", "--accumulate", "2"])
    assert out["updates"] == 3 * 23 and out["accuracy"] > 0.8   # 47 batches -> 23 updates
    assert "epoch 3: updates 69" in capsys.readouterr().out


def test_resume_gives_the_uninterrupted_result(tmp_path):
    ex = example()
    straight = ex.main(["--epochs", "3"])
    ckpt = str(tmp_path / "run.pt")
    ex.main(["--epochs", "1", "--total-epochs", "3", "--checkpoint", ckpt])
    resumed = ex.main(["--epochs", "3", "--checkpoint", ckpt, "--resume"])
    assert resumed == straight


def test_schedule_from_inline_json():
    out = example().main(["--epochs", "1", "--schedule",
                          '{"kind": "constant", "value": 0.05}'])
    assert out["next_lr"] == 0.05


def test_resume_extend_example_reads_every_update_back_from_tensorboard(tmp_path, capsys):
    # examples/resume_extend.py: a schedule in samples under a batch-size ramp, resumed with
    # an extended plan (on_change="branch"); the monitor attached to the optimizer numbers the
    # updates from the resumed scheduler, and TensorBoard holds every applied value
    pytest.importorskip("tensorboard")
    path = PATH.with_name("resume_extend.py")
    spec = importlib.util.spec_from_file_location("resume_extend", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(tmp_path)  # asserts every logged value equals the branched schedule
    out = capsys.readouterr().out
    assert "branch point: 12056 samples, after 496 updates; run: 1246 updates" in out
    assert "read back from TensorBoard: 1246 updates" in out
