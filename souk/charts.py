"""PNG charts for staff, drawn headless. matplotlib is imported when a chart is drawn: only
worker processes draw, so web processes never load it."""

from __future__ import annotations

import io
from decimal import Decimal

from souk.services.competition_table import PriceSeries
from souk.services.reports import Day


def revenue_chart(days: list[Day], *, revenue_label: str, profit_label: str, title: str) -> bytes:
    """Daily revenue as bars and gross profit as a line, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    labels = [day.day.strftime("%d.%m") for day in days]
    axes.bar(labels, [float(day.revenue) for day in days], color="#4c78a8", label=revenue_label)
    axes.plot(
        labels,
        [float(day.profit) for day in days],
        color="#f58518",
        marker="o",
        label=profit_label,
    )
    axes.set_title(title)
    axes.axhline(float(Decimal("0")), color="#999999", linewidth=0.8)
    axes.legend(loc="upper left")
    if len(labels) > 10:
        axes.set_xticks(labels[:: max(1, len(labels) // 10)])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close("all")
    return buffer.getvalue()


def price_history_chart(
    series: list[PriceSeries], *, ours: Decimal, ours_label: str, title: str
) -> bytes:
    """Each competitor's price over time as a step line, and ours as a dashed line, as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    for line in series:
        moments = [moment for moment, _ in line.points]
        axes.step(
            moments,  # type: ignore[arg-type]  # matplotlib plots datetimes as dates
            [float(price) for _, price in line.points],
            where="post",
            marker="o",
            markersize=3,
            label=line.competitor,
        )
    axes.axhline(float(ours), color="#333333", linestyle="--", linewidth=1, label=ours_label)
    axes.set_title(title)
    axes.legend(loc="best", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close("all")
    return buffer.getvalue()
