"""Proof before overwriting: read a remote file back when its listing cannot tell a change.

The v4.6 file listing carries names and sizes, no content and no hash, so a same-size edit made
in the browser is invisible in it. Before an upload would overwrite a remote file, or a delete
remove one, in ``safe`` mode, the file's bytes are read back (one request) and hashed: a remote
file that no longer equals what was last synced is then a conflict or a remote change, never
silently replaced. A fresh checkout (no sync record) reads back a remote file beside a local one
of the same size, so equal files are recognised and not uploaded again.

Nothing is read when the listing already proves the answer (a v0 listing that carries the text),
nor for files nobody writes: in the common case of one local edit and no foreign write, one read
per overwritten file, and none for a no-op push. A file deleted on the server between the listing
and its read-back is treated as gone, as the next listing would show it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping

from mlarena_sync.api.interface import Arena
from mlarena_sync.api.models import RemoteFile
from mlarena_sync.errors import NotFoundError
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import BaseEntry

__all__ = ["needs_proof", "prove"]


def needs_proof(
    lf: LocalFile | None,
    rf: RemoteFile,
    bf: BaseEntry | None,
    *,
    overwrite: bool,
    delete: bool,
    verify_all: bool = False,
) -> bool:
    """Whether the plan's verdict on this name hangs on the remote bytes (see the module doc);
    ``verify_all``: every file beside a local one (a replica push: the folder must win even
    over a same-size remote edit)."""
    if rf.sha256 is not None or rf.size is None:
        return False
    if verify_all and lf is not None:
        return True
    if lf is not None and bf is None:
        return True  # no sync record: equal (nothing to do) or not (a conflict in safe mode)
    if overwrite or bf is None:
        return False  # replica/--force overwrite anyway
    if lf is not None and lf.sha256 != bf.sha256:
        # An upload would overwrite it: the same size must be proven unchanged; another size
        # is a conflict already, read so that `plan` and the error show both sides' hashes.
        return True
    return lf is None and delete and rf.size == bf.size  # a delete would remove it


def prove(
    arena: Arena,
    cid: int,
    aid: int,
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteFile],
    base: Mapping[str, BaseEntry],
    *,
    overwrite: bool,
    delete: bool,
    verify_all: bool = False,
) -> dict[str, RemoteFile]:
    """``remote`` with the hash of every file :func:`needs_proof` names, read back from the
    server (only where the generation can download bytes; elsewhere the listing is all)."""
    proven = dict(remote)
    if not arena.capabilities.download_bytes:
        return proven
    for name, rf in remote.items():
        lf, bf = local.get(name), base.get(name)
        if needs_proof(lf, rf, bf, overwrite=overwrite, delete=delete, verify_all=verify_all):
            try:
                data = arena.download_file(cid, aid, name)
            except NotFoundError:  # deleted on the server since the listing: it is gone
                del proven[name]
                continue
            proven[name] = dataclasses.replace(rf, digest=hashlib.sha256(data).hexdigest())
    return proven
