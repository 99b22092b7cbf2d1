"""The streamed multipart body of a file upload (``requests-toolbelt``).

``MultipartEncoder`` reads the file in chunks as the socket asks for them, so a 100 MB upload
never sits in memory; ``MultipartEncoderMonitor`` counts the bytes handed to the socket for the
progress callback. The encoder is a one-shot stream: a retried upload calls :func:`upload_body`
again, which reopens the file and builds a fresh encoder.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from requests_toolbelt.multipart.encoder import MultipartEncoder, MultipartEncoderMonitor

from mlarena_sync.errors import ConfigError

#: Progress callback: ``(bytes_sent, total)``, both counting the whole request body.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class UploadBody:
    """What requests needs: a readable body with a known length, and its content type."""

    data: Any
    content_type: str
    length: int


def _open(source: Path | bytes) -> BinaryIO:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    try:
        return open(source, "rb")  # closed by the caller's ExitStack
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror or exc}") from None


@contextmanager
def upload_body(
    name: str, source: Path | bytes, progress: Progress | None = None
) -> Iterator[UploadBody]:
    """A fresh streamed body: one part named ``file`` whose filename is the remote ``name``."""
    with ExitStack() as stack:
        fh = stack.enter_context(_open(source))
        encoder = MultipartEncoder(fields={"file": (name, fh, "application/octet-stream")})
        total = int(encoder.len)
        if progress is None:
            yield UploadBody(encoder, encoder.content_type, total)
            return
        sent = [0]

        def _tick(monitor: MultipartEncoderMonitor) -> None:
            done = min(int(monitor.bytes_read), total)
            if done != sent[0]:
                sent[0] = done
                progress(done, total)

        progress(0, total)
        monitor = MultipartEncoderMonitor(encoder, _tick)
        yield UploadBody(monitor, monitor.content_type, total)
