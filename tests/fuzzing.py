"""The fuzz tests' budget: small in `make test`, LRKIT_FUZZ_SCALE times larger in `make fuzz`."""

import os

from hypothesis import HealthCheck, settings


def budget(examples):
    """Hypothesis settings for a fuzz test of `examples` inputs (times LRKIT_FUZZ_SCALE)."""
    scale = int(os.environ.get("LRKIT_FUZZ_SCALE", "1"))
    return settings(max_examples=examples * scale, deadline=None,
                    suppress_health_check=list(HealthCheck))


def safe_if_accepted(build, steps=(0, 1, 5, 50, 999, 10**6, 10**12)):
    """An entry point at the input boundary: ``build()`` raises only lrkit's errors, and the
    schedule it returns (or each of a mapping of them) is finite and >= 0 at ``steps``."""
    import math

    import lrkit

    try:
        out = build()
    except lrkit.ScheduleError:  # ConfigError included
        return
    for s in out.values() if isinstance(out, dict) else [out]:
        if not s._missing:
            for k in steps:
                v = s(k)
                assert math.isfinite(v) and v >= 0, (s, k, v)
