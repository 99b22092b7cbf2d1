"""The command line: argparse tree → one function per command → exit code.

The only place that reads ``sys.argv`` and the environment, configures logging (through
:mod:`mlarena_sync.cli.output`), prints errors, and maps exceptions to the exit codes of
``docs/product.md``. Commands are ``run(args) -> int`` functions in ``mlarena_sync.commands``;
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
import importlib
import os
import platform
import re
import select
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mlarena_sync import __version__
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
)

if TYPE_CHECKING:
    from mlarena_sync.cli.output import Output, Redactor

PROG = "mlarena-sync"

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
    KeyboardInterrupt: 130,
}
USAGE_ERROR = 2
#: Stdout's reader went away (``| head``): 128 + SIGPIPE, as a shell reports ``yes | head``.
BROKEN_PIPE = 141

_TOKEN_RE = re.compile(r"mlk_[a-z][a-z0-9]*_[A-Za-z0-9-]+_[!-~]+")


def exit_code_for(exc: BaseException) -> int:
    for cls in type(exc).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


# ---------------------------------------------------------------- the parser

# name → (module, one-line help, examples shown by --help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "mlarena_sync.commands.init",
        "write a commented mlarena.yaml (never overwrites)",
        "mlarena-sync init --competition 42 --agent-name ppo-cartpole",
    ),
    "plan": (
        "mlarena_sync.commands.plan",
        "show what push would do; changes nothing",
        "mlarena-sync plan --json",
    ),
    "push": (
        "mlarena_sync.commands.push",
        "one reconcile: bind the agent, upload/delete, deploy if needed",
        "mlarena-sync push --wait",
    ),
    "watch": (
        "mlarena_sync.commands.watch",
        "watch the folder: sync every save, deploy when edits settle",
        "mlarena-sync watch",
    ),
    "status": (
        "mlarena_sync.commands.status",
        "agent status, quota left, last deploy, files in sync or not",
        "mlarena-sync status --json",
    ),
    "logs": (
        "mlarena_sync.commands.logs",
        "status lines; --follow; --games prints recent games' logs",
        "mlarena-sync logs --games --limit 2",
    ),
    "pull": (
        "mlarena_sync.commands.pull",
        "bring remote files down (never overwrites local edits without --force)",
        "mlarena-sync pull",
    ),
    "fake-arena": (
        "mlarena_sync.commands.fake_arena",
        "run the local emulator of the ML Arena API",
        # In the background: `eval "$(mlarena-sync fake-arena | head -2)"` would never return
        # (the command substitution waits for the server to exit). As in README.md's offline block.
        "mlarena-sync fake-arena --port 0 > arena.out 2> arena.log &   # 0: any free port\n"
        "ARENA_PID=$!\n"
        "for _ in $(seq 100); do grep -q '^MLARENA_API_KEY=' arena.out && break; sleep 0.1; done\n"
        'eval "$(head -n 2 arena.out)"    # MLARENA_URL=... and MLARENA_API_KEY=...\n'
        'export MLARENA_API_KEY MLARENA_SERVER="$MLARENA_URL"\n'
        'kill "$ARENA_PID"                # when done',
    ),
    "demo": (
        "mlarena_sync.commands.demo",
        "push the bundled example agent to an embedded fake arena",
        "mlarena-sync demo",
    ),
}
#: Commands written elsewhere that may not be there yet.
OPTIONAL_COMMANDS = frozenset({"watch", "demo"})


#: The common flags: (names, default, other add_argument keywords).
_COMMON_FLAGS: tuple[tuple[tuple[str, ...], object, dict[str, Any]], ...] = (
    (("-C",), None, {"dest": "directory", "metavar": "DIR", "help": "run as if started in DIR"}),
    (("--config",), None, {"metavar": "FILE", "help": "use FILE instead of ./mlarena.yaml"}),
    (
        ("--json",),
        False,
        {"action": "store_true", "help": "one JSON object per line on stdout, for scripts"},
    ),
    (("-q", "--quiet"), 0, {"action": "count", "help": "less output (warnings and errors)"}),
    (("-v", "--verbose"), 0, {"action": "count", "help": "more output (debug)"}),
    (("--server",), None, {"metavar": "URL", "help": "the ML Arena server URL"}),
    (("--target",), None, {"metavar": "NAME", "help": "the target of mlarena.yaml to use"}),
    (
        ("--api-key-file",),
        None,
        {"metavar": "FILE", "help": "read the API token from FILE (default: $MLARENA_API_KEY)"},
    ),
)


#: Commands that use only some common flags (the others are not offered by their --help).
_COMMON_SUBSET: dict[str, frozenset[str]] = {"fake-arena": frozenset({"--json", "-q", "-v"})}


def _add_common(parser: argparse.ArgumentParser, *, top: bool, command: str | None = None) -> None:
    """The common flags; on subcommands their default is SUPPRESS so a flag given before the
    command is not reset by the subparser."""

    def d(value: object) -> object:
        return value if top else argparse.SUPPRESS

    subset = _COMMON_SUBSET.get(command or "")
    g = parser.add_argument_group("common options")
    for flags, default, extra in _COMMON_FLAGS:
        if subset is None or subset.intersection(flags):
            g.add_argument(*flags, default=d(default), **extra)


def _epilog(example: str) -> str:
    lines = "".join(f"  {line}\n" for line in example.splitlines())
    return f"example:\n{lines}"


def _add_push_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true", help="show the plan only (= plan)")
    deploy = p.add_mutually_exclusive_group()
    deploy.add_argument("--no-deploy", action="store_true", help="sync files, never deploy")
    deploy.add_argument("--deploy", action="store_true", help="deploy even when nothing changed")
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite remote changes, exceed the delete limit, upload during a deploy",
    )
    p.add_argument(
        "--wait",
        action="store_true",
        help="return when the deploy settles; exit 6 when it fails",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="S",
        help="give up waiting for a deploy after S seconds (default: 900)",
    )


def _add_command_flags(name: str, p: argparse.ArgumentParser) -> None:
    if name == "init":
        p.add_argument("--competition", type=int, metavar="ID", help="the competition id")
        p.add_argument("--agent-name", metavar="NAME", help="agent created on first push")
        p.add_argument("--agent-id", type=int, metavar="ID", help="bind an existing agent")
        p.add_argument("--runtime-language", metavar="LANG", help="e.g. python")
        p.add_argument("--runtime-framework", metavar="FW", help="e.g. gymnasium")
        p.add_argument("--runtime-framework-version", metavar="V", help="e.g. 1.0.0")
    elif name == "plan":
        p.add_argument("--force", action="store_true", help="plan as push --force would")
    elif name == "push":
        _add_push_flags(p)
    elif name == "logs":
        p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
        p.add_argument("--games", action="store_true", help="print recent games' stdout logs")
        p.add_argument(
            "--limit", type=int, default=3, metavar="N", help="how many games (default: 3)"
        )
        p.add_argument(
            "--timeout",
            type=float,
            default=None,
            metavar="S",
            help="with --follow: stop after S seconds (default: until Ctrl-C)",
        )
    elif name == "pull":
        p.add_argument("names", nargs="*", metavar="NAME", help="only these remote files")
        p.add_argument("--force", action="store_true", help="overwrite local edits")
    elif name == "fake-arena":
        from mlarena_sync.arena import cli as arena_cli

        arena_cli.add_arguments(p)
    elif name in OPTIONAL_COMMANDS:
        module = _optional_module(name)
        add = getattr(module, "add_arguments", None) if module is not None else None
        if callable(add):
            add(p)


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(COMMANDS[name][0])
    except ModuleNotFoundError as exc:
        if exc.name == COMMANDS[name][0]:
            return None
        raise


class _CommandParser(argparse.ArgumentParser):
    """A subcommand's parser whose own flags are added only when it is used (parsed, or its
    help shown): building the tree imports no command module, so ``--version``, ``--help`` and
    every command start without the modules of the others (watchdog, the fake arena, ...)."""

    command: str | None = None
    _flags_added = False

    def _ensure_flags(self) -> None:
        if not self._flags_added and self.command is not None:
            self._flags_added = True
            _add_command_flags(self.command, self)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._ensure_flags()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._ensure_flags()
        return super().format_help()

    def format_usage(self) -> str:
        self._ensure_flags()
        return super().format_usage()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Keep a local folder mirrored to an ML Arena agent: push, watch, deploy "
        "within quotas.",
        epilog=_epilog("mlarena-sync init --competition 42 && mlarena-sync push --wait"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common(parser, top=True)
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_CommandParser)
    for name, (_module, help_text, example) in COMMANDS.items():
        p = subs.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=_epilog(example),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _add_common(p, top=False, command=name)
        p.command = name  # its own flags: added when it is used (_CommandParser)
    return parser


# ---------------------------------------------------------------- running


def _resolve_command(name: str) -> Callable[[argparse.Namespace], int] | None:
    module_name = COMMANDS[name][0]
    if name in OPTIONAL_COMMANDS:
        module = _optional_module(name)
        if module is None:
            return None
    else:
        module = importlib.import_module(module_name)
    run = getattr(module, "run", None)
    return run if callable(run) else None


def _secrets_from_env(env: Mapping[str, str]) -> list[str]:
    """Token-looking values of the environment (registered for redaction up front)."""
    return [v.strip() for v in env.values() if _TOKEN_RE.fullmatch(v.strip())]


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


def crash_dir(cwd: Path, config: str | None = None) -> Path:
    """Where a crash log goes: the project's ``.mlarena-sync/`` when it exists (beside the
    ``mlarena.yaml`` that ``--config`` names or that is found from ``cwd``), else the temp folder
    (tests point ``tempfile.tempdir`` at their own folder: ``tests/conftest.py``)."""
    from mlarena_sync.config.model import find_config
    from mlarena_sync.store.state import STATE_DIR_NAME

    with contextlib.suppress(MlarenaSyncError, OSError):
        config_path = (cwd / config).absolute() if config else find_config(cwd)
        state_dir = config_path.parent / STATE_DIR_NAME
        if state_dir.is_dir():
            return state_dir
    return Path(tempfile.gettempdir())


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


def write_crash_log(
    exc: BaseException, argv: Sequence[str], redactor: Redactor, directory: Path | None = None
) -> Path:
    """A crash report (versions, argv, traceback; no secrets) in ``directory`` (default: the
    temp folder); its path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = directory if directory is not None else Path(tempfile.gettempdir())
    path = folder / f"mlarena-sync-crash-{stamp}-{os.getpid()}.log"
    safe_argv = [_TOKEN_RE.sub("***", redactor.text(a)) for a in argv]
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lines = [
        f"mlarena-sync {__version__} crashed at {stamp}",
        f"python {sys.version.split()[0]} on {platform.platform()}",
        f"argv: {safe_argv!r}",
        "",
        _TOKEN_RE.sub("***", redactor.text(tb)),
    ]
    try:
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError:
        fallback = Path.cwd() / path.name
        fallback.write_text("\n".join(lines), encoding="utf-8")
        return fallback
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the exit code (``__main__`` passes it to ``SystemExit``)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    from mlarena_sync.cli.output import Redactor, configure  # structlog: not for --version/--help

    redactor = Redactor(_secrets_from_env(env))
    out: Output | None = None
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
        args.cwd = cwd
        args.env = env
        args.out = out
        args.argv = args_list
        args.interactive = bool(sys.stdin is not None and sys.stdin.isatty())
        run = _resolve_command(args.command)
        if run is None:
            raise MlarenaSyncError(
                f"`{PROG} {args.command}` is not available yet in this version",
                hint=f"use `{PROG} push` meanwhile",
            )
        return int(run(args))
    except KeyboardInterrupt:
        return _interrupted(args, out, redactor)
    except MlarenaSyncError as exc:
        return _print_error(out, redactor, str(exc), exit_code_for(exc))
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            return _quiet_broken_pipe()  # `| head` read what it wanted: not a crash
        where = crash_dir(Path(getattr(args, "cwd", None) or Path.cwd()), args.config)
        path = write_crash_log(exc, args_list, redactor, where)
        message = (
            f"unexpected error ({type(exc).__name__}: {exc}); details in {path} "
            "(please attach it to a bug report)"
        )
        return _print_error(out, redactor, message, 1)
