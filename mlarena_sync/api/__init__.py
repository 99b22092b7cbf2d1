"""The ML Arena HTTP client (:mod:`.client`) and its parsed reply types (:mod:`.models`)."""

from __future__ import annotations

from mlarena_sync.tokens import TokenParts, check_url, is_loopback_host, parse_token, redact

__all__ = ["TokenParts", "check_url", "is_loopback_host", "parse_token", "redact"]
