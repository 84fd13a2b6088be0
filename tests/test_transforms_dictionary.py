"""docs/data-dictionary.md lists exactly the built columns of every cdm/marts/quarantine table, and the
example queries in docs/analyst-queries.md run as written on the fixture warehouse."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from tests import raw_fixtures as fx
from transforms.runner import build

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    con = duckdb.connect(str(tmp_path_factory.mktemp("dict") / "w.duckdb"))
    fx.load_small_fixture(con)
    assert all(r.status == "ok" for r in build(con, as_of=dt.date(2025, 12, 31)))
    yield con
    con.close()


def documented() -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in (DOCS / "data-dictionary.md").read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^## (\w+\.\w+)$", line):
            current = tables.setdefault(m.group(1), [])
        elif current is not None and line.startswith("| ") and not line.startswith("| column "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert len(cells) == 4 and all(cells), f"incomplete dictionary row: {line}"
            current.append((cells[0], cells[1]))
    return tables


def test_dictionary_matches_built_tables(wh):
    built = {}
    for schema, table in wh.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('cdm', 'marts', 'quarantine')"
    ).fetchall():
        built[f"{schema}.{table}"] = wh.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, table],
        ).fetchall()
    assert documented() == built


def analyst_queries() -> list[str]:
    text = (DOCS / "analyst-queries.md").read_text(encoding="utf-8")
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_there_are_five_analyst_queries():
    assert len(analyst_queries()) == 5


def test_readme_shows_the_same_five_queries():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"\*\*Five example queries\*\*.*?```sql\n(.*?)```", readme, flags=re.S).group(1)
    statements = [q.strip() for q in block.split(";") if q.strip()]
    assert statements == [q.strip().rstrip(";") for q in analyst_queries()]


@pytest.mark.parametrize("n", range(5))
def test_analyst_query_runs(wh, n):
    rows = wh.execute(analyst_queries()[n]).fetchall()
    assert rows, f"query {n + 1} returned nothing on the fixture"
