"""The source documents' claims about warmup and decay, measured on real (small) training.

Run: ``python benchmarks/bench_training.py`` — writes docs/evidence.md and docs/evidence_*.png.
PyTorch on CPU, an MLP on scikit-learn's bundled ``load_digits`` and ``load_breast_cancer``,
5 seeds each; the LR each update used is recorded with ``lrkit.monitor`` and plotted.

1. Warmup lets a large learning rate train (no warmup vs lrkit's linear warmup vs the TF
   ResNet 5-epoch recipe), and the linear scaling rule across batch sizes.
2. Decay helps converge: constant vs step (TF ResNet boundaries scaled to the run) vs cosine vs
   one-cycle vs WSD, at equal budgets.
3. Cyclical LRs: triangular vs constant vs cosine.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import lrkit
from lrkit.monitor import Monitor
from lrkit.torch import LRScheduler

DOCS = Path(__file__).parent.parent / "docs"
SEEDS = range(5)
EPOCHS = 30


def dataset(name: str) -> tuple[torch.Tensor, ...]:
    x, y = (load_digits if name == "digits" else load_breast_cancer)(return_X_y=True)
    xtr, xva, ytr, yva = train_test_split(x, y, test_size=0.25, random_state=0)
    sc = StandardScaler().fit(xtr)
    f = torch.float32
    return (torch.tensor(sc.transform(xtr), dtype=f), torch.tensor(ytr),
            torch.tensor(sc.transform(xva), dtype=f), torch.tensor(yva))


def run(data: tuple[torch.Tensor, ...], make: Any, batch: int, seed: int) -> dict[str, Any]:
    """Train an MLP with SGD + momentum; ``make(steps_per_epoch, total)`` gives the schedule."""
    xtr, ytr, xva, yva = data
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(xtr.shape[1], 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, int(ytr.max()) + 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    per_epoch = math.ceil(len(xtr) / batch)
    total = EPOCHS * per_epoch
    schedule = make(per_epoch, total)
    LRScheduler(opt, schedule, steps_per_epoch=per_epoch, total_steps=total)
    mon = Monitor().attach(opt)
    losses: list[float] = []
    diverged = False
    g = torch.Generator().manual_seed(seed)
    for _ in range(EPOCHS):
        idx = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), batch):
            b = idx[i:i + batch]
            loss = torch.nn.functional.cross_entropy(net(xtr[b]), ytr[b])
            if not torch.isfinite(loss) or loss.item() > 50:
                diverged = True
                break
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
        if diverged:
            break
    with torch.no_grad():
        acc = 0.0 if diverged else float((net(xva).argmax(1) == yva).float().mean())
    mon.close()
    return {"acc": acc, "diverged": diverged, "losses": losses,
            "lrs": [r["lr/0"] for r in mon.records]}


def compare(data: tuple[torch.Tensor, ...], arms: dict[str, Any], batch: int
            ) -> dict[str, list[dict[str, Any]]]:
    return {name: [run(data, make, batch, seed) for seed in SEEDS] for name, make in arms.items()}


def summary(results: dict[str, list[dict[str, Any]]]) -> list[str]:
    rows = ["| schedule | diverged (of 5) | accuracy: mean ± sd | min | max |",
            "|---|---|---|---|---|"]
    for name, runs in results.items():
        accs = [r["acc"] for r in runs]
        rows.append(f"| `{name}` | {sum(r['diverged'] for r in runs)} | "
                    f"{statistics.mean(accs):.4f} ± {statistics.pstdev(accs):.4f} | "
                    f"{min(accs):.4f} | {max(accs):.4f} |")
    return rows


def picture(results: dict[str, list[dict[str, Any]]], path: Path, title: str) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    left, right = fig.subplots(1, 2)
    for name, runs in results.items():
        r = runs[0]
        k = np.arange(len(r["losses"]))
        smooth = np.convolve(r["losses"], np.ones(5) / 5, mode="same") if len(k) > 5 else \
            r["losses"]
        left.plot(k, smooth, label=name, linewidth=1.2)
        right.plot(np.arange(len(r["lrs"])), r["lrs"], label=name, linewidth=1.2)
    left.set_yscale("log")
    left.set_xlabel("update")
    left.set_ylabel("training loss (seed 0, smoothed)")
    right.set_xlabel("update")
    right.set_ylabel("LR applied (lrkit.monitor)")
    left.legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.savefig(path, dpi=80)


def main() -> list[str]:
    digits, cancer = dataset("digits"), dataset("breast_cancer")
    out = ["# Evidence: the source documents' claims, measured", "",
           "Generated by `python benchmarks/bench_training.py` (part of `make bench`): an MLP "
           "(two hidden layers of 128) trained with SGD + momentum 0.9 on scikit-learn's "
           "bundled data, 30 epochs, 5 seeds per arm. Accuracy is on a held-out quarter. "
           "The pictures show seed 0's training loss and the LR each update actually used, "
           "as `lrkit.monitor` recorded it.", ""]

    arms = {
        "constant 0.5": lambda pe, t: lrkit.constant(0.5),
        "warmup(5ep) >> constant 0.5": lambda pe, t: lrkit.warmup(lrkit.constant(0.5), "5ep"),
        "cosine 0.5 -> 0": lambda pe, t: lrkit.cosine(0.5, 0.0, "100%"),
        "warmup(5ep) >> cosine 0.5 -> 0":
            lambda pe, t: lrkit.warmup(lrkit.cosine(0.5, 0.0, "100% - 5ep"), "5ep"),
        "TF ResNet recipe, base 0.5 (5-epoch warmup from 0, /10 at epochs 20, 25)":
            lambda pe, t: lrkit.recipes.tf_resnet(
                batch_size=256, batch_denom=256, num_images=pe * 256, boundary_epochs=[20, 25],
                decay_rates=[1, 0.1, 0.01], base_lr=0.5, warmup=True),
    }
    res = compare(digits, arms, batch=256)
    picture(res, DOCS / "evidence_warmup.png", "1. warmup at a high peak LR (digits, batch 256)")
    div = {k: sum(r["diverged"] for r in v) for k, v in res.items()}
    out += ["## 1. Warmup lets a large learning rate train", "",
            "Peak LR 0.5 at batch 256 on digits (the largest peak at which some seeds train "
            "without warmup).", "", *summary(res), "",
            f"**What we see.** Seeds that diverged: {div['constant 0.5']} without and "
            f"{div['warmup(5ep) >> constant 0.5']} with warmup at a constant peak; "
            f"{div['cosine 0.5 -> 0']} without and {div['warmup(5ep) >> cosine 0.5 -> 0']} with "
            "warmup before a cosine. At this scale (a small MLP, plain SGD) the claim does "
            "not hold: the instability is at the peak itself, not in the first updates, and "
            "a warmup that postpones the decay keeps the network at the peak longer. The "
            "source documents' setting — deep ResNets, large batches, batch normalization — "
            "is where warmup earns its keep; this benchmark cannot reproduce it on CPU.", "",
            "![warmup](evidence_warmup.png)", ""]

    scaling = {}
    for batch in (32, 128, 512):
        peak = lrkit.scale_lr(0.05, batch, 32)
        for warm in (False, True):
            name = f"batch {batch}, peak {peak:g}" + (", warmup 5ep" if warm else "")
            s = lrkit.cosine(peak, peak / 100, "100%")
            arm = (lambda pe, t, s=s: lrkit.warmup(s.bind(total_steps=t), "5ep")) if warm \
                else (lambda pe, t, s=s: s)
            scaling[name] = [run(digits, arm, batch, seed) for seed in SEEDS]
    out += ["### The linear scaling rule", "",
            "`scale_lr(0.05, batch, 32)` with a cosine decay, with and without a 5-epoch "
            "warmup.", "", *summary(scaling), "",
            "**What we see.** The linear rule holds up to batch 128 (4× the reference), where "
            "a warmup adds about half a point; at batch 512 the scaled peak (0.8) is past "
            "what this network tolerates, with or without warmup.", ""]

    decay_arms = {
        "constant": lambda pe, t: lrkit.constant(0.05),
        "step (TF ResNet boundaries at 1/3, 2/3, 8/9 of the run)":
            lambda pe, t: lrkit.multistep(0.05, 0.1, ["33%", "67%", "89%"]),
        "cosine": lambda pe, t: lrkit.cosine(0.05, 0.0, "100%"),
        "one_cycle": lambda pe, t: lrkit.one_cycle(0.1, "100%"),
        "wsd": lambda pe, t: lrkit.wsd(0.05, "100%", "5%", "20%"),
    }
    for name, data in (("digits", digits), ("breast_cancer", cancer)):
        res = compare(data, decay_arms, batch=64)
        picture(res, DOCS / f"evidence_decay_{name}.png", f"2. decay ({name}, batch 64)")
        means = {k: statistics.mean(r["acc"] for r in v) for k, v in res.items()}
        best = max(means, key=means.__getitem__)
        spread = max(means.values()) - min(means.values())
        out += [f"## 2. Decay helps converge ({name})", "", *summary(res), "",
                f"**What we see.** The best mean is `{best}`, but all five schedules are "
                f"within {spread:.4f} of each other, inside one standard deviation across "
                "seeds: at this budget every schedule converges, so decay does not measurably "
                "help validation accuracy here; the picture shows its effect on the training "
                "loss of one seed.", "",
                f"![decay {name}](evidence_decay_{name}.png)", ""]

    cyc = {
        "constant 0.05": lambda pe, t: lrkit.constant(0.05),
        "cosine 0.05 -> 0": lambda pe, t: lrkit.cosine(0.05, 0.0, "100%"),
        "triangular 0.005 <-> 0.1, 2ep up / 2ep down":
            lambda pe, t: lrkit.cyclic(0.005, 0.1, "2ep"),
    }
    res = compare(digits, cyc, batch=64)
    picture(res, DOCS / "evidence_cyclic.png", "3. cyclical LR (digits, batch 64)")
    out += ["## 3. Cyclical learning rates", "", *summary(res), "",
            "**What we see.** No difference beyond the spread across seeds at this scale; the "
            "claimed benefit (escaping saddle points) does not show on a problem this easy.",
            "", "![cyclic](evidence_cyclic.png)", ""]
    (DOCS / "evidence.md").write_text("\n".join(out) + "\n")
    print("\n".join(out))
    return out


if __name__ == "__main__":
    main()
