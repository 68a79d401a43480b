"""from_tf_model_garden against TF Model Garden itself: tf-models-official's own
``lr_schedule`` classes, built by its ``OptimizerFactory`` from an ``OptimizationConfig``,
evaluated step by step with an int64 step tensor as an optimizer passes it.

The full ``pip install tf-models-official`` pins another TensorFlow (2.20) and pulls about
120 packages (tensorflow-text, opencv, tensorflow-datasets, …), so the test environment
installs only what ``official.modeling.optimization`` imports, beside TensorFlow 2.21:

    pip install --no-deps tf-models-official==2.20.0 tf_keras==2.21.0 gin-config

Model Garden computes in float32 and lrkit in float64, so values are compared to
``1e-5 · |reference| + 1e-6 · scale`` (``scale``: the largest learning rate in the config).
The corpora are the experiment YAMLs of tensorflow/models, read where they are
(``../shared/corpora``), never copied here.
"""

import math
import random
from pathlib import Path

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

from lrkit import ConfigError, ScheduleError, from_tf_model_garden
from lrkit.config import load_file

CORPORA = Path(__file__).parents[3] / "shared" / "corpora"
FOLDERS = ("tf_model_garden", "tf_model_garden_current")
TYPES = ["constant", "stepwise", "exponential", "polynomial", "cosine", "power", "power_linear",
         "power_with_offset", "step_cosine_with_offset"]


@pytest.fixture(scope="module")
def reference():
    """A function from an optimizer_config mapping to Model Garden's ``step -> value``."""
    tf = pytest.importorskip("tensorflow")
    factory = pytest.importorskip(
        "official.modeling.optimization.optimizer_factory",
        reason="needs pip install --no-deps tf-models-official==2.20.0 tf_keras==2.21.0 "
               "gin-config")
    from official.modeling.optimization.configs.optimization_config import OptimizationConfig

    def build(oc):
        parts = {k: oc[k] for k in ("learning_rate", "warmup") if k in oc}
        lr = factory.OptimizerFactory(OptimizationConfig(
            {"optimizer": {"type": "sgd"}, **parts})).build_learning_rate()
        if not callable(lr):  # the constant type without warmup is a float
            return lambda k: float(lr)
        return lambda k: float(lr(tf.constant(k, tf.int64)))

    return build


def scale_of(oc):
    """The largest learning rate in the config (the pre-offset cap aside): the unit of the
    absolute tolerance."""
    lr = oc["learning_rate"]
    block = lr.get(lr["type"]) or {}
    rates = [abs(v) for k, v in block.items() if "learning_rate" in k and "pre_" not in k]
    return max([*rates, *(abs(v) for v in block.get("values") or []), 1e-12])


def steps_of(oc, extra=()):
    """Every whole number in the config, shifted by the offset, ±1, doubled; and a few more."""
    numbers = {0, 1, 2, 3, *extra}

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, int) and not isinstance(v, bool):
            numbers.add(v)

    walk(oc)
    lr = oc["learning_rate"]
    offset = (lr.get(lr["type"]) or {}).get("offset") or 0
    out = set()
    for n in numbers:
        for m in (n, n + offset):
            out.update((m - 1, m, m + 1, 2 * m))
    return sorted(k for k in out if k >= 0)


def compare(oc, s, ref, steps):
    """The largest error in units of the tolerance; NaN steps of the reference are checked
    apart (step_cosine_with_offset past its last boundary)."""
    scale, worst = scale_of(oc), 0.0
    for k in steps:
        want, got = ref(k), s(k)
        if math.isnan(want):
            lr = oc["learning_rate"]
            assert lr["type"] == "step_cosine_with_offset", (oc, k)
            assert got == lr[lr["type"]]["values"][-1]
            continue
        err = abs(got - want) / (1e-5 * abs(want) + 1e-6 * scale)
        assert err <= 1, f"step {k}: lrkit {got!r}, Model Garden {want!r}; {oc}; {s!r}"
        worst = max(worst, err)
    return worst


# --- the corpus ----------------------------------------------------------------------------


def corpus_files():
    found = [p for d in FOLDERS for p in sorted((CORPORA / d).rglob("*.y*ml"))]
    if not found:
        pytest.skip(f"no Model Garden corpus at {CORPORA} (the shared test data is absent)")
    return found


