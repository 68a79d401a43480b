"""The source documents' own code (../shared/seeds), transcribed once for every test that
compares lrkit with it: each function cites its document and keeps its names and arithmetic."""

import math
from bisect import bisect_left

import numpy as np

# --- 000_021403d58272f0c8: TensorFlow official ResNet learning_rate_with_decay -----------------

def article_resnet(batch_size, batch_denom, num_images, boundary_epochs, decay_rates,
                   base_lr=0.1, warmup=False):
    """resnet_run_loop.py, as quoted in the article; tf.train.piecewise_constant(x, b, v) is
    v[0] for x <= b[0], v[i] for b[i-1] < x <= b[i], v[-1] after; tf.cast(..., tf.float32)."""
    initial_learning_rate = base_lr * batch_size / batch_denom
    batches_per_epoch = num_images / batch_size
    boundaries = [int(batches_per_epoch * epoch) for epoch in boundary_epochs]
    vals = [initial_learning_rate * decay for decay in decay_rates]

    def learning_rate_fn(global_step):
        lr = vals[bisect_left(boundaries, global_step)]
        if warmup:
            warmup_steps = int(batches_per_epoch * 5)
            warmup_lr = (initial_learning_rate * np.float32(global_step)
                         / np.float32(warmup_steps))
            return warmup_lr if global_step < warmup_steps else lr
        return lr

    return learning_rate_fn


# --- 002_41544ad2e7921c5a: the article's per-epoch schedules -------------------------------------

class StepDecay:
    """The article's StepDecay, verbatim but for the plot method."""

    def __init__(self, initAlpha=0.01, factor=0.25, dropEvery=10):  # noqa: N803
        self.initAlpha = initAlpha
        self.factor = factor
        self.dropEvery = dropEvery

    def __call__(self, epoch):
        exp = np.floor((1 + epoch) / self.dropEvery)
        alpha = self.initAlpha * (self.factor ** exp)
        return float(alpha)


class PolynomialDecay:
    """The article's PolynomialDecay, verbatim but for the plot method."""

    def __init__(self, maxEpochs=100, initAlpha=0.01, power=1.0):  # noqa: N803
        self.maxEpochs = maxEpochs
        self.initAlpha = initAlpha
        self.power = power

    def __call__(self, epoch):
        decay = (1 - (epoch / float(self.maxEpochs))) ** self.power
        alpha = self.initAlpha * decay
        return float(alpha)


# --- 003_3733786f2ac62972: the YOLOv3 warmup + cosine ------------------------------------------

def article_yolov3(learn_rate_init, learn_rate_end, warmup_periods, first_stage_epochs,
                   second_stage_epochs, steps_per_period):
    """The article's TensorFlow code; global_step is a float64 variable starting at 1.0."""
    warmup_steps = float(warmup_periods * steps_per_period)
    train_steps = float((first_stage_epochs + second_stage_epochs) * steps_per_period)

    def learn_rate(global_step):
        if global_step < warmup_steps:
            return global_step / warmup_steps * learn_rate_init
        return learn_rate_end + 0.5 * (learn_rate_init - learn_rate_end) * (
            1 + math.cos((global_step - warmup_steps) / (train_steps - warmup_steps) * math.pi))

    return learn_rate


# --- 004_e74184193f34c363: TF Object Detection exponential_decay_with_burnin -------------------

def article_burnin(global_step, learning_rate_base, learning_rate_decay_steps,
                   learning_rate_decay_factor, burnin_learning_rate=0.0, burnin_steps=0,
                   min_learning_rate=0.0, staircase=True):
    """The answer's exponential_decay_with_burnin; tf.train.exponential_decay with staircase
    is base * factor ** floor(step / decay_steps)."""
    if burnin_learning_rate == 0:
        burnin_learning_rate = learning_rate_base
    p = (global_step - burnin_steps) / learning_rate_decay_steps
    if staircase:
        p = math.floor(p)
    post_burnin_learning_rate = learning_rate_base * learning_rate_decay_factor ** p
    lr = burnin_learning_rate if global_step < burnin_steps else post_burnin_learning_rate
    return max(lr, min_learning_rate)
