"""Hypothesis laws on random schedules: round-trips, associativity, and one formula giving the
same numbers on every evaluation path."""

import json
import math
import os
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import schedules, steps_for

import lrkit
from lrkit._schedule import examples

NS = {"lrkit": lrkit, **{n: getattr(lrkit, n) for n in lrkit.__all__}}
# LRKIT_EXAMPLES=5000 for a deep run; the suite's default keeps it quick.
EXAMPLES = int(os.environ.get("LRKIT_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(schedules)
def test_repr_evaluates_back(s):
    assert eval(repr(s), NS) == s


@SETTINGS
@given(schedules)
def test_config_and_pickle_round_trip(s):
    data = json.loads(json.dumps(s.to_config()))
    back = lrkit.from_config(data)
    assert back == s and hash(back) == hash(s)
    assert pickle.loads(pickle.dumps(s)) == s


@SETTINGS
@given(st.data())
def test_scalar_equals_numpy_exactly(data):
    s = data.draw(schedules)
    ks = data.draw(steps_for(s))
    vec = s.values(np.array(ks, dtype=np.int64))
    scalar = np.array([s(k) for k in ks])
    np.testing.assert_array_equal(vec, scalar)
    assert not np.isnan(vec).any() and (vec >= 0).all()


@pytest.mark.parametrize("name", list(examples()))
def test_every_kinds_examples_obey_the_laws(name):
    # For certain rather than by chance: a kind is here from the commit that adds it (the
    # random strategies also combine its examples with the other kinds).
    s = examples()[name]
    assert eval(repr(s), NS) == s
    back = lrkit.from_config(json.loads(json.dumps(s.to_config())))
    assert back == s and hash(back) == hash(s)
    assert pickle.loads(pickle.dumps(s)) == s
    ks = [*range(2 * math.ceil(s.duration or 100) + 10), 2**31, 2**40]
    np.testing.assert_array_equal(s.values(np.array(ks, dtype=np.int64)), [s(k) for k in ks])


@SETTINGS
@given(st.lists(schedules.filter(lambda s: s.duration is not None), min_size=3, max_size=3),
       st.data())
def test_sequence_is_associative(kids, data):
    a, b, c = kids
    left = lrkit.sequence([lrkit.sequence([a, b]), c])
    right = lrkit.sequence([a, lrkit.sequence([b, c])])
    flat = a >> b >> c
    assert (a >> b) >> c == a >> (b >> c) == flat
    ks = data.draw(steps_for(flat))
    assert [left(k) for k in ks] == [right(k) for k in ks] == [flat(k) for k in ks]


def _close(traced, ks, s, rtol):
    expect = np.array([s(k) for k in ks])
    got = np.asarray(traced, dtype=np.float64)
    scale = max(1.0, float(np.max(expect, initial=0.0)))
    np.testing.assert_allclose(got, expect, rtol=rtol, atol=rtol * scale)


# Traced paths are compared below 2**24 steps: a stretched infinite schedule evaluated at a
# fractional local step loses about k·2**-52 to the rounding of k / factor (XLA divides by a
# constant through its reciprocal), which exceeds 1e-12 at giant k on any backend.
SMALL = 2**24


@SETTINGS
@given(st.data())
def test_torch_float64_matches(data):
    torch = pytest.importorskip("torch")
    s = data.draw(schedules)
    ks = [k for k in data.draw(steps_for(s)) if k < SMALL]
    _close(s.evaluate(torch.tensor(ks, dtype=torch.int64)), ks, s, 1e-12)


@SETTINGS
@given(st.data())
def test_jax_jit_float64_matches(data):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    s = data.draw(schedules)
    ks = [k for k in data.draw(steps_for(s)) if k < SMALL]
    out = jax.jit(lambda k: s.evaluate(k, jnp))(jnp.asarray(ks, dtype=jnp.int64))
    assert out.dtype == jnp.float64
    _close(out, ks, s, 1e-12)


def test_a_rising_root_reaches_its_end_under_jit():
    # Found by the test above: XLA divides k/over as k·(1/over), a rounding short of 1 at the
    # end, and a power of 0.5 made that 1 - 1.05e-8 where the value is exactly 1.
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    s = lrkit.polynomial(0.0, 1.0, 49, power=0.5)
    ks = [0, 1, 47, 48, 49, 50, 1_000_000_000]
    _close(jax.jit(lambda k: s.evaluate(k, jnp))(jnp.asarray(ks, dtype=jnp.int64)), ks, s,
           1e-12)


def test_a_stretched_staircase_steps_on_time_under_jit():
    # Found by test_jax_jit_float64_matches: XLA computes k / 3 as k·(1/3) and fuses it with the
    # staircase's k - begin into one multiply-add, 13.999999999999998 where the step is 14, so
    # update 102 kept the old value.
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    for s in (lrkit.exponential(1.0, 2.0, 14, staircase=True, begin=20, end=2.0).stretch(3.0),
              lrkit.step(1.0, 0.5, 7).stretch(1.5)):
        ks = list(range(0, 130)) + [1_000_000_000]
        _close(jax.jit(lambda k, s=s: s.evaluate(k, jnp))(jnp.asarray(ks, dtype=jnp.int64)), ks, s,
               1e-12)


@settings(max_examples=max(EXAMPLES // 3, 20), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_keras_ops_float32_matches(data):
    keras = pytest.importorskip("keras")
    s = data.draw(schedules)
    ks = [k for k in data.draw(steps_for(s)) if k < SMALL]  # exact integers in float32
    out = s.evaluate(keras.ops.convert_to_tensor(np.array(ks, dtype=np.int32)), keras.ops,
                     dtype="float32")
    assert str(out.dtype) == "float32"
    _close(keras.ops.convert_to_numpy(out), ks, s, 1e-6)


GIANT = [2**31 - 1, 2**31, 2**40, 2**40 + 12345]


def test_giant_steps_do_not_overflow():
    s = lrkit.warmup(lrkit.cosine(0.1, 0.0, 10**6), 1000) >> lrkit.step(1e-3, 0.5, 10**9)
    for k in (2**31, 2**40, 2**53):
        v = s(k)
        assert math.isfinite(v) and v >= 0
    np.testing.assert_array_equal(s.values(np.array(GIANT, dtype=np.int64)),
                                  [s(k) for k in GIANT])


@pytest.mark.parametrize("s", [
    lrkit.warmup(lrkit.cosine(0.1, 0.0, 10**6), 1000) >> lrkit.step(1e-3, 0.5, 10**9),
    lrkit.multistep(1.0, 0.5, [2**31, 2**40]), lrkit.cyclic(0.1, 1.0, 1000, down=3000),
    lrkit.inverse_sqrt(1.0, 1000), lrkit.cosine(1.0, 0.0, 7).past_end("continue"),
], ids=lambda s: s.kind)
def test_giant_steps_traced(s):
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    want = [s(k) for k in GIANT]
    _close(s.evaluate(torch.tensor(GIANT, dtype=torch.int64)), GIANT, s, 1e-12)
    _close(jax.jit(lambda k: s.evaluate(k, jnp))(jnp.asarray(GIANT, dtype=jnp.int64)),
           GIANT, s, 1e-12)
    assert all(v >= 0 for v in want)
