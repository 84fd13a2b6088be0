"""The analysts' tools on a PostgreSQL warehouse (`warehouse: {engine: postgres}`): `kontor.open()` reads
the marts in a read-only session and a write is refused, `make report` draws the same numbers from
PostgreSQL as from DuckDB for the same books, and `make sql` opens Harlequin's postgres adapter read-only
in a real terminal - the URL's password never on a command line, in output or in the report.

The books: the small raw fixture, built by dbt into a DuckDB warehouse; the same raw rows copied into a
fresh PostgreSQL database (typed as dlt's postgres destination types them) and built there by
dbt-postgres. PostgreSQL through KONTOR_TEST_POSTGRES (tests/services.py): own database, dropped
afterwards; without a server the tests skip with one line, under CI=true they fail."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg2
import pytest

import kontor
from bench.bench_transforms import copy_raw
from core.config import ConfigError, load_config
from core.warehouse import WarehouseUnreachable, console_target, snapshot_path
from kontor.__main__ import adapter_installed, missing_adapter
from kontor.__main__ import main as kontor_main
from report.__main__ import main as report_main
from report.render import ReportError, render
from tests import raw_fixtures as fx
from tests.conftest import terminal_env
from tests.dbt_warehouse import fixture_warehouse
from tests.services import postgres_database
from transforms.project import build

ROOT = Path(__file__).resolve().parent.parent
URL_ENV = "KONTOR_TEST_TOOLS_WAREHOUSE_URL"
SECRET = "pw-" + uuid.uuid4().hex[:12]  # a password in the URL (trust auth ignores it): never shown
AS_OF = dt.date(2025, 12, 15)  # mid-month: the report marks December partial
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[A-Za-z]")


def with_password(url: str, port: int | None = None) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{port or parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def write_config(folder: Path) -> Path:
    path = folder / "kontor.yaml"
    path.write_text(
        textwrap.dedent(f"""
        warehouse: {{engine: postgres, url_env: {URL_ENV}, data_dir: state}}
        tenants:
          - {{name: acme, base_url: 'http://127.0.0.1:9', api_key_env: UNUSED}}
        """),
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    """(the DuckDB snapshot, the PostgreSQL admin URL, kontor.yaml) of the same books built on each engine;
    KONTOR_CONFIG and the URL's variable set for the module."""
    folder = tmp_path_factory.mktemp("pgtools")
    duck = folder / "warehouse.duckdb"
    assert fixture_warehouse(duck, fx.load_small_fixture, as_of=AS_OF).ok
    mp = pytest.MonkeyPatch()
    try:
        with postgres_database("tools") as url:
            copy_raw(duck, url)
            config = write_config(folder)
            mp.setenv(URL_ENV, with_password(url))
            mp.setenv("KONTOR_CONFIG", str(config))
            result = build(load_config(config).warehouse, AS_OF)
            assert result.ok, [(n.name, n.message) for n in result.nodes if n.blocks][:5]
            yield snapshot_path(duck), url, config
    finally:
        mp.undo()


def admin_rows(url: str, sql: str) -> list[tuple]:
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def test_the_books_are_the_same_on_both_engines(books):
    """The premise of the comparisons below: the same documents kept and the same ones quarantined (a
    voucherDate '03.12.2025' is malformed on PostgreSQL too, not read as March 12th)."""
    snapshot, url, _ = books
    queries = (
        "SELECT id FROM cdm.invoices ORDER BY 1",
        "SELECT remote_id, field, reason FROM quarantine.issues ORDER BY 1, 2, 3",
    )
    with duckdb.connect(str(snapshot), read_only=True) as con:
        duck = [con.execute(q).fetchall() for q in queries]
    assert [admin_rows(url, q) for q in queries] == duck
    assert (fx.I_BADDATE, "voucherDate", "malformed date") in duck[1]


