"""The peers' own test suites as data: every scheduler configuration in PyTorch's
``test/optim/test_lrscheduler.py``, Keras' ``learning_rate_schedule_test.py``, transformers'
``tests/optimization/test_optimization.py`` (and ``test_greedy_lr.py``) and timm's
``tests/test_scheduler.py``, each a row naming the file and the test it comes from. Each row runs
the installed library update by update beside the lrkit import (1e-12 relative for PyTorch,
transformers and timm, 1e-6 for Keras' float32); a row lrkit cannot import asserts its refusal
(or, for a resumed scheduler whose group disagrees with its initial value, the warning).

Configurations only: the peers' expected values are theirs; here the library itself is the
reference. Left out: tests of errors the peers raise themselves, of state_dict round trips,
of ``step(epoch)`` calls with arbitrary epochs, and of two schedulers driving one optimizer in
turn (not one scheduler to import).
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")
S = torch.optim.lr_scheduler
SWALR = torch.optim.swa_utils.SWALR


@dataclass(frozen=True)
class Refused:
    """lrkit refuses the row with a ScheduleError matching ``match``."""
    match: str


@dataclass(frozen=True)
class Warned:
    """from_torch warns (``match``): the import differs from what PyTorch applies."""
    match: str


def net_opt(adam=False):
    """The peers' optimizer: two groups at 0.05 and (a tensor) 0.5, as in their setUp."""
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))]},
              {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": torch.tensor(0.5)}]
    return torch.optim.Adam(groups, lr=0.05) if adam else torch.optim.SGD(groups, lr=0.05)


def one(lr=0.1, kind=torch.optim.SGD):
    return kind([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def at(lr):
    """The peers' net_opt with both groups set to ``lr`` (their ReduceLROnPlateau tests)."""
    o = net_opt()
    for g in o.param_groups:
        g["lr"] = lr
    return o


def stepped(o, sched, n):
    for _ in range(n):
        o.step()
        sched.step()


def handover(anneal_epochs, swa_lr, strategy="cos"):
    """test_swalr_*_after_multiplicative: SWALR takes over from MultiplicativeLR at epoch 5."""
    o = net_opt()
    first = S.MultiplicativeLR(o, lr_lambda=lambda epoch: 0.9)
    swa = SWALR(o, anneal_epochs=anneal_epochs, swa_lr=swa_lr, anneal_strategy=strategy)
    stepped(o, first, 5)
    return swa


def resumed(make):
    """test_lr_scheduler_checkpoint: one step, then the optimizer's state into a new optimizer
    and the scheduler built again with last_epoch=0."""
    model = torch.nn.Linear(3, 3)
    o = torch.optim.AdamW(model.parameters())
    sched = make(o)
    stepped(o, sched, 1)
    o2 = torch.optim.AdamW(model.parameters())
    o2.load_state_dict(o.state_dict())
    return make(o2, last_epoch=0)


def cos_continue():
    """test_cos_anneal_lr_continue: a step, then a new scheduler with last_epoch=0."""
    o = net_opt()
    stepped(o, S.CosineAnnealingLR(o, T_max=5, eta_min=0.1), 1)
    return S.CosineAnnealingLR(o, T_max=5, eta_min=0.1, last_epoch=0)


def old_resume():
    """test_old_pattern_warning_resuming: initial_lr 0.01 beside a group lr of 0.05."""
    o = net_opt()
    for g in o.param_groups:
        g["initial_lr"] = 0.01
    return S.StepLR(o, gamma=0.1, step_size=3, last_epoch=10)


def chained(*makes):
    o = net_opt()
    return S.ChainedScheduler([m(o) for m in makes])


def seq(makes, milestones, o=None):
    o = o or net_opt()
    return S.SequentialLR(o, [m(o) for m in makes], milestones=milestones)


def cyc(**kw):
    return lambda: S.CyclicLR(net_opt(), **kw)


def onecycle(adam=False, **kw):
    return lambda: S.OneCycleLR(net_opt(adam), **kw)


TL = "test_lrscheduler.py::"
COS_CHAIN = "ChainedScheduler with CosineAnnealingLR\\(eta_min=1e-10\\)"
NO_FN = "holds a Python function, which cannot be read"
# (id, scheduler maker, Refused/Warned/None, metrics for ReduceLROnPlateau)
TORCH = [
    (TL + "test_step_lr", lambda: S.StepLR(net_opt(), gamma=0.1, step_size=3), None),
    (TL + "test_get_last_lr_step_lr", lambda: S.StepLR(one(), 3, gamma=0.1), None),
    (TL + "test_step_lr_is_constant_for_constant_epoch", lambda: S.StepLR(net_opt(), 2), None),
    (TL + "test_exponential_lr_is_constant_for_constant_epoch",
     lambda: S.ExponentialLR(net_opt(), gamma=0.9), None),
    (TL + "test_constantlr_is_constant_for_constant_epoch", lambda: S.ConstantLR(net_opt()),
     None),
    (TL + "test_linear_linearlr_is_constant_for_constant_epoch",
     lambda: S.LinearLR(net_opt()), None),
    (TL + "test_polynomial_lr_is_constant_for_constant_epoch",
     lambda: S.PolynomialLR(net_opt(), power=0.9), None),
    (TL + "test_multi_step_lr", lambda: S.MultiStepLR(net_opt(), gamma=0.1,
                                                      milestones=[2, 5, 9]), None),
    (TL + "test_constantlr", lambda: S.ConstantLR(net_opt(), factor=1.0 / 2, total_iters=5),
     None),
    (TL + "test_get_last_lr_linearlr", lambda: S.LinearLR(
        net_opt(), start_factor=1.0 / 4, end_factor=3.0 / 5, total_iters=4), None),
    (TL + "test_linearlr", lambda: S.LinearLR(net_opt(), start_factor=1.0 / 2, total_iters=4),
     None),
    (TL + "test_exp_lr", lambda: S.ExponentialLR(net_opt(), gamma=0.9), None),
    (TL + "test_poly_lr", lambda: S.PolynomialLR(net_opt(), power=0.9, total_iters=5), None),
    (TL + "test_cos_anneal_lr", lambda: S.CosineAnnealingLR(net_opt(), T_max=10, eta_min=1e-10),
     None),
    (TL + "test_closed_form_linearlr", lambda: S.LinearLR(
        net_opt(), start_factor=1.0 / 3, end_factor=0.7, total_iters=4), None),
    (TL + "test_closed_form_constantlr", lambda: S.ConstantLR(net_opt(), factor=1.0 / 3,
                                                              total_iters=4), None),
    (TL + "test_closed_form_cos_anneal_lr",
     lambda: S.CosineAnnealingLR(net_opt(), T_max=5, eta_min=1e-10), None),
    (TL + "test_cos_anneal_lr_continue", cos_continue, None),
    (TL + "test_old_pattern_warning_resuming", old_resume,
     Warned("StepLR param group 0 holds lr=0.05 at step 11, where the schedule from its "
            "initial value gives 1e-05")),
    (TL + "test_sequentiallr1", lambda: seq([lambda o: S.ExponentialLR(o, gamma=0.8),
                                             lambda o: S.StepLR(o, gamma=0.1, step_size=4)],
                                            [3]), None),
    (TL + "test_sequentiallr2", lambda: seq([lambda o: S.ConstantLR(o, factor=0.1,
                                                                    total_iters=3),
                                             lambda o: S.ExponentialLR(o, gamma=0.9)], [3]),
     None),
    (TL + "test_sequentiallr3", lambda: seq([lambda o: S.ConstantLR(o, factor=0.1,
                                                                    total_iters=3),
                                             lambda o: S.ExponentialLR(o, gamma=0.8),
                                             lambda o: S.StepLR(o, gamma=0.1, step_size=2)],
                                            [3, 6]), None),
    (TL + "test_sequentiallr4", lambda: seq([lambda o: S.ConstantLR(o, factor=1),
                                             lambda o: S.ConstantLR(o, factor=0.1)], [10],
                                            one(torch.tensor(0.1))), None),
    (TL + "test_sequentiallr5", lambda: seq([
        lambda o: S.ChainedScheduler([S.LinearLR(o, start_factor=0.1, total_iters=5),
                                      S.ConstantLR(o, factor=0.1, total_iters=5)]),
        lambda o: S.ConstantLR(o, factor=0.5, total_iters=5)], [5]), None),
    (TL + "test_sequentiallr_no_warnings", lambda: seq([
        lambda o: S.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=5),
        lambda o: S.ExponentialLR(o, gamma=0.9)], [5]), None),
    (TL + "test_sequentiallr_does_not_alias_lr_and_initial_lr", lambda: seq([
        lambda o: S.LinearLR(o, 0.1, 0.8, total_iters=4),
        lambda o: S.LinearLR(o, 0.8, 0.1, total_iters=4)], [4], one(torch.tensor(2.0))), None),
    (TL + "test_chained_lr1", lambda: chained(lambda o: S.StepLR(o, gamma=0.1, step_size=3)),
     None),
    (TL + "test_chained_lr2", lambda: chained(lambda o: S.LinearLR(o, start_factor=0.4,
                                                                   total_iters=3)), None),
    (TL + "test_chained_lr3", lambda: chained(
        lambda o: S.LinearLR(o, start_factor=0.4, total_iters=3),
        lambda o: S.MultiStepLR(o, milestones=[4, 8, 10], gamma=0.1)), None),
    (TL + "test_chained_lr4", lambda: chained(
        lambda o: S.ExponentialLR(o, gamma=0.9),
        lambda o: S.ConstantLR(o, factor=0.2, total_iters=4),
        lambda o: S.StepLR(o, gamma=0.1, step_size=3)), None),
    (TL + "test_chained_lr5", lambda: chained(
        lambda o: S.PolynomialLR(o, power=0.9, total_iters=5),
        lambda o: S.ConstantLR(o, factor=0.1)), None),
    # the test_compound_* tests step a list of schedulers: ChainedScheduler's semantics
    (TL + "test_compound_step_and_multistep_lr", lambda: chained(
        lambda o: S.StepLR(o, gamma=0.1, step_size=3),
        lambda o: S.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])), None),
    (TL + "test_compound_step_and_exp_lr", lambda: chained(
        lambda o: S.StepLR(o, gamma=0.1, step_size=3), lambda o: S.ExponentialLR(o, gamma=0.9)),
     None),
    (TL + "test_compound_exp_and_multistep_lr", lambda: chained(
        lambda o: S.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
        lambda o: S.ExponentialLR(o, gamma=0.9)), None),
    (TL + "test_compound_exp_and_linearlr", lambda: chained(
        lambda o: S.LinearLR(o, start_factor=0.4, end_factor=0.9, total_iters=4),
        lambda o: S.ExponentialLR(o, gamma=0.9)), None),
    (TL + "test_compound_step_and_constantlr", lambda: chained(
        lambda o: S.StepLR(o, gamma=0.1, step_size=3),
        lambda o: S.ConstantLR(o, factor=0.4, total_iters=4)), None),
    (TL + "test_compound_linearlr_and_multistep_lr", lambda: chained(
        lambda o: S.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9]),
        lambda o: S.LinearLR(o, start_factor=0.4, total_iters=4)), None),
    (TL + "test_compound_cosanneal_and_step_lr", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        lambda o: S.StepLR(o, gamma=0.1, step_size=3)), Refused(COS_CHAIN)),
    (TL + "test_compound_cosanneal_and_multistep_lr", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        lambda o: S.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])), Refused(COS_CHAIN)),
    (TL + "test_compound_cosanneal_and_linearlr", lambda: chained(
        lambda o: S.LinearLR(o, start_factor=0.4, total_iters=4),
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-10)), Refused(COS_CHAIN)),
    (TL + "test_compound_cosanneal_and_exp_lr", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-10),
        lambda o: S.ExponentialLR(o, gamma=0.1)), Refused(COS_CHAIN)),
    # the same with eta_min=0, where PyTorch's recursive cosine is a factor
    (TL + "test_compound_cosanneal_and_multistep_lr[eta_min=0]", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10),
        lambda o: S.MultiStepLR(o, gamma=0.1, milestones=[2, 5, 9])), None),
    (TL + "test_compound_cosanneal_and_linearlr[eta_min=0]", lambda: chained(
        lambda o: S.LinearLR(o, start_factor=0.4, total_iters=4),
        lambda o: S.CosineAnnealingLR(o, T_max=10)), None),
    (TL + "test_compound_cosanneal_and_step_lr[eta_min=0]", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10), lambda o: S.StepLR(o, gamma=0.1,
                                                                        step_size=3)),
     Refused("CosineAnnealingLR\\(T_max=10\\) and StepLR, which still change after step 10")),
    (TL + "test_compound_cosanneal_and_exp_lr[eta_min=0]", lambda: chained(
        lambda o: S.CosineAnnealingLR(o, T_max=10), lambda o: S.ExponentialLR(o, gamma=0.1)),
     Refused("and ExponentialLR, which still change after step 10")),
    (TL + "test_cycle_lr_triangular_mode_one_lr", cyc(
        base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=True, base_momentum=1,
        max_momentum=5, mode="triangular"), None),
    (TL + "test_cycle_lr_triangular_mode_one_lr_no_momentum", cyc(
        base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=False, mode="triangular"), None),
    (TL + "test_cycle_lr_triangular2_mode_one_lr", cyc(
        base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=True, base_momentum=1,
        max_momentum=5, mode="triangular2"), None),
    (TL + "test_cycle_lr_exp_range_mode_one_lr", cyc(
        base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=True, base_momentum=1,
        max_momentum=5, mode="exp_range", gamma=0.9), None),
    (TL + "test_cycle_lr_triangular_mode", cyc(
        base_lr=[1, 2], max_lr=[5, 6], step_size_up=4, cycle_momentum=True,
        base_momentum=[1, 2], max_momentum=[5, 6], mode="triangular"), None),
    (TL + "test_cycle_lr_triangular2_mode", cyc(
        base_lr=[1, 3], max_lr=[5, 7], step_size_up=4, cycle_momentum=True,
        base_momentum=[1, 3], max_momentum=[5, 7], mode="triangular2"), None),
    (TL + "test_cycle_lr_exp_range_mode", cyc(
        base_lr=[1, 5], max_lr=[5, 12], step_size_up=4, cycle_momentum=True,
        base_momentum=[1, 5], max_momentum=[5, 12], mode="exp_range", gamma=0.9), None),
    (TL + "test_cycle_lr_triangular_mode_step_size_up_down", cyc(
        base_lr=1, max_lr=5, step_size_up=4, step_size_down=6, cycle_momentum=True,
        base_momentum=1, max_momentum=5, mode="triangular"), None),
    (TL + "test_cycle_lr_triangular2_mode_step_size_up_down", cyc(
        base_lr=[1, 3], max_lr=[5, 7], step_size_up=2, step_size_down=6, cycle_momentum=True,
        base_momentum=[1, 3], max_momentum=[5, 7], mode="triangular2"), None),
    (TL + "test_cycle_lr_exp_range_mode_step_size_up_down", cyc(
        base_lr=1, max_lr=5, step_size_up=2, step_size_down=6, cycle_momentum=True,
        base_momentum=1, max_momentum=5, mode="exp_range", gamma=0.9), None),
    (TL + "test_cycle_lr_with_momentumless_optimizer", lambda: S.CyclicLR(
        net_opt(adam=True), base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=False,
        mode="triangular"), None),
    (TL + "test_cycle_lr_cycle_momentum_with_beta1_optimizer", lambda: S.CyclicLR(
        torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))]), base_lr=1, max_lr=5,
        cycle_momentum=True), None),
    (TL + "test_cycle_lr_state_dict_picklable", lambda: S.CyclicLR(
        one(kind=torch.optim.Adam), base_lr=1, max_lr=5, cycle_momentum=False), None),
    (TL + "test_cycle_lr_state_dict_picklable[scale_fn]", lambda: S.CyclicLR(
        one(kind=torch.optim.Adam), base_lr=1, max_lr=5, cycle_momentum=False,
        scale_fn=lambda _: 0.5), Refused("CyclicLR with a custom scale_fn holds a Python")),
    (TL + "test_cycle_lr_scale_fn_restored_from_state_dict", lambda: S.CyclicLR(
        one(kind=torch.optim.Adam), base_lr=1, max_lr=5, cycle_momentum=False,
        mode="triangular2"), None),
    (TL + "test_onecycle_lr_linear_annealing", onecycle(
        max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10,
        anneal_strategy="linear"), None),
    (TL + "test_onecycle_lr_linear_annealing_three_phases", onecycle(
        max_lr=25, div_factor=25, base_momentum=1, max_momentum=22, total_steps=10,
        anneal_strategy="linear", pct_start=0.4, final_div_factor=4, three_phase=True), None),
    (TL + "test_onecycle_lr_cosine_annealing", onecycle(
        max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22, total_steps=10),
     None),
    (TL + "test_cycle_lr_with_adam", onecycle(
        adam=True, max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22,
        total_steps=10, anneal_strategy="linear"), None),
    (TL + "test_lambda_lr", lambda: S.LambdaLR(
        net_opt(), lr_lambda=[lambda x1: 0.9**x1, lambda x2: 0.8**x2]),
     Refused(f"LambdaLR {NO_FN}")),
    (TL + "test_multiplicative_lr", lambda: S.MultiplicativeLR(
        net_opt(), lr_lambda=[lambda x1: 0.9, lambda x2: 0.8]),
     Refused(f"MultiplicativeLR {NO_FN}")),
    *[(TL + f"test_CosineAnnealingWarmRestarts_lr1[T_mult={m}]",
       (lambda m=m: S.CosineAnnealingWarmRestarts(net_opt(), T_0=10, T_mult=m, eta_min=1e-10)),
       None) for m in (1, 2, 4)],
    (TL + "test_CosineAnnealingWarmRestarts_lr3[T_mult=3]", lambda: S.CosineAnnealingWarmRestarts(
        net_opt(), T_0=10, T_mult=3, eta_min=1e-10), None),
    (TL + "test_swalr_no_anneal", lambda: SWALR(net_opt(), anneal_epochs=1, swa_lr=0.01), None),
    (TL + "test_swalr_cosine_anneal_after_multiplicative", lambda: handover(5, 0.01), None),
    (TL + "test_swalr_linear_anneal_after_multiplicative",
     lambda: handover(4, [0.01, 0.02], "linear"), None),
    (TL + "test_swa_lr_state_dict", lambda: SWALR(net_opt(), anneal_epochs=3, swa_lr=0.5), None),
    (TL + "test_swa_lr_state_dict[2]", lambda: SWALR(
        net_opt(), anneal_epochs=10, anneal_strategy="linear", swa_lr=5.0), None),
    (TL + "test_step_lr_state_dict", lambda: S.StepLR(net_opt(), gamma=0.01 / 2, step_size=1),
     None),
    (TL + "test_multi_step_lr_state_dict", lambda: S.MultiStepLR(net_opt(), gamma=0.01,
                                                                 milestones=[1, 4, 6]), None),
    (TL + "test_exp_step_lr_state_dict", lambda: S.ExponentialLR(net_opt(), gamma=0.1), None),
    (TL + "test_exp_step_lr_state_dict[2]", lambda: S.ExponentialLR(net_opt(), gamma=0.01), None),
    (TL + "test_cosine_lr_state_dict", lambda: S.CosineAnnealingLR(net_opt(), T_max=5,
                                                                   eta_min=5e-11), None),
    (TL + "test_CosineAnnealingWarmRestarts_lr_state_dict", lambda: S.CosineAnnealingWarmRestarts(
        net_opt(), T_0=10, T_mult=2), None),
    (TL + "test_CosineAnnealingWarmRestarts_lr_state_dict[2]",
     lambda: S.CosineAnnealingWarmRestarts(net_opt(), T_0=100), None),
    (TL + "test_cosine_then_cyclic[cosine]", lambda: S.CosineAnnealingLR(
        one(0.5), T_max=20, eta_min=0.1), None),
    (TL + "test_cosine_then_cyclic[cyclic]", lambda: S.CyclicLR(
        one(0.5), base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3), None),
    (TL + "test_lr_scheduler_state_dict_load[ChainedScheduler]", lambda: chained(
        lambda o: S.ConstantLR(o), lambda o: S.ConstantLR(o)), None),
    (TL + "test_lr_scheduler_state_dict_load[SequentialLR]", lambda: seq(
        [lambda o: S.ConstantLR(o), lambda o: S.ConstantLR(o)], [2]), None),
    (TL + "test_lr_scheduler_state_dict_load[OneCycleLR]", lambda: S.OneCycleLR(
        net_opt(), max_lr=0.01, total_steps=10, anneal_strategy="linear"), None),
    (TL + "test_lr_scheduler_state_dict_load[SWALR]", lambda: SWALR(net_opt(), swa_lr=0.01),
     None),
    (TL + "test_constant_initial_lr[CosineAnnealingLR]", lambda: S.CosineAnnealingLR(
        one(torch.as_tensor(0.1)), T_max=10), None),
    (TL + "test_constant_initial_lr[MultiStepLR]", lambda: S.MultiStepLR(
        one(torch.as_tensor(0.1)), milestones=[30, 80]), None),
    (TL + "test_constant_initial_params_cyclelr", lambda: S.CyclicLR(
        one(torch.as_tensor(0.1)), base_lr=torch.as_tensor(0.1), max_lr=torch.as_tensor(0.2),
        base_momentum=torch.as_tensor(0.8), max_momentum=torch.as_tensor(0.9)), None),
    (TL + "test_constant_initial_params_onecyclelr", lambda: S.OneCycleLR(
        one(torch.as_tensor(0.1)), max_lr=torch.as_tensor(0.1), total_steps=10,
        base_momentum=torch.as_tensor(0.85), max_momentum=torch.as_tensor(0.95)), None),
    (TL + "test_constant_initial_params_swalr", lambda: SWALR(
        one(torch.as_tensor(0.1)), swa_lr=torch.as_tensor(0.05)), None),
    *[(TL + f"test_lr_scheduler_checkpoint[{name}]", (lambda m=m: resumed(m)), None)
      for name, m in [
          ("ExponentialLR", lambda o, **k: S.ExponentialLR(o, gamma=0.999, **k)),
          ("StepLR", lambda o, **k: S.StepLR(o, step_size=30, **k)),
          ("MultiStepLR", lambda o, **k: S.MultiStepLR(o, milestones=[30, 80], **k)),
          ("ConstantLR", lambda o, **k: S.ConstantLR(o, **k)),
          ("LinearLR", lambda o, **k: S.LinearLR(o, **k)),
          ("PolynomialLR", lambda o, **k: S.PolynomialLR(o, **k)),
          ("CosineAnnealingLR", lambda o, **k: S.CosineAnnealingLR(o, T_max=10, **k)),
          ("CosineAnnealingWarmRestarts",
           lambda o, **k: S.CosineAnnealingWarmRestarts(o, T_0=20, **k)),
          ("CyclicLR", lambda o, **k: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, **k)),
          ("OneCycleLR", lambda o, **k: S.OneCycleLR(o, max_lr=0.01, total_steps=10, **k)),
          ("SWALR", lambda o, **k: SWALR(o, swa_lr=0.01, **k))]],
    (TL + "test_lr_scheduler_checkpoint[LambdaLR]", lambda: S.LambdaLR(
        one(), lr_lambda=lambda epoch: epoch // 30), Refused(f"LambdaLR {NO_FN}")),
]

# ReduceLROnPlateau: (id, maker, metrics), the peers' metric sequences
PLATEAU = [
    (TL + "test_reduce_lr_on_plateau1", lambda: S.ReduceLROnPlateau(
        at(0.5), threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
     [10 - i * 0.0167 for i in range(20)]),
    (TL + "test_reduce_lr_on_plateau2", lambda: S.ReduceLROnPlateau(
        at(0.5), patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
     [10 - i * 0.0165 for i in range(22)]),
    (TL + "test_reduce_lr_on_plateau3", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="max", patience=5, cooldown=5, threshold_mode="abs"),
     [-0.8] * 2 + [-0.234] * 20),
    (TL + "test_reduce_lr_on_plateau4", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="max", patience=3, threshold_mode="rel", threshold=0.1),
     [1.5 * (1.025**i) for i in range(20)]),
    (TL + "test_reduce_lr_on_plateau5", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="max", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1.5 * (1.005**i) for i in range(20)]),
    (TL + "test_reduce_lr_on_plateau6", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="min", threshold_mode="rel", threshold=0.1),
     [1.5 * (0.85**i) for i in range(20)]),
    (TL + "test_reduce_lr_on_plateau7", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5),
     [1] * 7 + [0.6] + [0.5] * 12),
    (TL + "test_reduce_lr_on_plateau8", lambda: S.ReduceLROnPlateau(
        at(0.5), mode="max", threshold_mode="rel", min_lr=[0.4, 0.3], threshold=0.1,
        patience=5, cooldown=5), [1.5 * (1.005**i) for i in range(20)]),
    (TL + "test_reduce_lr_on_plateau_state_dict", lambda: S.ReduceLROnPlateau(
        net_opt(), mode="min", factor=0.1, patience=2),
     [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 3.0, 2.0, 1.0]),
    (TL + "test_reduce_lr_on_plateau_state_dict[2]", lambda: S.ReduceLROnPlateau(
        net_opt(), mode="max", factor=0.5, patience=10), [1.0, 2.0, 3.0, 2.0] * 8),
    (TL + "test_lr_scheduler_checkpoint_on_plateau", lambda: S.ReduceLROnPlateau(
        torch.optim.AdamW(torch.nn.Linear(3, 3).parameters()), mode="min"), [1.0] * 30),
]


