"""Importers: schedules from PyTorch, Keras, Hugging Face and the TF Object Detection API,
reproducing their numbers, conventions included. Each imports its library only when used."""
