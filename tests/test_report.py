"""The analyst report: PNGs and HTML exist, are real images, and plot exactly the marts' numbers."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from report.__main__ import main as report_main
from report.render import BUCKETS, render
from tests import raw_fixtures as fx
from tests.dbt_warehouse import fixture_warehouse

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    assert fixture_warehouse(path, fx.load_small_fixture, as_of=dt.date(2025, 12, 31)).ok
    return path


def test_charts_and_page_plot_the_marts_numbers(warehouse, tmp_path):
    report = render(warehouse, tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        aging = {t: [float(x) for x in rest] for t, *rest in con.execute(
            f"SELECT tenant_id, {', '.join(f'sum({b})' for b in BUCKETS)} FROM marts.ar_aging GROUP BY 1"
        ).fetchall()}
        revenue = {(t, m): float(v) for t, m, v in con.execute(
            "SELECT tenant_id, strftime(month, '%Y-%m'), sum(net_amount) FROM marts.revenue_by_month "
            "GROUP BY ALL").fetchall()}
    assert aging and revenue, "the fixture must give the report something to draw"
    assert {t.tenant for t in report.tenants} == set(aging) | {t for t, _ in revenue}
    for t in report.tenants:
        assert list(t.aging.values()) == pytest.approx(aging[t.tenant], abs=0.005)
        assert t.revenue == pytest.approx({m: v for (tt, m), v in revenue.items() if tt == t.tenant},
                                          abs=0.005)
        # the bars as drawn on the charts' axes, left to right: buckets in order, months in order
        assert t.drawn["aging"] == pytest.approx(aging[t.tenant], abs=0.005)
        assert t.drawn["revenue"] == pytest.approx(
            [v for (tt, _), v in sorted(revenue.items()) if tt == t.tenant], abs=0.005)
        assert list(t.revenue) == sorted(t.revenue)  # months in order on the x axis
        for png in (t.aging_png, t.revenue_png):
            data = (tmp_path / png).read_bytes()
            assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    for t in report.tenants:
        assert f'src="{t.aging_png}"' in page and f'src="{t.revenue_png}"' in page
        assert f"{sum(t.aging.values()):,.2f}" in page  # the total under the aging chart
    assert json.loads((tmp_path / "report.json").read_text())["tenants"][0]["aging"]


def test_cli_renders_from_a_given_file_and_explains_a_missing_one(warehouse, tmp_path, capsys):
    assert report_main(["--warehouse", str(warehouse), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").exists()
    assert report_main(["--warehouse", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path)]) == 2
    assert "does not exist: run `make demo`" in capsys.readouterr().err
