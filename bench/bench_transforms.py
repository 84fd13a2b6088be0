"""Transform benchmark: 1,000,000 invoices with 5,000,000 lines (plus voucher list, payments and
contacts) generated in DuckDB SQL straight into the raw tables, then ``dbt build`` (staging + CDM + marts
and every dbt test) timed, with dbt's own overhead (parse, per-node startup) printed separately.

    .venv/bin/python bench/bench_transforms.py [--invoices 1000000] [--memory-limit 1500MB] [--threads 2]
        [--engine duckdb|postgres]

Generation runs in a child process, so the reported peak memory (max RSS) is the build's alone.
``--engine postgres`` copies the generated raw tables into a fresh database ``kontor_bench_<random>`` (with
the column types dlt's postgres destination gives them) on the server KONTOR_BENCH_POSTGRES names (an admin
URL, default postgresql://postgres@127.0.0.1:5432/postgres), builds there with dbt's postgres target and
drops the database at the end; the server's CPU (its backends for this database) is reported too.
"""

import argparse
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.project import TARGET_DIR, build, build_args, dbt_environment, invoke, outcomes

AS_OF = dt.date(2025, 12, 31)
CONTACTS = 10_000
LINES_PER_INVOICE = 5

GENERATE = """
CREATE SCHEMA raw_lexware;
CREATE TABLE raw_lexware._dlt_loads AS
    SELECT '1' AS load_id, 'lexware' AS schema_name, 0 AS status, now() AS inserted_at;
CREATE TABLE raw_lexware.contacts AS
SELECT 'bench' AS tenant_id, 'lexware' AS source_system, printf('c0000000-0000-4000-8000-%012d', c) AS id,
    1::BIGINT AS version,
    to_json({'id': printf('c0000000-0000-4000-8000-%012d', c), 'version': 1,
             'roles': {'customer': {'number': 10000 + c}},
             'company': {'name': 'Kunde ' || c, 'vatRegistrationId': 'DE' || (100000000 + c)},
             'addresses': {'billing': [{'street': 'Weg ' || c, 'zip': '20457', 'city': 'Hamburg',
                                        'countryCode': 'DE'}]},
             'emailAddresses': {'business': ['k' || c || '@example.com']}, 'archived': false}) AS raw,
    false AS is_deleted, '1' AS _dlt_load_id
FROM range($CONTACTS) AS t (c);
CREATE TABLE bench_docs AS
SELECT i, printf('10000000-0000-4000-8000-%012d', i) AS id,
    printf('c0000000-0000-4000-8000-%012d', i % $CONTACTS) AS contact,
    DATE '2023-01-01' + (i % 1000)::INTEGER AS day,
    CASE WHEN i % 10 = 0 THEN 'draft' WHEN i % 10 = 1 THEN 'voided'
        WHEN i % 10 < 6 THEN 'paid' ELSE 'open' END AS status,
    list_transform(range($LINES), lambda k: {'q': k + 1, 'p': (10 + i % 97 + k)::DECIMAL(18, 2)}) AS ls
FROM range($INVOICES) AS t (i);
CREATE TABLE bench_totals AS
SELECT *, list_sum(list_transform(ls, lambda l: l.q * l.p))::DECIMAL(18, 2) AS net,
    round(list_sum(list_transform(ls, lambda l: l.q * l.p)) * 0.19, 2)::DECIMAL(18, 2) AS tax
FROM bench_docs;
CREATE TABLE raw_lexware.invoices AS
SELECT 'bench' AS tenant_id, 'lexware' AS source_system, id, 2::BIGINT AS version,
    to_json({'id': id, 'version': 2, 'createdDate': strftime(day, '%Y-%m-%dT10:00:00.000+01:00'),
             'updatedDate': strftime(day, '%Y-%m-%dT11:00:00.000+01:00'), 'archived': false,
             'voucherStatus': status, 'voucherNumber': 'RE-' || i,
             'voucherDate': strftime(day, '%Y-%m-%dT00:00:00.000+01:00'),
             'dueDate': strftime(day + 14, '%Y-%m-%dT00:00:00.000+01:00'),
             'address': {'contactId': contact, 'name': 'Kunde'},
             'lineItems': list_transform(ls, lambda l: {
                 'type': 'custom', 'name': 'Position', 'quantity': l.q, 'unitName': 'Stück',
                 'unitPrice': {'currency': 'EUR', 'netAmount': l.p, 'grossAmount': round(l.p * 1.19, 4),
                               'taxRatePercentage': 19},
                 'discountPercentage': 0, 'lineItemAmount': l.q * l.p}),
             'totalPrice': {'currency': 'EUR', 'totalNetAmount': net, 'totalGrossAmount': net + tax,
                            'totalTaxAmount': tax},
             'taxAmounts': [{'taxRatePercentage': 19, 'taxAmount': tax, 'netAmount': net}],
             'taxConditions': {'taxType': 'net'}, 'paymentConditions': {'paymentTermDuration': 14},
             'shippingConditions': {'shippingDate': strftime(day, '%Y-%m-%dT00:00:00.000+01:00'),
                                    'shippingType': 'service'},
             'relatedVouchers': [], 'title': 'Rechnung'}) AS raw,
    false AS is_deleted, '1' AS _dlt_load_id
FROM bench_totals;
CREATE TABLE raw_lexware.voucherlist AS
SELECT 'bench' AS tenant_id, 'lexware' AS source_system, id, NULL::BIGINT AS version,
    to_json({'id': id, 'voucherType': 'invoice', 'voucherStatus': status, 'voucherNumber': 'RE-' || i,
             'voucherDate': strftime(day, '%Y-%m-%dT00:00:00.000+01:00'),
             'createdDate': strftime(day, '%Y-%m-%dT10:00:00.000+01:00'),
             'updatedDate': strftime(day, '%Y-%m-%dT11:00:00.000+01:00'),
             'dueDate': strftime(day + 14, '%Y-%m-%dT00:00:00.000+01:00'), 'contactId': contact,
             'contactName': 'Kunde', 'totalAmount': net + tax,
             'openAmount': CASE WHEN status = 'open' THEN net + tax
                                WHEN status = 'draft' THEN NULL ELSE 0 END,
             'currency': 'EUR', 'archived': false}) AS raw,
    false AS is_deleted, '1' AS _dlt_load_id
FROM bench_totals;
CREATE TABLE raw_lexware.payments AS
SELECT 'bench' AS tenant_id, 'lexware' AS source_system, id, NULL::BIGINT AS version,
    to_json({'openAmount': 0, 'currency': 'EUR', 'paymentStatus': 'balanced', 'voucherType': 'invoice',
             'voucherStatus': 'paid', 'paidDate': strftime(day + 10, '%Y-%m-%dT00:00:00.000+01:00'),
             'paymentItems': [{'paymentItemType': 'manualPayment',
                               'postingDate': strftime(day + 10, '%Y-%m-%dT00:00:00.000+01:00'),
                               'amount': net + tax, 'currency': 'EUR'}]}) AS raw,
    false AS is_deleted, '1' AS _dlt_load_id
FROM bench_totals WHERE status = 'paid';
CREATE TABLE raw_lexware.credit_notes AS SELECT * FROM raw_lexware.invoices LIMIT 0;
CREATE TABLE raw_lexware.vouchers AS SELECT * FROM raw_lexware.invoices LIMIT 0;
CREATE TABLE raw_lexware.posting_categories AS SELECT * FROM raw_lexware.invoices LIMIT 0;
CREATE TABLE raw_lexware.articles AS SELECT * FROM raw_lexware.invoices LIMIT 0;
DROP TABLE bench_docs;
DROP TABLE bench_totals;
"""


