"""The crash log: what an unexpected exception leaves behind (versions, argv, traceback; never a
secret: everything passes through the run's :class:`~mlarena_sync.tokens.Redactor`)."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from mlarena_sync import __version__
from mlarena_sync.errors import MlarenaSyncError
from mlarena_sync.tokens import Redactor

__all__ = ["crash_dir", "write_crash_log"]


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


def write_crash_log(
    exc: BaseException, argv: Sequence[str], redactor: Redactor, directory: Path | None = None
) -> Path:
    """A crash report (versions, argv, traceback; no secrets) in ``directory`` (default: the
    temp folder); its path."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = directory if directory is not None else Path(tempfile.gettempdir())
    path = folder / f"mlarena-sync-crash-{stamp}-{os.getpid()}.log"
    safe_argv = [redactor.text(a) for a in argv]
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lines = [
        f"mlarena-sync {__version__} crashed at {stamp}",
        f"python {sys.version.split()[0]} on {platform.platform()}",
        f"argv: {safe_argv!r}",
        "",
        redactor.text(tb),
    ]
    try:
        path.write_text("\n".join(lines), encoding="utf-8")
    except OSError:
        fallback = Path.cwd() / path.name
        fallback.write_text("\n".join(lines), encoding="utf-8")
        return fallback
    return path
