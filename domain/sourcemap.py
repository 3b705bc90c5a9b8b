"""YAML and JSON documents that remember where each value came from.

`load_yaml` returns the data and a map from JSON-path tuples to 1-based line numbers, so that a
problem found anywhere in a policy or scenario can be reported with its line. Duplicate mapping
keys, which YAML parsers accept silently, are reported as problems.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import yaml

from .errors import InvalidInput, Problem

Path = tuple[str | int, ...]


class SourceMap:
    def __init__(self, source: str, lines: dict[Path, int] | None = None) -> None:
        self.source = source
        self.lines = lines or {}

    def line(self, path: Sequence[str | int]) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        line = self.line(path)
        where = self.source if line is None else f"{self.source}:{line}"
        label = format_path(path)
        return Problem(where, f"{label}: {message}" if label else message)


def _printable(part: str | int) -> str | int:
    if isinstance(part, str) and not part.isprintable():
        return repr(part)[1:-1]
    return part


def format_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in map(_printable, path):
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int], problems: list[Problem], source: str) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                where = f"{source}:{key_node.start_mark.line + 1}"
                label = format_path((*path, key))
                problems.append(Problem(where, f"{label}: the key {key!r} appears twice"))
            seen.add(key)
            _walk(value_node, (*path, key), lines, problems, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, problems, source)


def load_yaml(text: str, source: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse YAML; return (data, source map, problems). Data is None when it cannot be parsed."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        reason = getattr(error, "problem", None) or str(error)
        return None, SourceMap(source), [Problem(where, f"this is not valid YAML: {reason}")]
    lines: dict[Path, int] = {}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, (), lines, problems, source)
    return data, SourceMap(source, lines), problems


def read_text(path: Any, what: str) -> str:
    """A UTF-8 text file, or InvalidInput saying plainly why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError as error:
        raise InvalidInput([Problem(str(path), f"the {what} is not UTF-8 text (byte {error.start})")]) from None
    except OSError as error:
        raise InvalidInput([Problem(str(path), f"cannot read the {what}: {error.strerror}")]) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(text: str, source: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse JSON (no line map: JSON problems are located by their JSON path)."""
    try:
        return json.loads(text), SourceMap(source), []
    except json.JSONDecodeError as error:
        return None, SourceMap(source), [Problem(f"{source}:{error.lineno}", f"this is not valid JSON: {error.msg}")]


def plain(value: Any) -> Any:
    """YAML dates and times as ISO strings, so data from YAML reads like data from JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
