"""from_torch against PyTorch itself: 260 seeded random configurations over every built-in
scheduler, comparing the LR of every update (past the end included), also from schedulers that
have already stepped. Tolerance: 1e-12 relative to the schedule's largest value (PyTorch
steps most schedulers through their recursive form, which drifts by a few ulps)."""

import warnings

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import assume, given
from hypothesis import strategies as st

import lrkit

torch = pytest.importorskip("torch")
S = torch.optim.lr_scheduler
RNG = np.random.default_rng(20261121)


def opt_(lr, groups=1, momentum=0.9):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr * (i + 1)}
              for i in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=momentum)


def random_config(rng):
    kind = rng.choice(["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                       "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                       "CyclicLR", "OneCycleLR", "SequentialLR", "ChainedScheduler"])
    lr = float(rng.choice([1.0, 0.1, 3e-4, float(rng.uniform(1e-4, 1))]))
    n = int(rng.integers(1, 40))
    return kind, lr, n


def build(kind, opt, rng, n):
    if kind == "StepLR":
        return S.StepLR(opt, step_size=int(rng.integers(1, 10)), gamma=float(rng.uniform(0.1, 1)))
    if kind == "MultiStepLR":
        ms = sorted(rng.integers(0, 40, size=int(rng.integers(1, 5))).tolist())
        return S.MultiStepLR(opt, milestones=ms, gamma=float(rng.uniform(0.1, 1)))
    if kind == "ConstantLR":
        return S.ConstantLR(opt, factor=float(rng.uniform(0.05, 1)),
                            total_iters=int(rng.integers(0, 12)))
    if kind == "LinearLR":
        return S.LinearLR(opt, start_factor=float(rng.uniform(0.05, 1)),
                          end_factor=float(rng.uniform(0, 1)), total_iters=n)
    if kind == "ExponentialLR":
        return S.ExponentialLR(opt, gamma=float(rng.uniform(0.5, 1)))
    if kind == "PolynomialLR":
        return S.PolynomialLR(opt, total_iters=n, power=float(rng.choice([0.5, 1.0, 2.0])))
    if kind == "CosineAnnealingLR":
        return S.CosineAnnealingLR(opt, T_max=n, eta_min=float(rng.choice([0.0, 1e-5])))
    if kind == "CosineAnnealingWarmRestarts":
        return S.CosineAnnealingWarmRestarts(opt, T_0=int(rng.integers(1, 12)),
                                             T_mult=int(rng.integers(1, 3)),
                                             eta_min=float(rng.choice([0.0, 1e-4])))
    if kind == "CyclicLR":
        up = int(rng.integers(1, 10))
        return S.CyclicLR(opt, base_lr=1e-3, max_lr=float(rng.uniform(0.01, 1)),
                          step_size_up=up, step_size_down=int(rng.integers(1, 10)),
                          mode=str(rng.choice(["triangular", "triangular2", "exp_range"])),
                          gamma=float(rng.uniform(0.9, 1)))
    if kind == "OneCycleLR":
        three = bool(rng.integers(0, 2))
        steps = int(rng.integers(8, 60))
        pct = float(rng.uniform(0.1, 0.45 if three else 0.9))
        if int(pct * steps) < 2 or (three and steps - 2 * pct * steps < 2) \
                or (not three and steps - pct * steps < 2):
            pct = 0.3
        return S.OneCycleLR(opt, max_lr=float(rng.uniform(0.01, 1)), total_steps=steps,
                            pct_start=pct, anneal_strategy=str(rng.choice(["cos", "linear"])),
                            three_phase=three, div_factor=float(rng.choice([25.0, 10.0])),
                            final_div_factor=float(rng.choice([1e4, 100.0])))
    if kind == "SequentialLR":
        w = int(rng.integers(1, 10))
        a = S.LinearLR(opt, start_factor=float(rng.uniform(0.01, 1)), total_iters=w)
        b = S.CosineAnnealingLR(opt, T_max=n, eta_min=0.0)
        return S.SequentialLR(opt, [a, b], milestones=[w + int(rng.integers(0, 3))])
    a = S.ConstantLR(opt, factor=float(rng.uniform(0.05, 1)), total_iters=int(rng.integers(1, 9)))
    b = S.ExponentialLR(opt, gamma=float(rng.uniform(0.7, 1)))
    return S.ChainedScheduler([a, b], optimizer=opt)


def advance(sched, opt, steps):
    for _ in range(steps):
        opt.step()
        sched.step()


