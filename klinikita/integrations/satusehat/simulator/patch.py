"""Minimal RFC 6902 JSON Patch (add, replace, remove, test) for `PATCH {Type}/{id}`."""

from __future__ import annotations

import copy
from typing import Any

from . import errors


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise errors.unparseable(f"invalid JSON Patch path {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if allow_end and token == "-":
        return len(container)
    if not token.isdigit() or int(token) > len(container) - (0 if allow_end else 1):
        raise errors.unparseable(f"JSON Patch index {token!r} out of range")
    return int(token)


def _parent(document: Any, parts: list[str]) -> Any:
    node = document
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            raise errors.unparseable(f"JSON Patch path segment {token!r} not found")
    return node


def apply_json_patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise errors.unparseable("JSON Patch payload must be an array of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict):
            raise errors.unparseable("JSON Patch operation must be an object")
        op = operation.get("op")
        parts = _pointer(operation.get("path"))
        parent, last = _parent(result, parts), parts[-1]
        if op in ("add", "replace"):
            if "value" not in operation:
                raise errors.unparseable(f"JSON Patch {op} needs a value")
            value = copy.deepcopy(operation["value"])
            if isinstance(parent, dict):
                if op == "replace" and last not in parent:
                    raise errors.unparseable(f"JSON Patch replace target {last!r} not found")
                parent[last] = value
            elif isinstance(parent, list):
                position = _index(parent, last, allow_end=op == "add")
                if op == "add":
                    parent.insert(position, value)
                else:
                    parent[position] = value
            else:
                raise errors.unparseable("JSON Patch target is not a container")
        elif op == "remove":
            if isinstance(parent, dict) and last in parent:
                del parent[last]
            elif isinstance(parent, list):
                del parent[_index(parent, last, allow_end=False)]
            else:
                raise errors.unparseable(f"JSON Patch remove target {last!r} not found")
        elif op == "test":
            current = parent.get(last) if isinstance(parent, dict) else None
            if isinstance(parent, list):
                current = parent[_index(parent, last, allow_end=False)]
            if current != operation.get("value"):
                raise errors.unparseable(f"JSON Patch test failed at {operation.get('path')}")
        else:
            raise errors.unparseable(f"unsupported JSON Patch op {op!r}")
    return result
