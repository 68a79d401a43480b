"""Core speed against hand-written references, printed as a table of ratios.

Run: ``python benchmarks/bench_core.py`` (or ``make bench``). Each figure is the median of
several interleaved repetitions of lrkit and its reference in this one process. Targets
(issue 16): scalar ``s(k)`` <= 1.5x a hand-written Python function of the same formula, for
warmup + cosine, a 5-phase sequence, warm restarts and a product; ``s.values`` over
10,000,000 steps <= 1.5x a hand-written numpy expression in time and <= 2x the output array
in peak memory (tracemalloc); ``import lrkit`` <= 15 ms, and <= 60 ms for ``import lrkit.torch``
beyond ``import torch``.
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


FIVE = (lrkit.linear(0.0, PEAK, 500) >> lrkit.constant(PEAK, over=20_000)
        >> lrkit.cosine(PEAK, 0.01, 50_000) >> lrkit.constant(0.01, over=20_000)
        >> lrkit.linear(0.01, 0.0, 9500))


def five_by_hand(k: int) -> float:
    if k < 500:
        return PEAK * k / 500
    if k < 20_500:
        return PEAK
    if k < 70_500:
        return 0.01 + (PEAK - 0.01) * 0.5 * (1 + math.cos(math.pi * (k - 20_500) / 50_000))
    if k < 90_500:
        return 0.01
    return 0.01 * (1 - min(k - 90_500, 9500) / 9500)


RESTARTS = lrkit.restarts(lrkit.cosine(PEAK, 0.0, 1000), period_mult=2.0)


def restarts_by_hand(k: int) -> float:  # SGDR with T_mult = 2
    i = int(math.log2(k / 1000 + 1))
    start, length = 1000 * (2**i - 1), 1000 * 2**i
    return PEAK * 0.5 * (1 + math.cos(math.pi * (k - start) / length))


PRODUCT = lrkit.cosine(PEAK, 0.0, 100_000) * lrkit.linear(1.0, 0.1, 100_000)


def product_by_hand(k: int) -> float:
    t = min(k, 100_000)
    return PEAK * 0.5 * (1 + math.cos(math.pi * t / 100_000)) * (1.0 - 0.9 * t / 100_000)


def by_hand_numpy(k: np.ndarray) -> np.ndarray:
    kf = k.astype(np.float64)
    t = np.minimum(np.maximum(kf - W, 0.0), T)
    decay = END + (PEAK - END) * 0.5 * (1 + np.cos(np.pi * t / T))
    return np.where(kf < W, PEAK * (kf + 1) / (W + 1), decay)


def as_object(hand):  # type: ignore[no-untyped-def]
    """The hand-written function called as an object (``obj(k)``), as ``s(k)`` is: the least
    an object's call adds in CPython, one function called from C."""
    return type("Hand", (), {"__call__": staticmethod(hand)})()


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


def import_time(base_code: str, code: str, rounds: int = 9) -> float:
    """Seconds ``python -c code`` takes beyond ``python -c base_code`` (medians)."""
    # As users run it: with bytecode caches (some sandboxes set PYTHONDONTWRITEBYTECODE, which
    # recompiles every module on every start), after one warm-up start that writes them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - t0

    run(code)
    base, full = [], []
    for _ in range(rounds):
        base.append(run(base_code))
        full.append(run(code))
    return statistics.median(full) - statistics.median(base)


def import_cost(prefix: str, code: str, rounds: int = 9) -> float:
    """Seconds the top-level imports of modules named ``prefix…`` take in ``python -c code``,
    as ``-X importtime`` reports them (each with what it imports that was not loaded yet),
    the median of ``rounds`` starts: ``import torch``'s second of its own drops out, and
    with it the noise a difference of two whole starts would have."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = []
    for _ in range(rounds + 1):  # (the first writes the bytecode caches)
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True,
                             env=env, capture_output=True, text=True).stderr
        us = 0
        for line in err.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) == 3 and fields[1].strip().isdigit() and \
                    fields[2].startswith(" " + prefix) and not fields[2].startswith("  "):
                us += int(fields[1])  # cumulative, at the top level
        runs.append(us / 1e6)
    return statistics.median(runs[1:])


def main() -> list[tuple[str, float, str, float, bool]]:
    steps = range(0, 100_000, 7)
    rows = []
    for name, s, hand in [("warmup + cosine", SCHEDULE, by_hand),
                          ("5-phase sequence", FIVE, five_by_hand),
                          ("warm restarts", RESTARTS, restarts_by_hand),
                          ("product", PRODUCT, product_by_hand)]:
        assert all(abs(s(k) - hand(k)) <= 1e-12 for k in steps), name
        obj = as_object(hand)
        lib, ref = interleaved(lambda s=s: [s(k) for k in steps],
                               lambda hand=hand: [hand(k) for k in steps])
        floor, ref2 = interleaved(lambda obj=obj: [obj(k) for k in steps],
                                  lambda hand=hand: [hand(k) for k in steps])
        rows.append((f"s(k), {name}, per call (floor {floor / ref2:.2f}: the same function "
                     "called as an object)", lib / ref, "hand-written Python function", 1.5,
                     lib / ref <= 1.5))
        print(f"s(k) {name}: lrkit {lib / len(steps) * 1e9:.0f} ns/call, by hand "
              f"{ref / len(steps) * 1e9:.0f}, by hand as an object "
              f"{floor / len(steps) * 1e9:.0f}")

    big = np.arange(10_000_000, dtype=np.int64)
    np.testing.assert_allclose(SCHEDULE.values(big[:100_000]), by_hand_numpy(big[:100_000]),
                               rtol=1e-12)
    lib, ref = interleaved(lambda: SCHEDULE.values(big), lambda: by_hand_numpy(big), rounds=3)
    rows.append(("s.values(), 10M steps", lib / ref, "hand-written numpy expression", 1.5,
                 lib / ref <= 1.5))
    print(f"values: lrkit {lib:.3f} s, by hand {ref:.3f} s")
    import tracemalloc

    tracemalloc.start()
    out = SCHEDULE.values(big)
    peak = tracemalloc.get_traced_memory()[1] / out.nbytes
    tracemalloc.stop()
    rows.append(("s.values(), 10M steps, peak memory / output", peak, "the output array",
                 2.0, peak <= 2.0))

    ms = import_time("pass", "import lrkit") * 1e3
    rows.append(("import lrkit (ms)", ms, "absolute", 15.0, ms <= 15.0))
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: no figure for import lrkit.torch")
    else:
        ms = import_cost("lrkit", "import torch; import lrkit.torch") * 1e3
        rows.append(("import lrkit.torch beyond torch (ms)", ms, "absolute", 60.0, ms <= 60.0))

    print("\n| figure | value | reference | target | pass |\n|---|---|---|---|---|")
    for name, value, refname, target, ok in rows:
        unit = "" if "ms" in name else "×"
        print(f"| {name} | {value:.2f}{unit} | {refname} | ≤ {target:g}{unit} | "
              f"{'pass' if ok else 'FAIL'} |")
    return rows


if __name__ == "__main__":
    main()
