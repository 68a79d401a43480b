"""``make bench``: run every benchmark in one go and write benchmarks/RESULTS.md.

Each bench_*.py prints its own table; this collects every target into one table with the
machine and the versions. bench_training.py has no targets: it writes docs/evidence.md.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def versions() -> str:
    out = [f"Python {platform.python_version()}"]
    for name in ("numpy", "torch", "jax", "keras", "optax", "transformers"):
        with contextlib.suppress(ImportError):
            out.append(f"{name} {importlib.import_module(name).__version__}")
    return ", ".join(out)


def main() -> None:
    rows: list[tuple[str, str, str, str, bool]] = []
    started = time.time()
    for name in ("bench_core", "bench_torch", "bench_jax_keras"):
        print(f"== {name}", flush=True)
        for figure, value, ref, target, ok in importlib.import_module(name).main():
            goal = f"≤ {target:g}" if target != float("inf") else "—"
            rows.append((f"{name}: {figure}", f"{value:.3g}", ref, goal, ok))
    print("== bench_finder", flush=True)
    finder = importlib.import_module("bench_finder").main()
    for task, _mean, worst, _steepest, _valley, cost in finder:
        rows.append((f"bench_finder: {task}, default suggestion (worst seed)", f"{worst:.3f}",
                     "12-point grid search's best", "≥ 0.97", worst >= 0.97))
        rows.append((f"bench_finder: {task}, compute", f"{cost:.4f}", "the grid's", "≤ 0.1",
                     cost <= 0.1))
    print("== bench_training", flush=True)
    importlib.import_module("bench_training").main()
    lines = ["# Benchmark results", "",
             f"Written by `make bench` on {platform.platform()} ({os.cpu_count()} cores): "
             f"{versions()}. Total time {(time.time() - started) / 60:.1f} min. Each figure "
             "is measured in the same process as its reference, interleaved: medians of "
             "several repetitions; the torch per-update overheads are the median over 21 "
             "optimizers of each one's time with the scheduler minus its time without (a "
             "0.5 us cost inside a 5-9 us optimizer step).", "",
             "| figure | value | reference | target | pass |", "|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {'pass' if ok else 'FAIL'} |"
              for a, b, c, d, ok in rows]
    lines += ["", "A figure's *floor* (in its name) is what the same work costs written by hand "
              "in the same harness: the hand-written function called as an object for `s(k)`, "
              "the formula assigned to every group (by a step hook for the optimizer clock) for "
              "torch. *Itself again* is the reference measured a second time: the noise of "
              "that figure."]
    lines += ["", "The training evidence (warmup, decay, cyclical LRs) is in "
              "[`docs/evidence.md`](../docs/evidence.md).", ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