def test_kontor_open_reads_the_postgres_marts_and_cannot_write(books):
    _, url, _ = books
    wh = kontor.open()
    assert wh.engine == "postgres" and wh.path is None
    assert URL_ENV in str(wh) and SECRET not in str(wh)
    aging = wh.mart("ar_aging")
    assert len(aging) == admin_rows(url, "SELECT count(*) FROM marts.ar_aging")[0][0] > 0
    assert {"tenant_id", "not_yet_due_amount"} <= set(aging.columns)
    assert aging["total_open_amount"].dtype == float  # NUMERIC as float, as DuckDB's DECIMAL
    by_tenant = wh.sql(
        "SELECT tenant_id, count(*) AS n FROM cdm.invoices WHERE tenant_id = ? GROUP BY 1", ["acme"]
    )
    assert by_tenant["tenant_id"].tolist() == ["acme"] and by_tenant["n"].iloc[0] > 0
    assert {"cdm", "marts"} <= set(wh.tables()["schema"])
    with wh.connect() as con:  # DB-API rows, as on DuckDB
        assert con.execute("SELECT count(*) FROM marts.ar_aging").fetchall() == [(len(aging),)]
    invoices = admin_rows(url, "SELECT count(*) FROM cdm.invoices")[0][0]
    for write in ("CREATE TABLE marts.scratch AS SELECT 1", "DELETE FROM cdm.invoices"):
        with pytest.raises(psycopg2.Error, match="read-only transaction"):
            wh.sql(write)
    assert admin_rows(url, "SELECT count(*) FROM cdm.invoices")[0][0] == invoices
    assert not admin_rows(url, "SELECT 1 FROM pg_tables WHERE tablename = 'scratch'")
    with pytest.raises(ValueError, match=r"\? with a list"):
        wh.sql("SELECT $t AS t", {"t": "acme"})


def test_kontor_open_explains_an_unset_or_unreachable_database(books, monkeypatch):
    _, url, _ = books
    monkeypatch.setenv(URL_ENV, with_password(url, port=9))  # nothing listens there
    with pytest.raises(WarehouseUnreachable) as caught:
        kontor.open()
    assert "not reachable" in str(caught.value) and SECRET not in str(caught.value)
    assert ":***@" in str(caught.value) and URL_ENV in str(caught.value)
    monkeypatch.delenv(URL_ENV)
    with pytest.raises(ConfigError, match=URL_ENV):
        kontor.open()


