"""The fake arena in its own process, for the benchmarks, driven over stdin.

``python -m bench.arena_child [--max-upload-mb N] [--max-files N] [--deploy-limit N] [--api v0]``
prints ``MLARENA_SERVER=…`` and ``MLARENA_API_KEY=…`` (alice's token) like
``mlarena-sync fake-arena``,
then answers one JSON command per stdin line with one JSON line on stdout:

``{"op": "counters"}`` → ``{"counters": {"GET /api/...": n}, "connections": n}``;
``{"op": "reset_counters"}``; ``{"op": "latency", "seconds": 0.02}``;
``{"op": "reset"}`` (fresh seeded store, no faults, counters at zero); ``{"op": "stop"}``;
``{"op": "requests"}`` → ``{"requests": ["127.0.0.1 \"GET /api/...\" 200 0ms", ...]}``: the
requests answered since the last such call, in the order they were answered (then forgotten).

It uses only the documented Python API of ``mlarena_sync.arena.FakeArena``: competition 1's
limits are raised for benchmark-sized trees through the ``seed`` parameter, and ``--api``
picks the generation (default v0; the runner passes ``--api`` for every scenario).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any

import structlog

MB = 1024 * 1024


def _bench_seed(max_upload_mb: int, max_files: int, max_active: int) -> Any:
    """The standard world with competition 1 wide enough for the benchmark trees."""
    from mlarena_sync.arena import seed

    comp = seed.STANDARD.competition(seed.CODE_COMPETITION_ID)
    assert comp is not None
    return seed.STANDARD.with_competition(
        comp.id,
        max_upload_size_bytes=max(comp.max_upload_size_bytes, max_upload_mb * MB),
        max_upload_files=max(comp.max_upload_files, max_files),
        max_active_agents_per_participant=max(comp.max_active_agents_per_participant, max_active),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.arena_child")
    parser.add_argument("--max-upload-mb", type=int, default=100)
    parser.add_argument("--max-files", type=int, default=1000)
    parser.add_argument("--max-active", type=int, default=5)
    parser.add_argument("--deploy-limit", type=int, default=1000)
    parser.add_argument("--queue-seconds", type=float, default=0.2)
    # Every scenario runs on both; the runner always passes --api.
    parser.add_argument("--api", choices=("v0", "v4.6"), default="v0")
    args = parser.parse_args(argv)

    # Quiet logs on stderr: stdout carries the protocol, and per-request logging costs time.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    from mlarena_sync.arena import FakeArena

    answered: deque[str] = deque(maxlen=10_000)  # appended by the server threads
    arena = FakeArena(
        api=args.api,
        seed=_bench_seed(args.max_upload_mb, args.max_files, args.max_active),
        deploy_limit=args.deploy_limit,
        queue_seconds=args.queue_seconds,
        request_log=answered.append,
    )
    arena.start("127.0.0.1", 0)
    try:
        print(f"MLARENA_SERVER={arena.url}", flush=True)
        print(f"MLARENA_API_KEY={arena.user_token}", flush=True)
        for raw in sys.stdin:
            try:
                cmd = json.loads(raw)
                op = cmd["op"]
            except (ValueError, KeyError, TypeError):
                print(json.dumps({"error": "bad command"}), flush=True)
                continue
            reply: dict[str, Any] = {"ok": True}
            if op == "counters":
                reply["counters"] = arena.counters
                reply["connections"] = arena.connections
            elif op == "requests":
                lines = []
                while answered:
                    lines.append(answered.popleft())
                reply["requests"] = lines
            elif op == "reset_counters":
                arena.reset_counters()
            elif op == "latency":
                arena.faults.latency = float(cmd["seconds"])
            elif op == "reset":
                arena.reset()  # also clears faults and counters; keeps our deploy limit
                arena.set_deploy_limit(args.deploy_limit)
            elif op == "stop":
                print(json.dumps(reply), flush=True)
                break
            else:
                reply = {"error": f"unknown op {op!r}"}
            print(json.dumps(reply), flush=True)
    finally:
        arena.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