def optimizer_config(path):
    return load_file(path)["trainer"]["optimizer_config"]


def test_the_corpus_imports_or_names_the_missing_field():
    imported, refused = 0, {}
    for path in corpus_files():
        try:
            from_tf_model_garden(path)
        except ConfigError as e:
            # the only refusals: a type or value left to the experiment's Python code
            assert "is missing" in e.message and e.where.startswith(
                f"{path.name}: trainer.optimizer_config."), str(e)
            where = e.where.split(": ", 1)[1]
            refused[where] = refused.get(where, 0) + 1
            continue
        imported += 1
    print(f"\nModel Garden corpus: {imported + sum(refused.values())} files, {imported} "
          f"imported, refused: {refused}")
    assert (imported, sum(refused.values())) == (69, 39)
    assert refused == {"trainer.optimizer_config.learning_rate.type": 27,
                       "trainer.optimizer_config.warmup.type": 9,
                       "trainer.optimizer_config.learning_rate.stepwise.values": 3}


def test_the_corpus_matches_model_garden(reference):
    worst, n = 0.0, 0
    for path in corpus_files():
        try:
            s = from_tf_model_garden(path)
        except ConfigError:
            continue  # counted above
        oc = optimizer_config(path)
        steps = steps_of(oc, extra=range(0, 10**6, 99991))
        worst, n = max(worst, compare(oc, s, reference(oc), steps)), n + len(steps)
    print(f"\nModel Garden corpus: {n} steps, largest error {worst:.3f} of the tolerance")


# --- random configurations -------------------------------------------------------------------


def maybe(rng, d, key, value):
    if rng.random() < 0.7:  # otherwise Model Garden's default applies
        d[key] = value


def random_config(rng, kind):
    lr0 = rng.choice([1.0, 0.1, 0.0032, rng.uniform(1e-4, 2.0)])
    offset = rng.choice([None, 0, rng.randint(1, 150), -rng.randint(1, 150)])
    c = {}
    if kind == "constant":
        maybe(rng, c, "learning_rate", lr0)
    elif kind in ("stepwise", "step_cosine_with_offset"):
        b = sorted(rng.sample(range(1, 300), rng.randint(1, 4)))
        if kind == "step_cosine_with_offset":
            b = [rng.choice([0, 0, rng.randrange(b[0])])] + b
        c["boundaries"] = b
        c["values"] = [rng.uniform(0, 1) for _ in range(len(b) + (kind == "stepwise"))]
    elif kind == "exponential":
        c.update(initial_learning_rate=lr0, decay_steps=rng.randint(1, 100),
                 decay_rate=rng.uniform(0.5, 1.0))
        maybe(rng, c, "staircase", rng.random() < 0.5)
    elif kind == "polynomial":
        c.update(initial_learning_rate=lr0, decay_steps=rng.randint(1, 300))
        maybe(rng, c, "end_learning_rate", rng.choice([0.0, lr0 * rng.random()]))
        maybe(rng, c, "power", rng.choice([1.0, 2.0, 0.5, rng.uniform(0.1, 4)]))
        maybe(rng, c, "cycle", rng.random() < 0.4 and not (offset or 0) > 0)
    elif kind == "cosine":
        c.update(initial_learning_rate=lr0, decay_steps=rng.randint(1, 300))
        maybe(rng, c, "alpha", rng.choice([0.0, rng.uniform(0, 0.5)]))
    else:  # the power types
        c["initial_learning_rate"] = lr0
        maybe(rng, c, "power", rng.choice([-0.5, -1.0, 0.0, -0.7, -2.0, rng.uniform(-3, 0)]))
        if kind == "power_linear":
            c["total_decay_steps"] = rng.randint(0, 400)
            maybe(rng, c, "linear_decay_fraction", rng.choice([0.0, 1.0, rng.uniform(0, 1)]))
        if kind == "power_with_offset":
            maybe(rng, c, "pre_offset_learning_rate", rng.choice([lr0 / 2, 2 * lr0, 10.0]))
    if offset is not None and kind not in ("constant", "power"):
        c["offset"] = offset
    oc = {"learning_rate": {"type": kind, kind: c}}
    warm = rng.choice([None, "linear", "polynomial"])
    if warm:
        w = {"warmup_steps": rng.choice([0, 1, rng.randint(2, 120)])}
        if warm == "linear":
            maybe(rng, w, "warmup_learning_rate", rng.uniform(0, lr0))
        else:
            maybe(rng, w, "power", rng.choice([1.0, 2.0, 0.5, 0.0, rng.uniform(0.1, 4)]))
        oc["warmup"] = {"type": warm, warm: w}
    return oc


