from mlarena_sync.cli.main import main

raise SystemExit(main())
