"""Charts as SVG (matplotlib), with Chinese text kept as text so it prints, scales and can
be read back; every chart also comes with a data table on the page that shows it.
Pages embed them with :func:`as_image`."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from markupsafe import Markup  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# CJK first (Debian's fonts-wqy-microhei, installed by the Makefile), then Latin fallbacks
FONTS = ["WenQuanYi Micro Hei", "DejaVu Sans"]
COLOURS = ["#8e1616", "#2f6f9f", "#c58b00", "#4c8c4a", "#7a4d9c"]


def _svg(fig: Figure, title: str) -> str:
    out = io.StringIO()
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "font.family": FONTS, "svg.hashsalt": "evalsurvey"}
    ):
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]  # no XML prologue
    return text.replace("<svg", f'<svg role="img" aria-label="{_attr(title)}"', 1)


def as_image(svg: str) -> Markup:
    """An ``<img>`` carrying the SVG as a data URI: the page's Content-Security-Policy
    forbids inline styles, which matplotlib's SVG uses, but an image is its own document.
    The chart's title is its alternative text (the page also shows the data as a table)."""
    found = re.search(r'aria-label="([^"]*)"', svg)
    alt = found.group(1) if found else ""
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup(f'<img src="data:image/svg+xml;base64,{data}" alt="{alt}">')


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context({"font.family": FONTS}):
        fig = Figure(figsize=(width, height), dpi=100)
    return fig


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    ylabel: str,
    xlabel: str = "",
    counts: bool = True,
) -> str:
    """Bars per category, one bar per series side by side (e.g. proposed vs reviewed);
    ``counts``: whole-number ticks."""
    with matplotlib.rc_context({"font.family": FONTS, "font.size": 10}):
        fig = _figure(max(4.0, 0.9 * len(categories) + 2), 3.2)
        ax = fig.subplots()
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series.items()):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(categories))]
            bars = ax.bar(xs, values, width, label=name, color=COLOURS[i % len(COLOURS)])
            ax.bar_label(bars, labels=[f"{v:g}" for v in values], fontsize=8)
        ax.set_xticks(range(len(categories)), categories)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        if counts:
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if xlabel:
            ax.set_xlabel(xlabel)
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, title)


def intervals(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    xlabel: str,
    xlim: tuple[float, float] = (0, 100),
) -> str:
    """One dot per row with its 95% interval as a bar (e.g. satisfaction by rater group)."""
    with matplotlib.rc_context({"font.family": FONTS, "font.size": 10}):
        fig = _figure(6.0, 0.5 * len(labels) + 1.2)
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        left = [v - lo if lo is not None else 0 for v, lo in zip(values, lows, strict=True)]
        right = [hi - v if hi is not None else 0 for v, hi in zip(values, highs, strict=True)]
        ax.errorbar(values, ys, xerr=[left, right], fmt="o", color=COLOURS[0], capsize=4)
        for y, v in zip(ys, values, strict=True):
            ax.annotate(
                f"{v:g}", (v, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
        ax.set_yticks(ys, labels)
        ax.set_xlim(*xlim)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, title)
