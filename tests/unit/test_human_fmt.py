"""Sizes, durations and relative times as a person reads them; an event's sentence tidied."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from mlarena_sync.cli.human import fmt

NOW = datetime(2026, 12, 1, 12, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (None, "?"),
        (0, "0 B"),
        (812, "812 B"),
        (1000, "1.0 kB"),
        (274_000, "274.0 kB"),
        (2_900_000, "2.9 MB"),
        (3_000_000, "3.0 MB"),
        (999_960, "1.0 MB"),
        (60_001_000, "60.0 MB"),
        (4_200_000_000, "4.2 GB"),
    ],
)
def test_sizes_are_decimal_with_one_decimal(n: int | None, shown: str) -> None:
    assert fmt.size(n) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0 s"),
        (0.3, "0.3 s"),
        (2.5, "2.5 s"),
        (42, "42 s"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (300, "5 min"),
        (11 * 3600 + 52 * 60 + 10, "11 h 52 min"),
        (3 * 3600, "3 h"),
        (2 * 86400 + 3 * 3600, "2 d 3 h"),
    ],
)
def test_durations_keep_two_units_at_most(seconds: float, shown: str) -> None:
    assert fmt.duration(seconds) == shown


def test_relative_times_against_a_fixed_now() -> None:
    assert fmt.relative(NOW + timedelta(hours=11, minutes=52), NOW) == "in 11 h 52 min"
    assert fmt.relative(NOW - timedelta(minutes=5), NOW) == "5 min ago"
    assert fmt.relative(NOW + timedelta(seconds=1), NOW) == "just now"
    naive = datetime(2026, 12, 1, 12, 10)  # a naive time is UTC
    assert fmt.relative(naive, NOW) == "in 2 min"


def test_an_iso_datetime_in_a_sentence_becomes_a_relative_time() -> None:
    slot = "2026-12-02T00:00:00+00:00"
    assert fmt.tidy(f"quota used up; next slot at {slot}", NOW) == (
        "quota used up; next slot in 11 h 52 min"
    )
    since = "2026-12-01T12:03:00+00:00"
    assert fmt.tidy(f"not deployed yet (pending since {since})", NOW) == (
        "not deployed yet (pending for 5 min)"
    )
    assert fmt.tidy("deploy waits until 2026-12-01T12:09:00Z", NOW) == "deploy waits for 1 min"
    assert fmt.tidy("seen 2026-12-01T11:08:00+00:00", NOW) == "seen 1 h ago"


def test_counts_agree_with_their_noun() -> None:
    assert fmt.tidy("1 change(s) held", NOW) == "1 change held"
    assert fmt.tidy("3 change(s) held", NOW) == "3 changes held"
    assert fmt.tidy("1 file problem(s):", NOW) == "1 file problem:"


def test_nested_parentheses_are_flattened() -> None:
    assert fmt.flatten_parentheses("no deploy (deploys are off (--no-deploy))") == (
        "no deploy (deploys are off: --no-deploy)"
    )
    assert fmt.flatten_parentheses("a (b (c) d) e") == "a (b: c, d) e"
    assert fmt.flatten_parentheses("plain (one level) only") == "plain (one level) only"


def test_a_plural_marker_is_not_a_parenthesis() -> None:
    """A server's ``missing column(s) prediction`` once became ``missing column: s, prediction``."""
    text = "upload refused (missing column(s) prediction)"
    assert fmt.flatten_parentheses(text) == text
    assert fmt.tidy(text, NOW) == "upload refused (missing columns prediction)"
    assert fmt.tidy("no deploy (2 file(s) refused (too big))", NOW) == (
        "no deploy (2 files refused: too big)"
    )


def test_queue_places_and_names() -> None:
    assert fmt.queue_place("2/5") == "2 of 5"
    assert fmt.queue_place(None, 3, 12) == "3 of 12"
    assert fmt.queue_place("next") == "next"
    assert fmt.readable_name("deploy_reply_lost") == "deploy reply lost"
    assert fmt.plural(1, "file") == "1 file" and fmt.plural(2, "file") == "2 files"


def test_flattening_leaves_code_in_backticks_and_adds_no_second_comma() -> None:
    text = (
        "deploy: yes (synced files not deployed yet (pending since 5 s), passed the checks, "
        'after the check `python -c "import sys; sys.exit(1)"` passes)'
    )
    assert fmt.flatten_parentheses(text) == (
        "deploy: yes (synced files not deployed yet: pending since 5 s, passed the checks, "
        'after the check `python -c "import sys; sys.exit(1)"` passes)'
    )
