"""``mlarena-sync fake-arena`` / ``python -m mlarena_sync.arena``: serve the fake arena.

The first two stdout lines are ``MLARENA_SERVER=<url>`` and ``MLARENA_API_KEY=<alice's token>``
(flushed), so a script can ``eval`` them; then one ready line for a person goes to stderr (the
URL, and the ``export`` to paste in another shell), and one line per request after it.
SIGINT stops with exit code 130, SIGTERM with 0. A nonsense flag value (a negative deploy
limit, a port beyond 65535, ...) is a usage error (exit 2) before anything starts.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import structlog

from mlarena_sync.arena import load_fake_arena
from mlarena_sync.arena.errors import ArenaSetupError

#: ``--api`` choices; the first (today's platform) is the default. Kept here, not imported
#: from ``fake``, so that the flags parse without the ``arena`` extra.
API_CHOICES = ("v4.6", "v0")


def _count(text: str) -> int:
    """A whole number >= 0 (``--deploy-limit``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def _port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535 (``--port``)."""
    value = _count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port; give 0 (any free port) to 65535")
    return value


def _seconds(text: str) -> float:
    """A finite number of seconds >= 0 (``--queue-seconds``)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a duration; give 0 or more seconds")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api",
        choices=API_CHOICES,
        default=API_CHOICES[0],
        help="API generation to speak: v4.6 (today's 'submissions' routes, default) or v0 "
        "(/api/direct_attache_agents); the other generation's routes answer 404",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)"
    )
    parser.add_argument(
        "--port", type=_port, default=0, help="port to bind (default: 0 = a free port)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the arena's state in this folder across restarts (default: a temp folder)",
    )
    parser.add_argument(
        "--deploy-limit", type=_count, default=5, help="deploys per user per UTC day (default: 5)"
    )
    parser.add_argument(
        "--queue-seconds",
        type=_seconds,
        default=0.2,
        help="how long a deploy waits in the queue before it runs (default: 0.2)",
    )
    parser.add_argument(
        "--quiet-requests", action="store_true", help="do not log one line per request"
    )


def _log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _warn_if_exposed(host: str) -> None:
    if not is_loopback(host):
        _log_to_stderr(
            f"warning: --host {host} exposes the fake arena beyond this machine, and its "
            "tokens are fixed and public (see docs/fake-arena.md): anyone who can reach it can "
            "use them"
        )


def ready_line(api: str, url: str, token: str) -> str:
    """What a person reads once the arena listens: where, and how to use it from another shell
    (the token is the seeded world's fixed test credential, printed on stdout too)."""
    return (
        f"fake arena (API {api}) ready at {url} \N{EM DASH} in another shell: "
        f"export MLARENA_SERVER={url} MLARENA_API_KEY={token}  (Ctrl-C stops)"
    )


def run(args: argparse.Namespace) -> int:
    if not structlog.is_configured():  # stdout is for the two MLARENA_* lines only
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    fake_arena = load_fake_arena()  # ArenaSetupError (exit 2) without the `arena` extra
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    arena = fake_arena(
        args.data_dir,
        api=getattr(args, "api", API_CHOICES[0]),
        deploy_limit=args.deploy_limit,
        queue_seconds=args.queue_seconds,
        request_log=None if args.quiet_requests else _log_to_stderr,
    )
    _warn_if_exposed(args.host)
    try:
        arena.start(args.host, args.port)
        print(f"MLARENA_SERVER={arena.url}", flush=True)
        print(f"MLARENA_API_KEY={arena.user_token}", flush=True)
        _log_to_stderr(ready_line(arena.api, arena.url, arena.user_token))
        while not stop.wait(0.5):
            pass
    finally:
        arena.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 130 if received and received[0] == signal.SIGINT else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mlarena_sync.arena", description="Run the fake ML Arena (local emulator)."
    )
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except ArenaSetupError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr, flush=True)
        return 2
