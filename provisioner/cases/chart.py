"""The SLA report's chart, drawn here as SVG text (no JavaScript, no CDN)."""

from __future__ import annotations

from html import escape

from provisioner.sla import PRIORITIES

COLOURS = {"P1": "#b3261e", "P2": "#e0a800", "P3": "#1565c0", "P4": "#2e7d32"}
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 36, 48


def percent_met_svg(rows) -> str:
    """Grouped bars: % met per month, one bar per priority; a gap where nothing ended."""
    months = sorted({r.month for r in rows})
    by_key = {(r.month, r.priority): r for r in rows}
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="sla-chart-title" '
        'font-family="sans-serif" font-size="11">',
        '<title id="sla-chart-title">Cases resolved within target, % per month and priority'
        "</title>",
    ]
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h - plot_h * pct / 100
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>'
        )
    if not months:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No cases yet</text>'
        )
    group_w = plot_w / max(1, len(months))
    bar_w = max(2.0, min(18.0, (group_w - 8) / len(PRIORITIES)))
    for i, month in enumerate(months):
        x0 = LEFT + i * group_w + (group_w - bar_w * len(PRIORITIES)) / 2
        for j, priority in enumerate(PRIORITIES):
            row = by_key.get((month, priority))
            if row is None or row.percent_met is None:
                continue
            h = plot_h * row.percent_met / 100
            x, y = x0 + j * bar_w, TOP + plot_h - h
            label = (
                f"{month} {priority}: {row.percent_met:.1f}% met "
                f"({row.met} met, {row.breached} breached)"
            )
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[priority]}"><title>{escape(label)}</title></rect>'
                # the value over the bar, so 0% shows too
                f'<text x="{x + (bar_w - 1) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'font-size="9">{row.percent_met:.0f}%</text>'
            )
        parts.append(
            f'<text x="{LEFT + i * group_w + group_w / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{escape(month)}</text>'
        )
    for j, priority in enumerate(PRIORITIES):
        x = LEFT + j * 70
        parts.append(
            f'<rect x="{x}" y="10" width="12" height="12" fill="{COLOURS[priority]}"/>'
            f'<text x="{x + 16}" y="20">{priority}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
