"""Resources shared by the Dagster assets."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from pydantic import Field

from pipelines.warehouse import when_free

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file (default: ``$KONTOR_WAREHOUSE`` or ``data/warehouse.duckdb``)."""

    path: str = Field(
        default_factory=lambda: os.environ.get("KONTOR_WAREHOUSE", DEFAULT_WAREHOUSE),
        description="path of the DuckDB warehouse file",
    )
    memory_limit: str = Field(default="", description="DuckDB memory_limit, e.g. '3GB' (empty: default)")
    threads: int = Field(default=0, description="DuckDB threads (0: one per core)")

    @property
    def file(self) -> Path:
        return Path(self.path)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """Open the warehouse for writing, waiting while another process holds the file."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | int] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        return when_free(lambda: duckdb.connect(str(self.file), config=config))