def test_report_from_postgres_draws_the_duckdb_numbers(books, tmp_path):
    snapshot, _, _ = books
    pg = render(kontor.open(), tmp_path / "pg")
    duck = render(snapshot, tmp_path / "duck")
    assert [t.tenant for t in pg.tenants] == [t.tenant for t in duck.tenants] and pg.tenants
    assert any(t.aging["not_yet_due"] > 0 for t in pg.tenants), "the books have items not yet due"
    for p, d in zip(pg.tenants, duck.tenants, strict=True):
        assert (p.as_of, p.partial_month) == (d.as_of, d.partial_month)
        assert p.open_amount == pytest.approx(d.open_amount, abs=0.005) and p.open_amount > 0
        assert p.aging == pytest.approx(d.aging, abs=0.005)
        assert p.revenue == pytest.approx(d.revenue, abs=0.005) and p.revenue
        assert list(p.revenue) == list(d.revenue)  # the same months in the same order
        for chart in ("aging", "revenue"):
            assert p.drawn[chart] == pytest.approx(d.drawn[chart], abs=0.005)
        for png in (p.aging_png, p.revenue_png):
            assert (tmp_path / "pg" / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    acme = next(t for t in pg.tenants if t.tenant == "acme")
    assert (acme.as_of, acme.partial_month) == ("2025-12-15", "2025-12")
    assert SECRET not in (tmp_path / "pg" / "report.json").read_text(encoding="utf-8")
    assert URL_ENV in (tmp_path / "pg" / "index.html").read_text(encoding="utf-8")


def test_make_report_on_postgres_and_a_database_without_marts(books, tmp_path, capsys, monkeypatch):
    assert report_main(["--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "acme: open receivables" in out and (tmp_path / "out" / "index.html").exists()
    assert SECRET not in out
    with postgres_database("nomarts") as empty:
        monkeypatch.setenv(URL_ENV, with_password(empty))
        with pytest.raises(ReportError, match="no marts yet"):
            render(kontor.open(), tmp_path / "none")
        assert report_main(["--out", str(tmp_path / "none")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "build the models" in err and SECRET not in err


def test_make_sql_on_postgres_is_harlequins_postgres_adapter_read_only(books, capsys):
    _, url, _ = books
    assert kontor_main(["sql", "--print"]) == 0
    out = capsys.readouterr().out
    cmd = out.split()
    assert cmd[1:3] == ["--adapter", "postgres"] and "--read-only" in cmd
    assert SECRET not in out and urlsplit(cmd[-1]).path == urlsplit(url).path  # the database, no password
    target = console_target(kontor.open().target)
    assert (
        target.env["PGPASSWORD"] == SECRET and "default_transaction_read_only=on" in target.env["PGOPTIONS"]
    )
    assert adapter_installed("postgres"), "harlequin-postgres comes with the setup (extra `postgres`)"
    hint = missing_adapter(target)
    assert "\n" not in hint and "pip install -e '.[postgres]'" in hint and f'psql "${URL_ENV}"' in hint
    assert SECRET not in hint


def read_screen(master: int, proc: subprocess.Popen, raw: bytes, done, seconds: float = 90) -> bytes:
    """Read the terminal until `done(screen)` (the screen without escape codes), or fail with its end."""
    deadline = time.monotonic() + seconds
    while not done(ANSI.sub("", raw.decode(errors="replace"))):
        assert time.monotonic() < deadline, ANSI.sub("", raw.decode(errors="replace"))[-2000:]
        if select.select([master], [], [], 0.5)[0]:
            raw += os.read(master, 65536)
        assert proc.poll() is None, f"exited {proc.returncode}: {raw.decode(errors='replace')[-2000:]}"
    return raw


def test_make_sql_opens_the_postgres_warehouse_in_a_terminal(books):
    """`python -m kontor sql` itself in a pseudo-terminal: Harlequin connects (read-only: its postgres
    adapter refuses to start otherwise), lists the database in its catalogue and runs a query typed into
    its editor on the marts, in a read-only session; the password is in no command line."""
    _, url, config = books
    database = urlsplit(url).path.lstrip("/")
    rows = admin_rows(url, "SELECT count(*) FROM marts.ar_aging")[0][0]
    assert rows > 0
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kontor", "sql"],
        cwd=ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=terminal_env({**os.environ, "KONTOR_CONFIG": str(config)}),
        start_new_session=True,
    )
    try:
        catalogue = re.compile(rf"{database}\s+db")  # the catalogue's entry (the first line has no "db")
        raw = read_screen(master, proc, b"", lambda s: "Database Connected" in s and catalogue.search(s))
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()  # harlequin, after the exec
        sessions = admin_rows(
            url,
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()",
        )
        time.sleep(1)  # the editor takes the keys once drawn
        os.write(
            master,
            b"SELECT count(*) + 4200 AS n, current_setting('default_transaction_read_only') AS ro "
            b"FROM marts.ar_aging",
        )
        time.sleep(0.5)
        os.write(master, b"\n")  # ctrl+j: run the query
        answer = re.compile(rf"\b{rows + 4200}\s+on\b")
        raw = read_screen(master, proc, raw, answer.search, seconds=30)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        os.close(master)
        os.close(slave)
    screen = ANSI.sub("", raw.decode(errors="replace"))
    assert "harlequin" in cmdline and "postgres" in cmdline and SECRET not in cmdline
    assert ":***@" in screen and SECRET not in screen  # the first line names the database, redacted
    assert ("kontor-sql",) in sessions, sessions  # the client's settings reached libpq (PGAPPNAME)
