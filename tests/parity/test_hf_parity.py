"""from_hf against transformers.get_scheduler: 260 seeded random configurations over every
scheduler type it reads, the LR of every update past the end, 1e-12 relative to the schedule's
largest value; warmup ratios; ReduceLROnPlateau; what cannot be read."""

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

TYPES = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
         "constant_with_warmup", "inverse_sqrt", "cosine_with_min_lr",
         "cosine_warmup_with_min_lr", "warmup_stable_decay"]


def random_config(rng):
    name = str(rng.choice(TYPES))
    lr = float(rng.choice([1.0, 3e-4, float(rng.uniform(1e-4, 1))]))
    total = int(rng.integers(5, 80))
    w = int(rng.choice([0, int(rng.integers(0, total))]))
    kw = {}
    if name == "cosine":
        kw["num_cycles"] = float(rng.choice([0.5, 1.0, 0.25]))
    if name == "cosine_with_restarts":
        # any number of cycles and any length: cycles of a real number of steps, the last one
        # possibly cut short by the end of the run
        kw["num_cycles"] = rng.choice([int(rng.integers(1, 5)), float(rng.choice([0.5, 1.5])),
                                       float(rng.uniform(0.2, 6))]).item()
        total = w + int(rng.integers(1, 80))
    if name == "polynomial":
        kw.update(lr_end=float(rng.choice([1e-7, lr / 10])), power=float(rng.choice([1.0, 2.0,
                                                                                     0.5])))
    if name == "inverse_sqrt":
        kw["timescale"] = int(rng.choice([0, int(rng.integers(1, 30))])) or None
        w = w or int(rng.integers(0, 10))
    if name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        kw["min_lr_rate" if rng.integers(0, 2) else "min_lr"] = float(rng.uniform(0, 0.5)) * \
            (1 if rng.integers(0, 2) else lr)
        w = max(w, 2) if name == "cosine_warmup_with_min_lr" else w
        if name == "cosine_warmup_with_min_lr" and rng.integers(0, 2):
            kw["warmup_lr_rate"] = float(rng.uniform(0, 0.5))
    if name == "warmup_stable_decay":
        kw.update(num_decay_steps=int(rng.integers(0, 30)),
                  warmup_type=str(rng.choice(["linear", "cosine"])),
                  decay_type=str(rng.choice(["linear", "cosine", "1-sqrt"])),
                  min_lr_ratio=float(rng.choice([0.0, 0.1])))
        total = w + kw["num_decay_steps"] + int(rng.integers(0, 30))
    return name, lr, w, total, kw


CONFIGS = [random_config(np.random.default_rng(5000 + i)) for i in range(260)]


@pytest.mark.parametrize("name,lr,w,total,kw", CONFIGS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONFIGS)])
def test_parity(name, lr, w, total, kw):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    ref = transformers.get_scheduler(name, opt, num_warmup_steps=w, num_training_steps=total,
                                     scheduler_specific_kwargs=dict(kw))
    s = lrkit.from_hf(name, w, total, base_lr=lr, **kw)
    got = []
    for _ in range(total + 30):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        ref.step()
    got = np.array(got)
    want = s.values(np.arange(len(got)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * max(got.max(), 1e-300))


def _around_the_end_of_the_warmup(rng):
    """A run that ends just after, at or inside its warmup (a smoke test's max_steps below
    warmup_steps): transformers divides the rest of the run by max(1, T - W)."""
    name = str(rng.choice(TYPES[:-1] + ["warmup_stable_decay"]))
    total = int(rng.integers(1, 40))
    w = int(rng.integers(max(total - 3, 0), total + 20))
    kw = {}
    if name == "cosine_warmup_with_min_lr":
        w = max(w, 2)
    if "min_lr" in name:
        kw["min_lr_rate"] = float(rng.choice([0.0, 0.1]))
    if name == "warmup_stable_decay":
        kw.update(num_decay_steps=int(rng.integers(0, 10)),
                  decay_type=str(rng.choice(["linear", "cosine", "1-sqrt"])),
                  min_lr_ratio=float(rng.choice([0.0, 0.1])))
    if name == "cosine_with_restarts":
        kw["num_cycles"] = rng.choice([1, 2, 1.5, 0.3]).item()
    if name == "polynomial":
        kw["power"] = float(rng.choice([1.0, 2.0]))
    return name, w, total, kw


SHORT = [_around_the_end_of_the_warmup(np.random.default_rng(7000 + i)) for i in range(150)] + [
    ("polynomial", 10, 10, {}), ("polynomial", 12, 10, {"power": 2.0})]  # W = T: HF fails


@pytest.mark.parametrize("name,w,total,kw", SHORT, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in SHORT])
def test_parity_when_the_run_ends_near_or_inside_its_warmup(name, w, total, kw):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = transformers.get_scheduler(name, opt, num_warmup_steps=w, num_training_steps=total,
                                     scheduler_specific_kwargs=dict(kw))
    got, failed = [], None
    for _ in range(max(w, total) + 10):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        try:
            ref.step()
        except ZeroDivisionError as e:  # polynomial with W = T, at update T
            failed = e
            break
    if failed is not None:
        with pytest.raises(lrkit.ScheduleError, match="divides by zero"):
            lrkit.from_hf(name, w, total, base_lr=0.1, **kw)
        return
    s = lrkit.from_hf(name, w, total, base_lr=0.1, **kw)
    np.testing.assert_allclose(got, s.values(np.arange(len(got))), rtol=1e-12, atol=1e-13)


def test_first_update_gets_zero_and_ratio_warmup_rounds_up():
    s = lrkit.from_hf("linear", 0.05, 1010, base_lr=0.1)   # ceil(0.05 · 1010) = 51
    assert s(0) == 0.0 and s(51) == 0.1 and s(50) < 0.1


def test_reduce_lr_on_plateau():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    kw = dict(factor=0.5, patience=1, mode="min")
    ref = transformers.get_scheduler("reduce_lr_on_plateau", opt, scheduler_specific_kwargs=kw)
    s = lrkit.from_hf("reduce_lr_on_plateau", base_lr=0.1, **kw)
    state = s.init()
    for m in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]:
        ref.step(m)
        state = s.observe(state, m)
        assert s.value(0, state) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


@pytest.mark.parametrize("call,message", [
    (lambda: lrkit.from_hf("cosine_hard", 10, 100, base_lr=0.1),
     "from_hf: unknown scheduler type 'cosine_hard'; Hugging Face's types are linear, "),
    (lambda: lrkit.from_hf("cosine", 10, base_lr=0.1),
     "from_hf: 'cosine' requires num_training_steps"),
    (lambda: lrkit.from_hf("greedy", base_lr=0.1),
     "from_hf: 'greedy' (GreedyLR) raises the LR as well as lowering it"),
    (lambda: lrkit.from_hf("cosine_with_min_lr", 10, 100, base_lr=0.1),
     "from_hf: give exactly one of min_lr and min_lr_rate"),
])
def test_bad_input(call, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        call()
    assert str(info.value).startswith(message)
