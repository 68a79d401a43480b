"""Clocks beyond updates (issue 18, part 3): a schedule written in samples or tokens follows
what the run consumed (lrkit.torch.LRScheduler(clock="samples"|"tokens"), integers, resumed
exactly), and lrkit.batch_size ramps the batch as Megatron's own calculator does."""

import random

import numpy as np
import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

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


# --- the batch sampler and per_update ----------------------------------------------------------

from lrkit.torch import RampBatchSampler  # noqa: E402


def test_the_sampler_feeds_megatrons_global_batch_sizes():
    # Megatron's own calculator, told the samples consumed after each update, gives the next
    # global batch; the sampler's batches are those, and the scheduler's count is the sum
    calc = pytest.importorskip("megatron.core.num_microbatches_calculator")
    theirs = calc.RampupBatchsizeNumMicroBatchesCalculator(96, 1, 1, False, 0, 16, 16, 1000)
    ramp = lrkit.batch_size(16, 96, 1000, multiple_of=16)
    sampler = RampBatchSampler(torch.utils.data.SequentialSampler(range(3000)), ramp)
    sizes, consumed, want = [], 0, []
    for batch in sampler:
        theirs.update(consumed, False)
        want.append(theirs.get_current_global_batch_size())
        sizes.append(len(batch))
        consumed += len(batch)
    assert sizes == want and len(set(sizes)) == 6  # every one a whole global batch
    assert 3000 - 96 < sum(sizes) <= 3000 and sampler.consumed == sum(sizes)
    assert len(RampBatchSampler(range(3000), ramp)) == len(sizes)  # (the next pass's count)
    kept = [i for b in RampBatchSampler(range(3000), ramp, drop_last=False) for i in b]
    assert kept == list(range(3000))  # drop_last=False: the short last update too


def test_ranks_and_micro_batches_split_the_global_batch():
    ramp = lrkit.batch_size(8, 32, 200, multiple_of=8)
    ranks = [RampBatchSampler(torch.utils.data.DistributedSampler(
        range(400), num_replicas=2, rank=r, shuffle=False), ramp, accumulate=2, world_size=2)
        for r in (0, 1)]
    batches = [list(s) for s in ranks]
    assert [len(b) for b in batches[0]] == [len(b) for b in batches[1]]
    assert not {i for b in batches[0] for i in b} & {i for b in batches[1] for i in b}
    one = RampBatchSampler(range(400), ramp)  # the same global batches on one process
    assert [len(b) for b in one] == [4 * len(b) for b in batches[0][::2]]
    assert ranks[0].consumed == ranks[1].consumed == 400


def test_a_sequence_length_warmup_comes_with_each_index():
    length = lrkit.batch_size(16, 64, 40, multiple_of=16)
    batches = list(RampBatchSampler(range(60), 8, length=length))
    assert batches[0] == [(i, 16) for i in range(8)]
    assert [b[0][1] for b in batches] == [16, 16, 32, 32, 48, 64, 64]  # (the short 8th dropped)


def test_drop_last_drops_a_whole_update_and_a_count_resumes():
    for drop_last, want in ((True, [8, 8]), (False, [8, 8, 4])):
        s = RampBatchSampler(range(20), 8, drop_last=drop_last)
        assert len(s) == len(want) and [len(b) for b in s] == want
    for drop_last, want in ((True, [4, 4, 4, 4]), (False, [4, 4, 4, 4, 4, 2])):
        s = RampBatchSampler(range(22), 8, accumulate=2, drop_last=drop_last)
        assert len(s) == len(want) and [len(b) for b in s] == want
    ramp = lrkit.batch_size(2, 6, 12, multiple_of=2)
    assert [len(b) for b in RampBatchSampler(range(20), ramp, consumed=12)] == [6, 6, 6]


def test_the_sampler_and_the_scheduler_count_the_same_over_several_passes():
    ramp = lrkit.batch_size(8, 32, 150, multiple_of=8)
    sampler = RampBatchSampler(range(100), ramp)
    opt = opt_of()
    sched = LRScheduler(opt, lrkit.linear(0.1, 0.0, "1000 samples"), clock="samples",
                        per_update=ramp)
    for _ in range(3):  # three passes, each ending with an update too short to keep
        for _ in sampler:
            opt.step()
    assert sched.consumed == sampler.consumed and sched.count > 9


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch_size=0), "lrkit.torch.RampBatchSampler: batch_size must be a whole number >= 1 "
     "or an lrkit schedule of the samples consumed (a batch-size ramp), got 0"),
    (dict(batch_size=6, accumulate=4), "lrkit.torch.RampBatchSampler: the global batch 6 (at 0 "
     "samples) must split evenly into accumulate * world_size = 4 parts; give a ramp in "
     "multiples of it (multiple_of=)"),
    (dict(batch_size=4, world_size=True), "lrkit.torch.RampBatchSampler: 'world_size' must be a "
     "whole number >= 1, got True"),
    (dict(batch_size=4, length=0.5), "lrkit.torch.RampBatchSampler: length must be a whole "
     "number >= 1 or an lrkit schedule of the samples consumed (a sequence-length ramp), got "
     "0.5"),
    (dict(batch_size=lrkit.linear(2.0, 4.0, 8)), "lrkit.torch.RampBatchSampler: batch_size "
     "gives 2.5 at a count of 2; it must give whole numbers >= 1"),
    (dict(batch_size=4, consumed=-1), "lrkit.torch.RampBatchSampler: consumed: must be an int "
     ">= 0, got -1"),
])
def test_the_sampler_says_what_is_wrong(kwargs, message):
    with pytest.raises(lrkit.ScheduleError) as info:
        list(RampBatchSampler(range(10), **kwargs))
    assert str(info.value) == message


