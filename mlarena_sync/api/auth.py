"""Emptied: the token grammar, redaction and the https-or-loopback rule live in
:mod:`mlarena_sync.tokens`. This re-export stays only until ``api/responses.py``'s import of it
(already repointed in the working tree) is committed; then this file is deleted."""

from __future__ import annotations

from mlarena_sync.tokens import TokenParts, check_url, is_loopback_host, parse_token, redact

__all__ = ["TokenParts", "check_url", "is_loopback_host", "parse_token", "redact"]