def test_random_configs_of_every_type_and_warmup_match(reference):
    rng, worst, seen, n = random.Random(14), 0.0, set(), 0
    for i in range(216):  # 24 of each type
        oc = random_config(rng, TYPES[i % len(TYPES)])
        steps = steps_of(oc, extra=(5000,))  # past every end
        worst = max(worst, compare(oc, from_tf_model_garden(oc), reference(oc), steps))
        seen.add((oc["learning_rate"]["type"], (oc.get("warmup") or {}).get("type")))
        n += len(steps)
    print(f"\n216 random configs, {n} steps: largest error {worst:.3f} of the tolerance")
    assert len(seen) == 27  # every type with no warmup and with each warmup


@pytest.mark.parametrize("oc", [
    # a boundary's own step keeps the old value; the offset delays the switch
    {"learning_rate": {"type": "stepwise", "stepwise": {"boundaries": [5, 9],
                                                        "values": [0.3, 0.2, 0.1],
                                                        "offset": 3}}},
    # the cosine before its offset is mirrored (it rises to the start), past 2 periods
    {"learning_rate": {"type": "cosine", "cosine": {"initial_learning_rate": 1.0,
                                                    "decay_steps": 7, "alpha": 0.1,
                                                    "offset": 20}}},
    # a polynomial warmup's step 0 gets step 1's value
    {"learning_rate": {"type": "constant"},
     "warmup": {"type": "polynomial", "polynomial": {"warmup_steps": 4, "power": 2.5}}},
    # the first cosine is timed from step 0, not from boundaries[0]; NaN after the last
    {"learning_rate": {"type": "step_cosine_with_offset", "step_cosine_with_offset": {
        "boundaries": [4, 10, 16], "values": [1.0, 0.5, 0.25]}}},
    # pre_offset_learning_rate through step `offset`, and its 1e6 default
    {"learning_rate": {"type": "power_with_offset",
                       "power_with_offset": {"initial_learning_rate": 2.0, "offset": 5}}},
])
def test_conventions_step_by_step(reference, oc):
    compare(oc, from_tf_model_garden(oc), reference(oc), range(40))


def test_an_optimization_config_object_is_read_through_as_dict(reference):
    pytest.importorskip("official.modeling.optimization.configs.optimization_config")
    from official.modeling.optimization.configs.optimization_config import OptimizationConfig

    oc = {"learning_rate": {"type": "polynomial", "polynomial": {
        "initial_learning_rate": 0.1, "decay_steps": 50, "power": 2.0}},
        "warmup": {"type": "linear", "linear": {"warmup_steps": 10}}}
    obj = OptimizationConfig({"optimizer": {"type": "sgd"}, **oc})
    compare(oc, from_tf_model_garden(obj), reference(oc), range(70))


# --- bad input -------------------------------------------------------------------------------


def test_the_layouts_and_files_read_alike(tmp_path):
    oc = {"learning_rate": {"type": "cosine", "cosine": {"initial_learning_rate": 0.1,
                                                         "decay_steps": 10}}}
    want = from_tf_model_garden(oc)
    assert from_tf_model_garden({"optimizer_config": oc}) == want
    assert from_tf_model_garden({"trainer": {"optimizer_config": oc}}) == want
    path = tmp_path / "exp.yaml"
    path.write_text("trainer:\n  optimizer_config:\n    learning_rate:\n      type: cosine\n"
                    "      cosine: {initial_learning_rate: 0.1, decay_steps: 10}\n"
                    "task:\n  input_size: !!python/tuple [224, 224, 3]\n")
    assert from_tf_model_garden(path) == want


