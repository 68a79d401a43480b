"""The real timm scheduler and from_timm, each driven as timm's train.py drives its scheduler
(``step_update(num_updates)`` after each update, ``step(epoch + 1, metric)`` after each
epoch), shared by the timm parity tests and docs/make_compatibility.py.

timm's own ``__init__`` imports its models and torchvision, which has no wheel beside the test
environment's CPU torch; its schedulers import only torch and numpy, so where ``import timm``
fails they are loaded from the installed package without it (``pip install --no-deps timm``).
"""

import importlib
import importlib.util
import sys
import types

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")


def _timm_scheduler():
    try:
        import timm.scheduler
        return timm.scheduler
    except ImportError:
        for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
            del sys.modules[name]
    spec = importlib.util.find_spec("timm")
    if spec is None:
        pytest.skip("timm is not installed (make test installs it with --no-deps)",
                    allow_module_level=True)
    pkg = types.ModuleType("timm")
    pkg.__path__ = list(spec.submodule_search_locations)
    sys.modules["timm"] = pkg
    return importlib.import_module("timm.scheduler")


timm_scheduler = _timm_scheduler()


def timm_applied(lr, kw, metrics):
    """The LR of every update as timm's train.py applies it, until five epochs past the end
    (only to the end where noise is drawn without an end: lrkit stops it at the run's end)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched, num_epochs = timm_scheduler.create_scheduler_v2(opt, **kw)
    open_noise = kw.get("noise") is not None and not (
        isinstance(kw["noise"], list) and len(kw["noise"]) == 2)
    epochs = num_epochs + (0 if open_noise else 5)
    per_epoch = max(kw["updates_per_epoch"], 1)
    out, num_updates = [], 0
    for epoch in range(epochs):
        for _ in range(per_epoch):
            out.append(opt.param_groups[0]["lr"])
            num_updates += 1
            if sched is not None:
                sched.step_update(num_updates=num_updates)
        if sched is not None:
            sched.step(epoch + 1, metrics[epoch])
    return np.array(out)


def lrkit_applied(lr, kw, metrics, n):
    """The LR of the first ``n`` updates from ``lrkit.from_timm(lr, **kw)``; a plateau
    schedule observes ``metrics`` from the end of the warmup, as timm does."""
    s = lrkit.from_timm(lr, **kw)
    if not isinstance(s, lrkit.plateau):
        return s.values(np.arange(n))
    per_epoch = max(kw["updates_per_epoch"], 1)
    state, out = s.init(), []
    for k in range(n):
        out.append(s.value(k, state))
        epoch, end_of_epoch = divmod(k + 1, per_epoch)
        if end_of_epoch == 0 and epoch > kw["warmup_epochs"]:
            state = s.observe(state, metrics[epoch - 1])
    return np.array(out)
