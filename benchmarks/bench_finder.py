"""How good are the range test's suggestions? Against a 12-point grid search, on data that
ships inside scikit-learn and one generated task, two models each, three seeds.

Run: ``python benchmarks/bench_finder.py`` (writes the table to stdout; docs/finder.md holds a
copy). Each training is the same recipe: SGD with momentum, lrkit's warmup + cosine to peak/100
over 20 epochs; the peak is the grid point or the finder's suggestion. Score: validation
accuracy (classification) or R² (regression), as a fraction of the grid's best; cost: the
finder's updates as a fraction of the grid's.
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_regression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import lrkit
from lrkit.finder import range_test
from lrkit.torch import LRScheduler

EPOCHS, BATCH = 20, 32
GRID = np.geomspace(1e-4, 3.0, 12)


def task(name: str) -> tuple[Any, Any, Any, Any, bool]:
    if name == "regression":
        x, y = make_regression(n_samples=1000, n_features=20, noise=10.0, random_state=0)
        y = (y - y.mean()) / y.std()
    else:
        loader = {"digits": load_digits, "breast_cancer": load_breast_cancer,
                  "wine": load_wine}[name]
        x, y = loader(return_X_y=True)
    xtr, xva, ytr, yva = train_test_split(x, y, test_size=0.25, random_state=0)
    sc = StandardScaler().fit(xtr)
    cls = name != "regression"
    to = (lambda a: torch.tensor(a, dtype=torch.long)) if cls else \
        (lambda a: torch.tensor(a, dtype=torch.float32)[:, None])
    return (torch.tensor(sc.transform(xtr), dtype=torch.float32), to(ytr),
            torch.tensor(sc.transform(xva), dtype=torch.float32), to(yva), cls)


def model(kind: str, d: int, out: int) -> torch.nn.Module:
    if kind == "mlp":
        return torch.nn.Sequential(torch.nn.Linear(d, 64), torch.nn.ReLU(), torch.nn.Linear(64,
                                                                                            out))
    return torch.nn.Linear(d, out)


def loss_fn(cls: bool):  # type: ignore[no-untyped-def]
    return torch.nn.functional.cross_entropy if cls else torch.nn.functional.mse_loss


def batches(x: torch.Tensor, y: torch.Tensor, seed: int) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)
    return [(x[idx[i:i + BATCH]], y[idx[i:i + BATCH]]) for i in range(0, len(x), BATCH)]


def train(kind: str, data: tuple[Any, ...], peak: float, seed: int) -> tuple[float, int]:
    xtr, ytr, xva, yva, cls = data
    torch.manual_seed(seed)
    out = int(ytr.max()) + 1 if cls else 1
    net = model(kind, xtr.shape[1], out)
    opt = torch.optim.SGD(net.parameters(), lr=peak, momentum=0.9)
    per_epoch = (len(xtr) + BATCH - 1) // BATCH
    total = EPOCHS * per_epoch
    LRScheduler(opt, lrkit.warmup(lrkit.cosine(peak, peak / 100, "95%"), "5%"),
                total_steps=total)
    f = loss_fn(cls)
    for epoch in range(EPOCHS):
        for xb, yb in batches(xtr, ytr, seed * 1000 + epoch):
            loss = f(net(xb), yb)
            if not torch.isfinite(loss):
                return (0.0 if cls else -1.0), total
            loss.backward()
            opt.step()
            opt.zero_grad()
    with torch.no_grad():
        pred = net(xva)
        if cls:
            return float((pred.argmax(1) == yva).float().mean()), total
        r2 = 1 - float(((pred - yva) ** 2).mean() / yva.var())
        return (r2 if np.isfinite(r2) else -1.0), total


def finder(kind: str, data: tuple[Any, ...], seed: int) -> tuple[dict[str, float], int]:
    xtr, ytr, _, _, cls = data
    torch.manual_seed(seed)
    out = int(ytr.max()) + 1 if cls else 1
    net = model(kind, xtr.shape[1], out)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    r = range_test(net, opt, loss_fn(cls), batches(xtr, ytr, seed), start_lr=1e-5,
                   end_lr=10.0, num_steps=100)
    sug = {k: s.lr for k, s in r.suggest().items() if s.valid and s.lr is not None}
    sug["default"] = r.lr
    return sug, len(r.lrs)


def main() -> list[tuple[str, float, float]]:
    rows = []
    for name in ("digits", "breast_cancer", "wine", "regression"):
        data = task(name)
        for kind in ("mlp", "linear"):
            fracs: dict[str, list[float]] = {"default": [], "steepest": [], "valley": []}
            costs = []
            for seed in range(3):
                grid, grid_cost = [], 0
                for lr in GRID:
                    score, steps = train(kind, data, float(lr), seed)
                    grid.append(score)
                    grid_cost += steps
                best = max(grid)
                sug, f_cost = finder(kind, data, seed)
                costs.append(f_cost / grid_cost)
                for key in fracs:
                    if key in sug:
                        fracs[key].append(train(kind, data, sug[key], seed)[0] / best)
            row = (f"{name} / {kind}", statistics.mean(fracs["default"]),
                   min(fracs["default"]), statistics.mean(fracs["steepest"] or [float("nan")]),
                   statistics.mean(fracs["valley"] or [float("nan")]), max(costs))
            rows.append(row)
            print(row, flush=True)
    print("\n| task / model | default: mean of grid best | worst seed | steepest | valley "
          "| finder cost / grid cost | pass (≥ 0.97 at ≤ 0.1) |\n|---|---|---|---|---|---|---|")
    for name, mean, worst, steep, valley, cost in rows:
        ok = worst >= 0.97 and cost <= 0.1
        print(f"| {name} | {mean:.3f} | {worst:.3f} | {steep:.3f} | {valley:.3f} | {cost:.4f} "
              f"| {'pass' if ok else 'FAIL'} |")
    return rows


if __name__ == "__main__":
    main()
