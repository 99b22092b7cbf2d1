from __future__ import annotations

from mlarena_sync.arena.cli import main

raise SystemExit(main())
