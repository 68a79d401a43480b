import os

# Keras runs on JAX in the tests (TensorFlow is not part of the test environment), and JAX
# computes in float64 so traced results can be compared with the float64 core.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
