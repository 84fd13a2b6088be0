"""The Spring-style page envelope (reference §3.1) and page/size parsing."""

from __future__ import annotations

from collections.abc import Sequence


def sort_echo(prop: str, descending: bool) -> list[dict]:
    return [
        {
            "direction": "DESC" if descending else "ASC",
            "property": prop,
            "ignoreCase": False,
            "nullHandling": "NATIVE",
            "ascending": not descending,
        }
    ]


def envelope(content: Sequence[dict], total: int, page: int, size: int, sort: list[dict] | None) -> dict:
    pages = (total + size - 1) // size if size else 0
    body = {
        "content": list(content),
        "first": page == 0,
        "last": page >= pages - 1,
        "totalPages": pages,
        "totalElements": total,
        "numberOfElements": len(content),
        "size": size,
        "number": page,
    }
    if sort is not None:
        body["sort"] = sort
    return body


def parse_int(value: str | None, default: int) -> int | None:
    """None when present but not an integer."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None
