from mlarena_sync.cli import main

raise SystemExit(main())
