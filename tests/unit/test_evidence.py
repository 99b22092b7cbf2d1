"""engine/evidence.needs_proof: which remote files are read back before the plan decides (pure)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlarena_sync.api.interface import V4_CAPABILITIES
from mlarena_sync.api.models import RemoteFile
from mlarena_sync.engine.evidence import needs_proof, prove
from mlarena_sync.errors import NotFoundError
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.store.state import BaseEntry


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def local(data: bytes) -> LocalFile:
    return LocalFile("f", Path("/nowhere/f"), len(data), 0, sha(data), "f")


def listed(size: int) -> RemoteFile:
    """A v4.6 listing row: name and size, no content, no hash."""
    return RemoteFile("f", None, True, size, None)


BASE = BaseEntry("f", sha(b"AAAA"), 4)


@pytest.mark.parametrize(
    ("lf", "rf", "bf", "overwrite", "delete", "expected", "why"),
    [
        (local(b"BBBB"), listed(4), BASE, False, True, True, "an upload would overwrite it"),
        (local(b"AAAA"), listed(4), BASE, False, True, False, "unchanged here: nothing written"),
        (local(b"BBBB"), listed(9), BASE, False, True, True, "a conflict: read to show both"),
        (local(b"AAAA"), listed(9), BASE, False, True, False, "a remote change: nothing written"),
        (None, listed(9), BASE, False, True, False, "deleted here, changed there: a conflict"),
        (local(b"BBBB"), listed(4), BASE, True, True, False, "replica / --force overwrite"),
        (None, listed(4), BASE, False, True, True, "a delete would remove it"),
        (None, listed(4), BASE, False, False, False, "deletes are off"),
        (local(b"BBBB"), listed(4), None, False, True, True, "no sync record: equal or not?"),
        (local(b"BBBB"), listed(7), None, True, True, True, "no record, even when overwriting"),
    ],
)
def test_needs_proof(
    lf: LocalFile | None,
    rf: RemoteFile,
    bf: BaseEntry | None,
    overwrite: bool,
    delete: bool,
    expected: bool,
    why: str,
) -> None:
    assert needs_proof(lf, rf, bf, overwrite=overwrite, delete=delete) is expected, why


def test_a_listing_with_the_text_needs_no_read() -> None:
    v0_text = RemoteFile("f", "x = 1\n", False, 6, "python")
    assert not needs_proof(local(b"y = 2\n"), v0_text, BASE, overwrite=False, delete=True)


class _GoneMeanwhile:
    """An arena whose file was deleted between the listing and the read-back (a race that the
    fake arena cannot time from outside)."""

    capabilities = V4_CAPABILITIES

    def download_file(self, cid: int, aid: int, name: str) -> bytes:
        raise NotFoundError(f"{name}: not found")


def test_a_file_deleted_on_the_server_before_its_read_back_is_gone_not_an_error() -> None:
    remote = {"f": listed(4)}
    proven = prove(
        _GoneMeanwhile(),  # type: ignore[arg-type]
        1,
        101,
        {"f": local(b"BBBB")},
        remote,
        {"f": BASE},
        overwrite=False,
        delete=True,
    )
    assert proven == {}, "the plan then sees it missing remotely (and re-uploads the local file)"


def test_a_replica_push_reads_back_every_file_beside_a_local_one() -> None:
    unchanged_here = local(b"AAAA")
    assert not needs_proof(unchanged_here, listed(4), BASE, overwrite=True, delete=True)
    assert needs_proof(
        unchanged_here, listed(4), BASE, overwrite=True, delete=True, verify_all=True
    )
    assert not needs_proof(None, listed(4), BASE, overwrite=True, delete=True, verify_all=True)
