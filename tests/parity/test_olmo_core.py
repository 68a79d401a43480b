"""lrkit.wsd_cycles against OLMo-core's own multi-cycle WSD, ``olmo_core.optim.WSDS``
(ai2-olmo-core 3.0.0, installed by ``make test`` without its dependencies).

OLMo-core's ``olmo_core.config`` imports ``cached_path`` (a downloader whose pins, rich<14,
filelock<4 and huggingface-hub<2, conflict with transformers'); the scheduler never calls it, so
a stand-in module takes its name here. Everything else is OLMo-core's own code.

The claim tested, per configuration and at every position ``c`` up to past the end:
``wsd_cycles(...)(c) == WSDS.get_lr(peak, c)``, except at each period's end but the last, where
OLMo-core gives ``decay_min_lr`` (its periods include their last position: the decay reaches
the floor there) and lrkit the next period's peak (its decays reach ``end`` where the next
period begins, as ``wsd``'s does at the run's end). OLMo-core's trainer applies
``get_lr(global_step)`` with ``global_step`` counted from 1, so its update ``k`` uses ``c = k + 1``.
"""

import random
import sys
import types

import pytest

import lrkit


class _Anything(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Anything(name, (), {})


def _stand_in_attribute(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _Anything(name, (), {})


def _olmo_wsds():
    pytest.importorskip("olmo_core", reason="ai2-olmo-core is installed by make test")
    for name in ("cached_path", "cached_path.schemes"):
        if name not in sys.modules:
            stand_in = types.ModuleType(name)
            stand_in.__getattr__ = _stand_in_attribute  # type: ignore[method-assign]
            stand_in.__path__ = []
            sys.modules[name] = stand_in
    from olmo_core.optim.scheduler import WSDS

    return WSDS


# Rows from OLMo-core's own test suite, src/test/optim/wsds_scheduler_test.py
# (TestWSDSScheduler, by test name; fractions resolved as WSDS resolves them):
# (test, peak (their initial_lr), period_lengths, warmup, decay, warmup_min_lr, decay_min_lr,
#  period_lr_multipliers)
THEIRS = [
    ("test_basic_single_period_with_warmup", 1.0, [1000], 100, 200, 0.0, 0.0, None),
    ("test_multiple_periods_with_reset", 1.0, [1000, 1000], 100, 200, 0.0, 0.0, None),
    ("test_warmup_fraction", 1.0, [1000], 100, 200, 0.0, 0.0, None),
    ("test_decay_fraction", 1.0, [1000], 50, 300, 0.0, 0.0, None),
    ("test_non_zero_decay_min_lr", 1.0, [1000], 100, 200, 0.0, 0.1, None),
    ("test_non_zero_warmup_min_lr", 1.0, [1000], 100, 200, 0.1, 0.0, None),
    ("test_variable_period_counts[5]", 1.0, [1000] * 5, 100, 200, 0.0, 0.0, None),
    ("test_variable_period_lengths[100]", 1.0, [100], 10, 20, 0.0, 0.0, None),
]


def _random_rows(n=150, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        periods = [rng.randint(3, 300) for _ in range(rng.randint(1, 5))]
        decay = rng.randint(1, min(periods))  # WSDS: decay <= each period, warmup + decay
        warmup = rng.choice([0, rng.randint(0, periods[0] - decay)])  # <= the first
        peak = rng.choice([3e-4, 0.1, 1.0])
        low = rng.choice([0.0, peak * rng.uniform(0.0, 0.05)])
        mult = None if rng.random() < 0.5 else [rng.uniform(0.1, 2.0) for _ in periods]
        rows.append((f"random {i}", peak, periods, warmup, decay, rng.choice([0.0, low]), low,
                     mult))
    return rows


@pytest.mark.parametrize("row", THEIRS + _random_rows(), ids=lambda r: r[0])
def test_wsd_cycles_is_olmo_cores_wsds(row):
    _, peak, periods, warmup, decay, warmup_min, decay_min, mult = row
    WSDS = _olmo_wsds()
    theirs = WSDS(period_lengths=periods, period_lr_multipliers=mult, warmup=warmup,
                  decay=decay, warmup_min_lr=warmup_min, decay_min_lr=decay_min)
    ours = lrkit.wsd_cycles([peak * m for m in mult] if mult else peak, periods,
                            warmup=warmup, decay=decay, end=decay_min, decay_shape="linear",
                            start=warmup_min if warmup else None)
    peaks = [peak * m for m in mult] if mult else [peak] * len(periods)
    ends = {sum(periods[:i + 1]): i for i in range(len(periods) - 1)}
    for c in range(sum(periods) + 5):
        want = theirs.get_lr(peak, c, sum(periods))
        got = ours(c)
        if c in ends:  # OLMo-core's floor at a period's last position; lrkit's next peak
            assert (want, got) == (decay_min, peaks[ends[c] + 1]), c
            continue
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12 * peak), (c, got, want)