def run(sched, opt, steps):
    """The LR of the next ``steps`` updates, stepping between them (not after the last)."""
    out = []
    for j in range(steps):
        if j:
            advance(sched, opt, 1)
        out.append([g["lr"] for g in opt.param_groups])
    return np.array(out)


CONFIGS = [(i, *random_config(np.random.default_rng(1000 + i))) for i in range(260)]


@pytest.mark.filterwarnings("ignore:.*also cycles:UserWarning")  # lr only here
@pytest.mark.parametrize("i,kind,lr,n", CONFIGS, ids=[f"{c[1]}-{c[0]}" for c in CONFIGS])
def test_parity(i, kind, lr, n):
    rng = np.random.default_rng(i)
    groups = int(rng.integers(1, 3))
    opt = opt_(lr, groups)
    sched = build(kind, opt, rng, n)
    already = int(rng.integers(0, 5))              # a scheduler that has already stepped
    advance(sched, opt, already)
    schedules = [lrkit.from_torch(sched, group=g) for g in range(groups)]
    total = getattr(sched, "total_steps", None)
    steps = (total + 1 - already) if total else 80  # OneCycleLR: one value past the end
    got = run(sched, opt, steps)
    for g, s in enumerate(schedules):
        want = s.values(np.arange(already, already + steps))
        scale = max(np.abs(got[:, g]).max(), 1e-300)
        # lrkit never goes below 0, where OneCycleLR's extrapolated linear value can
        np.testing.assert_allclose(np.maximum(got[:, g], 0), want, rtol=1e-12,
                                   atol=1e-12 * scale)


def test_cyclic_momentum():
    opt = opt_(0.1)
    sched = S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5,
                       base_momentum=0.8, max_momentum=0.95)
    mom = lrkit.from_torch(sched, hyperparam="momentum")
    seen = []
    for _ in range(30):
        seen.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(seen, mom.values(np.arange(30)), rtol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_reduce_lr_on_plateau(seed):
    rng = np.random.default_rng(seed)
    kw = dict(mode=str(rng.choice(["min", "max"])), factor=float(rng.choice([0.1, 0.5])),
              patience=int(rng.integers(0, 4)), threshold=float(rng.choice([0, 1e-4, 0.1])),
              threshold_mode=str(rng.choice(["rel", "abs"])), cooldown=int(rng.integers(0, 3)),
              min_lr=float(rng.choice([0.0, 1e-3])))
    opt = opt_(0.1)
    sched = S.ReduceLROnPlateau(opt, eps=0.0, **kw)
    s = lrkit.from_torch(sched)
    state = s.init()
    for m in rng.integers(0, 5, size=40).astype(float):
        sched.step(m)
        state = s.observe(state, m)
        assert s.value(0, state) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_reduce_lr_on_plateau_with_non_finite_metrics(seed):
    # A NaN loss is a bad epoch; an infinite one can become the best, as in PyTorch.
    rng = np.random.default_rng(seed)
    mode = str(rng.choice(["min", "max"]))
    opt = opt_(0.1)
    sched = S.ReduceLROnPlateau(opt, mode=mode, factor=0.5, patience=int(rng.integers(0, 3)),
                                threshold_mode=str(rng.choice(["rel", "abs"])), eps=0.0)
    s = lrkit.from_torch(sched)
    state = s.init()
    for m in rng.choice([0.0, 1.0, 2.0, np.nan, np.inf, -np.inf], size=30):
        sched.step(float(m))
        state = s.observe(state, float(m))
        assert s.value(0, state) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)


