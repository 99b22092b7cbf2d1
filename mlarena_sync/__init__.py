"""mlarena-sync: keep a local folder mirrored to an ML Arena agent."""

from __future__ import annotations

__version__ = "0.1.0"
