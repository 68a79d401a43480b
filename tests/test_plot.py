"""The plotted data is the schedule's data, and the labels say what it is."""

import numpy as np
import pytest

import lrkit
from lrkit._plot import text_plot

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

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


# --- the labels say what the values are, in readable numbers ---------------------------------

STAIRS = lrkit.multistep(1.0, 0.1, [25, 50, 75])   # 1, 0.1, 0.01, 0.001: four decades


def test_value_axis_is_the_learning_rate_unless_named():
    assert lrkit.plot(S).axes[0].get_ylabel() == "learning rate"
    assert lrkit.plot(S, ylabel="weight decay").axes[0].get_ylabel() == "weight decay"


@pytest.mark.parametrize("s,total,scale", [
    (STAIRS, 100, "log"),                                          # four decades in stairs
    (lrkit.exponential(1.0, 0.1, 33), 100, "log"),                # three, geometrically
    (lrkit.multistep(0.1, 0.1, [30, 60]), 90, "linear"),           # two decades: not more
    (lrkit.cosine(1.0, 0.0, 100), None, "linear"),                 # its tail nears 0
    (lrkit.parse("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)"), None, "linear"),
    (lrkit.one_cycle(0.1, 100), None, "linear"),                   # ends at 0.1 / 25e4
])
def test_value_axis_turns_logarithmic_past_two_decades(s, total, scale):
    assert lrkit.plot(s, total_steps=total).axes[0].get_yscale() == scale


def test_log_axis_can_be_forced_either_way():
    assert lrkit.plot(STAIRS, total_steps=100, log=False).axes[0].get_yscale() == "linear"
    assert lrkit.plot(S, log=True).axes[0].get_yscale() == "log"


def test_titles_and_legends_print_numbers_to_four_digits():
    s = lrkit.cosine(0.1 * 0.1, 0.0, 1000)        # 0.010000000000000002
    assert "0.010000000000000002" in str(s)
    assert lrkit.plot(s).axes[0].get_title() == "cosine(0.01 -> 0, 1000)"
    noisy = lrkit.linear(1 / 3, 2 / 3, 3000)
    ax = lrkit.plot([noisy, s]).axes[0]
    labels = [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert labels == ["linear(0.3333 -> 0.6667, 3000)", "cosine(0.01 -> 0, 1000)"]
    assert ax.get_title() == "schedules"
    close = [lrkit.constant(0.12341), lrkit.constant(0.12342)]   # the same to four digits
    labels = [ln.get_label() for ln in lrkit.plot(close).axes[0].get_lines()]
    assert labels == ["constant(0.12341)", "constant(0.12342)"]


def test_epoch_axis_when_steps_per_epoch_is_known():
    fig = lrkit.plot(lrkit.parse("warmup(2ep) >> cosine(0.1 -> 0, 8ep)"), steps_per_epoch=10)
    (top,) = fig.axes[0].child_axes
    assert top.get_xlabel() == "epoch" and fig.axes[0].get_xlabel() == "step (optimizer update)"
    fig.draw_without_rendering()
    assert top.get_xlim() == pytest.approx(tuple(x / 10 for x in fig.axes[0].get_xlim()))


def test_terminal_plot_takes_the_log_rule():
    lines = [ln.rstrip() for ln in text_plot(STAIRS, 100, width=20, height=4).splitlines()]
    assert lines[:5] == ["         1 ┤█████",
                         "           │     █████",
                         "           │          █████",
                         "     0.001 ┤               █████",
                         "       log └" + "─" * 20]
    linear = [ln.rstrip() for ln in text_plot(STAIRS, 100, width=20, height=4, log=False)
              .splitlines()]
    assert linear[:5] == ["         1 ┤█████",
                          "           │",
                          "           │",
                          "     0.001 ┤     ███████████████",   # 0.1 rounds to the bottom row
                          "           └" + "─" * 20]
    assert text_plot(lrkit.cosine(1.0, 0.0, 50)).splitlines()[-2].startswith("           └")


# --- unbound schedules: the display never raises ---------------------------------------------

UNBOUND = [  # the expression, cells of its table, the x axis, where the ramp ends, the x range
    ("warmup(5ep) >> cosine(0.1 -> 1e-5, 95ep)", ["0ep", "5ep", "100ep"], "epoch", 5, 105),
    ("warmup(5%) >> cosine(0.1 -> 1e-5, 95%)", ["0%", "5%", "100%"], "% of the run", 5, 99.999),
    ("warmup(1M samples) >> linear(0.1 -> 0, 3M samples)",
     ["0 samples", "1M samples", "4M samples"], "samples", 1e6, 4.2e6),
    ("warmup(2B tokens) >> linear(0.1 -> 0, 8B tokens)",
     ["0 tokens", "2B tokens", "10B tokens"], "tokens", 2e9, 1.05e10),
]


@pytest.mark.parametrize("text,cells,axis,mark,right", UNBOUND)
def test_unbound_schedules_display_in_their_own_units(text, cells, axis, mark, right):
    s = lrkit.parse(text)
    page = s._repr_html_()
    assert all(f"<td>{c}</td>" in page for c in cells) and "<svg" in page
    assert "not given (--" in page
    assert s._repr_svg_().lstrip().startswith("<?xml")
    ax = lrkit.plot(s).axes[0]
    missing = lrkit.explain(s).units.missing
    assert ax.get_xlabel() == f"{axis} ({missing} not given)"
    x = ax.get_lines()[0].get_xdata()
    assert x[0] == 0 and x[-1] == pytest.approx(right, rel=1e-4)
    assert ax.get_lines()[1].get_xdata()[0] == mark    # the ramp ends at 5ep, not at 5000


def test_mixed_units_display_the_reason_and_no_picture():
    s = lrkit.parse("warmup(500) >> cosine(0.1 -> 1e-5, 95ep)")
    page = s._repr_html_()
    assert page == ("<div><code>warmup(500) &gt;&gt; cosine(0.1 -&gt; 1e-05, 95ep)</code>"
                    "<p>explain: cosine&#x27;s &#x27;over&#x27; = &#x27;95ep&#x27; needs "
                    "steps_per_epoch; it also counts in other units, so no one unit shows its "
                    "phases; give steps_per_epoch=... (on the command line: "
                    "--steps-per-epoch)</p></div>")
    assert s._repr_svg_() is None
    with pytest.raises(lrkit.ScheduleError, match="^plot: cosine's 'over' = '95ep' needs"):
        lrkit.plot(s)


def test_without_matplotlib_plot_says_what_to_install(monkeypatch):
    # a bare ModuleNotFoundError before; the Jupyter display dropped the picture silently
    import importlib.util
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    s = lrkit.cosine(0.1, 0.0, 10)
    with pytest.raises(lrkit.ScheduleError, match=r"plot: drawing needs matplotlib: pip install "
                       r"'lrkit\[plot\]'"):
        lrkit.plot(s)
    assert s._repr_svg_() is None
    assert "(no picture: pip install 'lrkit[plot]' for matplotlib)" in s._repr_html_()
