"""One small instance of every registered kind (and ``kind:variant`` for options that take
another code path), for contract tests across adapters."""

import lrkit

C = lrkit.cosine(1.0, 0.1, 20)
BY_KIND = {
    "constant": lrkit.constant(0.5, over=10),
    "linear": lrkit.linear(1.0, 0.1, 20),
    "cosine": C,
    "cosine:k_decay": lrkit.cosine(1.0, 0.1, 20, k_decay=2.0),
    "polynomial": lrkit.polynomial(1.0, 0.0, 8, power=2.0, cycle=True),
    "exponential": lrkit.exponential(1.0, 0.5, 4, staircase=True, begin=2, end=0.1),
    "inverse_time": lrkit.inverse_time(1.0, 0.5, 3),
    "inverse_sqrt": lrkit.inverse_sqrt(1.0, 5),
    "step": lrkit.step(1.0, 0.5, 7),
    "multistep": lrkit.multistep(1.0, 0.3, [5, 12, 12, 30]),
    "piecewise": lrkit.piecewise([1.0, 0.6, 0.2], [10, 25]),
    "interpolate": lrkit.interpolate([(3, 0.1), (10, 1.0), (30, 0.5)], shape="cosine"),
    "tanh": lrkit.tanh(1.0, 0.0, 30),
    "cyclic": lrkit.cyclic(0.1, 1.0, 4, down=6, mode="triangular2"),
    "one_cycle": lrkit.one_cycle(1.0, 30, three_phase=True),
    "one_minus_sqrt": lrkit.one_minus_sqrt(1.0, 0.0, 30),
    "geometric": lrkit.geometric(1.0, 0.01, 30),
    "warmup": lrkit.warmup(C, 8),
    "sequence": lrkit.sequence([lrkit.linear(0.1, 1.0, 6), C, lrkit.constant(0.1)],
                               at=[6, 30]),
    "restarts": lrkit.restarts(lrkit.cosine(1.0, 0.1, 5), period_mult=2.0, peak_decay=0.7,
                               limit=3),
    "restarts:timm": lrkit.restarts(lrkit.cosine(1.0, 0.1, 5, k_decay=2.0), period_mult=1.5,
                                    peak_decay=0.7, limit=4, decay="peak", cycle_index="log"),
    "plateau": lrkit.plateau(lrkit.warmup(lrkit.constant(1.0, over=20), 5)),
    "scale": C * 0.5,
    "product": C * lrkit.cyclic(0.5, 1.0, 3),
    "clip": C.clip(min=0.4, max=0.8),
    "stretch": lrkit.cosine(1.0, 0.1, 9).stretch(2.5),
    "stepped": C.stepped(4),
    "skip": C.skip(6),
    "past_end": lrkit.cosine(1.0, 0.1, 10).past_end("continue"),
}
N = 60
