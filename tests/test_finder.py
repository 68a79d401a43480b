"""The LR range test: it restores everything bitwise (also on errors), its suggestions are
sensible on real data, it is deterministic, and bad input is refused before anything runs."""

import hashlib
import random

import numpy as np
import pytest

import lrkit
from lrkit import ScheduleError

torch = pytest.importorskip("torch")
sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import load_digits  # noqa: E402

from lrkit.finder import range_test  # noqa: E402
from lrkit.torch import LRScheduler  # noqa: E402


def digits(batch=64):
    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32) / 16
    y = torch.tensor(d.target)
    return [(x[i:i + batch], y[i:i + batch]) for i in range(0, 1536, batch)]


def setup(opt=torch.optim.Adam, lr=None):
    lr = torch.tensor(1e-3) if lr is None else lr   # a tensor LR of its own per optimizer
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.BatchNorm1d(32),
                                torch.nn.ReLU(), torch.nn.Linear(32, 10))
    return model, opt(model.parameters(), lr=lr)


def fingerprint(model, opt):
    h = hashlib.sha256()
    for t in list(model.state_dict().values()):
        h.update(t.numpy().tobytes())
    for st in opt.state_dict()["state"].values():
        for v in st.values():
            h.update(v.numpy().tobytes() if isinstance(v, torch.Tensor) else repr(v).encode())
    for g in opt.param_groups:
        h.update(repr({k: (v.item() if isinstance(v, torch.Tensor) else v)
                       for k, v in g.items() if k != "params"}).encode())
    h.update(torch.get_rng_state().numpy().tobytes())
    h.update(repr(np.random.get_state()[1][:5]).encode() + repr(random.getstate()[1][:5]).encode())
    return h.hexdigest()


def train(model, opt, batches, n=20):
    loss = torch.nn.functional.cross_entropy
    for x, y in batches[:n]:
        loss(model(x), y).backward()
        opt.step()
        opt.zero_grad()
    return [p.detach().clone() for p in model.parameters()]


def test_restores_everything_and_training_afterwards_is_identical():
    data = digits()
    model, opt = setup()
    train(model, opt, data, 3)                     # an optimizer with state
    sched = LRScheduler(opt, lrkit.warmup(lrkit.cosine(1e-3, 1e-5, 100), 10))
    lr_tensor = opt.param_groups[0]["lr"]
    before, count = fingerprint(model, opt), sched.count
    result = range_test(model, opt, torch.nn.functional.cross_entropy, data, num_steps=60)
    assert fingerprint(model, opt) == before and sched.count == count
    assert opt.param_groups[0]["lr"] is lr_tensor
    after_test = train(model, opt, data)
    model2, opt2 = setup()
    train(model2, opt2, data, 3)
    LRScheduler(opt2, lrkit.warmup(lrkit.cosine(1e-3, 1e-5, 100), 10))
    for a, b in zip(after_test, train(model2, opt2, data)):
        assert torch.equal(a, b)
    assert len(result.lrs) >= 10


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_restores_when_the_loop_raises(exc):
    data = digits()
    model, opt = setup()
    before = fingerprint(model, opt)
    calls = []

    def step(model, batch):
        calls.append(1)
        if len(calls) == 7:
            raise exc("stop")
        x, y = batch
        return torch.nn.functional.cross_entropy(model(x), y)

    with pytest.raises(exc):
        range_test(model, opt, data=data, train_step=step)
    assert fingerprint(model, opt) == before


def test_suggestions_on_digits_and_a_ready_schedule():
    model, opt = setup(torch.optim.SGD, lr=0.1)
    r = range_test(model, opt, torch.nn.functional.cross_entropy, digits(), start_lr=1e-5,
                   end_lr=10, num_steps=100)
    sug = r.suggest()
    assert set(sug) == {"steepest", "valley", "minimum/10"}
    assert all(s.valid for s in sug.values()), sug
    assert 1e-3 < r.lr < 5 and r.smoothed[-1] > min(r.smoothed)   # the loss turns up
    assert r.to_schedule("one_cycle", over=1000) == lrkit.one_cycle(r.lr, 1000)
    s = r.to_schedule("warmup_cosine", over=1000)
    assert s(50) == pytest.approx(r.lr) and s.duration == 1000
    fig = r.plot()
    assert fig.axes[0].get_xscale() == "log"


def test_deterministic_and_with_accumulation():
    data = digits(32)
    runs = []
    for _ in range(2):
        model, opt = setup()
        torch.manual_seed(1)
        runs.append(range_test(model, opt, torch.nn.functional.cross_entropy, data,
                               num_steps=30, accumulation_steps=2).losses)
    assert runs[0] == runs[1] and len(runs[0]) == 30


