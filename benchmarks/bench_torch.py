"""lrkit.torch.LRScheduler against PyTorch's own schedulers, printed as a table of ratios.

Run: ``python benchmarks/bench_torch.py``. Per-update overhead is the time of
``optimizer.step()`` (+ ``scheduler.step()``) minus the time of ``optimizer.step()`` alone, for
the same warmup + cosine, on 1 and 8 param groups, with both clocks (the optimizer's step hook
and ``clock="manual"``); target (issue 16): lrkit <= 0.25x PyTorch's
``SequentialLR(LinearLR, CosineAnnealingLR)``; beside it the floor, the same formula written by
hand in Python and assigned to every group after each step (by a step hook for the optimizer
clock). Then a compiled optimizer step
with a tensor LR: recompiles and the time of the first 10 steps, lrkit vs a float LR driven by
a PyTorch scheduler.
"""

from __future__ import annotations

import math
import statistics
import time

import torch
import torch._dynamo

import lrkit
from lrkit.torch import LRScheduler

W, T, PEAK, END = 100, 900, 0.1, 1e-4
UPDATES = 2000
SCHEDULE = lrkit.warmup(lrkit.cosine(PEAK, END, T), W)


def make_opt(groups: int, lr: float | torch.Tensor = PEAK) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(4))]} for _ in range(groups)]
    for g in params:
        g["params"][0].grad = torch.ones(4)
    return torch.optim.SGD(params, lr=lr, foreach=False)


def torch_sequential(opt: torch.optim.Optimizer) -> object:
    warm = torch.optim.lr_scheduler.LinearLR(opt, 1 / (W + 1), 1.0, total_iters=W)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T, eta_min=END)
    return torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[W])


def torch_lambda(opt: torch.optim.Optimizer) -> object:
    def f(k: int) -> float:
        if k < W:
            return (k + 1) / (W + 1)
        t = min(k - W, T)
        return (END + (PEAK - END) * 0.5 * (1 + math.cos(math.pi * t / T))) / PEAK

    return torch.optim.lr_scheduler.LambdaLR(opt, f)


class Floor:
    """The least a scheduler can cost: the formula by hand, assigned to every group."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        self.groups, self.k = opt.param_groups, 0

    def step(self, _opt: object = None, _args: object = None, _kwargs: object = None) -> None:
        self.k = k = self.k + 1
        if k < W:
            v = PEAK * (k + 1) / (W + 1)
        else:
            v = END + (PEAK - END) * 0.5 * (1 + math.cos(math.pi * min(k - W, T) / T))
        for g in self.groups:
            g["lr"] = v


class HookedFloor(Floor):
    """The floor of the optimizer clock: the same, as the optimizer's step hook (which
    ``optimizer.step()`` calls at a cost of its own)."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        super().__init__(opt)
        opt.register_step_post_hook(self.step)


def loop(opt: torch.optim.Optimizer, sched: object | None) -> float:
    hooked = isinstance(sched, HookedFloor) or isinstance(sched, LRScheduler) and \
        sched.clock == "optimizer"  # (no step() call: the optimizer's hook does the work)
    step = sched.step if sched is not None and not hooked else None  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for _ in range(UPDATES):
        opt.step()
        if step is not None:
            step()
    return (time.perf_counter() - t0) / UPDATES


def overhead(groups: int, make: object, rounds: int = 21) -> float:
    """Per round one optimizer, timed without a scheduler and then with one attached (the
    faster of two loops each); the median of the rounds' differences. An update costs about
    0.5 us against an optimizer step of 5-9 us: pairing on one optimizer takes out the noise
    of separate optimizers' memory layouts, which moved the difference by 0.1 us."""
    diffs = []
    for _ in range(rounds):
        opt = make_opt(groups)
        base = min(loop(opt, None) for _ in range(2))
        sched = make(opt)  # type: ignore[operator]
        diffs.append(min(loop(opt, sched) for _ in range(2)) - base)
    return statistics.median(diffs)


def compiled_first_steps(use_lrkit: bool) -> tuple[float, int]:
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    torch.manual_seed(0)
    model = torch.nn.Linear(32, 32)
    lr: float | torch.Tensor = torch.tensor(PEAK) if use_lrkit else PEAK
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = LRScheduler(opt, SCHEDULE) if use_lrkit else torch_sequential(opt)
    step = torch.compile(opt.step)
    x = torch.randn(8, 32)
    t0 = time.perf_counter()
    for _ in range(10):
        model(x).sum().backward()
        step()
        opt.zero_grad()
        if not use_lrkit:
            sched.step()  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    graphs = int(torch._dynamo.utils.counters["stats"]["unique_graphs"])
    return elapsed, graphs


def main() -> list[tuple[str, float, str, float, bool]]:
    rows = []
    for groups in (1, 8):
        theirs = overhead(groups, torch_sequential)
        floors = {"optimizer": overhead(groups, HookedFloor) / theirs,
                  "manual": overhead(groups, Floor) / theirs}
        for clock in ("optimizer", "manual"):
            floor = floors[clock]
            ours = overhead(groups, lambda o, c=clock: LRScheduler(o, SCHEDULE, clock=c))
            ratio = ours / theirs
            print(f"{groups} group(s), clock={clock}: lrkit {ours * 1e6:.2f} us/update, "
                  f"SequentialLR {theirs * 1e6:.2f} us/update, floor {floor:.2f}")
            rows.append((f"per-update overhead, {groups} group(s), clock={clock} (floor "
                         f"{floor:.2f})", ratio, "SequentialLR", 0.25, ratio <= 0.25))
    t_ours, g_ours = compiled_first_steps(True)
    t_theirs, g_theirs = compiled_first_steps(False)
    print(f"compiled Adam, first 10 steps: lrkit (tensor LR) {t_ours:.2f} s, {g_ours} graph(s); "
          f"PyTorch scheduler (float LR) {t_theirs:.2f} s, {g_theirs} graph(s)")
    rows.append(("compiled step: graphs (1 = no recompile)", float(g_ours),
                 f"float LR + SequentialLR: {g_theirs}", 1.0, g_ours <= 1))
    rows.append(("compiled step: first 10 steps (ratio, no target)", t_ours / t_theirs,
                 "float LR + SequentialLR", math.inf, True))
    print("\n| figure | value | reference | target | pass |\n|---|---|---|---|---|")
    for name, value, ref, target, ok in rows:
        goal = f"≤ {target:g}" if math.isfinite(target) else "—"
        print(f"| {name} | {value:.2f} | {ref} | {goal} | {'pass' if ok else 'FAIL'} |")
    return rows


if __name__ == "__main__":
    main()
