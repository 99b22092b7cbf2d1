"""Debouncer and backoff on a fake clock: no sleeps."""

from __future__ import annotations

from collections.abc import Hashable

from helpers.clock import FakeClock

from mlarena_sync.watch.debounce import Backoff, Debouncer


def test_idle_debouncer_has_no_deadline() -> None:
    d = Debouncer(0.3, 5, FakeClock(1000.0))
    assert not d.pending
    assert d.deadline() is None
    assert not d.ready()


def test_one_event_is_ready_after_the_quiet_window() -> None:
    clock = FakeClock(1000.0)
    d = Debouncer(0.3, 5, clock)
    d.add(["agent.py"])
    assert d.deadline() == clock.t + 0.3
    clock.sleep(0.29)
    assert not d.ready()
    clock.sleep(0.01)
    assert d.ready()
    assert d.take() == {"agent.py"}
    assert not d.pending and d.deadline() is None


def test_a_burst_is_one_batch() -> None:
    clock = FakeClock(1000.0)
    d = Debouncer(0.3, 5, clock)
    for i in range(200):
        d.add([f"f{i % 7}.py"])
        clock.sleep(0.01)
        assert not d.ready()
    clock.sleep(0.3)
    assert d.ready()
    assert d.take() == {f"f{i}.py" for i in range(7)}


def test_a_never_ending_stream_still_syncs_every_max_wait() -> None:
    clock = FakeClock(1000.0)
    d = Debouncer(0.3, 2, clock)
    batches = 0
    for _ in range(100):  # an event every 0.1 s for 10 s: the quiet window never passes
        d.add(["agent.py"])
        clock.sleep(0.1)
        if d.ready():
            d.take()
            batches += 1
    assert batches == 5  # every max_wait (2 s) of the 10 s


def test_an_unstable_file_keeps_the_window_open() -> None:
    clock = FakeClock(1000.0)
    sizes = {"big.bin": 10}

    def probe(path: str) -> Hashable | None:
        return sizes.get(path)

    d = Debouncer(0.3, 5, clock, probe=probe)
    d.add(["big.bin"])
    sizes["big.bin"] = 20  # still being written, no event reported
    clock.sleep(0.3)
    assert not d.ready()  # size changed across the window: wait another window
    assert d.deadline() == clock.t + 0.3
    clock.sleep(0.3)
    assert d.ready()  # stable now


def test_max_wait_beats_an_unstable_file() -> None:
    clock = FakeClock(1000.0)
    counter = iter(range(10_000))
    d = Debouncer(0.3, 1, clock, probe=lambda _p: next(counter))
    d.add(["log.txt"])
    ready_at = None
    for _ in range(20):
        clock.sleep(0.3)
        if d.ready():
            ready_at = clock.t
            break
    assert ready_at is not None and ready_at - 1000.0 <= 1.2


def test_vanished_file_is_stable() -> None:
    clock = FakeClock(1000.0)
    d = Debouncer(0.1, 5, clock, probe=lambda _p: None)
    d.add(["gone.py"])
    clock.sleep(0.1)
    assert d.ready()


def test_unattributed_change_is_still_a_batch() -> None:
    clock = FakeClock(1000.0)
    d = Debouncer(0.1, 5, clock)
    d.add()
    clock.sleep(0.1)
    assert d.ready()
    assert d.take() == frozenset()


def test_backoff_is_capped_and_resets() -> None:
    b = Backoff(base=0.5, cap=4)
    assert [b.next_delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    b.reset()
    assert b.next_delay() == 0.5