def value(group, h, adam):
    v = group["betas"][0] if h == "momentum" and adam else group[h]
    return float(v)


def close(got, want, rtol=1e-12):
    got = np.maximum(got, 0)  # lrkit floors OneCycleLR's linear extrapolation past the end
    scale = max(float(np.abs(got).max()), 1e-300)
    np.testing.assert_allclose(want, got, rtol=rtol, atol=rtol * scale)


def tolerance(group):
    """PyTorch steps a float32 tensor lr (the peers' second group) in float32."""
    lr = group["lr"]
    return 1e-6 if torch.is_tensor(lr) and lr.dtype == torch.float32 else 1e-12


@pytest.mark.parametrize("case,make,expect", TORCH, ids=[r[0] for r in TORCH])
def test_torch(case, make, expect):
    sched = make()
    o = sched.optimizer
    if isinstance(expect, Refused):
        with pytest.raises(lrkit.ScheduleError, match=expect.match):
            lrkit.from_torch(sched)
        return
    cycles = getattr(sched, "cycle_momentum", False)
    hs = ["lr", "momentum"] if cycles else ["lr"]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        imports = {(g, h): lrkit.from_torch(sched, g, h)
                   for g in range(len(o.param_groups)) for h in hs}
    said = [str(w.message) for w in seen]
    assert any("also cycles" in m for m in said) == cycles, said
    if isinstance(expect, Warned):
        assert any(expect.match in m for m in said), said
        return
    assert not [m for m in said if "holds" in m], said
    adam = getattr(sched, "use_beta1", False)
    k0 = sched.last_epoch if hasattr(sched, "last_epoch") else sched._schedulers[0].last_epoch
    total = getattr(sched, "total_steps", None)
    n = total + 1 - k0 if total else 45
    got = {key: [] for key in imports}
    for j in range(n):
        if j:
            o.step()
            sched.step()
        for g, h in imports:
            got[g, h].append(value(o.param_groups[g], h, adam))
    for (g, h), s in imports.items():
        close(np.array(got[g, h]), s.values(np.arange(k0, k0 + n)), tolerance(o.param_groups[g]))


