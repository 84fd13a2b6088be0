"""The analyst report: receivables aging and revenue by month per tenant, read from the marts with
SQL through `kontor.open` (pandas; the DuckDB snapshot or the PostgreSQL database alike), drawn as PNG
charts (matplotlib, Agg), one HTML page per tenant (jinja2) reachable from `index.html`.

`render(warehouse, out_dir)` returns the numbers it read and the bar heights it actually drew (taken
from the charts' axes; also in `report.json`), so a reader or a test can hold every bar against a
query on the marts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.ticker import StrMethodFormatter

import kontor
from core.warehouse import WarehouseUnreachable, is_missing_object, query_errors

# The aging buckets as drawn, left to right; they add up to the open amount (marts.ar_aging's
# bucket_0_30 holds the not-yet-due part too, so "1-30" is bucket_0_30 minus not_yet_due_amount).
BUCKETS = {
    "not_yet_due": "not yet due",
    "days_1_30": "1-30 days",
    "bucket_31_60": "31-60",
    "bucket_61_90": "61-90",
    "bucket_90_plus": "90+",
}
# SQL both engines speak (DuckDB and PostgreSQL): no GROUP BY ALL, strftime or any_value
AGING_SQL = """
SELECT tenant_id, CAST(min(as_of_date) AS VARCHAR) AS as_of_date,
       CAST(sum(total_open_amount) AS DOUBLE PRECISION) AS total_open_amount,
       CAST(sum(not_yet_due_amount) AS DOUBLE PRECISION) AS not_yet_due,
       CAST(sum(bucket_0_30 - not_yet_due_amount) AS DOUBLE PRECISION) AS days_1_30,
       CAST(sum(bucket_31_60) AS DOUBLE PRECISION) AS bucket_31_60,
       CAST(sum(bucket_61_90) AS DOUBLE PRECISION) AS bucket_61_90,
       CAST(sum(bucket_90_plus) AS DOUBLE PRECISION) AS bucket_90_plus
FROM marts.ar_aging GROUP BY tenant_id ORDER BY tenant_id
"""
REVENUE_SQL = """
SELECT tenant_id, substr(CAST(month AS VARCHAR), 1, 7) AS month,
       CAST(sum(net_amount) AS DOUBLE PRECISION) AS net_amount
FROM marts.revenue_by_month GROUP BY 1, 2 ORDER BY 1, 2
"""
AS_OF_SQL = "SELECT CAST(as_of_date AS VARCHAR) AS as_of_date FROM marts.as_of"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class TenantReport:
    tenant: str
    as_of: str | None = None
    open_amount: float = 0.0  # marts.ar_aging's total_open_amount: the buckets add up to it
    aging: dict[str, float] = field(default_factory=dict)  # bucket -> open amount
    revenue: dict[str, float] = field(default_factory=dict)  # yyyy-mm -> net revenue
    partial_month: str | None = None  # yyyy-mm of the as-of date when the month is not over by then
    page: str = ""
    aging_png: str | None = None
    revenue_png: str | None = None
    drawn: dict[str, list[float]] = field(default_factory=dict)  # chart -> bar heights as drawn, in order


@dataclass
class Report:
    warehouse: str
    generated_at: str
    tenants: list[TenantReport]
    html: str


class ReportError(RuntimeError):
    """The warehouse is missing or has no marts yet; the message says what to run."""


def partial_month(as_of: str | None) -> str | None:
    """The as-of date's month (yyyy-mm) when the as-of date is not its last day: its revenue is partial."""
    if not as_of:
        return None
    day = dt.date.fromisoformat(as_of)
    return f"{day:%Y-%m}" if (day + dt.timedelta(days=1)).month == day.month else None


def read_marts(warehouse: kontor.Warehouse) -> list[TenantReport]:
    """Aging buckets and monthly net revenue per tenant, straight from the marts (same SQL on DuckDB and
    PostgreSQL)."""
    try:
        aging, revenue, as_of = (warehouse.sql(q) for q in (AGING_SQL, REVENUE_SQL, AS_OF_SQL))
    except query_errors() as exc:
        if is_missing_object(exc):
            raise ReportError(
                f"{warehouse} has no marts yet (build the models: job kontor_transform)"
            ) from exc
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ReportError(f"cannot read the marts of {warehouse} read-only: {first}") from exc
    marts_as_of = as_of["as_of_date"].iloc[0] if len(as_of) else None
    tenants: dict[str, TenantReport] = {}
    for row in aging.itertuples(index=False):
        tenants[row.tenant_id] = TenantReport(
            row.tenant_id, row.as_of_date, row.total_open_amount, {b: getattr(row, b) for b in BUCKETS}
        )
    for row in revenue.itertuples(index=False):
        tenants.setdefault(row.tenant_id, TenantReport(row.tenant_id)).revenue[row.month] = row.net_amount
    for t in tenants.values():
        t.as_of = t.as_of or marts_as_of
        month = partial_month(t.as_of)
        t.partial_month = month if month in t.revenue else None
    return [tenants[t] for t in sorted(tenants)]


