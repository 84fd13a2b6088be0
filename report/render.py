"""The analyst report: receivables aging and revenue by month per tenant, read from the marts with
SQL, drawn as PNG charts (matplotlib, Agg) and gathered on one HTML page (jinja2).

`render(warehouse, out_dir)` returns the numbers it read and the bar heights it actually drew (taken
from the charts' axes; also in `report.json`), so a reader or a test can hold every bar against a
query on the marts.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from matplotlib.ticker import StrMethodFormatter

BUCKETS = {"bucket_0_30": "0-30 days", "bucket_31_60": "31-60", "bucket_61_90": "61-90",
           "bucket_90_plus": "90+"}
AGING_SQL = f"""
SELECT tenant_id, any_value(as_of_date)::VARCHAR AS as_of_date,
       {", ".join(f"sum({b})::DOUBLE AS {b}" for b in BUCKETS)}
FROM marts.ar_aging GROUP BY tenant_id ORDER BY tenant_id
"""
REVENUE_SQL = """
SELECT tenant_id, strftime(month, '%Y-%m') AS month, sum(net_amount)::DOUBLE AS net_amount
FROM marts.revenue_by_month GROUP BY ALL ORDER BY tenant_id, month
"""
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class TenantReport:
    tenant: str
    as_of: str | None = None
    aging: dict[str, float] = field(default_factory=dict)  # bucket column -> open amount
    revenue: dict[str, float] = field(default_factory=dict)  # yyyy-mm -> net revenue
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


def read_marts(warehouse: Path) -> list[TenantReport]:
    """Aging buckets and monthly net revenue per tenant, straight from the marts."""
    if not warehouse.exists():
        raise ReportError(f"{warehouse} does not exist: run `make demo` or `make sync` first")
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error as exc:
        raise ReportError(f"cannot open {warehouse} read-only ({exc}); read the snapshot instead") from exc
    try:
        aging = con.execute(AGING_SQL).fetchall()
        revenue = con.execute(REVENUE_SQL).fetchall()
    except duckdb.CatalogException as exc:
        raise ReportError(f"{warehouse} has no marts yet (build the models: job kontor_transform)") from exc
    finally:
        con.close()
    tenants: dict[str, TenantReport] = {}
    for tenant, as_of, *amounts in aging:
        tenants[tenant] = TenantReport(tenant, as_of, dict(zip(BUCKETS, amounts, strict=True)))
    for tenant, month, net in revenue:
        tenants.setdefault(tenant, TenantReport(tenant)).revenue[month] = net
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
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    bars = ax.bar(list(BUCKETS.values()), list(t.aging.values()),
                  color=["#4c956c", "#f4a259", "#e76f51", "#9d0208"])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in t.aging.values()], fontsize=8)
    return _finish(fig, ax, f"{t.tenant}: open receivables by days past due (as of {t.as_of})", path)


def _revenue_chart(t: TenantReport, path: Path) -> list[float]:
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    months = list(t.revenue)
    ax.bar(range(len(months)), list(t.revenue.values()), color="#386fa4")
    step = max(1, len(months) // 12)
    ax.set_xticks(range(0, len(months), step), months[::step], rotation=45, ha="right", fontsize=8)
    return _finish(fig, ax, f"{t.tenant}: net revenue by month (invoices minus credit notes)", path)


def render(warehouse: Path, out_dir: Path) -> Report:
    """Write `<tenant>_aging.png`, `<tenant>_revenue.png`, `index.html` and `report.json` to out_dir."""
    tenants = read_marts(warehouse)
    out_dir.mkdir(parents=True, exist_ok=True)
    for t in tenants:
        if t.aging:
            t.aging_png = f"{t.tenant}_aging.png"
            t.drawn["aging"] = _aging_chart(t, out_dir / t.aging_png)
        if t.revenue:
            t.revenue_png = f"{t.tenant}_revenue.png"
            t.drawn["revenue"] = _revenue_chart(t, out_dir / t.revenue_png)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = out_dir / "index.html"
    html.write_text(env.get_template("report.html.j2").render(
        tenants=tenants, buckets=BUCKETS, warehouse=str(warehouse), generated=generated), encoding="utf-8")
    report = Report(str(warehouse), generated, tenants, str(html))
    (out_dir / "report.json").write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
    return report
