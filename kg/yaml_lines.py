"""YAML parsing that remembers the line of every key and list item.

PyYAML's safe loader builds the data; its node tree gives the line of each path, so
every lint problem can point at ``FILE:LINE``. Duplicate mapping keys, which PyYAML
silently collapses, are reported as problems here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass
class ParsedYaml:
    """Data of one YAML document with the 1-based line of each path in it."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicate_keys: list[tuple[int, str]] = field(default_factory=list)

    def line_of(self, path: Path) -> int:
        """Return the line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; ``line`` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.reason = message


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document and record the line of each key and list item.

    Raises ``YamlSyntaxError`` with the line of the first syntax error.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlSyntaxError(line, f"{error.problem or 'invalid YAML'}") from error
    finally:
        loader.dispose()

    parsed = ParsedYaml(data=data)
    if node is not None:
        parsed.lines[()] = node.start_mark.line + 1
        _walk(node, (), parsed)
    return parsed


def _walk(node: yaml.Node, path: Path, parsed: ParsedYaml) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                parsed.duplicate_keys.append((line, key))
            seen.add(key)
            parsed.lines[path + (key,)] = line
            _walk(value_node, path + (key,), parsed)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            parsed.lines[path + (index,)] = item.start_mark.line + 1
            _walk(item, path + (index,), parsed)
