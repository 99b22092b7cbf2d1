"""The command line's ``main()``: parse (:mod:`.parser`) → run one command → exit code.

The only place that reads ``sys.argv`` and the environment, configures logging (through
:mod:`mlarena_sync.cli.output`), prints errors, and maps exceptions to the exit codes of
``docs/product.md`` (:data:`EXIT_CODES`); an unexpected exception writes a crash log
(:mod:`.crash`). Commands are ``run(args) -> int`` functions in ``mlarena_sync.commands``;
``args`` carries, besides the parsed flags, ``cwd`` (after ``-C``), ``env`` (the environment)
and ``out`` (the configured :class:`~mlarena_sync.cli.output.Output`).

Output into a pipe whose reader went away (``mlarena-sync --json demo | head -5``) ends the
command quietly with exit code :data:`BROKEN_PIPE` (141, what a shell reports for a process killed
by SIGPIPE), no error line and no crash log; stdout is pointed at ``os.devnull`` first, as the
Python docs advise (``signal`` module, "Note on SIGPIPE"), so the flush at exit cannot fail again.

Colour: ``--no-color``, or ``NO_COLOR`` set to anything but the empty string
(https://no-color.org), turn it off (``configure(color=False)``); otherwise the renderer decides
(``color=None``: colour at a terminal). ``--json`` output has none either way.

With ``--json`` every stdout line is one JSON object with ``event`` and ``timestamp``, errors
included: an error is ``{"event": "error", "level", "timestamp", "message", "exit_code"}`` (and
``hint`` when the error has one; stderr still gets the one human line); a usage error
(:class:`~mlarena_sync.cli.usage.UsageError`: unknown command or flag, bad value, no command) is
``{"event": "usage_error", "level", "timestamp", "message", "usage", "exit_code": 2}``, its
usual text on stderr. ``--help`` and ``--version`` are for people: their text, even with
``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlarena_sync.cli.parser import COMMANDS, PROG, build_parser, resolve_command
from mlarena_sync.cli.usage import UsageError
from mlarena_sync.errors import (
    AuthError,
    ConfigError,
    ConflictError,
    DeployFailedError,
    DeployRefusedError,
    LockedError,
    MlarenaSyncError,
    QuotaError,
    StateError,
    WaitTimeoutError,
)

if TYPE_CHECKING:
    from mlarena_sync.cli.output import Output
    from mlarena_sync.commands.invocation import Invocation
    from mlarena_sync.tokens import Redactor

#: ``COMMANDS`` and ``build_parser`` are :mod:`.parser`'s, importable from here as before.
__all__ = ["BROKEN_PIPE", "COMMANDS", "EXIT_CODES", "build_parser", "exit_code_for", "main"]

#: Exception class → exit code (the most specific class in an exception's MRO wins).
EXIT_CODES: dict[type[BaseException], int] = {
    MlarenaSyncError: 1,
    ConfigError: 2,
    StateError: 2,
    LockedError: 2,
    ConflictError: 3,
    AuthError: 4,
    QuotaError: 5,
    DeployRefusedError: 5,
    DeployFailedError: 6,
    WaitTimeoutError: 7,
    KeyboardInterrupt: 130,
}
USAGE_ERROR = 2
#: Stdout's reader went away (``| head``): 128 + SIGPIPE, as a shell reports ``yes | head``.
BROKEN_PIPE = 141


def exit_code_for(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


def _secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """Token-looking values of the environment (registered for redaction up front)."""
    from mlarena_sync.tokens import looks_like_token

    return [v.strip() for v in env.values() if looks_like_token(v)]


def _stdout_gone() -> bool:
    """True when stdout is a pipe (or socket) whose reader went away, as after ``| head``."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no real file descriptor (tests), no poll
        return False


