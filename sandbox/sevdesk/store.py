"""In-memory books of one sevDesk tenant (sevClient): every record as the API renders it, per model."""

from __future__ import annotations

from sandbox.clock import Clock

from .model import DOCUMENTS, HIDDEN_ACCOUNTS, NEWEST_FIRST, PARENT_FIELD, RESOURCES, fmt_ts, ref

INDEXED = {**PARENT_FIELD, "CheckAccountTransactionLog": "object"}


def _parent_id(rec: dict) -> str:
    return rec[INDEXED[rec["objectName"]]]["id"]


class TenantStore:
    def __init__(self, name: str, api_key: str, data: dict, clock: Clock) -> None:
        self.name, self.api_key, self.clock = name, api_key, clock
        self.sev_client: str = data["sevClient"]
        self.seq: int = data["seq"]
        self.tables: dict[str, dict[str, dict]] = {
            model: {r["id"]: r for r in data["tables"].get(model, [])} for model in RESOURCES
        }
        self.numbers: dict[str, int] = {}  # document number sequences, filled on first use
        # child model -> parent id -> child ids (positions, addresses, communication ways, payment logs)
        self._index: dict[str, dict[str, set[str]]] = {model: {} for model in INDEXED}
        for model in INDEXED:
            for rec in self.tables[model].values():
                self._index[model].setdefault(_parent_id(rec), set()).add(rec["id"])

    # ---- records ---------------------------------------------------------------------------------
    def coll(self, model: str) -> dict[str, dict]:
        return self.tables[model]

    def new_id(self) -> str:
        """Ids are large platform-wide numbers (9-10 digits), rendered as strings."""
        self.seq += 1
        return str(self.seq)

    def now(self) -> str:
        return fmt_ts(self.clock.now())

    def touch(self, rec: dict, when: str | None = None) -> None:
        rec["update"] = when or self.now()

    def header(self, model: str, created: str | None = None, updated: str | None = None) -> dict:
        """The fields every record starts with, in the live order."""
        created = created or self.now()
        return {
            "id": self.new_id(),
            "objectName": model,
            "additionalInformation": None,
            "create": created,
            "update": updated or created,
            "sevClient": ref("SevClient", self.sev_client),
        }

    def add(self, rec: dict) -> dict:
        model = rec["objectName"]
        self.tables[model][rec["id"]] = rec
        if model in INDEXED:
            self._index[model].setdefault(_parent_id(rec), set()).add(rec["id"])
        return rec

    def remove(self, model: str, rec_id: str) -> dict:
        rec = self.tables[model].pop(rec_id)
        if model in INDEXED:
            self._index[model].get(_parent_id(rec), set()).discard(rec_id)
        return rec

    def children(self, model: str, parent_id: str) -> list[dict]:
        """Records of an indexed child model that belong to `parent_id`, by id."""
        ids = sorted(self._index[model].get(parent_id, ()), key=int)
        return [self.tables[model][i] for i in ids]

    def positions(self, model: str, doc_id: str) -> list[dict]:
        found = self.children(DOCUMENTS[model], doc_id)
        return sorted(found, key=lambda p: (int(p.get("positionNumber") or 0), int(p["id"])))

    def listed(self, model: str) -> list[dict]:
        """What a list call sees, in its order: deleted transactions and hidden accounts are left out."""
        rows = self.tables[model].values()
        if model == "CheckAccountTransaction":
            rows = [r for r in rows if r["deletedAt"] is None]
        elif model == "AccountDatev":
            rows = [r for r in rows if int(r["id"]) not in HIDDEN_ACCOUNTS]
        return sorted(rows, key=lambda r: int(r["id"]), reverse=model in NEWEST_FIRST)

    # ---- export / persistence --------------------------------------------------------------------
    def export(self) -> dict:
        """Ground truth: every table as a complete list call returns it (ascending ids)."""
        out: dict = {"sevClient": self.sev_client}
        for model, table in RESOURCES.items():
            out[table] = sorted(self.listed(model), key=lambda r: int(r["id"]))
        return out

    def dump(self) -> dict:
        return {
            "sevClient": self.sev_client,
            "seq": self.seq,
            "tables": {model: list(rows.values()) for model, rows in self.tables.items()},
        }