def generate(path: Path, invoices: int) -> None:
    with duckdb.connect(str(path)) as con:
        sql = GENERATE.replace("$INVOICES", str(invoices)).replace("$CONTACTS", str(CONTACTS))
        con.execute(sql.replace("$LINES", str(LINES_PER_INVOICE)))
        con.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--memory-limit", default="1500MB")
    parser.add_argument(
        "--threads",
        type=int,
        default=2,
        help="dbt threads (models at once; DuckDB uses every core for each model); 2, as the profile",
    )
    parser.add_argument(
        "--engine",
        choices=("duckdb", "postgres"),
        default="duckdb",
        help="where dbt builds (postgres: a scratch database on KONTOR_BENCH_POSTGRES)",
    )
    parser.add_argument("--generate-into", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_into:
        generate(Path(args.generate_into), args.invoices)
        return
    with tempfile.TemporaryDirectory(prefix="kontor-bench-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        started = time.perf_counter()
        cmd = [sys.executable, __file__, "--invoices", str(args.invoices), "--generate-into", str(path)]
        subprocess.run(cmd, check=True)
        print(
            f"generated {args.invoices:,} invoices / {args.invoices * LINES_PER_INVOICE:,} lines "
            f"in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 2**30:.2f} GiB)"
        )
        if args.engine == "postgres":
            bench_postgres(path, args.threads)
            return
        # dbt's fixed cost: a full parse under the build's own settings, so the build parses partially (as
        # every build does where the settings stay the same)
        parse = _parse(path, threads=args.threads, memory_limit=args.memory_limit)
        plain = Path(tmp) / "plain" / path.name  # the same raw tables, for the same SQL without dbt
        plain.parent.mkdir()
        shutil.copyfile(path, plain)
        started, cpu_started = time.perf_counter(), _cpu_seconds()
        result = build(path, AS_OF, threads=args.threads, memory_limit=args.memory_limit)
        wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        with duckdb.connect(str(path), read_only=True) as con:
            lines = con.execute("SELECT count(*) FROM cdm.invoice_lines").fetchone()[0]
        run_results = json.loads((TARGET_DIR / "run_results.json").read_text(encoding="utf-8"))
        phases, in_run = _phases(run_results), float(run_results.get("elapsed_time") or 0.0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
        for n in sorted(result.nodes, key=lambda n: -n.seconds)[:12]:
            print(f"  {n.name:60} {n.seconds:7.2f} s  {n.status}")
        models = [n for n in result.nodes if n.is_model]
        tests = [n for n in result.nodes if not n.is_model]
        failed = [f"{n.name}: {n.message}" for n in result.nodes if n.blocks]
        in_sql = sum(n.seconds for n in result.nodes)
        print(
            f"models={len(models)} tests={len(tests)} failed={failed or 0} cdm.invoice_lines={lines:,} "
            f"snapshot={'published' if result.published else 'NOT published'}"
        )
        print(f"dbt build wall time (models + tests + snapshot): {wall:.1f} s (target <= 20 s)")
        print(
            f"  CPU time of the build (user + system, all threads; does not grow with the machine's load): "
            f"{cpu:.1f} s, so >= {cpu / (os.cpu_count() or 1):.1f} s wall on {os.cpu_count()} idle cores"
        )
        print(
            f"  of which in nodes (SQL + dbt's per-node work, summed over {args.threads} threads): "
            f"{in_sql:.1f} s; models {sum(n.seconds for n in models):.1f} s, "
            f"tests {sum(n.seconds for n in tests):.1f} s"
        )
        print(
            f"  dbt's phases summed over the nodes: compile {phases['compile']:.1f} s, execute "
            f"{phases['execute']:.1f} s; between nodes (dbt's scheduling, hooks, cache): "
            f"{max(in_run - in_sql / args.threads, 0):.1f} s; before and after dbt's run (start-up with "
            f"a partial parse, then the snapshot copy): {wall - in_run:.1f} s"
        )
        print(
            f"dbt overhead: full parse {parse:.1f} s (a build parses partially when nothing changed), "
            f"per-node startup ~{_node_overhead(args.threads):.2f} s x {len(result.nodes)} nodes"
        )
        plain_wall = _plain_sql_seconds(plain, run_results, args.memory_limit)
        print(
            f"the same SQL without dbt (each model's compiled SQL as CREATE TABLE/VIEW, each test's as a "
            f"query, one after another on one connection): {plain_wall:.1f} s; dbt build / plain SQL = "
            f"{wall / plain_wall:.2f} (dbt's run alone {in_run / plain_wall:.2f})"
        )
        print(
            f"peak memory (max RSS): {peak:.2f} GiB (target <= 2 GiB; "
            f"DuckDB memory_limit={args.memory_limit}, dbt threads={args.threads}); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )


ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# the columns dlt's postgres destination creates for Kontor's raw tables (text -> varchar, json -> jsonb,
# bool -> boolean; dlt adds _dlt_id with a UNIQUE constraint) and for its load log
RAW_COLUMNS = (
    "tenant_id varchar NOT NULL, source_system varchar, id varchar NOT NULL, version bigint, "
    "raw jsonb, is_deleted boolean, _dlt_load_id varchar NOT NULL, _dlt_id varchar NOT NULL UNIQUE"
)
RAW_SELECT = "tenant_id, source_system, id, version, raw, is_deleted, _dlt_load_id, md5(tenant_id || id)"
LOADS_COLUMNS = (
    "load_id varchar NOT NULL, schema_name varchar, status bigint NOT NULL, "
    "inserted_at timestamp with time zone NOT NULL, schema_version_hash varchar"
)
LOADS_SELECT = "load_id, schema_name, status, inserted_at, NULL"


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """A fresh database ``kontor_bench_<random>`` on the admin URL's server (its URL), dropped on exit."""
    import psycopg2

    name = f"kontor_bench_{secrets.token_hex(4)}"
    _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        try:
            _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg2.Error as exc:
            print(f"could not drop the scratch database {name}: {exc}", file=sys.stderr)


def _admin(url: str, sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(url, connect_timeout=10)
    try:
        con.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def copy_raw(path: Path, url: str) -> None:
    """The generated raw tables, typed as dlt's postgres destination types them: DuckDB writes each as
    CSV, PostgreSQL reads it with COPY FROM STDIN; then ANALYZE (as autovacuum would after a load)."""
    import psycopg2

    pg = psycopg2.connect(url)
    try:
        with duckdb.connect(str(path), read_only=True) as duck, pg.cursor() as cur:
            cur.execute("CREATE SCHEMA raw_lexware")
            tables = [
                r[0]
                for r in duck.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw_lexware'"
                ).fetchall()
            ]
            for table in tables:
                loads = table == "_dlt_loads"
                cur.execute(f"CREATE TABLE raw_lexware.{table} ({LOADS_COLUMNS if loads else RAW_COLUMNS})")
                csv = path.with_name(f"{table}.csv")
                duck.execute(
                    f"COPY (SELECT {LOADS_SELECT if loads else RAW_SELECT} FROM raw_lexware.{table}) "
                    f"TO '{csv}' (FORMAT csv, HEADER false)"
                )
                with csv.open("rb") as f:
                    cur.copy_expert(f"COPY raw_lexware.{table} FROM STDIN WITH (FORMAT csv)", f)
                csv.unlink()
            pg.commit()
    finally:
        pg.close()
    _admin(url, "ANALYZE")


class ServerCpu:
    """CPU seconds (user + system) of the PostgreSQL backends serving one database, and of the parallel
    workers they start, sampled every 0.2 s (a process's last < 0.2 s before it exits is missed)."""

    def __init__(self, database: str) -> None:
        self.database, self.seen, self._stop = database, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "ServerCpu":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            for proc in psutil.process_iter(["name", "cmdline"]):
                if proc.info["name"] != "postgres":
                    continue
                title = " ".join(proc.info["cmdline"] or ())
                ours = f" {self.database} " in title or any(
                    title.endswith(f"parallel worker for PID {pid}") for pid in self.seen
                )
                if ours:
                    try:
                        t = proc.cpu_times()
                    except psutil.Error:
                        continue
                    self.seen[proc.pid] = t.user + t.system


def server_cpu_total() -> float:
    """CPU seconds of every PostgreSQL server process here so far (exited backends via their parent)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name", "ppid"]):
        try:
            if proc.info["name"] == "postgres" and psutil.Process(proc.info["ppid"]).name() != "postgres":
                t = proc.cpu_times()
                total += (
                    t.user
                    + t.system
                    + t.children_user
                    + t.children_system
                    + sum(c.cpu_times().user + c.cpu_times().system for c in proc.children())
                )
        except psutil.Error:
            continue
    return total


def bench_postgres(path: Path, threads: int) -> None:
    """Copy the generated raw tables into a scratch PostgreSQL database and time ``dbt build`` there."""
    import psycopg2

    admin = os.environ.get("KONTOR_BENCH_POSTGRES", ADMIN_URL)
    try:
        _admin(admin, "SELECT 1")
    except psycopg2.Error as exc:
        sys.exit(f"PostgreSQL at KONTOR_BENCH_POSTGRES is not reachable: {str(exc).strip()}")
    with scratch_database(admin) as url:
        started = time.perf_counter()
        copy_raw(path, url)
        print(
            f"copied the raw tables into PostgreSQL ({urlsplit(url).path[1:]}) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        parse = _parse(path, url, threads=threads)
        server_started = server_cpu_total()
        with (
            ServerCpu(urlsplit(url).path[1:]) as server,
            dbt_environment(path, threads, postgres_url=url, as_of=AS_OF),
        ):
            started, cpu_started = time.perf_counter(), _cpu_seconds()
            nodes = outcomes(invoke(build_args()))
            wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
        server_total = server_cpu_total() - server_started
        pg = psycopg2.connect(url)
        try:
            with pg.cursor() as cur:
                cur.execute("SELECT count(*) FROM cdm.invoice_lines")
                lines = cur.fetchone()[0]
        finally:
            pg.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    for n in sorted(nodes, key=lambda n: -n.seconds)[:12]:
        print(f"  {n.name:60} {n.seconds:7.2f} s  {n.status}")
    models = [n for n in nodes if n.is_model]
    failed = [f"{n.name}: {n.message}" for n in nodes if n.blocks]
    print(
        f"models={len(models)} tests={len(nodes) - len(models)} failed={failed or 0} "
        f"cdm.invoice_lines={lines:,}"
    )
    print(
        f"dbt build on PostgreSQL wall time (models + tests): {wall:.1f} s; in nodes "
        f"{sum(n.seconds for n in nodes):.1f} s (models {sum(n.seconds for n in models):.1f} s)"
    )
    print(
        f"  CPU time: dbt (this process) {cpu:.1f} s; PostgreSQL backends of this database "
        f"{server.seconds:.1f} s; the whole PostgreSQL server {server_total:.1f} s (includes other clients)"
    )
    print(
        f"dbt overhead: full parse {parse:.1f} s; peak memory of dbt (max RSS) {peak:.2f} GiB; "
        f"dbt threads={threads}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _phases(run_results: dict) -> dict[str, float]:
    """Seconds per dbt phase (compile: Jinja and ref resolution; execute: SQL and materialization)."""
    totals = {"compile": 0.0, "execute": 0.0}
    for result in run_results.get("results", []):
        for t in result.get("timing", []):
            if t["name"] in totals and t.get("started_at") and t.get("completed_at"):
                span = dt.datetime.fromisoformat(t["completed_at"].rstrip("Z")) - dt.datetime.fromisoformat(
                    t["started_at"].rstrip("Z")
                )
                totals[t["name"]] += span.total_seconds()
    return totals


def _plain_sql_seconds(path: Path, run_results: dict, memory_limit: str) -> float:
    """Seconds to run what the build ran, without dbt: every model's compiled SQL materialized as dbt did
    (table or view) and every test's query, in the build's order, on the raw tables in ``path``."""
    manifest = json.loads((TARGET_DIR / "manifest.json").read_text(encoding="utf-8"))["nodes"]
    with duckdb.connect(str(path), config={"memory_limit": memory_limit}) as con:
        started = time.perf_counter()
        for r in run_results["results"]:
            node = manifest.get(r["unique_id"])
            if node is None or r["status"] not in ("success", "pass", "warn", "fail"):
                continue
            if node["resource_type"] == "model":
                kind = "VIEW" if node["config"]["materialized"] == "view" else "TABLE"
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{node["schema"]}"')
                con.execute(f"CREATE OR REPLACE {kind} {r['relation_name']} AS {r['compiled_code']}")
            else:
                con.execute(f"SELECT count(*) FROM ({r['compiled_code']})").fetchall()
        return time.perf_counter() - started


def _parse(
    path: Path, postgres_url: str | None = None, threads: int | None = None, memory_limit: str | None = None
) -> float:
    """Seconds of a full ``dbt parse`` against this warehouse with the build's settings (dbt re-parses
    everything when a profile setting changes, so the build after it parses partially)."""
    with dbt_environment(path, threads, memory_limit, postgres_url=postgres_url, as_of=AS_OF):
        started = time.perf_counter()
        invoke(["parse", "--no-partial-parse"])
        return time.perf_counter() - started


def _node_overhead(threads: int) -> float:
    """dbt's cost per node where the SQL costs nothing: a build on empty raw tables, per node."""
    with tempfile.TemporaryDirectory(prefix="kontor-bench-empty-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        cmd = [sys.executable, __file__, "--invoices", "0", "--generate-into", str(path)]
        subprocess.run(cmd, check=True)
        _parse(path, threads=threads)
        started = time.perf_counter()
        result = build(path, AS_OF, threads=threads)
        return (time.perf_counter() - started) / max(len(result.nodes), 1)


if __name__ == "__main__":
    main()
