"""The argparse tree: common flags, one subparser per command, each command's own flags added
lazily (only when that command is parsed or its help shown).

Building the tree imports no command module, so ``--version``, ``--help`` and every command start
without the modules of the others (watchdog, the fake arena, ...):
``tests/e2e/cli/test_startup.py``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mlarena_sync import __version__
from mlarena_sync.cli.usage import Parser

if TYPE_CHECKING:
    from mlarena_sync.commands.invocation import Invocation

__all__ = ["COMMANDS", "OPTIONAL_COMMANDS", "PROG", "build_parser", "resolve_command"]

PROG = "mlarena-sync"

# name → (module, one-line help, examples shown by --help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "mlarena_sync.commands.init",
        "write a commented mlarena.yaml (never overwrites)",
        "mlarena-sync init --challenge 42 --agent-name ppo-cartpole",
    ),
    "plan": (
        "mlarena_sync.commands.plan",
        "show what push would do; changes nothing",
        "mlarena-sync plan --json",
    ),
    "push": (
        "mlarena_sync.commands.push",
        "sync once: create the agent the first time, upload and delete, deploy if anything changed",
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
    "history": (
        "mlarena_sync.commands.history",
        "every deploy made from this folder, with its files, git commit, outcome and score",
        "mlarena-sync history --limit 5",
    ),
    "diff": (
        "mlarena_sync.commands.diff",
        "what changed between two deploys, or between a deploy and the folder",
        "mlarena-sync diff 3 live",
    ),
    "restore": (
        "mlarena_sync.commands.restore",
        "put a deploy's files back in the folder (what it replaces is kept aside)",
        "mlarena-sync restore previous && mlarena-sync push --deploy",
    ),
    "fake-arena": (
        "mlarena_sync.commands.fake_arena",
        "run the local emulator of the ML Arena API",
        # In the background: `eval "$(mlarena-sync fake-arena | head -2)"` would never return
        # (the command substitution waits for the server to exit). As in README.md's offline block.
        "mlarena-sync fake-arena > arena.env 2> arena.log &   # a free port\n"
        "ARENA_PID=$!\n"
        "until grep -q MLARENA_API_KEY arena.env; do sleep 0.2; done   # wait until it is up\n"
        "export $(cat arena.env)          # MLARENA_SERVER=... and MLARENA_API_KEY=...\n"
        'kill "$ARENA_PID"                # when done',
    ),
    "demo": (
        "mlarena_sync.commands.demo",
        "push the bundled example agent to a fake arena (its own, or --server on this machine)",
        "mlarena-sync demo",
    ),
    "completion": (
        "mlarena_sync.commands.completion",
        "print a shell completion script: bash, zsh or fish",
        'eval "$(mlarena-sync completion bash)"    # in ~/.bashrc\n'
        'eval "$(mlarena-sync completion zsh)"     # in ~/.zshrc, after compinit\n'
        "mlarena-sync completion fish | source     # in ~/.config/fish/config.fish",
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
    (
        ("--no-color",),
        False,
        {"action": "store_true", "help": "no colour, even at a terminal"},
    ),
    (("--server",), None, {"metavar": "URL", "help": "the ML Arena server URL"}),
    (
        ("--api",),
        None,
        {
            "choices": ("auto", "v0", "v4.6"),
            "help": "the server's API generation (default: auto, detected once per server)",
        },
    ),
    (("--target",), None, {"metavar": "NAME", "help": "the target of mlarena.yaml to use"}),
    (
        ("--api-key-file",),
        None,
        {"metavar": "FILE", "help": "read the API token from FILE (default: $MLARENA_API_KEY)"},
    ),
)


#: Commands that use only some common flags (the others are not offered by their --help).
_COMMON_SUBSET: dict[str, frozenset[str]] = {
    "fake-arena": frozenset({"--json", "-q", "-v", "--no-color"}),
}
#: Commands given the whole tree, every command's flags added, as ``args.parser_tree()``.
_DESCRIBE_THE_TREE = frozenset({"completion"})


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


def _add_command_flags(name: str, p: argparse.ArgumentParser) -> None:
    """The command's own flags, from its module's ``add_arguments`` (imported only now: the
    subcommand is being parsed or its help shown)."""
    module = _optional_module(name) if name in OPTIONAL_COMMANDS else _module(name)
    add = getattr(module, "add_arguments", None) if module is not None else None
    if callable(add):
        add(p)


def _module(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(COMMANDS[name][0])
    except ModuleNotFoundError as exc:
        if exc.name == COMMANDS[name][0]:
            return None
        raise


class _CommandParser(Parser):
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


def build_parser(*, every_flag: bool = False) -> argparse.ArgumentParser:
    """The tree; ``every_flag`` adds every command's own flags now (for shell completion)."""
    parser = Parser(
        prog=PROG,
        description="Keep a local folder mirrored to an ML Arena agent: push, watch, deploy "
        "within quotas.",
        epilog=_epilog("mlarena-sync init --challenge 42 && mlarena-sync push --wait"),
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
        if every_flag:
            p._ensure_flags()
        if name in _DESCRIBE_THE_TREE:
            p.set_defaults(parser_tree=functools.partial(build_parser, every_flag=True))
    return parser


def resolve_command(name: str) -> Callable[[Invocation, argparse.Namespace], int] | None:
    module_name = COMMANDS[name][0]
    if name in OPTIONAL_COMMANDS:
        module = _optional_module(name)
        if module is None:
            return None
    else:
        module = importlib.import_module(module_name)
    run = getattr(module, "run", None)
    return run if callable(run) else None