@pytest.mark.parametrize("case,make,metrics", PLATEAU, ids=[r[0] for r in PLATEAU])
def test_torch_plateau(case, make, metrics):
    sched = make()
    groups = sched.optimizer.param_groups
    imports = [lrkit.from_torch(sched, g) for g in range(len(groups))]
    states = [s.init() for s in imports]
    for m in metrics:
        sched.optimizer.step()
        sched.step(m)
        states = [s.observe(st, m) for s, st in zip(imports, states)]
        for g, (s, st) in enumerate(zip(imports, states)):
            assert s.value(0, st) == pytest.approx(float(groups[g]["lr"]),
                                                   rel=tolerance(groups[g]))


# -- transformers: tests/optimization/test_optimization.py::ScheduleInitTest::test_schedulers,
#    read from the LambdaLR the get_* functions return (from_torch) and by name (from_hf) --

TO = "test_optimization.py::test_schedulers"
HF = [  # (id, get_* function name, its kwargs, get_scheduler name for from_hf)
    (f"{TO}[get_constant_schedule]", "get_constant_schedule", {}, "constant"),
    (f"{TO}[get_constant_schedule_with_warmup]", "get_constant_schedule_with_warmup",
     {"num_warmup_steps": 4}, "constant_with_warmup"),
    (f"{TO}[get_linear_schedule_with_warmup]", "get_linear_schedule_with_warmup",
     {"num_warmup_steps": 2, "num_training_steps": 10}, "linear"),
    (f"{TO}[get_cosine_schedule_with_warmup]", "get_cosine_schedule_with_warmup",
     {"num_warmup_steps": 2, "num_training_steps": 10}, "cosine"),
    (f"{TO}[get_cosine_with_hard_restarts_schedule_with_warmup]",
     "get_cosine_with_hard_restarts_schedule_with_warmup",
     {"num_warmup_steps": 2, "num_training_steps": 10, "num_cycles": 2},
     "cosine_with_restarts"),
    (f"{TO}[get_polynomial_decay_schedule_with_warmup]",
     "get_polynomial_decay_schedule_with_warmup",
     {"num_warmup_steps": 2, "num_training_steps": 10, "power": 2.0, "lr_end": 1e-7},
     "polynomial"),
    (f"{TO}[get_inverse_sqrt_schedule]", "get_inverse_sqrt_schedule", {"num_warmup_steps": 2},
     "inverse_sqrt"),
]


