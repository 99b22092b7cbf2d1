"""engine/pin.py: a created agent's id goes into mlarena.yaml as one line; nothing else moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlarena_sync.config.model import load_config
from mlarena_sync.config.template import render_init_yaml
from mlarena_sync.engine.pin import pin_agent_id, pinned_text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlarena.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_init_file_gains_exactly_one_line_and_keeps_every_comment(tmp_path: Path) -> None:
    before = render_init_yaml(42, "ppo-cartpole")
    path = write(tmp_path, before)
    assert pin_agent_id(path, "default", 101)
    after = path.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["  id: 101"]
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    assert load_config(path).target().agent.id == 101


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("challenge: 1\nsubmission:\n  name: a   # mine\n", "  name: a   # mine\n  id: 7\n"),
        ("competition: 1\nagent: {name: a}\n", "agent: {name: a, id: 7}\n"),
        ("competition: 1\nagent:\n    name: a\nsync: {mode: safe}\n", "    name: a\n    id: 7\n"),
        ("competition: 1\nagent:\n  name: a", "  name: a\n  id: 7\n"),
    ],
)
def test_block_flow_and_odd_layouts(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert pin_agent_id(path, "default", 7)
    assert expected in path.read_text(encoding="utf-8")
    assert load_config(path).target().agent.id == 7


def test_the_named_target_of_several_is_pinned_and_no_other(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "competition: 1\ntargets:\n  - name: a\n    agent: {name: x}\n"
        "  - name: b\n    agent:\n      name: y\n",
    )
    assert pin_agent_id(path, "b", 9)
    config = load_config(path)
    assert (config.target("a").agent.id, config.target("b").agent.id) == (None, 9)


@pytest.mark.parametrize(
    "text",
    [
        "competition: 1\nagent: {name: a, id: 3}\n",  # already pinned
        "competition: 1\nagent: {name: a}\ntargets:\n  - name: t\n",  # shared by every target
        "competition: 1\nbase: &b {name: a}\nagent: *b\n",  # an anchor: the edit may mean more
    ],
)
def test_files_it_cannot_edit_surely_are_left_byte_for_byte(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert not pin_agent_id(path, "t" if "targets" in text else "default", 5)
    assert path.read_text(encoding="utf-8") == text


def test_pinned_text_is_the_edit_pin_writes_and_nothing_for_a_pinned_file(
    tmp_path: Path,
) -> None:
    before = render_init_yaml(1, "bot")
    path = write(tmp_path, before)
    assert pin_agent_id(path, "default", 12)
    after = path.read_text(encoding="utf-8")
    assert pinned_text(before, "default", 12) == after  # how the ledger recognises it
    assert pinned_text(after, "default", 12) is None  # already pinned: no second id
    assert pinned_text("not: [valid", "default", 12) is None