def _quiet_broken_pipe() -> int:
    """Stdout points at ``os.devnull`` from now on (the exit flush cannot fail); the exit code."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return BROKEN_PIPE


def _timestamp() -> str:
    """Now, as every ``--json`` event's ``timestamp`` (structlog's ISO UTC stamper)."""
    import structlog  # only on an error path: --version and --help stay light

    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    return str(stamp(None, "", {})["timestamp"])


def _wants_json(argv: Sequence[str]) -> bool:
    """``--json`` among the flags (not after ``--``), whether or not the rest parses."""
    flags = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in flags


def _color(args: argparse.Namespace, env: Mapping[str, str]) -> bool | None:
    """False for ``--no-color`` or a non-empty ``NO_COLOR``; None (the renderer decides)."""
    from mlarena_sync.cli.human.console import no_color_asked

    return False if args.no_color or no_color_asked(env) else None


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """The parsed flags, or the exit code of ``--help``/``--version`` (0) or a usage error (2,
    printed on stderr, and as a ``usage_error`` JSON line with ``--json``)."""
    try:
        args = parser.parse_args(argv)
        if args.command is None and _wants_json(argv):
            parser.error(f"no command given (see `{PROG} --help`)")
        return args
    except UsageError as exc:
        if _wants_json(argv):
            line = {
                "event": "usage_error",
                "level": "error",
                "timestamp": _timestamp(),
                "message": exc.message,
                "usage": exc.usage,
                "exit_code": USAGE_ERROR,
            }
            try:
                print(json.dumps(line, ensure_ascii=False), flush=True)
            except BrokenPipeError:
                _quiet_broken_pipe()  # the usage text on stderr is what matters
        return USAGE_ERROR
    except SystemExit as exc:  # --help, --version: 0
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR


def _print_error(
    out: Output | None, redactor: Redactor, message: str, code: int, hint: str | None = None
) -> int:
    """Print the error (and its JSON line with ``--json``); the exit code to return.

    On stderr, for a person: the message on the ``error:`` line, the hint (what to do) on a
    ``hint:`` line under it, both tidied (relative times, no nested parentheses) once whatever
    was redrawn at the terminal (a live deploy line) is stopped. The JSON line holds the exact
    message and hint apart."""
    text = redactor.text(message)
    person = out.for_person if out is not None else str
    if out is not None:
        out.close()
    print(f"{PROG}: error: {person(text)}", file=sys.stderr, flush=True)
    if hint:
        print(f"  hint: {person(redactor.text(hint))}", file=sys.stderr, flush=True)
    if out is not None and out.json_mode:
        line: dict[str, object] = {
            "event": "error",
            "level": "error",
            "timestamp": _timestamp(),
            "message": text,
            "exit_code": code,
        }
        if hint:
            line["hint"] = redactor.text(hint)
        try:
            out.json_line(line)
        except BrokenPipeError:
            _quiet_broken_pipe()  # the error line on stderr is what matters
    return code


def _interrupted(args: argparse.Namespace, out: Output | None, redactor: Redactor) -> int:
    """Ctrl-C: 130. Ending ``logs --follow`` is its normal way out (nothing printed). A push
    says what it knows (:class:`~mlarena_sync.engine.push.PushInterrupted`: no deploy was
    requested, or deployment N continues on the server); a ``push --wait`` interrupted where
    that is not known says so neutrally, with how to follow a deploy."""
    code = exit_code_for(KeyboardInterrupt())
    if args.command == "logs" and getattr(args, "follow", False):
        return code
    exc = sys.exc_info()[1]  # called from main()'s `except KeyboardInterrupt`
    if args.command == "push":
        from mlarena_sync.engine.push import PushInterrupted

        if isinstance(exc, PushInterrupted):
            return _print_error(out, redactor, exc.message, code, exc.hint)
        if getattr(args, "wait", False):
            hint = f"if a deploy was requested, it continues on the server: `{PROG} logs --follow`"
            return _print_error(out, redactor, "interrupted", code, hint + " follows it")
    return _print_error(out, redactor, "interrupted", code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the exit code (``__main__`` passes it to ``SystemExit``)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    parser = build_parser()
    args = _parse(parser, args_list)
    if isinstance(args, int):
        return args
    from mlarena_sync.cli.output import configure  # structlog: not for --version/--help
    from mlarena_sync.tokens import Redactor

    redactor = Redactor(_secrets_from_env(env))
    out: Output | None = None
    invocation: Invocation | None = None
    try:
        out = configure(
            json_mode=bool(args.json),
            verbosity=int(args.verbose or 0) - int(args.quiet or 0),
            color=_color(args, env),
            redactor=redactor,
        )
        if args.command is None:
            parser.print_help(sys.stdout)
            return USAGE_ERROR
        cwd = Path.cwd()
        if args.directory is not None:
            cwd = (cwd / args.directory).resolve()
            if not cwd.is_dir():
                raise ConfigError(f"-C {args.directory}: no such folder")
        from mlarena_sync.commands.invocation import Invocation

        invocation = Invocation(
            cwd=cwd,
            env=env,
            out=out,
            argv=args_list,
            interactive=bool(sys.stdin is not None and sys.stdin.isatty()),
        )
        run = resolve_command(args.command)
        if run is None:
            raise MlarenaSyncError(
                f"`{PROG} {args.command}` is not available yet in this version",
                hint=f"use `{PROG} push` meanwhile",
            )
        return int(run(invocation, args))
    except KeyboardInterrupt:
        return _interrupted(args, out, redactor)
    except MlarenaSyncError as exc:
        return _print_error(out, redactor, exc.message, exit_code_for(exc), exc.hint)
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            return _quiet_broken_pipe()  # `| head` read what it wanted: not a crash
        from mlarena_sync.cli.crash import crash_dir, write_crash_log

        where = crash_dir(Path.cwd() if invocation is None else invocation.cwd, args.config)
        path = write_crash_log(exc, args_list, redactor, where)
        message = f"unexpected error: {type(exc).__name__}: {exc}"
        hint = f"details in {path} (please attach it to a bug report)"
        return _print_error(out, redactor, message, 1, hint)