@pytest.mark.parametrize("case,fn,kw,name", HF, ids=[r[0] for r in HF])
def test_transformers(case, fn, kw, name):
    transformers = pytest.importorskip("transformers")
    o = torch.optim.AdamW(torch.nn.Linear(50, 50).parameters(), lr=10.0)
    sched = getattr(transformers, fn)(o, **kw)
    by_torch = lrkit.from_torch(sched)
    rest = {k: v for k, v in kw.items() if k not in ("num_warmup_steps", "num_training_steps")}
    by_name = lrkit.from_hf(name, kw.get("num_warmup_steps"), kw.get("num_training_steps"),
                            base_lr=10.0, **rest)
    got = []
    for j in range(30):
        if j:
            o.step()
            sched.step()
        got.append(o.param_groups[0]["lr"])
    close(np.array(got), by_torch.values(np.arange(30)))
    close(np.array(got), by_name.values(np.arange(30)))


def test_transformers_greedy_is_refused():
    # test_greedy_lr.py: GreedyLR follows the loss up and down
    with pytest.raises(lrkit.ScheduleError, match="'greedy' \\(GreedyLR\\) raises the LR as "
                       "well as lowering it, from the loss"):
        lrkit.from_hf("greedy", base_lr=0.1)


# -- Keras: keras/src/optimizers/schedules/learning_rate_schedule_test.py --