def test_flat_curve_has_reasons_not_crashes():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batch = (torch.zeros(8, 4), torch.zeros(8, 1))      # zero inputs: the loss cannot move
    r = range_test(model, opt, lambda out, y: (out * 0).sum() + 1.0, [batch], num_steps=20)
    sug = r.suggest()
    assert not any(s.valid for s in sug.values())
    assert sug["valley"].reason.startswith("the loss curve is flat")
    with pytest.raises(ScheduleError, match="no suggestion is valid"):
        _ = r.lr


@pytest.mark.parametrize("kwargs,message", [
    (dict(start_lr=1.0, end_lr=0.1), "range_test: the sweep needs 0 < start_lr < end_lr, got "
     "start_lr=1.0, end_lr=0.1"),
    (dict(num_steps=5), "range_test: 'num_steps' must be a whole number >= 10, got 5"),
    (dict(data=[]), "range_test: 'data' holds no batch"),
    (dict(shape="log"), "range_test: 'shape' must be 'exp' or 'linear', got 'log'"),
])
def test_bad_input_changes_nothing(kwargs, message):
    model, opt = setup()
    before = fingerprint(model, opt)
    args = {"loss_fn": torch.nn.functional.cross_entropy, "data": digits()[:2], **kwargs}
    with pytest.raises(ScheduleError) as info:
        range_test(model, opt, **args)
    assert str(info.value) == message and fingerprint(model, opt) == before


def test_no_trainable_parameters():
    model = torch.nn.Linear(2, 1)
    for p in model.parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ScheduleError, match="the model has no trainable parameters"):
        range_test(model, opt, torch.nn.functional.mse_loss, [(torch.zeros(1, 2),
                                                               torch.zeros(1, 1))])


# --- what a result shows: a short summary, and a plot scaled to the smoothed loss ------------

def result(losses, stopped_early=False):
    from lrkit.finder import RangeTestResult

    lrs = [10.0 ** (k / 4 - 6) for k in range(len(losses))]     # 1e-6, 10**-5.75, …
    smoothed, avg = [], 0.0
    for i, v in enumerate(losses):                              # the sweep's smoothing
        avg = 0.9 * avg + 0.1 * v
        smoothed.append(avg / (1 - 0.9 ** (i + 1)))
    return RangeTestResult(lrs, list(losses), smoothed, stopped_early)


VALLEY = [3.0] * 6 + [3.0 - 0.2 * k for k in range(1, 12)] + [1.0, 1.5, 2.5, 4.0]


def test_printing_a_result_summarizes_it():
    r = result(VALLEY)
    assert r.suggest()["valley"].valid
    text = f"{r.lr:.4g}"
    assert str(r) == repr(r) == (
        f"RangeTestResult(21 points, lr 1e-06 to 0.1; suggested lr {text} (valley: two-thirds "
        "down the longest descent))")
    assert repr(result(VALLEY, stopped_early=True)).startswith(
        "RangeTestResult(21 points, lr 1e-06 to 0.1, stopped early: the loss diverged; ")


def test_printing_a_result_without_suggestion_says_why():
    assert str(result([2.0] * 12)) == (
        "RangeTestResult(12 points, lr 1e-06 to 0.0005623; no suggestion: the loss curve is "
        "flat: the sweep did not move the loss)")
    assert str(result([2.0, 1.0])) == (
        "RangeTestResult(2 points, lr 1e-06 to 1.778e-06; no suggestion: only 2 points before "
        "the loss diverged (at least 10 needed))")
    assert str(result([])) == "RangeTestResult(no points)"


def test_plot_fits_the_smoothed_loss_not_a_raw_spike():
    pytest.importorskip("matplotlib").use("Agg")
    losses = list(VALLEY)
    losses[8] = 1000.0                                          # one wild batch
    r = result(losses)
    ax = r.plot().axes[0]
    lo, hi = ax.get_ylim()
    assert lo <= min(r.smoothed) and max(r.smoothed) <= hi < 1000.0
    assert hi - lo == pytest.approx(1.1 * (max(r.smoothed) - min(r.smoothed)))
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "loss"
    marks = [ln.get_label() for ln in ax.get_lines()[2:]]
    assert marks[1] == f"valley: {r.suggest()['valley'].lr:.4g}"
    flat = result([2.0] * 12).plot().axes[0]                    # no span: a margin still
    assert flat.get_ylim() == pytest.approx((1.9, 2.1))
