import os

# Keras runs on JAX in the tests, and JAX computes in float64 so traced results can be
# compared with the float64 core. The float32 path users run (JAX's default) is tested in
# fresh interpreters without this setting: tests/test_float32.py (every kind, the long decays,
# and the whole contract test).
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