KT = "learning_rate_schedule_test.py::"
KERAS = [  # (id, class, args, kwargs)
    (KT + "test_fit_lr_correctness", "ExponentialDecay", (0.05, 1, 0.9), {}),
    (KT + "ExponentialDecayTest::test_config", "ExponentialDecay", (0.05, 10, 0.96),
     {"staircase": True}),
    (KT + "test_continuous", "ExponentialDecay", (0.05, 10, 0.96), {}),
    (KT + "test_staircase", "ExponentialDecay", (0.1, 3, 0.96), {"staircase": True}),
    (KT + "PiecewiseConstantDecayTest::test_config", "PiecewiseConstantDecay",
     ([10, 20], [1, 2, 3]), {}),
    (KT + "test_piecewise_values", "PiecewiseConstantDecay",
     ([100, 110, 120], [1.0, 0.1, 0.01, 0.001]), {}),
    (KT + "test_boundary_values", "PiecewiseConstantDecay", ([1, 2, 3], [0.4, 0.5, 0.6, 0.7]),
     {}),
    (KT + "LinearDecayTest::test_config", "PolynomialDecay", (0.1, 100, 0.005, 1.0, False), {}),
    (KT + "LinearDecayTest::test_halfway", "PolynomialDecay", (0.05, 10, 0.0), {}),
    (KT + "LinearDecayTest::test_end", "PolynomialDecay", (0.05, 10, 0.001), {}),
    (KT + "LinearDecayTest::test_beyond_end_with_cycle", "PolynomialDecay", (0.05, 10, 0.001),
     {"cycle": True}),
    (KT + "SqrtDecayTest::test_halfway", "PolynomialDecay", (0.05, 10, 0.0), {"power": 0.5}),
    (KT + "SqrtDecayTest::test_end", "PolynomialDecay", (0.05, 10, 0.001), {"power": 0.5}),
    (KT + "SqrtDecayTest::test_beyond_end_with_cycle", "PolynomialDecay", (0.05, 10, 0.001),
     {"power": 0.5, "cycle": True}),
    (KT + "SqrtDecayTest::test_begin_with_cycle", "PolynomialDecay", (0.001, 10),
     {"cycle": True}),
    (KT + "InverseTimeDecayTest::test_config", "InverseTimeDecay", (0.05, 10, 0.96),
     {"staircase": True}),
    (KT + "InverseTimeDecayTest::test_decay", "InverseTimeDecay", (0.1, 10, 0.96), {}),
    (KT + "CosineDecayTest::test_config", "CosineDecay", (0.05, 10),
     {"alpha": 0.1, "warmup_target": 0.2, "warmup_steps": 2}),
    (KT + "CosineDecayTest::test_decay", "CosineDecay", (1.0, 1000), {}),
    (KT + "CosineDecayTest::test_warmup", "CosineDecay", (0.0, 10),
     {"warmup_target": 10.0, "warmup_steps": 1500}),
    (KT + "CosineDecayTest::test_alpha", "CosineDecay", (1.0, 1000, 0.1), {}),
    (KT + "CosineDecayTest::test_float64", "CosineDecay", (np.float64(1.0), 1000), {}),
    (KT + "CosineDecayTest::test_warmup_decay", "CosineDecay", (0.0, 1000),
     {"warmup_target": 10.0, "warmup_steps": 2000}),
    (KT + "CosineDecayRestartsTest::test_config", "CosineDecayRestarts", (0.05, 10),
     {"alpha": 0.1, "t_mul": 3.0, "m_mul": 4.0},
     Refused("CosineDecayRestarts.m_mul: must be in \\[0, 1\\], got 4.0: with m_mul > 1 "
             "each restart peaks higher")),
    (KT + "CosineDecayRestartsTest::test_decay", "CosineDecayRestarts", (1.0, 1000), {}),
    (KT + "CosineDecayRestartsTest::test_alpha", "CosineDecayRestarts", (1.0, 1000),
     {"alpha": 0.1}),
    (KT + "CosineDecayRestartsTest::test_mmul", "CosineDecayRestarts", (1.0, 1000),
     {"m_mul": 0.9}),
    (KT + "CosineDecayRestartsTest::test_tmul", "CosineDecayRestarts", (1.0, 1000),
     {"t_mul": 1.0}),
]


