"""Clocks beyond updates (issue 18, part 3): a schedule written in samples or tokens follows
what the run consumed (lrkit.torch.LRScheduler(clock="samples"|"tokens"), integers, resumed
exactly), and lrkit.batch_size ramps the batch as Megatron's own calculator does."""

import random

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")
from lrkit.torch import LRScheduler  # noqa: E402


def opt_of():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)


def run(sched, opt, ramp, consumed, updates, clock="samples"):
    """Each update: the batch the ramp gives at the samples consumed so far; the LR it used."""
    applied = []
    for _ in range(updates):
        bs = int(ramp(consumed))
        applied.append((consumed, opt.param_groups[0]["lr"]))
        opt.step()
        sched.step(**{clock: bs})
        consumed += bs
    return applied, consumed


@pytest.mark.parametrize("clock", ["samples", "tokens"])
def test_a_schedule_in_samples_follows_a_batch_size_ramp_and_resumes_exactly(clock):
    s = lrkit.warmup(lrkit.cosine(0.1, 0.0, f"9000 {clock}"), f"600 {clock}")
    ramp = lrkit.batch_size(8, 64, 3000, multiple_of=8)
    opt = opt_of()
    sched = LRScheduler(opt, s, clock=clock)
    first, consumed = run(sched, opt, ramp, 0, 70, clock)
    assert sched.consumed == consumed and sched.count == 70
    state = sched.state_dict()
    opt2 = opt_of()
    resumed = LRScheduler(opt2, s, clock=clock)
    resumed.load_state_dict(state)
    second, _ = run(resumed, opt2, ramp, consumed, 150, clock)
    bound = s.bind(**{f"{clock}_per_step": 1})
    assert [v for _, v in first + second] == [bound(c) for c, _ in first + second]
    assert resumed.get_last_lr() == [bound(second[-1][0])]
    assert bound.duration == 9600 and first[1][0] == 8  # the first batches are small


def test_the_clock_asks_for_what_was_consumed():
    sched = LRScheduler(opt_of(), lrkit.cosine(0.1, 0.0, 100), clock="samples")
    with pytest.raises(lrkit.ScheduleError, match=r"clock='samples' advances by the samples "
                       r"each update consumed: step\(samples=<int >= 0>\), got None"):
        sched.step()
    with pytest.raises(lrkit.ScheduleError, match=r"step\(tokens=\.\.\.\) needs "
                       r"clock='tokens', this scheduler's clock is 'samples'"):
        sched.step(tokens=5)
    with pytest.raises(lrkit.ScheduleError, match=r"step\(samples=\.\.\.\) needs "
                       r"clock='samples', this scheduler's clock is 'optimizer'"):
        LRScheduler(opt_of(), lrkit.cosine(0.1, 0.0, 100)).step(samples=5)
    with pytest.raises(lrkit.ScheduleError, match="leave samples_per_step out"):
        LRScheduler(opt_of(), lrkit.cosine(0.1, 0.0, 100), clock="samples",
                    samples_per_step=4)


def test_batch_size_is_megatrons_rampup_calculator():
    calc = pytest.importorskip("megatron.core.num_microbatches_calculator")
    rng = random.Random(0)
    for _ in range(200):
        incr = rng.choice([1, 2, 8, 16, 32])
        start = incr * rng.randint(1, 8)
        end = start + incr * rng.randint(0, 40)
        samples = rng.randint(1, 10**7)
        ours = lrkit.batch_size(start, end, samples, multiple_of=incr)
        theirs = calc.RampupBatchsizeNumMicroBatchesCalculator(
            end, 1, 1, False, 0, start, incr, samples) if end > start else None
        per = samples / max((end - start) // incr, 1)
        ks = sorted({0, samples - 1, samples, samples + 1, 2 * samples,
                     *(int(j * per) + d for j in range(1, 6) for d in (-1, 0, 1)),
                     *(rng.randint(0, 2 * samples) for _ in range(20))} - {-1})
        for k in ks:
            if theirs is None:
                want = start
            else:
                theirs.update(k, False)
                want = theirs.get_current_global_batch_size()
            assert ours(k) == want, (start, end, incr, samples, k)
        np.testing.assert_array_equal(ours.values(np.array(ks)), [ours(k) for k in ks])


def test_batch_size_refuses_what_megatron_asserts():
    with pytest.raises(lrkit.ScheduleError, match=r"batch_size: 'multiple_of' must divide "
                       r"end - start \(40\), as Megatron asserts, got 16"):
        lrkit.batch_size(32, 72, 1000, multiple_of=16)
    with pytest.raises(lrkit.ScheduleError, match=r"batch_size: 'end' must be >= start"):
        lrkit.batch_size(64, 32, 1000)
