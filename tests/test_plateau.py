"""plateau's state machine against PyTorch's ReduceLROnPlateau, on random metric sequences."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit

torch = pytest.importorskip("torch")


@settings(max_examples=200, deadline=None)
@given(metrics=st.lists(st.integers(0, 6).map(float), min_size=1, max_size=40),
       factor=st.sampled_from([0.1, 0.5, 0.9]), patience=st.integers(0, 4),
       mode=st.sampled_from(["min", "max"]), threshold=st.sampled_from([0.0, 1e-4, 0.2, 1.0]),
       threshold_mode=st.sampled_from(["rel", "abs"]), cooldown=st.integers(0, 3),
       min_value=st.sampled_from([0.0, 0.05]), eps=st.sampled_from([0.0, 1e-8, 0.05]))
def test_matches_torch_reduce_lr_on_plateau(metrics, factor, patience, mode, threshold,
                                            threshold_mode, cooldown, min_value, eps):
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=factor, patience=patience, threshold=threshold,
        threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_value, eps=eps)
    s = lrkit.plateau(lrkit.constant(1.0), factor=factor, patience=patience, mode=mode,
                      threshold=threshold, threshold_mode=threshold_mode, cooldown=cooldown,
                      min_value=min_value, eps=eps)
    state = s.init()
    for m in metrics:
        ref.step(m)
        state = s.observe(state, m)
        assert s.value(0, state) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
    assert json.loads(json.dumps(state)) == state      # plain data


def test_eps_stops_reductions_that_small():
    # PyTorch: a reduction by eps or less is skipped (1.0 -> 0.1 -> 0.01, then 0.009 <= 0.01)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.1, patience=0, eps=0.01)
    s = lrkit.from_torch(ref)
    state = s.init()
    for m in [1.0] * 6:
        ref.step(m)
        state = s.observe(state, m)
    assert s.value(0, state) == opt.param_groups[0]["lr"] == pytest.approx(0.01)
    assert state["reductions"] == 5                       # counted, but the last three skipped


def test_patience_two_reduces_on_the_third_bad_observation():
    # The anchors' test sequence: PyTorch reduces at the 3rd bad epoch with patience=2.
    s = lrkit.plateau(lrkit.constant(1.0), factor=0.5, patience=2, threshold=0.0)
    state, lrs = s.init(), []
    for m in [1, 1, 1, 1, 1, 0.5, 0.5, 0.5]:
        state = s.observe(state, m)
        lrs.append(s.value(0, state))
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5]


def test_reduction_multiplies_the_schedule_and_respects_the_floor():
    s = lrkit.plateau(lrkit.linear(1.0, 0.0, 10), factor=0.5, patience=0, min_value=0.2)
    state = s.observe(s.observe(s.init(), 1.0), 1.0)      # one bad observation: reduced
    assert state["reductions"] == 1
    assert s.value(0, state) == 0.5 and s.value(2, state) == 0.4 and s.value(9, state) == 0.2
    assert s(9) == pytest.approx(0.1)                      # the schedule itself is unchanged