KERAS = [(*r, None) if len(r) == 4 else r for r in KERAS]


@pytest.mark.parametrize("case,cls,args,kw,expect", KERAS, ids=[r[0] for r in KERAS])
def test_keras(case, cls, args, kw, expect):
    keras = pytest.importorskip("keras")
    ref = getattr(keras.optimizers.schedules, cls)(*args, **kw)
    if expect is not None:
        with pytest.raises(lrkit.ScheduleError, match=expect.match):
            lrkit.from_keras(ref)
        return
    s = lrkit.from_keras(ref)
    steps = np.arange(0, 3500, 7)  # past every decay, restart and warmup above
    try:
        want = np.asarray(ref(steps), dtype=np.float64)
    except (TypeError, ValueError):  # CosineDecay's warmup branches with ops.cond: vmap it
        import jax

        want = np.asarray(jax.vmap(ref)(steps), dtype=np.float64)
    scale = max(float(np.abs(want).max()), 1e-30)
    np.testing.assert_allclose(s.values(steps), want, rtol=1e-6, atol=1e-6 * scale)


# -- timm: tests/test_scheduler.py, the instances themselves (from_timm(scheduler)) --

TT = "test_scheduler.py::"
BASIC = [("CosineLRScheduler", {"t_initial": 100}), ("StepLRScheduler", {"decay_t": 10}),
         ("MultiStepLRScheduler", {"decay_t": [10, 20, 30]}),
         ("PolyLRScheduler", {"t_initial": 100}), ("TanhLRScheduler", {"t_initial": 100})]
