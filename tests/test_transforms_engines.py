"""Engine-portable models: every model and test compiles for DuckDB (the default) and for PostgreSQL
(the next engine), and the engine-specific SQL comes from the per-adapter macros in
transforms/macros/engine.sql (adapter.dispatch), not from the models.

PostgreSQL through KONTOR_TEST_POSTGRES (tests/services.py); the test creates its own database and drops it.
Without a reachable server it skips with one line, except under CI=true."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import postgres_database
from transforms.project import PROJECT_DIR, dbt_environment, invoke


@pytest.fixture(scope="module")
def pg_database():
    with postgres_database("compile") as url:
        yield url.rsplit("/", 1)[1]


def compile_for(target: str, target_path: Path) -> dict[str, str]:
    """Compiled SQL of every model and test, by node name (own target path: the build's partial-parse
    state stays untouched)."""
    invoke(["compile", "--target", target, "--target-path", str(target_path)])
    compiled = target_path / "compiled" / "kontor"
    return {p.stem: p.read_text(encoding="utf-8") for p in compiled.rglob("*.sql")}


def test_every_model_compiles_for_duckdb_and_postgres(pg_database, tmp_path, monkeypatch):
    monkeypatch.setenv("KONTOR_PG_DATABASE", pg_database)
    with dbt_environment(tmp_path / "compile.duckdb"):
        duck = compile_for("duckdb", tmp_path / "duckdb")
        pg = compile_for("postgres", tmp_path / "postgres")
    models = {p.stem for p in (PROJECT_DIR / "models").rglob("*.sql")}
    assert models <= set(duck) and models <= set(pg)
    assert set(duck) == set(pg) and len(pg) > len(models)  # the tests compile too
    assert all("{{" not in sql and "{%" not in sql for sql in pg.values())
    # the engine-specific parts come from the per-adapter macros
    documents = "stg_lexware__documents"
    assert "list_filter(" in duck[documents] and "jsonb_path_exists(" in pg[documents]
    assert "unnest(" in duck["issues"] and "jsonb_array_elements(" in pg["issues"]
    assert (
        "jsonb_build_object(" in pg["stg_lexware__payments"]
        and "jsonb_build_object(" not in duck["stg_lexware__payments"]
    )
    assert '"raw_lexware"."contacts"' in pg["stg_lexware__contacts"]  # sources resolve on either engine