@pytest.mark.parametrize("make,message", [
    (lambda o: S.LambdaLR(o, lambda k: 0.5),
     "from_torch: LambdaLR holds a Python function, which cannot be read"),
    (lambda o: S.MultiplicativeLR(o, lambda k: 0.5),
     "from_torch: MultiplicativeLR holds a Python function, which cannot be read"),
    (lambda o: S.ExponentialLR(o, gamma=1.1),
     "from_torch: ExponentialLR with gamma=1.1 > 1 grows without bound"),
    (lambda o: "not a scheduler", "from_torch: str is not a PyTorch scheduler lrkit reads"),
])
def test_what_cannot_be_read(make, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.from_torch(make(opt_(0.1)))
    assert str(info.value).startswith(message)


# from_torch at the edges of what PyTorch accepts: zero and negative lengths, factors of 0 and
# above 1, huge periods. Each scheduler PyTorch builds and steps (30 updates) is either read
# exactly or refused with an lrkit error. (Found: LinearLR with total_iters=0 keeps its start
# factor, not its end factor; OneCycleLR with an initial_lr of 0 divided by zero.)
FACTORS = [0.0, 1e-7, 0.5, 1.0, 1.5, 2.0, 1e6, -1.0, float("nan"), float("inf")]
LENGTHS = [0, 1, 2, 3, 7, 10**6, -1, 2**40]


def edge_scheduler(kind, opt, f, n, d):
    return {
        "StepLR": lambda: S.StepLR(opt, n(), f()),
        "MultiStepLR": lambda: S.MultiStepLR(opt, [n() for _ in range(d.draw(
            st.integers(0, 3)))], f()),
        "ConstantLR": lambda: S.ConstantLR(opt, f(), n()),
        "LinearLR": lambda: S.LinearLR(opt, f(), f(), n()),
        "ExponentialLR": lambda: S.ExponentialLR(opt, f()),
        "PolynomialLR": lambda: S.PolynomialLR(opt, n(), f()),
        # a minimum above the base LR makes PyTorch's recursive form cancel catastrophically
        "CosineAnnealingLR": lambda: S.CosineAnnealingLR(opt, n(), min(1e-9, opt.defaults["lr"])),
        "CosineAnnealingWarmRestarts": lambda: S.CosineAnnealingWarmRestarts(
            opt, n(), n(), min(1e-9, opt.defaults["lr"])),
        "CyclicLR": lambda: S.CyclicLR(opt, f(), f(), n(), d.draw(st.sampled_from(
            [None, 0, 1, 5])), d.draw(st.sampled_from(["triangular", "triangular2",
                                                        "exp_range"])), f()),
        "OneCycleLR": lambda: S.OneCycleLR(
            opt, f(), total_steps=d.draw(st.sampled_from([1, 2, 3, 10, 100])),
            pct_start=d.draw(st.sampled_from([0.0, 0.01, 0.3, 0.99, 1.0])), div_factor=f(),
            final_div_factor=f(), three_phase=d.draw(st.booleans()),
            anneal_strategy=d.draw(st.sampled_from(["cos", "linear"]))),
    }[kind]()


@pytest.mark.filterwarnings("ignore:.*also cycles:UserWarning")  # lr only here
@pytest.mark.fuzz
@budget(200)
@given(st.sampled_from(["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                        "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                        "CyclicLR", "OneCycleLR"]),
       st.sampled_from([0.0, 1e-7, 0.5, 1.0, 2.0]), st.data())
def test_edge_arguments_are_read_exactly_or_refused(kind, lr, d):
    opt = opt_(lr)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = edge_scheduler(kind, opt, lambda: d.draw(st.sampled_from(FACTORS)),
                                   lambda: d.draw(st.sampled_from(LENGTHS)), d)
            got = run(sched, opt, 30)[:, 0]
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return  # PyTorch refuses it (at construction or while stepping)
    assume(np.isfinite(got).all())
    try:
        s = lrkit.from_torch(sched)
    except lrkit.ScheduleError:
        return
    want = s.values(np.arange(30))
    np.testing.assert_allclose(np.maximum(got, 0), want, rtol=1e-9,
                               atol=1e-12 * max(np.abs(got).max(), 1e-300))


# -- fractional epochs, momentum cycles, SWALR, chains with a cosine, transformers' LambdaLRs,
#    resumed schedulers: each against PyTorch stepped update by update --

@pytest.mark.parametrize("t0,t_mult,iters", [(10, 1, 10), (10, 2, 10), (3, 2, 7), (5, 3, 4)])
@pytest.mark.filterwarnings("ignore:The epoch parameter")
def test_warm_restarts_with_fractional_epochs(t0, t_mult, iters):
    # PyTorch's documented loop: scheduler.step(epoch + i / iters) after each update, so update
    # k uses the value at (k - 1) / iters; called before each update, update k uses k / iters
    def run_loop(step_first):
        opt = opt_(0.1)
        sched = S.CosineAnnealingWarmRestarts(opt, T_0=t0, T_mult=t_mult, eta_min=1e-4)
        s, used = lrkit.from_torch(sched), []
        for e in range(40):
            for i in range(iters):
                if step_first:
                    sched.step(e + i / iters)
                used.append(opt.param_groups[0]["lr"])
                opt.step()
                if not step_first:
                    sched.step(e + i / iters)
        return s, np.array(used)

    s, used = run_loop(step_first=False)
    after = lrkit.constant(0.1, over=1) >> s.stretch(iters)
    np.testing.assert_allclose(used, after.values(np.arange(len(used))), rtol=1e-12)
    s, used = run_loop(step_first=True)
    np.testing.assert_allclose(used, s.stretch(iters).values(np.arange(len(used))), rtol=1e-12)


def applied(sched, opt, steps, key=lambda g: g["lr"]):
    out = []
    for j in range(steps):
        if j:
            advance(sched, opt, 1)
        out.append([float(key(g)) for g in opt.param_groups])
    return np.array(out)


@pytest.mark.parametrize("adam", [False, True])
@pytest.mark.parametrize("kw", [dict(), dict(three_phase=True, pct_start=0.25),
                                dict(anneal_strategy="linear", base_momentum=0.5)])
def test_one_cycle_momentum(adam, kw):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1 * (i + 1)}
              for i in range(2)]
    opt = torch.optim.Adam(params) if adam else torch.optim.SGD(params, lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=30, **kw)
    with pytest.warns(UserWarning, match="OneCycleLR also cycles " + (
            "beta1 \\(betas\\[0\\]\\)" if adam else "momentum") + " \\(cycle_momentum=True\\); "
            "this is the lr only. Import the other with from_torch\\(scheduler, "
            "hyperparam='momentum'\\)"):
        lrkit.from_torch(sched)
    key = (lambda g: g["betas"][0]) if adam else (lambda g: g["momentum"])
    names = ["momentum", "betas[0]"] if adam else ["momentum"]
    imports = [[lrkit.from_torch(sched, g, h) for g in range(2)] for h in names]
    got = applied(sched, opt, 31, key)
    for per_group in imports:
        for g, s in enumerate(per_group):
            np.testing.assert_allclose(got[:, g], s.values(np.arange(31)), rtol=1e-12)


