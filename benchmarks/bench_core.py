"""Core speed against hand-written references, printed as a table of ratios.

Run: ``python benchmarks/bench_core.py`` (or ``make bench``). Each figure is the median of
several interleaved repetitions of lrkit and its reference in this one process. Targets:
scalar ``s(k)`` <= 3x a hand-written Python formula; ``s.values`` over 10,000,000 steps <= 3x a
hand-written numpy expression; ``import lrkit`` <= 30 ms.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import lrkit

PEAK, END, W, T = 0.1, 1e-5, 1000, 99000
SCHEDULE = lrkit.warmup(lrkit.cosine(PEAK, END, T), W)


def by_hand(k: int) -> float:
    if k < W:
        return PEAK * (k + 1) / (W + 1)
    t = min(k - W, T)
    return END + (PEAK - END) * 0.5 * (1 + math.cos(math.pi * t / T))


def by_hand_numpy(k: np.ndarray) -> np.ndarray:
    kf = k.astype(np.float64)
    t = np.minimum(np.maximum(kf - W, 0.0), T)
    decay = END + (PEAK - END) * 0.5 * (1 + np.cos(np.pi * t / T))
    return np.where(kf < W, PEAK * (kf + 1) / (W + 1), decay)


def timed(fn, reps: int) -> float:
    best = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return statistics.median(best)


def interleaved(a, b, rounds: int = 7, reps: int = 1) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(timed(a, reps))
        tb.append(timed(b, reps))
    return statistics.median(ta), statistics.median(tb)


def import_time(rounds: int = 9) -> float:
    # As users run it: with bytecode caches (some sandboxes set PYTHONDONTWRITEBYTECODE, which
    # recompiles every module on every start), after one warm-up start that writes them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - t0

    run("import lrkit")
    base, full = [], []
    for _ in range(rounds):
        base.append(run("pass"))
        full.append(run("import lrkit"))
    return statistics.median(full) - statistics.median(base)


def main() -> list[tuple[str, float, str, float, bool]]:
    steps = range(0, 100_000, 7)
    assert all(abs(SCHEDULE(k) - by_hand(k)) <= 1e-15 for k in steps)
    n_scalar = len(steps)
    lib, ref = interleaved(lambda: [SCHEDULE(k) for k in steps],
                           lambda: [by_hand(k) for k in steps])
    rows = [("s(k), warmup + cosine, per call", lib / ref, "hand-written Python formula", 3.0,
             lib / ref <= 3.0)]
    print(f"scalar: lrkit {lib / n_scalar * 1e9:.0f} ns/call, by hand {ref / n_scalar * 1e9:.0f}")

    big = np.arange(10_000_000, dtype=np.int64)
    np.testing.assert_allclose(SCHEDULE.values(big[:100_000]), by_hand_numpy(big[:100_000]),
                               rtol=1e-12)
    lib, ref = interleaved(lambda: SCHEDULE.values(big), lambda: by_hand_numpy(big), rounds=3)
    rows.append(("s.values(), 10M steps", lib / ref, "hand-written numpy expression", 3.0,
                 lib / ref <= 3.0))
    print(f"values: lrkit {lib:.3f} s, by hand {ref:.3f} s")

    ms = import_time() * 1e3
    rows.append(("import lrkit (ms)", ms, "absolute", 30.0, ms <= 30.0))

    print("\n| figure | value | reference | target | pass |\n|---|---|---|---|---|")
    for name, value, refname, target, ok in rows:
        unit = "" if "ms" in name else "×"
        print(f"| {name} | {value:.2f}{unit} | {refname} | ≤ {target:g}{unit} | "
              f"{'pass' if ok else 'FAIL'} |")
    return rows


if __name__ == "__main__":
    main()
