"""The plotted data is the schedule's data, and the labels say what it is."""

import numpy as np
import pytest

import lrkit

pytest.importorskip("matplotlib")

S = lrkit.warmup(lrkit.cosine(0.1, 1e-4, 90), 10)


def test_line_is_the_schedule_and_phases_are_marked(tmp_path):
    fig = lrkit.plot(S, total_steps=120, steps_per_epoch=10, path=tmp_path / "s.svg")
    ax = fig.axes[0]
    (line,) = ax.get_lines()[:1]
    x, y = line.get_data()
    np.testing.assert_array_equal(x, np.arange(120))
    np.testing.assert_array_equal(y, S.values(np.arange(120)))
    marks = [ln.get_xdata()[0] for ln in ax.get_lines()[1:]]
    assert marks == [10, 100]
    assert [t.get_text() for t in ax.texts] == ["cosine", "hold"]
    assert ax.get_xlabel() == "step (optimizer update)" and ax.get_title() == str(S)
    assert any(a.get_xlabel() == "epoch" for a in fig.axes[0].child_axes)
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")


def test_overlay_and_per_group_curves_with_log_axis():
    curves = {"backbone": S, "head": S * 10.0}
    fig = lrkit.plot(curves, total_steps=100, log=True)
    ax = fig.axes[0]
    labels = [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert labels == ["backbone", "head"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), (S * 10.0).values(range(100)))
    assert ax.get_yscale() == "log" and ax.get_legend() is not None


def test_jupyter_display():
    page = S._repr_html_()
    assert "<svg" in page and "<table>" in page and "warmup (linear)" in page
    assert S._repr_svg_().lstrip().startswith("<?xml")


def test_long_runs_are_sampled():
    fig = lrkit.plot(lrkit.cosine(1.0, 0.0, 10**6))
    x, y = fig.axes[0].get_lines()[0].get_data()
    assert len(x) <= 20_000 and x[0] == 0 and x[-1] == int(10**6 * 1.05)
    np.testing.assert_array_equal(y, lrkit.cosine(1.0, 0.0, 10**6).values(x))
