"""Importers: schedules from PyTorch, Keras, Hugging Face, timm, the TF Object Detection API
and TF Model Garden, reproducing their numbers, conventions included. Each imports its library
only when used."""
