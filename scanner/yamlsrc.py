"""Read YAML and JSON with line numbers, and validate against the JSON Schemas in scanner/schemas/.

Mappings load as ``Node`` (a dict that remembers the line of itself and of each key), so every
later check can say ``file:line``. Files are read through scanner.safeio (regular files only, size
bounded); libyaml's parser is used where installed (it keeps marks, so lines stay exact), and a
document is refused before it is constructed when its aliases expand beyond MAX_NODES nodes
(billion laughs), an alias refers to a node that contains it, or it nests deeper than MAX_DEPTH.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from scanner import safeio
from scanner.errors import LoadError
from scanner.safeio import MAX_DEPTH

MAX_NODES = 2_000_000  # nodes of a document once every alias is expanded
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Node(dict[str, Any]):
    """A YAML mapping that knows its line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class Seq(list[Any]):
    """A YAML sequence that knows its line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(_Base):  # type: ignore[misc]
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    out = Node()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(None, None, "unhashable key", key_node.start_mark)
        skey = key if isinstance(key, str) else str(key)
        if skey in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {skey!r}", key_node.start_mark
            )
        out[skey] = loader.construct_object(value_node, deep=True)
        out.key_lines[skey] = key_node.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    out = Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)
# Dates stay strings: schemas and waivers parse them explicitly, and JSON stays the same as YAML.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _plain_tree_fits(root: yaml.Node) -> bool:
    """Tell whether a graph composed from text without anchors is within MAX_NODES and MAX_DEPTH.

    Without an anchor there is no alias, so every node is reached once: a count and a depth on the
    way down say what check_expansion's sizes would. False sends the caller to check_expansion,
    which names the node that is too big or too deep.
    """
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            return False
        value = node.value
        if isinstance(node, yaml.MappingNode):
            for key, item in value:
                stack.append((key, depth + 1))
                stack.append((item, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend([(item, depth + 1) for item in value])
    return True


def check_expansion(root: yaml.Node, text: str | None = None) -> None:
    """Refuse a composed YAML graph that is cyclic, too deep, or too big once aliases are expanded.

    ``text`` is the source: when it has no ``&`` at all it has no anchor, hence no alias, and a
    plain count decides (the full walk below, which keeps sizes per node, only when needed).
    """
    if text is not None and "&" not in text and _plain_tree_fits(root):
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            open_.discard(key)
            if size[key] > MAX_NODES:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"aliases expand to more than {MAX_NODES:,} nodes (billion laughs?)",
                    node.start_mark,
                )
            if depth[key] > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", node.start_mark
                )
            continue
        if key in size:
            continue
        if key in open_:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to a node that contains it (recursive)", node.start_mark
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def parse_yaml(text: str, path: Path | str) -> Any:
    """Parse YAML text into Node/Seq values, raising LoadError with the file and line on any problem."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_expansion(node, text)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LoadError(str(path), line, f"YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise LoadError(str(path), None, f"YAML: {exc}") from None
    except RecursionError:
        raise LoadError(str(path), None, f"YAML: nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def load_yaml(path: Path, limit: int = safeio.CONFIG_LIMIT) -> Any:
    """Load one YAML file (a regular file, at most ``limit`` bytes), raising LoadError with file:line."""
    return parse_yaml(safeio.read_text(path, limit), path)


def load_json(path: Path, limit: int = safeio.CONFIG_LIMIT) -> Any:
    """Load one JSON file, raising LoadError with the line on a syntax error (see safeio.load_json)."""
    return safeio.load_json(path, limit)


@cache
def schema(name: str) -> dict[str, Any]:
    """Return the JSON Schema scanner/schemas/<name>.schema.json."""
    text = resources.files("scanner").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    result: dict[str, Any] = json.loads(text)
    return result


def key_line(node: Any, key: str | int) -> int:
    """Return the line of a mapping's key or a list's item, else the node's own line (0 if unknown)."""
    if isinstance(node, Node) and isinstance(key, str):
        return node.line_of(key)
    if isinstance(node, Seq) and isinstance(key, int):
        return node.item_lines[key]
    return int(getattr(node, "line", 0) or 0)


def line_at(doc: Any, path: list[str | int]) -> int | None:
    """Return the line of the deepest key or item along a JSON path."""
    line: int | None = getattr(doc, "line", None) or None
    node = doc
    for step in path:
        if isinstance(node, Node) and isinstance(step, str) and step in node:
            line = node.line_of(step)
            node = node[step]
        elif isinstance(node, Seq) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def _describe(error: jsonschema.ValidationError) -> str:
    """Say what is wrong without quoting the file beyond a short, redacted excerpt (it may be a shadow file)."""
    from scanner.collect.secrets import excerpt

    where = "/".join(str(p) for p in error.absolute_path)
    prefix = f"{where}: " if where else ""
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = [excerpt(k) for k in instance if k not in known][:3]
        return f"{prefix}unexpected key(s): {', '.join(extra)}"
    if error.validator == "enum":
        return f"{prefix}{excerpt(instance)} is not one of {error.validator_value}"
    if error.validator == "type":
        return f"{prefix}{excerpt(instance)} is not of type {error.validator_value!r}"
    message = error.message.replace(repr(instance), excerpt(instance))
    return f"{prefix}{message[:200]}"


def validate(doc: Any, schema_name: str, path: Path | str) -> None:
    """Validate a loaded document, raising LoadError at the line of the first (deepest) error."""
    validator = jsonschema.Draft202012Validator(schema(schema_name))
    errors = sorted(validator.iter_errors(doc), key=lambda e: (-len(e.absolute_path), str(e.message)))
    if not errors:
        return
    best = jsonschema.exceptions.best_match(errors) or errors[0]
    raise LoadError(str(path), line_at(doc, list(best.absolute_path)), _describe(best))
