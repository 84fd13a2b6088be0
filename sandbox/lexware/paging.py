"""The Spring-style page envelope (reference §3.1), page/size parsing and the 10,000-row search window
that applies to every paged list."""

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


WINDOW = 10_000  # one filter combination returns at most this many rows (reference §3.1)
WINDOW_MESSAGE = "Maximum search window size exceeded"


def beyond_window(page: int, size: int, total: int, window: int = WINDOW) -> bool:
    """True when a page would reach past the window into rows that exist: the request fails."""
    return (page + 1) * size > window and page * size < total


def envelope(
    content: Sequence[dict], total: int, page: int, size: int, sort: list[dict] | None, window: int = WINDOW
) -> dict:
    total = min(total, window)
    pages = (total + size - 1) // size if size else 0
    body = {
        "content": list(content),
        "first": page == 0,
        "last": page >= pages - 1,
        "totalPages": pages,
        "totalElements": total,  # capped at the window: deeper rows are out of reach
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
