"""The analyst report: PNGs and HTML exist, are real images, and plot exactly the marts' numbers; the
aging buckets (with "not yet due") add up to the open amount; a month the as-of date cuts is marked
partial; one page per tenant, linked from the index. Also `kontor.open()`, the analysts' pandas API."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import kontor
from report.__main__ import main as report_main
from report.render import BUCKETS, partial_month, render
from tests import raw_fixtures as fx
from tests.dbt_warehouse import fixture_warehouse

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "warehouse.duckdb"
    assert fixture_warehouse(path, fx.load_small_fixture, as_of=dt.date(2025, 12, 15)).ok  # mid-month
    return path


def test_charts_and_page_plot_the_marts_numbers(warehouse, tmp_path):
    report = render(warehouse, tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        aging = {
            t: [float(x) for x in rest]
            for t, *rest in con.execute(
                "SELECT tenant_id, sum(not_yet_due_amount), sum(bucket_0_30 - not_yet_due_amount), "
                "sum(bucket_31_60), sum(bucket_61_90), sum(bucket_90_plus) FROM marts.ar_aging GROUP BY 1"
            ).fetchall()
        }
        open_amount = dict(
            con.execute(
                "SELECT tenant_id, sum(total_open_amount)::DOUBLE FROM marts.ar_aging GROUP BY 1"
            ).fetchall()
        )
        revenue = {
            (t, m): float(v)
            for t, m, v in con.execute(
                "SELECT tenant_id, strftime(month, '%Y-%m'), sum(net_amount) FROM marts.revenue_by_month "
                "GROUP BY ALL"
            ).fetchall()
        }
    assert aging and revenue, "the fixture must give the report something to draw"
    assert {t.tenant for t in report.tenants} == set(aging) | {t for t, _ in revenue}
    for t in report.tenants:
        assert list(t.aging.values()) == pytest.approx(aging[t.tenant], abs=0.005)
        assert t.open_amount == pytest.approx(open_amount[t.tenant], abs=0.005)
        assert sum(t.aging.values()) == pytest.approx(t.open_amount, abs=0.005)  # buckets add up
        assert t.revenue == pytest.approx(
            {m: v for (tt, m), v in revenue.items() if tt == t.tenant}, abs=0.005
        )
        # the bars as drawn on the charts' axes, left to right: buckets in order, months in order
        assert t.drawn["aging"] == pytest.approx(aging[t.tenant], abs=0.005)
        assert t.drawn["revenue"] == pytest.approx(
            [v for (tt, _), v in sorted(revenue.items()) if tt == t.tenant], abs=0.005
        )
        assert list(t.revenue) == sorted(t.revenue)  # months in order on the x axis
        for png in (t.aging_png, t.revenue_png):
            data = (tmp_path / png).read_bytes()
            assert data.startswith(PNG_MAGIC) and len(data) > 5_000
    assert next(iter(BUCKETS.values())) == "not yet due"
    assert any(t.aging["not_yet_due"] > 0 for t in report.tenants), "the fixture has items not yet due"
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    for t in report.tenants:
        assert f'href="{t.tenant}.html"' in index
        page = (tmp_path / f"{t.tenant}.html").read_text(encoding="utf-8")
        assert f'src="{t.aging_png}"' in page and f'src="{t.revenue_png}"' in page
        assert f"{t.open_amount:,.2f}" in page  # the total under the aging chart: the open amount
        assert 'href="index.html"' in page
        assert all(f'src="{o.aging_png}"' not in page for o in report.tenants if o is not t)
    assert json.loads((tmp_path / "report.json").read_text())["tenants"][0]["aging"]


def test_cli_renders_from_a_given_file_and_explains_a_missing_one(warehouse, tmp_path, capsys):
    assert report_main(["--warehouse", str(warehouse), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").exists()
    assert report_main(["--warehouse", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path)]) == 2
    assert "does not exist: run `make demo`" in capsys.readouterr().err


def test_the_month_the_as_of_date_cuts_is_marked_partial(warehouse, tmp_path):
    report = render(warehouse, tmp_path)
    acme = next(t for t in report.tenants if t.tenant == "acme")
    assert (acme.as_of, acme.partial_month) == ("2025-12-15", "2025-12")
    page = (tmp_path / "acme.html").read_text(encoding="utf-8")
    assert "2025-12 (partial: to 2025-12-15)" in page and "2025-11 (partial" not in page
    assert "2025-12 partial" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert partial_month("2025-12-31") is None and partial_month("2024-02-28") == "2024-02"


def test_kontor_open_returns_dataframes_read_only(warehouse):
    wh = kontor.open(warehouse)
    aging = wh.mart("ar_aging")
    assert isinstance(aging, pd.DataFrame) and {"tenant_id", "not_yet_due_amount"} <= set(aging.columns)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert len(aging) == con.execute("SELECT count(*) FROM marts.ar_aging").fetchone()[0]
    by_tenant = wh.sql(
        "SELECT tenant_id, count(*) AS n FROM cdm.invoices WHERE tenant_id = ? GROUP BY 1", ["acme"]
    )
    assert by_tenant["tenant_id"].tolist() == ["acme"] and by_tenant["n"].iloc[0] > 0
    assert {"cdm", "marts"} <= set(wh.tables()["schema"])
    with pytest.raises(duckdb.Error, match="read-only"):
        wh.sql("CREATE TABLE marts.scratch AS SELECT 1")
    with pytest.raises(ValueError, match=r"schema\.table"):
        wh.table("ar_aging; DROP TABLE x")
    with pytest.raises(kontor.WarehouseNotFound, match="make demo"):
        kontor.open(warehouse.with_name("missing.duckdb"))


def test_kontor_open_reads_while_a_writer_holds_the_warehouse(warehouse, tmp_path):
    """The snapshot is what analysts open: a job holding the warehouse for writing does not block it."""
    snapshot = tmp_path / "warehouse.snapshot.duckdb"
    shutil.copy(warehouse, snapshot)
    with duckdb.connect(str(warehouse)):  # a writer holds the warehouse file
        assert len(kontor.open(snapshot).mart("revenue_by_month")) > 0


def test_the_readmes_python_example_runs_as_written(warehouse, tmp_path, monkeypatch):
    """The first-hour section's `kontor.open()` block, against a config whose warehouse has a snapshot."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    first_hour = readme[readme.index("## Your first hour") : readme.index("**Five example queries**")]
    block = re.search(r"```python\n(.*?)```", first_hour, re.S)[1]
    shutil.copy(warehouse, tmp_path / "warehouse.snapshot.duckdb")
    (tmp_path / "kontor.yaml").write_text(
        "warehouse: warehouse.duckdb\ntenants:\n  - {name: acme, base_url: 'http://127.0.0.1:9', "
        "api_key_env: UNUSED}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("KONTOR_CONFIG", str(tmp_path / "kontor.yaml"))
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["wh"].path == tmp_path / "warehouse.snapshot.duckdb"
    assert len(scope["aging"]) > 0