def test_cyclic_beta1():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=5)
    beta1 = lrkit.from_torch(sched, hyperparam="momentum")
    got = applied(sched, opt, 30, lambda g: g["betas"][0])
    np.testing.assert_allclose(got[:, 0], beta1.values(np.arange(30)), rtol=1e-12)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal,before,after", [(5, 0, 0), (4, 3, 2), (1, 2, 0), (0, 2, 0),
                                                  (10, 0, 12)])
def test_swalr(strategy, anneal, before, after):
    # SWALR anneals from the value it takes over (here after `before` steps of another
    # scheduler), and from_torch may be called after `after` of its own steps
    opt = opt_(0.5, groups=2)
    first = S.ExponentialLR(opt, gamma=0.8)
    swa = torch.optim.swa_utils.SWALR(opt, swa_lr=[0.01, 0.2], anneal_epochs=anneal,
                                      anneal_strategy=strategy)
    advance(first, opt, before)
    advance(swa, opt, after)
    imports = [lrkit.from_torch(swa, g) for g in range(2)]
    got = applied(swa, opt, 20)
    for g, s in enumerate(imports):
        np.testing.assert_allclose(got[:, g], s.values(np.arange(after, after + 20)), rtol=1e-12)


@pytest.mark.parametrize("others,t_max", [
    ([lambda o: S.LinearLR(o, 0.1, total_iters=5)], 20),
    ([lambda o: S.LinearLR(o, 0.1, 0.5, total_iters=5)], 8),
    ([lambda o: S.MultiStepLR(o, [2, 6], 0.5), lambda o: S.ConstantLR(o, 0.3, 4)], 6),
    ([lambda o: S.PolynomialLR(o, 7, 2.0)], 7),
])
@pytest.mark.parametrize("cosine_first", [False, True])
def test_chained_cosine_with_eta_min_0(others, t_max, cosine_first):
    opt = opt_(0.3, groups=2)
    cos = S.CosineAnnealingLR(opt, T_max=t_max)
    rest = [m(opt) for m in others]
    sched = S.ChainedScheduler([cos, *rest] if cosine_first else [*rest, cos])
    imports = [lrkit.from_torch(sched, g) for g in range(2)]
    got = applied(sched, opt, 6 * t_max)  # past three troughs
    for g, s in enumerate(imports):
        np.testing.assert_allclose(got[:, g], s.values(np.arange(6 * t_max)), rtol=1e-12,
                                   atol=1e-15)


