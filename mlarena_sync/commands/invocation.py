"""What the CLI hands every command besides its parsed flags: where and how it was started.

Typed, instead of attributes added to ``argparse.Namespace``: ``run(invocation, args) -> int``.
Kept free of heavy imports, so that building it costs ``--version`` nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: importing the renderer here would slow every start-up
    from mlarena_sync.cli.output import Output

__all__ = ["Invocation"]


@dataclass(frozen=True, kw_only=True)
class Invocation:
    cwd: Path  # after ``-C``
    env: Mapping[str, str]  # the environment (``MLARENA_*`` read from here, never os.environ)
    out: Output  # the configured output: human lines or JSON
    argv: Sequence[str] = ()  # the arguments as given
    interactive: bool = False  # stdin is a terminal: a command may ask
