"""The fuzz tests' budget: small in `make test`, LRKIT_FUZZ_SCALE times larger in `make fuzz`."""

import os

from hypothesis import HealthCheck, settings


def budget(examples):
    """Hypothesis settings for a fuzz test of `examples` inputs (times LRKIT_FUZZ_SCALE)."""
    scale = int(os.environ.get("LRKIT_FUZZ_SCALE", "1"))
    return settings(max_examples=examples * scale, deadline=None,
                    suppress_health_check=list(HealthCheck))
