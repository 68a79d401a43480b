"""The systems of the source documents, as functions returning lrkit schedules.

Each reproduces its original's numbers, conventions included, and cites it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._combine import warmup
from ._schedule import Schedule, sequence
from ._shapes import cosine, linear, piecewise
from .errors import ScheduleError

__all__ = ["tf_resnet", "yolov3"]


def tf_resnet(batch_size: int, batch_denom: int, num_images: int,
              boundary_epochs: Sequence[float], decay_rates: Sequence[float],
              base_lr: float = 0.1, warmup: bool = False) -> Schedule:
    """TensorFlow official ResNet's ``learning_rate_with_decay`` (resnet_run_loop.py).

    ``initial = base_lr · batch_size / batch_denom``; boundaries are
    ``int(num_images / batch_size · epoch)`` (truncated) and, as ``tf.train.piecewise_constant``
    does, a boundary ``b`` takes effect at step ``b + 1``. With ``warmup`` the first
    ``W = int(batches_per_epoch · 5)`` steps get ``initial · k / W`` (0 at step 0, as the
    original), then the piecewise schedule at the *global* step.

    >>> s = tf_resnet(256, 256, 1281167, [30, 60, 80, 90], [1, 0.1, 0.01, 0.001, 1e-4])
    >>> [s(k) for k in (150136, 150137)]
    [0.1, 0.010000000000000002]
    """
    if len(decay_rates) != len(boundary_epochs) + 1:
        raise ScheduleError(
            f"tf_resnet: 'decay_rates' must have len(boundary_epochs) + 1 = "
            f"{len(boundary_epochs) + 1} entries, got {list(decay_rates)!r}")
    initial = base_lr * batch_size / batch_denom
    # TensorFlow's own float expression, not lrkit's unit rule ("30ep" rounds the exact value
    # down): int() of the float product differs on about one ratio in a thousand.
    per_epoch = num_images / batch_size
    bounds = [int(per_epoch * e) for e in boundary_epochs]
    vals = [initial * d for d in decay_rates]
    if not warmup:
        return piecewise(vals, [b + 1 for b in bounds])
    w = int(per_epoch * 5)
    if bounds[0] + 1 <= w:
        raise ScheduleError(
            f"tf_resnet: the first boundary (step {bounds[0]}) falls inside the 5-epoch warmup "
            f"({w} steps); move 'boundary_epochs' past epoch 5")
    return sequence([linear(0.0, initial, w), piecewise(vals, [b + 1 - w for b in bounds])])


def yolov3(lr_init: float, lr_end: float, warmup_epochs: int, train_epochs: int,
           steps_per_epoch: int) -> Schedule:
    """The YOLOv3 (TensorFlow) warmup + cosine, whose ``global_step`` starts at 1.

    With ``W = warmup_epochs · steps_per_epoch``, ``T = train_epochs · steps_per_epoch`` and
    ``g = k + 1``: ``g/W · lr_init`` while ``g < W``, then
    ``lr_end + ½(lr_init - lr_end)(1 + cos(π (g - W)/(T - W)))``. So update ``k`` gets
    ``lr_init · (k + 1)/W`` and the peak arrives at ``k = W - 1``; without warmup (``W = 0``)
    update ``k`` is already one step into the cosine.

    >>> s = yolov3(1e-3, 1e-6, 2, 50, 100)
    >>> [s(k) for k in (0, 199)]
    [5e-06, 0.001]
    """
    w, t = warmup_epochs * steps_per_epoch, train_epochs * steps_per_epoch
    if not 0 <= w < t:
        raise ScheduleError(f"yolov3: the warmup ({w} steps) must be shorter than the run "
                            f"({t} steps)")
    decay = cosine(lr_init, lr_end, t - w)
    if w == 0:  # no warmup: the first update already runs at g = 1, one step into the cosine
        return decay.skip(1)
    return decay if w == 1 else warmup(decay, w - 1, start=lr_init / w)
