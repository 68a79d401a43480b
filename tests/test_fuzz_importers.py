"""Importers at the input boundary: from_hf, from_timm and from_keras's serialized dicts with
random arguments raise only lrkit errors; what they accept evaluates to finite values >= 0."""


import pytest
from fuzzing import budget, safe_if_accepted
from hypothesis import given
from hypothesis import strategies as st

import lrkit
from lrkit.interop._hf import _TYPES
from lrkit.interop._keras import _BUILDERS as KERAS

ODD = [None, "abc", "", -1, -1.5, 0, 0.5, 1, 2, 3.5, 10, 1e9, float("nan"), float("inf"), True,
       [1], {"a": 1}, "linear", "cosine", "1-sqrt", 1e-7]
HF_KWARGS = ["num_cycles", "power", "lr_end", "timescale", "min_lr", "min_lr_rate",
             "warmup_lr_rate", "num_decay_steps", "num_stable_steps", "warmup_type",
             "decay_type", "min_lr_ratio", "factor", "patience", "mode", "threshold", "foo"]


check = safe_if_accepted


@pytest.mark.fuzz
@budget(300)
@given(st.sampled_from(list(_TYPES) + ["nope"]), st.sampled_from(ODD), st.sampled_from(ODD),
       st.sampled_from(ODD), st.dictionaries(st.sampled_from(HF_KWARGS), st.sampled_from(ODD),
                                             max_size=3))
def test_from_hf_raises_only_lrkit_errors(name, warm, total, lr, kw):
    check(lambda: lrkit.from_hf(name, warm, total, base_lr=lr, **kw))


TIMM = ["sched", "num_epochs", "decay_epochs", "decay_milestones", "cooldown_epochs",
        "patience_epochs", "decay_rate", "min_lr", "warmup_lr", "warmup_epochs",
        "warmup_prefix", "noise_pct", "noise_std", "noise_seed", "cycle_mul",
        "cycle_decay", "cycle_limit", "k_decay", "plateau_mode", "step_on_epochs",
        "updates_per_epoch"]


@pytest.mark.fuzz
@budget(300)
@given(st.sampled_from(ODD), st.dictionaries(
    st.sampled_from(TIMM), st.sampled_from(ODD + ["cosine", "step", "tanh", "poly", "plateau",
                                                  "multistep", "wsd", "rsqrt", [1, 2]]),
    max_size=4))
def test_from_timm_raises_only_lrkit_errors(lr, kw):
    # (noise is left out: a legitimate noise range of up to a million steps takes seconds to
    # draw, as timm draws it; test_noise_past_a_million_steps_is_refused covers the limit)
    check(lambda: lrkit.from_timm(lr, **kw))


def test_noise_past_a_million_steps_is_refused():
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.from_timm(0.1, num_epochs=10**9, noise=0.5)
    assert str(info.value) == ("from_timm: noise over 500,000,000 steps; lrkit draws timm's "
                               "noise up front, at most 1,000,000 steps of it")


KERAS_FIELDS = ["initial_learning_rate", "decay_steps", "decay_rate", "staircase", "boundaries",
                "values", "end_learning_rate", "power", "cycle", "alpha", "warmup_target",
                "warmup_steps", "first_decay_steps", "t_mul", "m_mul", "name", "decay", "lr",
                "learning_rate"]
KERAS_ODD = ODD + [10**400, 1e308, [0.1, 0.01], [10, 20], [10.5], [[1]], 7.3]


@pytest.mark.fuzz
@budget(300)
@given(st.sampled_from([*KERAS, "SGD", "Adam", None, 5, ""]),
       st.dictionaries(st.sampled_from(KERAS_FIELDS), st.sampled_from(KERAS_ODD), max_size=8),
       st.sampled_from(["config", "other"]))
def test_from_keras_dicts_raise_only_lrkit_errors(name, config, key):
    # A serialized schedule (or Keras 2 optimizer config) is plain data from a JSON file.
    check(lambda: lrkit.from_keras({"class_name": name, key: config}))


def test_num_cycles_none_is_refused():
    # found by test_from_hf_raises_only_lrkit_errors: num_cycles=None reached float()
    for name in ("cosine", "cosine_with_restarts", "cosine_with_min_lr"):
        with pytest.raises(lrkit.ScheduleError, match=r"from_hf: 'num_cycles' must be a "
                           r"number, got None \(transformers raises TypeError\)"):
            lrkit.from_hf(name, 0, 10, base_lr=0.1, num_cycles=None)
