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
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlarena_sync.cli.parser import COMMANDS, PROG, build_parser, resolve_command
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


def _print_error(out: Output | None, redactor: Redactor, message: str, code: int) -> int:
    """Print the error (and its JSON line with ``--json``); the exit code to return."""
    text = redactor.text(message)
    print(f"{PROG}: error: {text}", file=sys.stderr, flush=True)
    if out is not None and out.json_mode:
        try:
            out.json_line({"event": "error", "level": "error", "message": text, "exit_code": code})
        except BrokenPipeError:
            _quiet_broken_pipe()  # the error line on stderr is what matters
    return code


def _interrupted(args: argparse.Namespace, out: Output | None, redactor: Redactor) -> int:
    """Ctrl-C: 130. Ending ``logs --follow`` is its normal way out (nothing printed); a
    ``push --wait`` says the deploy goes on without us."""
    code = exit_code_for(KeyboardInterrupt())
    if args.command == "logs" and getattr(args, "follow", False):
        return code
    message = "interrupted"
    if args.command == "push" and getattr(args, "wait", False):
        message += (
            " (if a deploy was requested, the deploy goes on on the server; follow it with "
            f"`{PROG} logs --follow`)"
        )
    return _print_error(out, redactor, message, code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the exit code (``__main__`` passes it to ``SystemExit``)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    from mlarena_sync.cli.output import configure  # structlog: not for --version/--help
    from mlarena_sync.tokens import Redactor

    redactor = Redactor(_secrets_from_env(env))
    out: Output | None = None
    invocation: Invocation | None = None
    try:
        out = configure(
            json_mode=bool(args.json),
            verbosity=int(args.verbose or 0) - int(args.quiet or 0),
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
        return _print_error(out, redactor, str(exc), exit_code_for(exc))
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            return _quiet_broken_pipe()  # `| head` read what it wanted: not a crash
        from mlarena_sync.cli.crash import crash_dir, write_crash_log

        where = crash_dir(Path.cwd() if invocation is None else invocation.cwd, args.config)
        path = write_crash_log(exc, args_list, redactor, where)
        message = (
            f"unexpected error ({type(exc).__name__}: {exc}); details in {path} "
            "(please attach it to a bug report)"
        )
        return _print_error(out, redactor, message, 1)