@pytest.mark.parametrize(("oc", "message"), [
    ({"learning_rate": {"cosine": {"decay_steps": 10}}},
     "learning_rate.type: is missing: the type is left to the experiment registered in Model "
     "Garden's Python code; the file sets learning_rate.cosine but not its type; write the type "
     "in the config (one of constant, stepwise, exponential, polynomial, cosine, power, "
     "power_linear, power_with_offset, step_cosine_with_offset)"),
    ({"learning_rate": {"type": "cosine", "cosine": {"initial_learning_rate": 0.1}}},
     "learning_rate.cosine.decay_steps: is missing: Model Garden has no default for it (the "
     "experiment's Python code sets it); write it in the config"),
    ({"learning_rate": {"type": "stepwise", "stepwise": {"boundaries": [10],
                                                         "values": [0.1]}}},
     "learning_rate.stepwise.values: must have len(boundaries) + 1 = 2 entries, got 1"),
    ({"learning_rate": {"type": "power", "power": {"initial_learning_rate": 0.1,
                                                   "power": 0.7}}},
     "learning_rate.power.power: must be <= 0 for lrkit, got 0.7: a positive power grows "
     "without bound"),
    ({"learning_rate": {"type": "constant"},
      "warmup": {"type": "linear", "linear": {"warmup_steps": 2**24 + 1}}},
     "warmup.linear.warmup_steps: must be at most 2**24 = 16,777,216 steps, got 16777217: "
     "TensorFlow compares steps in float32, which rounds past that"),
    ({"learning_rate": {"type": "cosine", "cosine": {"initial_learning_rate": 0.1,
                                                     "decay_steps": 10, "warmup_steps": 5}}},
     "learning_rate.cosine.'warmup_steps': is not a field of Model Garden's cosine config; "
     "known: initial_learning_rate, decay_steps, alpha, offset"),
])
def test_error_messages(oc, message):
    with pytest.raises(ConfigError) as info:
        from_tf_model_garden(oc)
    assert str(info.value) == message


def test_a_file_error_names_the_file_and_the_path(tmp_path):
    path = tmp_path / "bert.yaml"
    path.write_text("trainer:\n  optimizer_config:\n    learning_rate:\n      type: polynomial\n"
                    "      polynomial: {initial_learning_rate: 0.1, decay_steps: -5}\n")
    with pytest.raises(ConfigError) as info:
        from_tf_model_garden(path)
    assert str(info.value) == ("bert.yaml: trainer.optimizer_config.learning_rate.polynomial."
                               "decay_steps: must be a whole number of steps >= 0, got -5")


ODD = [None, "abc", -1, -0.5, 0, 0.5, 1, 2, 7, 100, 10**9, 2**25, 1e308, float("nan"),
       float("inf"), True, False, [], [0], [5, 3], [1, 2, 3], [0.1, 0.01], {"a": 1}, 10**400]
FIELDS = ["learning_rate", "boundaries", "values", "offset", "initial_learning_rate",
          "decay_steps", "decay_rate", "staircase", "end_learning_rate", "power", "cycle",
          "alpha", "total_decay_steps", "linear_decay_fraction", "pre_offset_learning_rate",
          "name"]


@pytest.mark.fuzz
@budget(300)
@given(st.sampled_from([*TYPES, None, "nope", 3]),
       st.dictionaries(st.sampled_from(FIELDS), st.sampled_from(ODD), max_size=6),
       st.sampled_from([None, "linear", "polynomial", "cosine"]),
       st.dictionaries(st.sampled_from(["warmup_steps", "warmup_learning_rate", "power", "x"]),
                       st.sampled_from(ODD), max_size=3))
def test_random_dicts_raise_only_lrkit_errors(kind, block, warm, wblock):
    oc = {"learning_rate": {"type": kind, **({kind: block} if isinstance(kind, str) else {})}}
    if warm:
        oc["warmup"] = {"type": warm, warm: wblock}
    try:
        s = from_tf_model_garden({"trainer": {"optimizer_config": oc}})
    except (ScheduleError, ConfigError):
        return
    for k in (0, 1, 5, 50, 10**6, 2**62):
        v = s(k)
        assert math.isfinite(v) and v >= 0
