"""Charts as SVG (matplotlib), with Chinese text kept as text so it prints, scales and can
be read back; every chart also comes with a data table on the page that shows it.
Pages embed them with :func:`as_image`."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@cache
def _matplotlib():
    """matplotlib, imported when the first chart is drawn: it takes a third of a second, and
    most processes (a command, a worker serving questionnaires) never draw one."""
    import matplotlib

    matplotlib.use("Agg")  # no display: render to files only
    return matplotlib


def _integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


# CJK first (Debian's fonts-wqy-microhei, installed by the Makefile), then Latin fallbacks
FONTS = ["WenQuanYi Micro Hei", "DejaVu Sans"]
COLOURS = ["#8e1616", "#2f6f9f", "#c58b00", "#4c8c4a", "#7a4d9c"]


def _svg(fig: Figure, title: str) -> str:
    out = io.StringIO()
    with _matplotlib().rc_context(
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
    with _matplotlib().rc_context({"font.family": FONTS}):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, height), dpi=100)
    return fig


def _finish(fig: Figure, ax, title: str, xlabel: str, ylabel: str | None = None) -> str:
    """Every chart's title and axis labels, without the top and right frame, as SVG."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, title)


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
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 10}):
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
            ax.yaxis.set_major_locator(_integer_ticks())
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
    highlight: Sequence[bool] | None = None,
) -> str:
    """One dot per row with its 95% interval as a bar (e.g. satisfaction by rater group, or
    raters' severity around 0); ``highlight`` draws flagged rows in the warning colour."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 10}):
        fig = _figure(6.0, 0.5 * len(labels) + 1.2)
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        left = [v - lo if lo is not None else 0 for v, lo in zip(values, lows, strict=True)]
        right = [hi - v if hi is not None else 0 for v, hi in zip(values, highs, strict=True)]
        hot = list(highlight) if highlight is not None else [True] * len(labels)
        for y, v, lo, hi, flagged in zip(ys, values, left, right, hot, strict=True):
            colour = COLOURS[0] if flagged else COLOURS[1]
            ax.errorbar([v], [y], xerr=[[lo], [hi]], fmt="o", color=colour, capsize=4)
        if xlim[0] < 0 < xlim[1]:
            ax.axvline(0, color="#999", linewidth=0.8)
        for y, v in zip(ys, values, strict=True):
            ax.annotate(
                f"{v:g}", (v, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8
            )
        ax.set_yticks(ys, labels)
        ax.set_xlim(*xlim)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        return _finish(fig, ax, title, xlabel)


def hbars(title: str, labels: Sequence[str], values: Sequence[float], xlabel: str,
          groups: Sequence[str] | None = None) -> str:  # fmt: skip
    """Horizontal bars, best first (e.g. the ranking), coloured by ``groups`` (e.g. grades)."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 9}):
        fig = _figure(6.5, 0.28 * len(labels) + 1.2)
        ax = fig.subplots()
        keys = list(dict.fromkeys(groups)) if groups else []
        colours = [COLOURS[keys.index(g) % len(COLOURS)] for g in groups] if groups else None
        ys = list(range(len(labels)))[::-1]
        ax.barh(ys, values, color=colours or COLOURS[0])
        for y, v in zip(ys, values, strict=True):
            ax.annotate(f"{round(v, 1):g}", (v, y), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)  # fmt: skip
        ax.set_yticks(ys, labels)
        ax.set_xlim(0, 100)
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        if keys:
            from matplotlib.patches import Patch

            ax.legend(handles=[Patch(color=COLOURS[i % len(COLOURS)], label=k)
                               for i, k in enumerate(keys)], frameon=False, fontsize=8)  # fmt: skip
        ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, title)


def diverging(title: str, labels: Sequence[str], values: Sequence[float], xlabel: str) -> str:
    """Horizontal bars left and right of 0, largest first (e.g. the change against the
    previous cycle): gains in one colour, losses in the other."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 9}):
        fig = _figure(6.5, 0.28 * len(labels) + 1.2)
        ax = fig.subplots()
        ys = list(range(len(labels)))[::-1]
        colours = [COLOURS[3] if v >= 0 else COLOURS[0] for v in values]
        ax.barh(ys, values, color=colours)
        for y, v in zip(ys, values, strict=True):
            ax.annotate(f"{v:+.1f}", (v, y), xytext=(3 if v >= 0 else -3, 0),
                        textcoords="offset points", va="center", ha="left" if v >= 0 else "right",
                        fontsize=7)  # fmt: skip
        reach = max([abs(v) for v in values] + [1.0]) * 1.25
        ax.set_xlim(-reach, reach)
        ax.axvline(0, color="#999", linewidth=0.8)
        ax.set_yticks(ys, labels)
        return _finish(fig, ax, title, xlabel)


def histogram(title: str, values: Sequence[float], xlabel: str, ylabel: str) -> str:
    """How values spread, in bins of 5 points from 0 to 100."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 10}):
        fig = _figure(6.0, 3.0)
        ax = fig.subplots()
        ax.hist(values, bins=range(0, 105, 5), color=COLOURS[1], edgecolor="white")
        ax.yaxis.set_major_locator(_integer_ticks())
        return _finish(fig, ax, title, xlabel, ylabel)


def scatter(title: str, xs: Sequence[float], ys: Sequence[float], labels: Sequence[str],
            xlabel: str, ylabel: str, highlight: Sequence[bool]) -> str:  # fmt: skip
    """One point per unit, the diagonal for equal scores; ``highlight`` marks outliers."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 9}):
        fig = _figure(5.5, 5.0)
        ax = fig.subplots()
        ax.plot([0, 100], [0, 100], color="#999", linewidth=0.8)
        for x, y, name, hot in zip(xs, ys, labels, highlight, strict=True):
            ax.scatter([x], [y], color=COLOURS[0] if hot else COLOURS[1], s=18)
            if hot:
                ax.annotate(name, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
        low = min([*xs, *ys, 60]) - 5
        ax.set_xlim(low, 100)
        ax.set_ylim(low, 100)
        return _finish(fig, ax, title, xlabel, ylabel)


def line(title: str, xs: Sequence[str], ys: Sequence[float], xlabel: str, ylabel: str,
         integer: bool = True) -> str:  # fmt: skip
    """A value over time: a count (e.g. submissions per day, where a burst shows as a
    spike) or, with ``integer`` off, a score per cycle with each point labelled."""
    with _matplotlib().rc_context({"font.family": FONTS, "font.size": 9}):
        fig = _figure(6.5, 2.8)
        ax = fig.subplots()
        ax.plot(range(len(xs)), ys, color=COLOURS[0], linewidth=1.2,
                marker=None if integer else "o")  # fmt: skip
        if not integer:
            for x, y in enumerate(ys):
                ax.annotate(f"{y:.1f}", (x, y), xytext=(0, 6), textcoords="offset points",
                            ha="center", fontsize=8)  # fmt: skip
            ax.margins(x=0.1, y=0.25)
        step = max(1, len(xs) // 8)
        ax.set_xticks(range(0, len(xs), step), [xs[i] for i in range(0, len(xs), step)],
                      rotation=30, ha="right")  # fmt: skip
        if integer:
            ax.yaxis.set_major_locator(_integer_ticks())
        return _finish(fig, ax, title, xlabel, ylabel)