def test_the_sampler_takes_numpy_ints_and_refuses_what_is_not_a_sampler():
    assert [len(b) for b in RampBatchSampler(range(8), np.int64(4), accumulate=np.int32(2))] \
        == [2, 2, 2, 2]
    with pytest.raises(lrkit.ScheduleError, match=r"'sampler' must be a sized iterable of "
                       r"indices \(a torch Sampler, a range\), got NoneType"):
        RampBatchSampler(None, 4)


def test_per_update_counts_through_the_optimizer_and_resumes():
    s = lrkit.warmup(lrkit.cosine(0.1, 0.0, "9000 samples"), "600 samples")
    ramp = lrkit.batch_size(8, 64, 3000, multiple_of=8)
    opt = opt_of()
    sched = LRScheduler(opt, s, clock="samples", per_update=ramp)
    applied, consumed = [], 0
    for _ in range(70):  # as Lightning and the HF Trainer run it: step() with no samples
        applied.append((consumed, opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
        consumed += int(ramp(consumed))
    assert sched.consumed == consumed and sched.count == 70
    opt2 = opt_of()
    resumed = LRScheduler(opt2, s, clock="samples", per_update=ramp)
    resumed.load_state_dict(sched.state_dict())
    for _ in range(100):
        applied.append((consumed, opt2.param_groups[0]["lr"]))
        opt2.step()
        consumed += int(ramp(consumed))
    bound = s.bind(samples_per_step=1)
    assert [v for _, v in applied] == [bound(c) for c, _ in applied]
    with pytest.raises(lrkit.ScheduleError, match=r"with per_update the scheduler works out "
                       r"the samples each update consumed; call step\(\) without samples="):
        resumed.step(samples=8)
    other = LRScheduler(opt_of(), s, clock="samples", per_update=16)
    with pytest.raises(lrkit.ConfigError, match=r"state_dict\['consumed'\]: is \d+, but "
                       r"per_update gives 1120 after 70 updates; resume with the checkpoint's "
                       r"per_update"):
        other.load_state_dict(sched.state_dict())
    with pytest.raises(lrkit.ScheduleError, match="per_update is for clock='samples' or "
                       "'tokens', this scheduler's clock is 'optimizer'"):
        LRScheduler(opt_of(), s.bind(samples_per_step=1), per_update=8)


_junk = (st.none() | st.booleans() | st.text(max_size=6) | st.floats(allow_nan=True)
         | st.integers(-5, 10**6) | st.just(lrkit.constant(4.0))
         | st.just(lrkit.linear(1.0, 9.0, 5)))
_ramps = st.builds(lambda s, n, m, o: lrkit.batch_size(s * m, (s + n) * m, o, multiple_of=m),
                   st.integers(1, 4), st.integers(0, 5), st.sampled_from([1, 2, 4]),
                   st.integers(1, 200))


@pytest.mark.fuzz
@budget(200)
@given(st.one_of(_ramps, st.integers(1, 16), _junk), st.one_of(st.integers(1, 4), _junk),
       st.one_of(st.integers(1, 3), _junk), st.booleans(), st.one_of(st.integers(0, 300), _junk),
       st.one_of(st.none(), _ramps, _junk), st.integers(0, 120))
def test_the_sampler_refuses_or_batches_every_index(batch_size, accumulate, world_size,
                                                    drop_last, consumed, length, n):
    try:
        sampler = RampBatchSampler(range(n), batch_size, accumulate=accumulate,
                                   world_size=world_size, drop_last=drop_last,
                                   consumed=consumed, length=length)
        expected = len(sampler)
        batches = list(sampler)
    except lrkit.ScheduleError:  # ConfigError included
        return
    flat = [i if length is None else i[0] for b in batches for i in b]
    assert len(batches) == expected and flat == list(range(len(flat)))
    assert len(flat) == n or drop_last


@pytest.mark.fuzz
@budget(100)
@given(st.one_of(_ramps, st.integers(1, 64), _junk), st.sampled_from(["samples", "tokens",
                                                                      "optimizer"]))
def test_per_update_refuses_or_counts(per_update, clock):
    try:
        sched = LRScheduler(opt_of(), lrkit.linear(0.1, 0.0, 500), clock=clock,
                            per_update=per_update)
    except lrkit.ScheduleError:
        return
    for _ in range(5):
        sched.optimizer.step()
    if per_update is None:  # the told clock: step(samples=n) advances it, not the optimizer
        assert sched.consumed == 0 and sched.count == (5 if clock == "optimizer" else 0)
        return
    assert sched.count == 5 and sched.consumed == sum(
        int(per_update(c)) if not isinstance(per_update, int) else per_update
        for c in _counts(per_update, 5))


def _counts(per_update, n):
    c, out = 0, []
    for _ in range(n):
        out.append(c)
        c += per_update if isinstance(per_update, int) else int(per_update(c))
    return out


def test_the_count_under_a_ramp_is_found_by_bisection_as_a_walk_finds_it():
    from lrkit._consumed import Consumed

    rng = random.Random(3)
    for _ in range(100):
        m = rng.choice([1, 2, 8])
        ramp = lrkit.batch_size(m * rng.randint(1, 4), m * rng.randint(4, 12), rng.randint(1, 5000),
                                multiple_of=m)
        fast, walked = Consumed(ramp, "t"), Consumed(ramp * 1, "t")  # a product is walked
        assert fast.starts == walked.starts, ramp
    big = Consumed(lrkit.batch_size(1, 2, 10**12), "t")  # a trillion updates, two segments
    assert big.starts == [(0, 0, 1), (10**12, 10**12, 2)]