HALF = [(c, {**kw, "decay_rate": 0.5} if "decay_t" in kw else kw) for c, kw in BASIC]
WARM = {"warmup_t": 5, "warmup_lr_init": 0.001}
NOISE = {"noise_range_t": (10, 50), "noise_pct": 0.5, "noise_seed": 42}
TIMM = [  # (id, class, kwargs, lr, groups)
    *[(f"{TT}test_scheduler_init[{c}]", c, kw, 0.1, 1) for c, kw in BASIC],
    (f"{TT}test_scheduler_init[PlateauLRScheduler]", "PlateauLRScheduler", {}, 0.1, 1),
    (f"{TT}test_plateau_scheduler_step", "PlateauLRScheduler",
     {"patience_t": 2, "decay_rate": 0.5}, 0.1, 1),
    *[(f"{TT}test_warmup_lr_increases[{c}]", c, {**kw, **WARM}, 0.1, 1) for c, kw in BASIC],
    *[(f"{TT}test_warmup_prefix_reaches_target_lr[{c}]", c,
       {**kw, **WARM, "warmup_prefix": True}, 0.1, 1) for c, kw in HALF],
    (f"{TT}test_cosine_decay", "CosineLRScheduler", {"t_initial": 100, "lr_min": 0.001}, 0.1, 1),
    (f"{TT}test_cosine_cycles", "CosineLRScheduler",
     {"t_initial": 50, "lr_min": 0.001, "cycle_limit": 2}, 0.1, 1),
    (f"{TT}test_get_cycle_length", "CosineLRScheduler",
     {"t_initial": 100, "warmup_t": 10, "warmup_prefix": True}, 0.1, 1),
    (f"{TT}test_step_decay", "StepLRScheduler", {"decay_t": 10, "decay_rate": 0.5}, 0.1, 1),
    (f"{TT}test_multistep_decay", "MultiStepLRScheduler",
     {"decay_t": [10, 20, 30], "decay_rate": 0.5}, 0.1, 1),
    (f"{TT}test_poly_decay", "PolyLRScheduler",
     {"t_initial": 100, "lr_min": 0.001, "power": 1.0}, 0.1, 1),
    (f"{TT}test_tanh_decay", "TanhLRScheduler", {"t_initial": 100, "lr_min": 0.001}, 0.1, 1),
    *[(f"{TT}test_step_update_with_t_in_epochs_false[{c}]", c, {**kw, "t_in_epochs": False},
       0.1, 1) for c, kw in HALF],
    *[(f"{TT}test_multiple_param_groups[{c}]", c, kw, 0.1, 3) for c, kw in BASIC],
    *[(f"{TT}test_noise_range[{c}]", c, {**kw, **NOISE}, 0.1, 1)
      for c, kw in BASIC if c != "MultiStepLRScheduler"],
    (f"{TT}test_cosine_k_decay", "CosineLRScheduler", {"t_initial": 100, "k_decay": 2.0}, 0.1,
     1),
    (f"{TT}test_poly_k_decay", "PolyLRScheduler", {"t_initial": 100, "k_decay": 2.0}, 0.1, 1),
]


@pytest.mark.parametrize("case,cls,kw,lr,groups", TIMM, ids=[r[0] for r in TIMM])
@pytest.mark.filterwarnings("ignore:PlateauLRScheduler is deprecated")
def test_timm(case, cls, kw, lr, groups):
    from timm_harness import timm_scheduler

    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for _ in range(groups)]
    o = torch.optim.SGD(params, lr=lr)
    sched = getattr(timm_scheduler, cls)(o, **kw)
    imports = [lrkit.from_timm(sched, group=g) for g in range(groups)]
    by_update = not kw.get("t_in_epochs", True)
    plateau = cls == "PlateauLRScheduler"
    states = [s.init() if plateau else None for s in imports]
    got, want = [], []
    for t in range(230):  # train.py: the value set at construction, then step(t) from t = 1
        if t:
            if by_update:
                sched.step_update(t)
            else:
                sched.step(t, 1.0)
            if plateau and t > sched.warmup_t:
                states = [s.observe(st, 1.0) for s, st in zip(imports, states)]
        got.append([float(g["lr"]) for g in o.param_groups])
        want.append([s.value(t, st) if plateau else s(t) for s, st in zip(imports, states)])
    close(np.array(got), np.array(want))
