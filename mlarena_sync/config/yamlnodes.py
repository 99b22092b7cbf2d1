"""Typed reading of a composed YAML node tree, with ``file:line: key:`` error messages.

``yaml.safe_load`` throws the line numbers away; reading the node tree (``yaml.compose``) keeps
them, so every config error can point at the exact line. Used by :mod:`mlarena_sync.config.model`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlarena_sync.errors import ConfigError

__all__ = ["Node", "Reader"]

_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: The tags plain YAML resolves to: anything else (``!!python/name:...``, ``!custom``) is refused
#: with the file and line, before any value is constructed.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{kind}"
    for kind in ("null", "bool", "int", "float", "str", "seq", "map", "timestamp", "binary")
)


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    return type(value).__name__


class Reader:
    """Reads one YAML file's nodes; every method raises :class:`ConfigError` with file and line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loader = yaml.SafeLoader("")

    def compose(self) -> Node | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"{self.path}: no such file", hint="run `mlarena-sync init` to create one"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.path}: cannot read it: {exc}") from None
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            raise ConfigError(f"{self.path}:{line}: not valid YAML: {exc.problem}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.path}: not valid YAML: {exc}") from None
        if root is not None:
            self._check_plain(root)
        return root

    def _check_plain(self, root: Node) -> None:
        """Refuse tags and merge keys (``<<``): mlarena.yaml is plain data. Each node is seen
        once, so aliases cannot make this walk explode."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if node.tag == _MERGE_TAG:
                raise ConfigError(
                    f"{self.path}:{self.line(node)}: merge keys (<<) are not supported: "
                    "write the keys out"
                )
            if node.tag not in _PLAIN_TAGS:
                raise ConfigError(
                    f"{self.path}:{self.line(node)}: the YAML tag "
                    f"{node.tag.replace('tag:yaml.org,2002:', '!!')!r} is not allowed: "
                    "mlarena.yaml holds plain values (text, numbers, true/false, lists, keys)"
                )
            if isinstance(node, SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, MappingNode):
                stack.extend(n for pair in node.value for n in pair)

    # ------------------------------------------------------------ errors
    @staticmethod
    def line(node: Node) -> int:
        return int(node.start_mark.line) + 1

    def error(self, node: Node, key: str, problem: str) -> ConfigError:
        where = key or "(top level)"
        return ConfigError(f"{self.path}:{self.line(node)}: {where}: {problem}")

    def unknown(self, node: Node, key: str, allowed: Iterable[str]) -> ConfigError:
        name = key.rsplit(".", 1)[-1]
        known = sorted(allowed)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return self.error(node, key, f"unknown key; {hint}known here: {', '.join(known)}")

    # ------------------------------------------------------------ structure
    def value(self, node: Node) -> object:
        return self._loader.construct_object(node, deep=True)

    def is_null(self, node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    def mapping(self, node: Node, key: str) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            found = _describe(self.value(node)) if isinstance(node, ScalarNode) else "a list"
            raise self.error(node, key, f"expected a mapping of keys, got {found}")
        out: dict[str, tuple[Node, Node]] = {}
        for knode, vnode in node.value:
            name = self.value(knode) if isinstance(knode, ScalarNode) else None
            if not isinstance(name, str):
                raise self.error(knode, key, "keys must be plain names")
            dotted = f"{key}.{name}" if key else name
            if name in out:
                raise self.error(knode, dotted, "given twice")
            out[name] = (knode, vnode)
        return out

    def sequence(self, node: Node, key: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, key, "expected a list")
        return list(node.value)

    # ------------------------------------------------------------ scalars
    def _scalar(self, node: Node, key: str, expected: str) -> object:
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            raise self.error(node, key, f"expected {expected}, got {kind}")
        return self.value(node)

    def boolean(self, node: Node, key: str) -> bool:
        value = self._scalar(node, key, "true or false")
        if not isinstance(value, bool):
            raise self.error(node, key, f"expected true or false, got {_describe(value)}")
        return value

    def integer(self, node: Node, key: str, *, minimum: int) -> int:
        value = self._scalar(node, key, "a whole number")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, key, f"expected a whole number, got {_describe(value)}")
        if value < minimum:
            raise self.error(node, key, f"must be {minimum} or more (got {value})")
        return value

    def number(self, node: Node, key: str, *, minimum: float) -> float:
        value = self._scalar(node, key, "a number")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(node, key, f"expected a number, got {_describe(value)}")
        if value != value or value in (float("inf"), float("-inf")):
            raise self.error(node, key, "must be a finite number")
        if value < minimum:
            raise self.error(node, key, f"must be {minimum:g} or more (got {value})")
        return float(value)

    def string(self, node: Node, key: str) -> str:
        value = self._scalar(node, key, "text")
        if not isinstance(value, str):
            quote = " (quote it)" if isinstance(value, (int, float)) else ""
            raise self.error(node, key, f"expected text, got {_describe(value)}{quote}")
        return value

    def optional_str(self, node: Node, key: str) -> str | None:
        return None if self.is_null(node) else self.string(node, key)

    def str_list(self, node: Node, key: str) -> list[str]:
        if not isinstance(node, SequenceNode):
            raise self.error(node, key, 'expected a list of patterns like ["*.py"]')
        out: list[str] = []
        for i, item in enumerate(node.value):
            text = self.string(item, f"{key}[{i}]")
            if not text.strip():
                raise self.error(item, f"{key}[{i}]", "empty pattern")
            out.append(text)
        return out
