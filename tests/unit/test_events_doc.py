"""docs/events.md against the source (static): every event the code emits has its section, every
section is an event the code emits (no stale docs), and every field an emission names is in its
event's table. The dynamic side (what really reaches the output during the tests) is the
``helpers.event_catalog`` plugin; the e2e side is tests/e2e/cli/test_json_events.py."""

from __future__ import annotations

from collections import defaultdict

import pytest
from helpers.event_sources import Emission, emissions
from helpers.events_doc import DOC, EventsDoc, load

JSON_LEVELS = {"debug", "info", "warning", "error"}


@pytest.fixture(scope="module")
def doc() -> EventsDoc:
    return load()


@pytest.fixture(scope="module")
def emitted() -> dict[str, list[Emission]]:
    by_name: dict[str, list[Emission]] = defaultdict(list)
    for emission in emissions():
        by_name[emission.name].append(emission)
    return dict(by_name)


def test_the_scan_finds_the_events_of_every_kind_of_emitter(
    emitted: dict[str, list[Emission]],
) -> None:
    """The AST scan is not vacuous: an event of each emitter shape is found, with its fields."""
    assert {"synced", "upload", "error", "usage_error", "queue", "sync_blocked"} <= set(emitted)
    (upload,) = emitted["upload"]  # engine/apply.py: self.emit("upload", file=..., ...)
    assert {"file", "name", "bytes", "reason"} <= upload.fields
    (queue,) = emitted["queue"]  # StatusEvent("queue", text, {...})
    assert "position" in queue.fields
    assert any("exit_code" in e.fields for e in emitted["error"])  # cli/main.py's dict literal


def test_every_emitted_event_is_documented(
    doc: EventsDoc, emitted: dict[str, list[Emission]]
) -> None:
    missing = {n: [e.where() for e in found] for n, found in emitted.items() if n not in doc.events}
    assert not missing, f"events emitted, not in {DOC.name} (add a ### `name` section): {missing}"


def test_every_documented_event_is_emitted(
    doc: EventsDoc, emitted: dict[str, list[Emission]]
) -> None:
    stale = {name: f"{DOC.name}:{d.line}" for name, d in doc.events.items() if name not in emitted}
    assert not stale, f"documented events no code emits (stale docs): {stale}"


def test_every_field_an_emission_names_is_documented(
    doc: EventsDoc, emitted: dict[str, list[Emission]]
) -> None:
    undocumented = [
        f"{e.where()}: {name}.{sorted(e.fields - doc.allowed(name))}"
        for name, found in emitted.items()
        if name in doc.events
        for e in found
        if not e.fields <= doc.allowed(name)
    ]
    assert not undocumented, f"fields missing from {DOC.name}: {undocumented}"


def test_every_section_says_its_level_and_the_common_fields_are_there(doc: EventsDoc) -> None:
    assert {"event", "level", "timestamp", "text"} <= set(doc.common)
    bad = {n: sorted(d.levels) for n, d in doc.events.items() if not d.levels <= JSON_LEVELS}
    unset = [n for n, d in doc.events.items() if not d.levels]
    assert not bad and not unset, f"levels: wrong {bad}, missing {unset}"


def test_an_event_emitted_by_push_and_watch_names_the_same_fields(
    emitted: dict[str, list[Emission]],
) -> None:
    """Where push (engine/) and watch (watch/) each emit the event with literal fields, the
    fields are the same (the shared ones are built once, in engine/shared_events.py)."""

    def shapes(name: str, room: str) -> set[frozenset[str]]:
        return {
            e.fields | {"text"}  # text is the common, optional field
            for e in emitted[name]
            if e.path.startswith(f"mlarena_sync/{room}/") and not e.open and e.fields
        }

    differ = {
        name: (shapes(name, "engine"), shapes(name, "watch"))
        for name in emitted
        if shapes(name, "engine")
        and shapes(name, "watch")
        and shapes(name, "engine") != shapes(name, "watch")
    }
    assert not differ, f"same event, other fields in push and watch: {differ}"