def _finish(fig: plt.Figure, ax: plt.Axes, title: str, path: Path) -> list[float]:
    """Common styling of every chart (EUR axis with thousands separators), then save and close;
    returns the bar heights as drawn, left to right."""
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("EUR")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path)
    heights = [bar.get_height() for bar in sorted(ax.patches, key=lambda b: b.get_x())]
    plt.close(fig)
    return heights


def _aging_chart(t: TenantReport, path: Path) -> list[float]:
    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=100)
    bars = ax.bar(
        list(BUCKETS.values()),
        list(t.aging.values()),
        color=["#8ab17d", "#4c956c", "#f4a259", "#e76f51", "#9d0208"],
    )
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in t.aging.values()], fontsize=8)
    return _finish(
        fig,
        ax,
        f"{t.tenant}: open receivables {t.open_amount:,.2f} EUR by days past due (as of {t.as_of})",
        path,
    )


def _revenue_chart(t: TenantReport, path: Path) -> list[float]:
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    months = list(t.revenue)
    bars = ax.bar(range(len(months)), list(t.revenue.values()), color="#386fa4")
    labels = [f"{m} (partial)" if m == t.partial_month else m for m in months]
    if t.partial_month:  # the as-of date's month is not over: drawn hatched and labelled
        bar = bars[months.index(t.partial_month)]
        bar.set(color="#a9c2dc", hatch="//", edgecolor="#386fa4")
        ax.annotate(
            f"partial: to {t.as_of}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=7,
        )
    step = max(1, len(months) // 12)
    ticks = sorted(
        {*range(0, len(months), step), *([months.index(t.partial_month)] if t.partial_month else [])}
    )
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45, ha="right", fontsize=8)
    return _finish(fig, ax, f"{t.tenant}: net revenue by month (invoices minus credit notes)", path)


def open_warehouse(warehouse: kontor.Warehouse | Path) -> kontor.Warehouse:
    """`warehouse` as `kontor.open` gives it (a DuckDB file is opened read-only); `ReportError` otherwise."""
    if isinstance(warehouse, kontor.Warehouse):
        return warehouse
    try:
        return kontor.open(warehouse)
    except (kontor.WarehouseNotFound, WarehouseUnreachable) as exc:
        raise ReportError(str(exc)) from exc


def render(warehouse: kontor.Warehouse | Path, out_dir: Path) -> Report:
    """Write per tenant `<tenant>.html` with `<tenant>_aging.png` and `<tenant>_revenue.png`, the
    `index.html` linking them, and `report.json` to out_dir. `warehouse`: what `kontor.open()` returns
    (a DuckDB snapshot or the PostgreSQL database) or a DuckDB file."""
    wh = open_warehouse(warehouse)
    tenants = read_marts(wh)
    out_dir.mkdir(parents=True, exist_ok=True)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    common = {"buckets": BUCKETS, "warehouse": str(wh), "generated": generated}
    for t in tenants:
        if t.aging:
            t.aging_png = f"{t.tenant}_aging.png"
            t.drawn["aging"] = _aging_chart(t, out_dir / t.aging_png)
        if t.revenue:
            t.revenue_png = f"{t.tenant}_revenue.png"
            t.drawn["revenue"] = _revenue_chart(t, out_dir / t.revenue_png)
        t.page = f"{t.tenant}.html"
        (out_dir / t.page).write_text(
            env.get_template("tenant.html.j2").render(t=t, **common), encoding="utf-8"
        )
    html = out_dir / "index.html"
    html.write_text(env.get_template("index.html.j2").render(tenants=tenants, **common), encoding="utf-8")
    report = Report(str(wh), generated, tenants, str(html))
    (out_dir / "report.json").write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
    return report
