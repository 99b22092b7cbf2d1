"""Usage errors: argparse's refusals, with a "did you mean" where one fits, as an exception
:func:`mlarena_sync.cli.main.main` can also report as JSON.

:class:`Parser` is the ``ArgumentParser`` of the whole tree (the root and every subcommand). Its
:meth:`~Parser.error` prints what argparse prints (the usage, then ``PROG: error: message``, on
stderr, any token-shaped text masked; with a "did you mean", only that line and a ``hint:`` line
pointing at ``--help``, as git and cargo do) and raises :class:`UsageError` (a ``SystemExit(2)``, so
that a caller of ``parse_args`` sees argparse's usual exit) carrying the message and the usage:
``main()`` adds the ``usage_error`` JSON line when ``--json`` was asked for. Parsing happens once.

Suggestions (:mod:`difflib`, as Python 3.14's ``suggest_on_error`` does for choices):

* an unknown command: ``unknown command 'psuh'; did you mean 'push'?``
* a value outside an option's choices: ``...; did you mean 'v4.6'?``
* an unknown long flag: ``unrecognized arguments: --wiat; did you mean '--wait'?``, among the
  flags of the command given (and the common ones).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from mlarena_sync.tokens import mask_token_like

__all__ = ["USAGE_EXIT", "Parser", "UsageError", "did_you_mean"]

#: argparse's exit code for a usage error (docs/product.md: 2).
USAGE_EXIT = 2


class UsageError(SystemExit):
    """A refused command line, already printed on stderr. ``message`` is argparse's (plus a
    suggestion), ``usage`` the usage line of the parser that refused (without ``usage:``)."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(USAGE_EXIT)
        self.message = message
        self.usage = usage


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``word`` (difflib's ratio ≥ 0.7: ``psuh`` → ``push``, while
    ``bogus`` suggests nothing rather than ``logs``), or None."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return found[0] if found else None


_SUGGESTED = "; did you mean "


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    match = did_you_mean(word, candidates)
    return f"{_SUGGESTED}{match!r}?" if match else ""


def _quoted(choices: Iterable[Any]) -> str:
    return ", ".join(repr(str(c)) for c in choices)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are :class:`UsageError` with a "did you mean"."""

    def error(self, message: str) -> NoReturn:
        message = mask_token_like(message)
        usage = self.format_usage()
        if _SUGGESTED in message:  # a typo: the line that fixes it, not the usage block
            what = "its flags" if " " in self.prog else "the flags"  # a command's, or the root's
            if message.startswith("unknown command"):
                what = "the commands"
            text = f"{self.prog}: error: {message}\n  hint: run '{self.prog} --help' for {what}\n"
        else:
            text = f"{usage}{self.prog}: error: {message}\n"
        sys.stderr.write(text)
        sys.stderr.flush()
        raise UsageError(message, " ".join(usage.removeprefix("usage:").split()))

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(c) for c in choices]
        if isinstance(action, argparse._SubParsersAction):
            hint = _suggestion(str(value), names) or f" (commands: {', '.join(names)})"
            raise argparse.ArgumentError(None, f"unknown command {value!r}{hint}")
        raise argparse.ArgumentError(
            action,
            f"invalid choice: {value!r} (choose from {_quoted(names)})"
            + _suggestion(str(value), names),
        )

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            refusing = self._command_parser(parsed) or self
            flags = self._option_strings() | refusing._option_strings()
            message = f"unrecognized arguments: {' '.join(extras)}"
            for extra in extras:
                if extra.startswith("--"):
                    hint = _suggestion(extra.partition("=")[0], sorted(flags))
                    if hint:
                        message += hint
                        break
            refusing.error(message)
        return parsed

    def _option_strings(self) -> set[str]:
        return {s for a in self._actions for s in a.option_strings if a.help != argparse.SUPPRESS}

    def _command_parser(self, parsed: argparse.Namespace) -> Parser | None:
        """The subcommand's parser that ``parsed`` went through, if any."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action.choices.get(getattr(parsed, action.dest or "", None) or "")
                if isinstance(sub, Parser):
                    return sub
        return None
