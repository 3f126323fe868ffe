"""Charts for the report, rendered by matplotlib (Agg) to inline SVG strings: no network, no JS."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams.update({"svg.fonttype": "none", "font.size": 9, "figure.dpi": 100})

KIND_COLORS = {
    "tweet": "#1d9bf0",
    "video": "#d62728",
    "podcast": "#9467bd",
    "blog_post": "#2ca02c",
    "paper": "#8c564b",
    "repo": "#7f7f7f",
    "other": "#bcbd22",
}


def _svg(fig: plt.Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]  # drop the XML prolog and DOCTYPE so it can be inlined


def timeline_chart(
    docs_by_month: dict[str, list[tuple[date, int]]],
    eras: Sequence[tuple[str, date, date]] = (),
    markers: Sequence[tuple[str, date]] = (),
) -> str:
    """Stacked monthly bars of documents per kind, shaded eras, and first-use markers."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    bottoms: dict[float, int] = {}
    for kind, points in sorted(docs_by_month.items()):
        xs = [mdates.date2num(d) for d, _ in points]
        ys = [n for _, n in points]
        base = [bottoms.get(x, 0) for x in xs]
        ax.bar(xs, ys, width=25, bottom=base, label=kind, color=KIND_COLORS.get(kind, "#333"))
        for d, n in points:
            x = mdates.date2num(d)
            bottoms[x] = bottoms.get(x, 0) + n
    for i, (name, start, end) in enumerate(eras):
        ax.axvspan(mdates.date2num(start), mdates.date2num(end), color="#000", alpha=0.04 if i % 2 else 0.09, lw=0)
        ax.text(mdates.date2num(start), 1.0, name, transform=ax.get_xaxis_transform(), fontsize=7, va="top", rotation=0, alpha=0.8)
    for label, d in markers:
        ax.axvline(mdates.date2num(d), color="#ff7f0e", lw=1, ls="--")
        ax.text(mdates.date2num(d), 0.85, label, transform=ax.get_xaxis_transform(), fontsize=7, color="#ff7f0e", rotation=90, va="top")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_ylabel("documents")
    ax.legend(loc="upper left", fontsize=7, ncols=4)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def trends_chart(series: dict[str, list[tuple[date, int]]]) -> str:
    """Documents per month containing each tracked phrase (one line per phrase)."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    for label, points in sorted(series.items()):
        if points:
            ax.plot([mdates.date2num(d) for d, _ in points], [n for _, n in points], marker="o", ms=3, lw=1.2, label=label)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_ylabel("documents with the phrase")
    if series:
        ax.legend(loc="upper left", fontsize=7, ncols=3)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def coverage_chart(rows: Sequence[tuple[str, float, float]]) -> str:
    """Horizontal bars per kind: collected words against the profile's claimed words."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(3, len(rows)) + 0.6))
    labels = [r[0] for r in rows]
    claimed = [r[1] or 0 for r in rows]
    collected = [r[2] or 0 for r in rows]
    y = range(len(rows))
    ax.barh(y, claimed, color="#ddd", label="claimed by the profile")
    ax.barh(y, collected, height=0.5, color="#2ca02c", label="collected")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel("words")
    ax.legend(loc="lower right", fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def bar_chart(items: Sequence[tuple[str, int]], xlabel: str) -> str:
    fig, ax = plt.subplots(figsize=(7, 0.3 * max(4, len(items)) + 0.6))
    ax.barh(range(len(items)), [n for _, n in items], color="#1f77b4")
    ax.set_yticks(range(len(items)), [k for k, _ in items])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
