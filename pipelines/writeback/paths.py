"""A tiny JSON-path dialect for the write-back field map.

Grammar (enough for Lexware payloads, nothing more):
  ``a.b.c``                 nested keys
  ``a.b[0].c``              first element of a list
  ``voucherItems[*].x``     every element of a list (read: must agree; write: set all)
  ``emailAddresses.{business,office,private}[0]``
                            the first alternative that holds a value (write: that one, else the first)

Reading an absent path gives ``None``. Writing ``None`` removes the leaf (Lexware PUT is a full
replace, so an omitted field is cleared) and prunes containers left empty.
"""

from __future__ import annotations

import re
from typing import Any

_SEGMENT = re.compile(r"^(?:\{(?P<alts>[A-Za-z0-9_,]+)\}|(?P<key>[A-Za-z0-9_]+))(?:\[(?P<idx>0|\*)\])?$")


class PathError(ValueError):
    """The payload's shape does not allow reading or writing the path (e.g. items disagree)."""


def _segments(path: str) -> list[tuple[list[str], str | None]]:
    out = []
    for raw in path.split("."):
        m = _SEGMENT.match(raw)
        if not m:
            raise ValueError(f"bad path segment {raw!r} in {path!r}")
        keys = m["alts"].split(",") if m["alts"] else [m["key"]]
        out.append((keys, m["idx"]))
    return out


def _pick_key(node: dict[str, Any], keys: list[str], idx: str | None) -> str | None:
    """The alternative that currently holds a value, else None."""
    for key in keys:
        value = node.get(key)
        if idx is not None and isinstance(value, list) and value:
            return key
        if idx is None and value is not None:
            return key
    return None


def get_path(doc: Any, path: str) -> Any:
    """Value at ``path`` in ``doc`` (``None`` if absent); ``[*]`` values must all agree."""
    nodes = [doc]
    for keys, idx in _segments(path):
        nxt = []
        for node in nodes:
            if not isinstance(node, dict):
                continue
            key = _pick_key(node, keys, idx)
            if key is None:
                continue
            value = node[key]
            if idx is None:
                nxt.append(value)
            elif isinstance(value, list):
                nxt.extend(value[:1] if idx == "0" else value)
        nodes = nxt
    values = {repr(v): v for v in nodes}
    if len(values) > 1:
        raise PathError(f"{path} holds different values ({', '.join(sorted(map(str, values.values())))})")
    return next(iter(values.values()), None)


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, for ``None``, remove) the value at ``path`` in ``doc`` in place."""
    _set(doc, _segments(path), value)


def _set(node: dict[str, Any], segs: list[tuple[list[str], str | None]], value: Any) -> None:
    (keys, idx), rest = segs[0], segs[1:]
    key = _pick_key(node, keys, idx) or keys[0]
    if idx is None:
        if not rest:
            if value is None:
                node.pop(key, None)
            else:
                node[key] = value
            return
        if value is None and not isinstance(node.get(key), dict):
            return
        child = node.setdefault(key, {})
        _set(child, rest, value)
        if not child:
            node.pop(key)
        return
    items = node.get(key)
    if idx == "*":
        if not isinstance(items, list) or not items:
            raise PathError(f"{keys[0]} has no items to change")
        for item in items:
            _set(item, rest, value)
        return
    if not isinstance(items, list) or not items:
        if value is None:
            return
        items = node[key] = [{} if rest else None]
    if rest:
        _set(items[0], rest, value)
        if not items[0]:
            items.pop(0)
    elif value is None:
        items.pop(0)
    else:
        items[0] = value
    if not items:
        node.pop(key)
