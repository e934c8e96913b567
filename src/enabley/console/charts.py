"""Charts drawn on the server as SVG: no script, no outside library, readable by screen readers.

Each mark carries its value (``data-value``) and a ``<title>``; each chart a ``<title>`` and a
``<desc>`` that lists every value, so the numbers are never only in the picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

WIDTH = 640
BAR_AREA = 200
LABEL_SPACE = 40
# Colours with at least 4.5:1 contrast against white, told apart by text labels too.
PALETTE = {"compliant": "#1b6e3a", "non_compliant": "#b3261e", "expiring": "#8a5300", "neutral": "#2f5597"}


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, int]],
    *,
    colour: str = PALETTE["neutral"],
    chart_id: str,
    names: Mapping[str, str] | None = None,
) -> Markup:
    """Vertical bars, one per (label, value), each labelled with its value; ``names``: shorter
    text to show for some labels (``data-label`` keeps the label itself)."""
    count = max(1, len(bars))
    slot = WIDTH / count
    highest = max((value for _, value in bars), default=0) or 1
    shown = {label: (names or {}).get(label, label) for label, _ in bars}
    desc = "; ".join(f"{shown[label]}: {value}" for label, value in bars)
    parts = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {BAR_AREA + LABEL_SPACE + 20}" class="chart" '
        f'id="{escape(chart_id)}" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>',
    ]
    for index, (label, value) in enumerate(bars):
        height = round(BAR_AREA * value / highest)
        x = index * slot + slot * 0.15
        y = 20 + BAR_AREA - height
        parts.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{y}" width="{slot * 0.7:.1f}" height="{height}" '
            f'fill="{colour}" data-label="{escape(label)}" data-value="{value}">'
            f"<title>{escape(shown[label])}: {value}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 4}" text-anchor="middle" class="value">{value}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{20 + BAR_AREA + 16}" text-anchor="middle" '
            f'class="label">{escape(shown[label])}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text put in was escaped


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], *, chart_id: str
) -> Markup:
    """One horizontal bar per row, split into its parts (key, value) in the palette's colours."""
    line = 28
    height = line * max(1, len(rows)) + 10
    label_width = 180
    span = WIDTH - label_width - 60
    desc = "; ".join(f"{name}: " + ", ".join(f"{k} {v}" for k, v in parts) for name, parts in rows)
    out = [
        f'<svg role="img" viewBox="0 0 {WIDTH} {height}" class="chart" id="{escape(chart_id)}" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>',
    ]
    for index, (name, parts) in enumerate(rows):
        total = sum(v for _, v in parts) or 1
        y = 5 + index * line
        out.append(f'<g class="row" data-label="{escape(name)}">')
        out.append(f'<text x="0" y="{y + 17}" class="label">{escape(name[:28])}</text>')
        x = float(label_width)
        for key, value in parts:
            width = span * value / total
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{line - 8}" '
                f'fill="{PALETTE.get(key, PALETTE["neutral"])}" '
                f'data-key="{escape(key)}" data-value="{value}">'
                f"<title>{escape(name)}, {escape(key.replace('_', '-'))}: {value}</title></rect>"
            )
            x += width
        out.append(f'<text x="{WIDTH - 50}" y="{y + 17}" class="value">{sum(v for _, v in parts)}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text put in was escaped
