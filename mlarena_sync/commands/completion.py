"""``mlarena-sync completion bash|zsh|fish``: print a shell completion script.

The script is written from the real parser tree (every command, its flags, the choices of
``--api`` and the like, file and folder names after ``--config``, ``--api-key-file``, ``-C``):
the CLI hands the tree over as ``args.parser_tree`` (a command module does not import the CLI).
Install it with one line (the command's ``--help`` shows them)::

    eval "$(mlarena-sync completion bash)"     # in ~/.bashrc
    eval "$(mlarena-sync completion zsh)"      # in ~/.zshrc, after compinit
    mlarena-sync completion fish | source      # in ~/.config/fish/config.fish

The tree is read through argparse's ``_actions`` (stable since Python 3.2, though private).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from mlarena_sync import __version__
from mlarena_sync.commands.completion_scripts import SCRIPTS, Command, Option, Tree, ValueKind
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.errors import MlarenaSyncError

__all__ = ["add_arguments", "describe", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own argument: the shell."""
    parser.add_argument("shell", choices=tuple(SCRIPTS), help="the shell to write the script for")


def _value_kind(action: argparse.Action) -> ValueKind:
    if action.nargs == 0:
        return "none"
    if action.choices is not None:
        return "choice"
    metavar = action.metavar if isinstance(action.metavar, str) else ""
    if metavar == "DIR" or (action.type is Path and action.dest.endswith("dir")):
        return "dir"
    if metavar == "FILE" or action.type is Path:
        return "file"
    return "text"


def _option(action: argparse.Action) -> Option:
    metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    return Option(
        flags=tuple(action.option_strings),
        help=" ".join(str(action.help or "").split()),
        value=_value_kind(action),
        choices=tuple(str(c) for c in action.choices or ()),
        metavar=metavar,
        repeat=isinstance(action, (argparse._CountAction, argparse._AppendAction)),
    )


def _options(parser: argparse.ArgumentParser) -> tuple[Option, ...]:
    return tuple(
        _option(a) for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS
    )


def _words(parser: argparse.ArgumentParser) -> tuple[str, ...]:
    """The choices of the parser's positional arguments (``completion``'s shells)."""
    return tuple(
        str(choice)
        for a in parser._actions
        if not a.option_strings and not isinstance(a, argparse._SubParsersAction)
        for choice in a.choices or ()
    )


def describe(parser: argparse.ArgumentParser) -> Tree:
    """The commands and flags of ``parser`` (the root of the tree, every command's flags added)."""
    commands: list[Command] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: str(a.help or "") for a in action._choices_actions}
            for name, sub in action.choices.items():
                help_text = helps.get(name) or str(sub.description or "")
                commands.append(Command(name, help_text, _options(sub), _words(sub)))
    return Tree(parser.prog, __version__, _options(parser), tuple(commands))


def run(inv: Invocation, args: argparse.Namespace) -> int:
    tree_of: Callable[[], argparse.ArgumentParser] | None = getattr(args, "parser_tree", None)
    if tree_of is None:
        raise MlarenaSyncError("completion: the command line's parser tree was not given")
    script = SCRIPTS[args.shell](describe(tree_of()))
    inv.out.result("completion", script.rstrip("\n"), shell=args.shell, script=script)
    return 0
