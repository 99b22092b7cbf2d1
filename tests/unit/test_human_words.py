"""The server's status names in words, one mapping: the renderer's lines and the status table
say ``live``, ``queued``, ``synced, not deployed``; a message repeating the status is trimmed and
a reward rounded (``Deployed: mean reward 42.3333`` → ``mean reward 42.3``)."""

from __future__ import annotations

import pytest

from mlarena_sync.cli.human import words


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("active", "live"),
        ("deploy_queue", "queued"),
        ("deploy_run", "running"),
        ("upload_validated", "synced, not deployed"),
        ("deploy_failed", "deploy failed"),
        ("upload_failed", "upload failed"),
        ("deploy_paused", "deploy paused"),  # unknown: made readable, never snake_case
        (None, "unknown"),
    ],
)
def test_every_status_has_words(status: str | None, said: str) -> None:
    assert words.status_word(status) == said
    assert "_" not in words.status_word(status)


def test_a_deploy_just_requested_waits_for_the_server() -> None:
    assert words.status_word("upload_validated", following=True) == "waiting for the server"


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("Deployed: mean reward 42.3333", "mean reward 42.3"),
        ("Deployed: mean reward 200.0", "mean reward 200"),
        ("Deploy queued", ""),
        ("Deployment queued", ""),
        ("Deploy running", ""),
        (
            "Agent validated: agent.py defines Agent.predict",
            "Agent validated: agent.py defines Agent.predict",
        ),
        ("Traceback\n  File x", "Traceback"),
        ("score: 0.91234 on the public split", "score: 0.9 on the public split"),
        (None, ""),
    ],
)
def test_a_message_that_repeats_the_status_is_trimmed(message: str | None, said: str) -> None:
    assert words.server_message(message) == said


def test_the_phrase_of_a_status() -> None:
    assert (
        words.status_phrase("active", "Deployed: mean reward 42.3333") == "live · mean reward 42.3"
    )
    assert words.status_phrase("active", "Deployed", score=195.25) == "live · score 195.2"
    assert words.status_phrase("active", "Deployed: mean reward 9", score=9.0) == (
        "live · mean reward 9"
    ), "no second number when the message names one"
    assert words.status_phrase("deploy_queue", "Deploy queued", score=200.0) == "queued"
    assert words.with_reward("Deployed: mean reward 42.3333") == "mean reward 42.3"
    assert words.with_reward("Deploy queued") is None
    off = words.status_phrase("upload_validated", "Agent validated", off=True)
    assert off == "synced, not deployed (off the leaderboard) · Agent validated"
