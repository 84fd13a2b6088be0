"""Resources shared by the Dagster assets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from core.config import load_config
from core.warehouse import Warehouse, connect


class WarehouseResource(ConfigurableResource):
    """The warehouse: the DuckDB file `path` if set, else `warehouse:` of kontor.yaml (or `$KONTOR_CONFIG`),
    a DuckDB file or a PostgreSQL database."""

    path: str = Field(default="", description="path of the DuckDB warehouse file (empty: from kontor.yaml)")
    memory_limit: str = Field(default="", description="DuckDB memory_limit, e.g. '3GB' (empty: default)")
    threads: int = Field(default=0, description="DuckDB threads (0: one per core)")

    @property
    def file(self) -> Warehouse:
        return Path(self.path) if self.path else load_config().warehouse

    def connect(self) -> Any:
        """Open the warehouse for writing, waiting while another process holds the DuckDB file."""
        config: dict[str, str | int] = {}
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        if self.threads:
            config["threads"] = self.threads
        return connect(self.file, config)
