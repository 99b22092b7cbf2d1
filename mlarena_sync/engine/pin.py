"""Pin a created agent in ``mlarena.yaml``: add ``id: N`` under its ``agent:``/``submission:``.

The first push that creates an agent writes its id into the file (product.md, "mlarena.yaml"), so
a fresh clone binds to the same agent instead of creating a twin. The file is the user's: the
edit is one inserted line (or ``, id: N`` inside a flow mapping), found through the YAML node
tree's line and column marks, so every comment, blank line and the order of keys stay as they
were. The result is read back before it replaces the file (atomically); whenever the edit is
not certain to be right (a section shared by several targets, an anchor, a tab-indented block,
...), nothing is written and the caller prints the hint instead.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlarena_sync.config.model import ALIASES, load_config
from mlarena_sync.errors import ConfigError
from mlarena_sync.store.atomic import atomic_write

__all__ = ["pin_agent_id", "pinned_text"]

_SECTION_KEYS = ("agent", *(alias for alias, key in ALIASES.items() if key == "agent"))


def _get(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    for knode, vnode in mapping.value:
        if isinstance(knode, ScalarNode) and knode.value == key:
            return knode, vnode
    return None


def _target_block(root: MappingNode, target: str) -> MappingNode | None:
    """The mapping that holds ``target``'s agent section: the top level of a one-target file,
    or the entry named ``target`` of ``targets:``; None when the section would be shared."""
    targets = _get(root, "targets")
    if targets is None:
        return root
    seq = targets[1]
    if not isinstance(seq, SequenceNode) or any(_get(root, k) for k in _SECTION_KEYS):
        return None  # a top-level agent section shared by every target: never pin it
    for item in seq.value:
        if isinstance(item, MappingNode):
            name = _get(item, "name")
            if name is not None and getattr(name[1], "value", None) == target:
                return item
    return None


def _edit(text: str, section: MappingNode, aid: int) -> str | None:
    """``text`` with ``id: aid`` added to ``section`` (a block or flow mapping), or None."""
    lines = text.splitlines(keepends=True)
    if section.flow_style:
        end = section.end_mark
        if end.line >= len(lines) or lines[end.line][end.column - 1 : end.column] != "}":
            return None
        row = lines[end.line]
        head = row[: end.column - 1].rstrip()
        sep = "" if head.endswith("{") else ", "
        lines[end.line] = f"{head}{sep}id: {aid}}}{row[end.column :]}"
        return "".join(lines)
    if not section.value:
        return None
    first_key = section.value[0][0]
    indent = lines[first_key.start_mark.line][: first_key.start_mark.column]
    if indent.strip() or "\t" in indent:
        return None  # the section's first key does not start its line: not a plain block
    last_value = section.value[-1][1]
    # Insert after the last line the section's own entries use (comments after it stay below).
    at = last_value.end_mark.line + (0 if last_value.end_mark.column == 0 else 1)
    newline = "\n" if not lines or lines[-1].endswith("\n") else ""
    if at > len(lines):
        return None
    if at == len(lines) and newline == "":
        lines[-1] += "\n"
    lines.insert(at, f"{indent}id: {aid}\n")
    return "".join(lines)


def pinned_text(text: str, target: str, aid: int) -> str | None:
    """``text`` (an mlarena.yaml) with ``id: aid`` added to ``target``'s agent section: the
    one edit pinning makes, or None when it cannot be made surely (see the module docstring).
    Pure: also how the ledger tells a pin edit from a change of the user's."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, MappingNode) or "&" in text or "<<" in text:
        return None  # anchors and merge keys: an edit here may mean something else there
    block = _target_block(root, target)
    found = [hit for k in _SECTION_KEYS if block is not None and (hit := _get(block, k))]
    if len(found) != 1 or not isinstance(found[0][1], MappingNode):
        return None
    section = found[0][1]
    if _get(section, "id") is not None:
        return None
    return _edit(text, section, aid)


def pin_agent_id(path: Path, target: str, aid: int) -> bool:
    """Write ``id: aid`` into ``target``'s agent section of the file at ``path``; True when
    done, False when the file is left as it was (the caller then says how to pin it by hand)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    edited = pinned_text(text, target, aid)
    if edited is None:
        return False
    return _replace_if_right(path, edited, target, aid)


def _replace_if_right(path: Path, after: str, target: str, aid: int) -> bool:
    """Write ``after`` only when it reads back as the file's target plus the id (a copy is
    read first: the user's file is replaced only by a text known to load as intended)."""
    probe = path.with_name(f".{path.name}.pin-check")
    try:
        probe.write_text(after, encoding="utf-8")
        pinned = load_config(probe).target(target)
        original = load_config(path).target(target)
    except (OSError, ConfigError):
        return False
    finally:
        probe.unlink(missing_ok=True)
    expected = replace(original, agent=replace(original.agent, id=aid), config_path=None)
    if replace(pinned, config_path=None) != expected:
        return False
    mode = path.stat().st_mode & 0o777
    atomic_write(path, after, fsync=True, mode=mode)
    return path.read_text(encoding="utf-8") == after