@pytest.mark.parametrize("make,message", [
    (lambda o: S.ChainedScheduler([S.CosineAnnealingLR(o, 10, eta_min=1e-3),
                                   S.ConstantLR(o, 0.5, 3)]),
     "from_torch: ChainedScheduler with CosineAnnealingLR(eta_min=0.001): PyTorch's recursive "
     "cosine moves the distance to eta_min, not the value, so the other factors do not "
     "multiply it and the chain has no closed form; use eta_min=0"),
    (lambda o: S.ChainedScheduler([S.CosineAnnealingLR(o, 10), S.StepLR(o, 3)]),
     "from_torch: ChainedScheduler with CosineAnnealingLR(T_max=10) and StepLR, which still "
     "change after step 10: PyTorch restarts the cosine from the base value at step 11"),
    (lambda o: S.ChainedScheduler([S.CosineAnnealingLR(o, 10), S.CosineAnnealingLR(o, 5)]),
     "from_torch: ChainedScheduler with several CosineAnnealingLR"),
    (lambda o: S.ChainedScheduler([S.ConstantLR(o), S.CyclicLR(o, 0.01, 0.1)]),
     "from_torch: ChainedScheduler with CyclicLR: it sets the value from its own formula"),
    (lambda o: S.StepLR(o, 3), None),
])
def test_chain_refusals_say_why(make, message):
    sched = make(opt_(0.1))
    if message is None:
        with pytest.raises(lrkit.ScheduleError, match="schedules only 'lr', got "
                           "hyperparam='momentum'"):
            lrkit.from_torch(sched, hyperparam="momentum")
        return
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.from_torch(sched)
    assert str(info.value).startswith(message)


HF_LAMBDAS = [
    ("get_linear_schedule_with_warmup", dict(num_warmup_steps=3, num_training_steps=20)),
    ("get_cosine_schedule_with_warmup", dict(num_warmup_steps=3, num_training_steps=20,
                                             num_cycles=0.75)),
    ("get_cosine_with_hard_restarts_schedule_with_warmup",
     dict(num_warmup_steps=2, num_training_steps=20, num_cycles=3)),
    ("get_polynomial_decay_schedule_with_warmup",
     dict(num_warmup_steps=2, num_training_steps=20, lr_end=1e-4, power=2.0)),
    ("get_constant_schedule_with_warmup", dict(num_warmup_steps=5)),
    ("get_inverse_sqrt_schedule", dict(num_warmup_steps=4, timescale=7)),
    ("get_cosine_with_min_lr_schedule_with_warmup",
     dict(num_warmup_steps=3, num_training_steps=20, min_lr_rate=0.1)),
    ("get_cosine_with_min_lr_schedule_with_warmup_lr_rate",
     dict(num_warmup_steps=3, num_training_steps=20, min_lr=0.01, warmup_lr_rate=0.2)),
    ("get_wsd_schedule", dict(num_warmup_steps=3, num_decay_steps=6, num_stable_steps=5,
                              decay_type="linear", min_lr_ratio=0.1)),
    ("get_constant_schedule", {}),
]


@pytest.mark.parametrize("fn,kw", HF_LAMBDAS, ids=[f for f, _ in HF_LAMBDAS])
def test_transformers_lambda_lr(fn, kw):
    transformers = pytest.importorskip("transformers")
    opt = opt_(0.3, groups=2)  # the second group at 0.6: each group scales its own lambda
    sched = getattr(transformers.optimization, fn)(opt, **kw)
    imports = [lrkit.from_torch(sched, g) for g in range(2)]
    got = applied(sched, opt, 30)
    for g, s in enumerate(imports):
        np.testing.assert_allclose(got[:, g], s.values(np.arange(30)), rtol=1e-12,
                                   atol=1e-15)


def test_resumed_scheduler_whose_group_disagrees_warns():
    opt = opt_(0.05)
    opt.param_groups[0]["initial_lr"] = 0.01
    sched = S.StepLR(opt, step_size=3, gamma=0.1, last_epoch=10)
    with pytest.warns(UserWarning, match="from_torch: StepLR param group 0 holds lr=0.05 at "
                      "step 11, where the schedule from its initial value gives 1e-05; PyTorch "
                      "continues from the group's value"):
        lrkit.from_torch(sched)
    opt.param_groups[0]["lr"] = 1e-5  # as the fix says: then it is read exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = lrkit.from_torch(sched)
    np.testing.assert_allclose(applied(sched, opt, 20)[:, 0], s.values(np.arange(11, 31)),
                               rtol=1e-12)
