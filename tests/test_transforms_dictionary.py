"""The dbt YAML beside the models describes exactly the built columns (name and type) of every
cdm/marts/quarantine table, docs/data-dictionary.md is generated from that YAML and current, and the
example queries in docs/analyst-queries.md run as written on the fixture warehouse."""

import datetime as dt
import re
from pathlib import Path

import duckdb
import pytest

from tests import raw_fixtures as fx
from tests.dbt_warehouse import fixture_warehouse, manifest
from transforms.dictionary import DICTIONARY, documented_models, render

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    path = tmp_path_factory.mktemp("dict") / "w.duckdb"
    assert fixture_warehouse(path, fx.load_small_fixture, as_of=dt.date(2025, 12, 31)).ok
    con = duckdb.connect(str(path))
    yield con
    con.close()


def documented() -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for model in documented_models(manifest()):
        columns = tables.setdefault(f"{model['config']['schema']}.{model['name']}", [])
        for col in model["columns"].values():
            assert col.get("data_type") and col["description"] and col["meta"].get("source"), col
            columns.append((col["name"], col["data_type"]))
    return tables


def test_the_data_dictionary_is_generated_from_the_yaml():
    current = DICTIONARY.read_text(encoding="utf-8")
    assert current == render(manifest()), "out of date: run python -m transforms.dictionary"


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


def test_every_staging_and_analyst_column_is_described_in_yaml(wh):
    for model in manifest()["nodes"].values():
        if model["resource_type"] != "model" or model["config"]["schema"] not in ("staging", "analyst"):
            continue
        built = [
            c
            for (c,) in wh.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                " ORDER BY ordinal_position",
                [model["config"]["schema"], model["name"]],
            ).fetchall()
        ]
        assert list(model["columns"]) == built, model["name"]
        assert all(c["description"] and c.get("data_type") for c in model["columns"].values()), model["name"]
