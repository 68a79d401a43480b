"""Depth: a chain of 10,000 `>>` builds, evaluates, prints, compares, pickles and round-trips
through config and syntax; nesting (warmups in warmups, products of products) is allowed to
lrkit.MAX_DEPTH levels and refused past it with a ScheduleError — never a RecursionError,
from Python or from text and config files."""

import json
import pickle

import numpy as np
import pytest

import lrkit
from lrkit._schedule import MAX_DEPTH

NS = {**{n: getattr(lrkit, n) for n in lrkit.__all__}, "lrkit": lrkit}


@pytest.fixture(scope="module")
def chain():
    s = lrkit.linear(0.0, 1.0, 3)
    for i in range(10_000):
        s = s >> lrkit.constant(0.1 * (i % 5), over=2)
    return s


def want(k):
    """linear(0 -> 1, 3), then 0.1·(i mod 5) for two steps each; the last holds."""
    if k < 3:
        return k / 3
    i = min((k - 3) // 2, 9_999)
    return 0.1 * (i % 5)


def test_a_chain_of_10000_is_one_flat_sequence(chain):
    assert chain.kind == "sequence" and len(chain.schedules) == 10_001
    assert chain._depth == 2 and chain.duration == 3 + 2 * 10_000
    ks = [0, 1, 2, 3, 4, 5, 6, 12, 9_999, 10_000, 20_001, 20_002, 20_003, 10**9]
    assert [chain(k) for k in ks] == pytest.approx([want(k) for k in ks], abs=1e-15)
    np.testing.assert_array_equal(chain.values(ks), [chain(k) for k in ks])


def test_a_chain_of_10000_prints_compares_pickles_and_round_trips(chain):
    assert chain == lrkit.sequence(list(chain.schedules)) and hash(chain) == hash(chain)
    assert eval(repr(chain), NS) == chain
    assert lrkit.parse(str(chain)) == chain
    assert lrkit.from_config(json.loads(json.dumps(chain.to_config()))) == chain
    assert pickle.loads(pickle.dumps(chain)) == chain


def nested_warmups(n):
    s = lrkit.constant(0.1)
    for _ in range(n - 1):
        s = lrkit.warmup(s, 2)
    return s


def test_nesting_to_the_documented_depth_works_everywhere():
    s = nested_warmups(MAX_DEPTH)
    assert s._depth == MAX_DEPTH
    assert s(10**6) == 0.1 and s(0) == pytest.approx(0.1 / 3 ** (MAX_DEPTH - 1))
    assert eval(repr(s), NS) == s
    assert lrkit.parse(str(s)) == s
    assert lrkit.from_config(json.loads(json.dumps(s.to_config()))) == s
    assert pickle.loads(pickle.dumps(s)) == s
    s.values(np.arange(200))
    lrkit.explain(s)


def test_nesting_past_it_is_a_schedule_error():
    with pytest.raises(lrkit.ScheduleError) as info:
        lrkit.warmup(nested_warmups(MAX_DEPTH), 2)
    assert str(info.value).startswith(
        f"warmup: schedules nest at most {MAX_DEPTH} deep, this one {MAX_DEPTH + 1}; a chain "
        "a >> b >> c is one flat sequence at any length")
    s = lrkit.constant(1.0)
    with pytest.raises(lrkit.ScheduleError, match="nest at most"):
        for _ in range(10_000):  # a product of products
            s = s * lrkit.constant(1.0)


def test_deep_text_and_config_are_config_errors():
    text = "(" * 300 + "constant(1)" + ")" * 300
    with pytest.raises(lrkit.ConfigError) as info:
        lrkit.parse(text)
    assert f"brackets nest deeper than {2 * MAX_DEPTH + 8}" in str(info.value)
    deep = {"kind": "constant", "value": 1.0}
    for _ in range(10_000):
        deep = {"kind": "scale", "schedule": deep, "factor": 1.0}
    with pytest.raises(lrkit.ConfigError, match=f"nest at most {MAX_DEPTH} deep"):
        lrkit.from_config(deep)
    cycle = {"kind": "scale", "factor": 1.0}
    cycle["schedule"] = cycle  # a mapping that contains itself (a YAML alias can make one)
    with pytest.raises(lrkit.ConfigError, match="nest at most"):
        lrkit.from_config(cycle)


def test_a_schedule_reused_inside_itself_is_refused_past_the_node_budget():
    # s = s * s doubles the tree every time: every walk would visit 2**n nodes
    from lrkit._schedule import MAX_NODES

    s = lrkit.cosine(1.0, 0.0, 10)
    with pytest.raises(lrkit.ScheduleError) as info:
        for _ in range(40):
            s = s * s
    assert str(info.value) == (f"product: a schedule holds at most {MAX_NODES} nodes, counting "
                               "a shared part at every use; this one 131071")
